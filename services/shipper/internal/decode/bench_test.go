package decode

import (
	"strings"
	"testing"
)

var (
	benchCRI       = []byte("2024-04-13T07:59:37.505201169Z stdout F 10.0.0.1 - - [13/Apr/2024:07:59:37 +0000] \"GET /api/v1/items?id=42 HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"\n")
	benchDocker    = []byte(`{"log":"10.0.0.1 - - [13/Apr/2024:07:59:37 +0000] \"GET /api/v1/items?id=42 HTTP/1.1\" 200 512 \"-\" \"curl/8.0\"\n","stream":"stdout","time":"2024-04-13T07:59:37.505201169Z"}` + "\n")
	benchDockerNE  = []byte(`{"log":"level=info msg=request handled path=/api/v1/items id=42 status=200 duration=1.2ms\n","stream":"stdout","time":"2024-04-13T07:59:37.505201169Z"}` + "\n")
	benchDockerUni = []byte(`{"log":"caf\u00e9 \u2014 r\u00e9sum\u00e9 status=200\n","stream":"stdout","time":"2024-04-13T07:59:37.505201169Z"}` + "\n")
)

func benchParse(b *testing.B, line []byte, f func([]byte) (Line, error)) {
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := f(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCRI(b *testing.B) { benchParse(b, benchCRI, ParseCRI) }

// BenchmarkParseDocker: quotes inside the message need unescaping (one
// allocation); the trailing \n alone does not.
func BenchmarkParseDocker(b *testing.B)           { benchParse(b, benchDocker, ParseDocker) }
func BenchmarkParseDockerNoEscapes(b *testing.B)  { benchParse(b, benchDockerNE, ParseDocker) }
func BenchmarkParseDockerUnicodeEsc(b *testing.B) { benchParse(b, benchDockerUni, ParseDocker) }

func BenchmarkMergerFull(b *testing.B) {
	m := NewMerger(1 << 20)
	l := Line{Stream: StreamStdout, Content: benchCRI[40:]}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := m.Add(l, 0, 1); !ok {
			b.Fatal("no event")
		}
	}
}

// BenchmarkMergerPartials joins a 64 KiB line from four 16 KiB fragments.
func BenchmarkMergerPartials(b *testing.B) {
	m := NewMerger(1 << 20)
	frag := []byte(strings.Repeat("x", 16384))
	b.ReportAllocs()
	b.SetBytes(4 * 16384)
	for b.Loop() {
		for i := 0; i < 3; i++ {
			m.Add(Line{Stream: StreamStdout, Partial: true, Content: frag}, 0, 1)
		}
		if _, ok := m.Add(Line{Stream: StreamStdout, Content: frag}, 0, 1); !ok {
			b.Fatal("no event")
		}
	}
}
