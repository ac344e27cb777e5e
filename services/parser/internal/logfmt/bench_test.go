package logfmt

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("testdata/sample.logfmt")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	b.Run("sample_file", func(b *testing.B) {
		var d Decoder
		fn := func(k, v []byte) error { return nil }
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			for _, l := range lines {
				if err := d.Decode(l, fn); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("simple_line", func(b *testing.B) {
		line := lines[0]
		var d Decoder
		fn := func(k, v []byte) error { return nil }
		b.ReportAllocs()
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if err := d.Decode(line, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
}
