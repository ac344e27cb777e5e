package bulk

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchSource returns a 200-byte log document.
func benchSource(i int) []byte {
	s := fmt.Sprintf(`{"@timestamp":"2024-05-01T12:00:00.%06dZ","message":"GET /api/v1/items 200 %d","kubernetes":{"namespace":"shop","pod":"web-7d4b9c-xk2p9","container":"web"},"log":{"level":"info"},"pad":"`, i%1000000, i)
	return []byte(s + strings.Repeat("x", 200-len(s)-2) + `"}`)
}

func benchDocs(n int) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = Doc{Index: "logs-sluice-2024.05.01", ID: fmt.Sprintf("node-1:f8a9c2:%012d", i*200), Source: benchSource(i)}
	}
	return docs
}

func BenchmarkBuildBody(b *testing.B) {
	docs := benchDocs(1000)
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("docs=1000/gzip=%v", gz), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				buf := getBuffer(0)
				for i := range docs {
					buf.b, _ = appendDoc(buf.b, &docs[i])
				}
				n = len(buf.b)
				if gz {
					z := gzipBuffer(buf.b)
					putBuffer(z)
				}
				putBuffer(buf)
			}
			b.SetBytes(int64(n))
		})
	}
}

func benchResponse(n int, filtered bool, errEvery int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"took":12,"errors":` + fmt.Sprint(errEvery > 0) + `,"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case errEvery > 0 && i%errEvery == 0 && filtered:
			b.WriteString(`{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[x]: version conflict, document already exists (current version [1])"}}}`)
		case errEvery > 0 && i%errEvery == 0:
			b.WriteString(`{"create":{"_index":"logs","_id":"x","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[x]: version conflict, document already exists (current version [1])","index_uuid":"aAsFqTI0Tc2W0LCWgPNrOA","shard":"0","index":"logs"}}}`)
		case filtered:
			b.WriteString(`{"create":{"status":201}}`)
		default:
			b.WriteString(`{"create":{"_index":"logs-sluice-2024.05.01","_id":"node-1:f8a9c2:000000001000","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":12345,"_primary_term":1,"status":201}}`)
		}
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkParseResponse(b *testing.B) {
	for _, tc := range []struct {
		name     string
		filtered bool
		errEvery int
	}{{"filtered/ok", true, 0}, {"filtered/10pct-409", true, 10}, {"full/ok", false, 0}, {"full/10pct-409", false, 10}} {
		body := benchResponse(1000, tc.filtered, tc.errEvery)
		out := make([]Result, 1000)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := parseResponse(body, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
