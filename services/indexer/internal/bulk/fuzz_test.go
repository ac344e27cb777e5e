package bulk

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzParseResponse(f *testing.F) {
	seeds := []string{
		`{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`,
		`{"took":3,"errors":true,"items":[{"create":{"_index":"l","_id":"1","status":409,"error":{"type":"version_conflict_engine_exception","reason":"x","index_uuid":"u"}}}]}`,
		`{"items":[{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"r","caused_by":{"type":"t","reason":"\u00e9\"\\"}}}}]}`,
		`{"items":[{"index":{"status":429,"error":"s"}},{"create":{}}]}`,
		`{"error":{"type":"x","reason":"y"},"status":400}`,
		`{"items":[{"create":{"status":1e3,"_shards":{"a":[1,2,{"b":null}]}}}]}`,
		`[`, `{"items":[`, `"`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		out := make([]Result, n%64)
		if err := parseResponse(data, out); err != nil {
			return
		}
		for i, r := range out {
			if r.Outcome < Created || r.Outcome > Permanent {
				t.Fatalf("item %d: outcome %v", i, r.Outcome)
			}
			if r.Outcome == Created && (r.ErrorType != "" || r.Reason != "") {
				t.Fatalf("item %d: created with an error %+v", i, r)
			}
		}
		typ, reason := parseErrorBody(data)
		_, _ = typ, reason
	})
}

func FuzzAppendDoc(f *testing.F) {
	f.Add("logs", "id-1", []byte(`{"a":1}`))
	f.Add("lo\"gs", "i\\d\n", []byte("{\n\"a\": [1,\n2]\n}"))
	f.Add("x", "", []byte("{\"a\":\"\\n\"}\r\n"))
	f.Fuzz(func(t *testing.T, index, id string, src []byte) {
		d := Doc{Index: index, ID: id, Source: src}
		b, why := appendDoc([]byte("prefix\n"), &d)
		if why != "" {
			if string(b) != "prefix\n" {
				t.Fatalf("refused document left bytes behind: %q", b)
			}
			return
		}
		b = b[len("prefix\n"):]
		if bytes.Count(b, []byte{'\n'}) != 2 || b[len(b)-1] != '\n' {
			t.Fatalf("not two lines: %q", b)
		}
		nl := bytes.IndexByte(b, '\n')
		var meta map[string]map[string]string
		if err := json.Unmarshal(b[:nl], &meta); err != nil {
			t.Fatalf("action line %q: %v", b[:nl], err)
		}
		if meta["create"]["_index"] != index || meta["create"]["_id"] != id {
			t.Fatalf("action line %q does not round-trip %q %q", b[:nl], index, id)
		}
		if line := b[nl+1 : len(b)-1]; bytes.IndexByte(src, '\n') < 0 && bytes.IndexByte(src, '\r') < 0 && !bytes.Equal(line, src) {
			t.Fatalf("source changed: %q → %q", src, line)
		}
	})
}
