package applog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// reference decodes b the way the parser did before this package:
// encoding/json into a map with UseNumber, then written into a document.
// It reports whether encoding/json accepts b as an object (or null), and
// whether the comparison of values is meaningful: it is not when two
// members write the same path, because a map's order is random and
// encoding/json merges or replaces duplicate keys where the scanner writes
// both in input order.
func reference(b []byte) (d *document.Doc, accepted, comparable bool) {
	if !json.Valid(b) {
		return nil, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, false, false
	}
	d = new(document.Doc)
	sets := refFlatten(d, "", obj)
	return d, true, sets == d.Len() && !hasDuplicateKeys(b)
}

func refFlatten(d *document.Doc, prefix string, obj map[string]any) int {
	n := 0
	for k, v := range obj {
		path := prefix + k
		switch x := v.(type) {
		case map[string]any:
			n += refFlatten(d, path+".", x)
			continue
		case string:
			d.Set(path, document.S(x))
		case json.Number:
			if i, err := x.Int64(); err == nil {
				d.Set(path, document.I(i))
			} else if f, err := x.Float64(); err == nil {
				d.Set(path, document.F(f))
			} else {
				continue
			}
		case bool:
			d.Set(path, document.B(x))
		case nil:
			continue
		default:
			b, _ := json.Marshal(x)
			d.Set(path, document.RawJSON(string(b)))
		}
		n++
	}
	return n
}

// hasDuplicateKeys reports whether any object in the valid JSON b repeats
// a key (after decoding).
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expect {
			if s, ok := tok.(string); ok {
				if top.keys[s] {
					return true
				}
				top.keys[s] = true
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expect = true
		}
	}
}

func fields(d *document.Doc) map[string]document.Value {
	m := map[string]document.Value{}
	d.Each(func(p string, v document.Value) { m[p] = v })
	return m
}

func sameValue(a, b document.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind != document.Raw {
		return reflect.DeepEqual(a, b)
	}
	var x, y any
	if json.Unmarshal([]byte(a.Str), &x) != nil || json.Unmarshal([]byte(b.Str), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, file := range files {
		for _, l := range readLinesF(f, file) {
			f.Add([]byte(l))
		}
	}
	for _, s := range []string{
		`{}`, `null`, ` {"a" : [1, {"b":null}, "x"] } `, `{"a":{"b":{}}}`, `{"a.b":1,"a":{"c":2}}`,
		`{"a":"\ud83d\ude00\ud800x\udc00"}`, "{\"a\":\"\xff\xfe\"}", "{\"a\":[\"\xff\"]}", `{"n":-0,"f":1.5e3,"big":1e400,"i":9223372036854775808}`,
		`{"a":1,"a":{"b":2}}`, `{"a":1,}`, `{"a":tru}`, `{"\u0061":"\/"}`, "{\"a\":\"\x01\"}", `{"":1,".":2,"a..b":3}`,
	} {
		f.Add([]byte(s))
	}
}

func readLinesF(f *testing.F, path string) []string {
	b, err := readFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return bytesLines(b)
}

func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		want, accepted, comparable := reference(b)
		var got document.Doc
		err := Decode(&got, string(b), "")
		if (err == nil) != accepted {
			t.Fatalf("Decode(%q) err = %v; encoding/json accepts: %v", b, err, accepted)
		}
		if err != nil {
			if got.Len() != 0 {
				t.Fatalf("Decode(%q) failed but wrote %d fields", b, got.Len())
			}
			return
		}
		if !json.Valid(got.AppendJSON(nil)) {
			t.Fatalf("Decode(%q) built an invalid document: %s", b, got.AppendJSON(nil))
		}
		if !comparable {
			return
		}
		gf, wf := fields(&got), fields(want)
		if len(gf) != len(wf) {
			t.Fatalf("Decode(%q): %d fields, encoding/json %d:\n%v\n%v", b, len(gf), len(wf), gf, wf)
		}
		for p, wv := range wf {
			if gv, ok := gf[p]; !ok || !sameValue(gv, wv) {
				t.Fatalf("Decode(%q): %s = %#v, encoding/json %#v", b, p, gv, wv)
			}
		}
	})
}

func FuzzMap(f *testing.F) {
	addSeeds(f)
	m := New("", nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, accepted, _ := reference(b)
		isObject := accepted && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		var d document.Doc
		d.Set("message", document.S("x"))
		err := m.Map(&d, string(b))
		if (err == nil) != isObject {
			t.Fatalf("Map(%q) err = %v; encoding/json accepts an object: %v", b, err, isObject)
		}
		if err != nil && d.Len() != 1 {
			t.Fatalf("Map(%q) failed but changed the document", b)
		}
		if out := d.AppendJSON(nil); !json.Valid(out) {
			t.Fatalf("Map(%q) built an invalid document: %s", b, out)
		}
	})
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func bytesLines(b []byte) []string {
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}
