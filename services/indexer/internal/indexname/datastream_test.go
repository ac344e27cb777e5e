package indexname

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSetDataStream(t *testing.T) {
	const all = `"data_stream":{"type":"logs","dataset":"app","namespace":"prod"}`
	tests := []struct {
		name, src, want string
	}{
		{"empty object", `{}`, `{` + all + `,"event.dataset":"app"}`},
		{"empty object with spaces", " { \n} \n", " { \n" + all + `,"event.dataset":"app"} ` + "\n"},
		{"none present", `{"message":"x"}`, `{"message":"x",` + all + `,"event.dataset":"app"}`},
		{"event object kept, dataset added dotted", `{"event":{"kind":"event"},"message":"x"}`,
			`{"event":{"kind":"event"},"message":"x",` + all + `,"event.dataset":"app"}`},
		{"all present and right: unchanged", `{"data_stream":{"type":"logs","dataset":"app","namespace":"prod"},"event":{"dataset":"app"}}`,
			`{"data_stream":{"type":"logs","dataset":"app","namespace":"prod"},"event":{"dataset":"app"}}`},
		{"flattened and right: unchanged", `{"data_stream.type":"logs","data_stream.dataset":"app","data_stream.namespace":"prod","event.dataset":"app"}`,
			`{"data_stream.type":"logs","data_stream.dataset":"app","data_stream.namespace":"prod","event.dataset":"app"}`},
		{"partial object: dotted keys, not a second data_stream", `{"data_stream":{"dataset":"app"},"m":1}`,
			`{"data_stream":{"dataset":"app"},"m":1,"data_stream.type":"logs","data_stream.namespace":"prod","event.dataset":"app"}`},
		{"wrong values replaced in place", `{"data_stream":{"type":"metrics","dataset":"My-App","namespace":"Team A"},"event":{"dataset":"x","kind":"event"}}`,
			`{"data_stream":{"type":"logs","dataset":"app","namespace":"prod"},"event":{"dataset":"app","kind":"event"}}`},
		{"non-string value replaced", `{"event.dataset":{"a":[1,"}"]},"x":null}`,
			`{"event.dataset":"app","x":null,` + all + `}`},
		{"escaped equal value replaced", `{"data_stream.type":"l\u006fgs","data_stream.dataset":"app","data_stream.namespace":"prod","event.dataset":"app"}`,
			`{"data_stream.type":"logs","data_stream.dataset":"app","data_stream.namespace":"prod","event.dataset":"app"}`},
		{"mixed nesting", `{"data_stream":{"type":"logs"},"data_stream.dataset":"other","event":{}}`,
			`{"data_stream":{"type":"logs"},"data_stream.dataset":"app","event":{},"data_stream.namespace":"prod","event.dataset":"app"}`},
		{"braces and quotes inside strings", `{"message":"a } \" {","k":"}"}`,
			`{"message":"a } \" {","k":"}",` + all + `,"event.dataset":"app"}`},
		{"not an object", `["x"]`, `["x"]`},
		{"truncated", `{"message":"x"`, `{"message":"x"`},
		{"trailing garbage", `{"message":"x"} x`, `{"message":"x"} x`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SetDataStream([]byte(tt.src), "app", "prod")
			if string(got) != tt.want {
				t.Fatalf("SetDataStream(%s)\n got %s\nwant %s", tt.src, got, tt.want)
			}
			if json.Valid([]byte(tt.want)) {
				if again := SetDataStream(got, "app", "prod"); !bytes.Equal(again, got) {
					t.Fatalf("second pass changed %s to %s", got, again)
				}
			}
		})
	}
}

func TestSetDataStreamNoCopy(t *testing.T) {
	src := []byte(`{"data_stream":{"type":"logs","dataset":"app","namespace":"prod"},"event.dataset":"app"}`)
	if got := SetDataStream(src, "app", "prod"); &got[0] != &src[0] {
		t.Fatal("a document that already holds its fields was copied")
	}
	if n := testing.AllocsPerRun(100, func() { SetDataStream(src, "app", "prod") }); n != 0 {
		t.Fatalf("%v allocations for a document that needs nothing", n)
	}
	need := []byte(`{"message":"x"}`)
	if n := testing.AllocsPerRun(100, func() { SetDataStream(need, "app", "prod") }); n > 2 {
		t.Fatalf("%v allocations for a document that needs the fields; want at most 2", n)
	}
}

func TestRouteDataStream(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		src       string
		wantIndex string
		wantSrc   string
	}{
		{"defaults added", Config{Mode: ModeDataStream}, `{"message":"x"}`, "logs-generic-default",
			`{"message":"x","data_stream":{"type":"logs","dataset":"generic","namespace":"default"},"event.dataset":"generic"}`},
		{"document's own kept", Config{Mode: ModeDataStream}, `{"data_stream":{"dataset":"nginx.access","namespace":"prod"}}`, "logs-nginx.access-prod",
			`{"data_stream":{"dataset":"nginx.access","namespace":"prod"},"data_stream.type":"logs","event.dataset":"nginx.access"}`},
		{"sanitised values written back", Config{Mode: ModeDataStream}, `{"data_stream":{"dataset":"My-App","namespace":"Team A"}}`, "logs-my_app-team_a",
			`{"data_stream":{"dataset":"my_app","namespace":"team_a"},"data_stream.type":"logs","event.dataset":"my_app"}`},
		{"unlisted dataset replaced by the fallback", Config{Mode: ModeDataStream, Allow: []string{"nginx.access"}, Dataset: "other"},
			`{"data_stream":{"dataset":"evil"},"event":{"dataset":"evil"}}`, "logs-other-default",
			`{"data_stream":{"dataset":"other"},"event":{"dataset":"other"},"data_stream.type":"logs","data_stream.namespace":"default"}`},
		{"header mode leaves the document alone", Config{}, `{"message":"x"}`, "logs-2026.03.01", `{"message":"x"}`},
		{"date mode leaves the document alone", Config{Mode: ModeDate}, `{"@timestamp":"2026-02-14T00:00:00Z"}`, "logs-2026.02.14", `{"@timestamp":"2026-02-14T00:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			index, src := r.Route("", []byte(tt.src), recTime)
			if index != tt.wantIndex || string(src) != tt.wantSrc {
				t.Fatalf("Route(%s)\n got %s %s\nwant %s %s", tt.src, index, src, tt.wantIndex, tt.wantSrc)
			}
			if name := r.Name("", []byte(tt.src), recTime); name != index {
				t.Fatalf("Name says %s, Route %s", name, index)
			}
			// The written document routes to the same stream again: a
			// replay of a dead letter lands where the original would have.
			if again, _ := r.Route("", src, recTime); again != index {
				t.Fatalf("the rewritten document routes to %s, not %s", again, index)
			}
		})
	}
}

// FuzzSetDataStream checks, for any JSON object, that the result is valid
// JSON holding the four fields with their values, that no key was added
// twice, that nothing else changed, and that a second pass is a no-op.
func FuzzSetDataStream(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"message":"x"}`, `{"data_stream":{"dataset":"a"}}`, `{"event":{"dataset":1}}`,
		`{"data_stream.type":"logs","data_stream.dataset":"app","data_stream.namespace":"prod","event.dataset":"app"}`,
		`{"data_stream":"x"}`, `{"a":{"b":[{"}":"{"}]},"event.dataset":null}`, ` {"k":"\"}"} `, `[1]`, `{"a":`,
		`{"data_stream":{"type":"l\u006fgs"},"event":{"dataset":"app","x":true}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		orig := bytes.Clone(src)
		out := SetDataStream(src, "app", "prod")
		if !bytes.Equal(src, orig) {
			t.Fatal("input modified")
		}
		if !json.Valid(src) || duplicateKeys(src) {
			return
		}
		if !json.Valid(out) {
			if bytes.Equal(out, src) {
				return
			}
			t.Fatalf("invalid output %q from %q", out, src)
		}
		var v any
		_ = json.Unmarshal(src, &v)
		if _, ok := v.(map[string]any); !ok {
			if !bytes.Equal(out, src) {
				t.Fatalf("non-object %q changed to %q", src, out)
			}
			return
		}
		if duplicateKeys(out) {
			t.Fatalf("duplicate key in %q (from %q)", out, src)
		}
		for i, path := range dsFields {
			want := [...]string{"logs", "app", "prod", "app"}[i]
			if got, k := lookup(out, path); k != kindString || string(got) != want {
				t.Fatalf("%s = %q (kind %d) in %q; want %q", path, got, k, out, want)
			}
		}
		if again := SetDataStream(out, "app", "prod"); !bytes.Equal(again, out) {
			t.Fatalf("second pass changed %q to %q", out, again)
		}
		// Everything but the four fields is as it was.
		if a, b := withoutDataStream(t, src), withoutDataStream(t, out); a != b {
			t.Fatalf("other fields changed:\n%s\n%s", a, b)
		}
	})
}

// duplicateKeys reports whether some object in the JSON text has a key
// twice.
func duplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var dup func() bool
	dup = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				ks, _ := k.(string)
				if seen[ks] {
					return true
				}
				seen[ks] = true
				if dup() {
					return true
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if dup() {
					return true
				}
			}
			_, _ = dec.Token()
		}
		return false
	}
	return dup()
}

// withoutDataStream decodes b and removes the four fields (nested or
// dotted, and parents they leave empty that the function itself could
// have added), returning the rest re-encoded for comparison.
func withoutDataStream(t *testing.T, b []byte) string {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	for _, path := range dsFields {
		if _, ok := m[path]; ok {
			delete(m, path)
			continue
		}
		parent, child, _ := strings.Cut(path, ".")
		if o, ok := m[parent].(map[string]any); ok {
			delete(o, child)
			m[parent] = o
		}
	}
	if o, ok := m["data_stream"].(map[string]any); ok && len(o) == 0 {
		// Added by SetDataStream when absent; an empty one in the
		// source compares equal as well.
		delete(m, "data_stream")
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func BenchmarkSetDataStream(b *testing.B) {
	for _, bc := range []struct{ name, src string }{
		{"missing", `{"@timestamp":"2026-02-14T23:59:59.999Z","message":"GET / 200","kubernetes":{"namespace":"shop","pod":{"name":"web-0"}},"http":{"response":{"status_code":200}}}`},
		{"present", `{"@timestamp":"2026-02-14T23:59:59.999Z","message":"GET / 200","kubernetes":{"namespace":"shop","pod":{"name":"web-0"}},"data_stream":{"type":"logs","dataset":"app","namespace":"prod"},"event":{"dataset":"app"}}`},
	} {
		src := []byte(bc.src)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				SetDataStream(src, "app", "prod")
			}
		})
	}
}
