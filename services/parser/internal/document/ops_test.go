package document

import (
	"fmt"
	"strings"
	"testing"
)

// refDoc is the plain model of Doc: a list scanned from the front.
type refDoc struct{ fields []field }

func (r *refDoc) find(p string) int {
	for i := range r.fields {
		if r.fields[i].path == p {
			return i
		}
	}
	return -1
}

func (r *refDoc) set(p string, v Value) {
	p = clean(p)
	if i := r.find(p); i >= 0 {
		r.fields[i].val = v
		return
	}
	r.fields = append(r.fields, field{path: p, val: v})
}

func (r *refDoc) hasChildren(p string) bool {
	for _, f := range r.fields {
		if strings.HasPrefix(f.path, p+".") {
			return true
		}
	}
	return false
}

func (r *refDoc) remove(p string) {
	out := r.fields[:0]
	for _, f := range r.fields {
		if f.path == p || strings.HasPrefix(f.path, p+".") {
			continue
		}
		out = append(out, f)
	}
	r.fields = out
}

func (r *refDoc) rename(from, to string) {
	if from == to {
		return
	}
	var moved, out []field
	for _, f := range r.fields {
		switch {
		case f.path == from:
			moved = append(moved, field{path: to, val: f.val})
		case strings.HasPrefix(f.path, from+"."):
			moved = append(moved, field{path: to + f.path[len(from):], val: f.val})
		default:
			out = append(out, f)
		}
	}
	r.fields = out
	for _, f := range moved {
		r.set(f.path, f.val)
	}
}

func (r *refDoc) addTag(tag string) {
	for i := range r.fields {
		if r.fields[i].path == "tags" {
			if r.fields[i].val.Kind != Strings {
				r.fields[i].val = L(tagText(&r.fields[i].val))
			}
			for _, t := range r.fields[i].val.Strings {
				if t == tag {
					return
				}
			}
			r.fields[i].val.Strings = append(r.fields[i].val.Strings, tag)
			return
		}
	}
	r.fields = append(r.fields, field{path: "tags", val: L(tag)})
}

func dump(each func(func(string, Value))) string {
	var b strings.Builder
	each(func(p string, v Value) { fmt.Fprintf(&b, "%s=%d:%q:%d:%v;", p, v.Kind, v.Str, v.Int, v.Strings) })
	return b.String()
}

// FuzzDocOps runs a program of edits on one reused Doc and on the model and
// compares fields, lookups and the JSON (against a fresh Doc built from
// the model's fields).
func FuzzDocOps(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"))
	f.Add([]byte("\x00\x10\x20\x30\x41\x52\x63\x74\x85\x96\xa7\xb8\xc9\xda\xeb\xfc"))
	paths := []string{"a", "a.b", "a.c", "a-b", "tags", "b.x.y", "b", "http.request.method", "message", "kubernetes.labels.app", "a..b", "", "x.tags", "c.d"}
	for i := 0; i < 40; i++ {
		paths = append(paths, fmt.Sprintf("f%d.g%d", i%7, i))
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		var d Doc
		var r refDoc
		var m Doc
		m.Set("kubernetes.labels.app", S("web"))
		m.Set("m.x", S("1"))
		for i, op := range prog {
			p := paths[int(op>>3)%len(paths)]
			q := paths[(int(op)+i)%len(paths)]
			switch op & 7 {
			case 0, 1, 2:
				if op&0x40 != 0 {
					d.SetPath(P(p), I(int64(i)))
				} else {
					d.Set(p, I(int64(i)))
				}
				r.set(p, I(int64(i)))
			case 3:
				if op&0x40 != 0 && r.find(clean(p)) >= 0 && !r.hasChildren(clean(p)) {
					d.Delete(clean(p))
					r.remove(clean(p))
				} else {
					d.Remove(p)
					r.remove(p)
				}
			case 4:
				d.Rename(p, q)
				r.rename(p, q)
			case 5:
				d.AddTag(q)
				r.addTag(q)
			case 6:
				if r.find("kubernetes.labels.app") < 0 && r.find("m.x") < 0 && op&0x40 != 0 {
					d.MergeNew(&m)
				} else {
					d.Merge(&m)
				}
				m.Each(func(p string, v Value) { r.set(p, v) })
			case 7:
				if op&0x80 != 0 {
					d.Reset()
					r.fields = nil
				} else {
					d.Set("tags", S("t"))
					r.set("tags", S("t"))
				}
			}
			got := dump(d.Each)
			want := dump(func(fn func(string, Value)) {
				for _, f := range r.fields {
					fn(f.path, f.val)
				}
			})
			if got != want {
				t.Fatalf("step %d: fields\n%s\nwant\n%s", i, got, want)
			}
			for _, p := range paths {
				v, ok := d.Get(p)
				j := r.find(clean(p))
				if ok != (j >= 0) || ok && v.Int != r.fields[j].val.Int {
					t.Fatalf("step %d: Get(%q) = %v %v", i, p, v, ok)
				}
				if pv, pok := d.GetPath(P(p)); pok != ok || pv.Kind != v.Kind || pv.Int != v.Int || pv.Str != v.Str {
					t.Fatalf("step %d: GetPath(%q) = %v %v, Get %v %v", i, p, pv, pok, v, ok)
				}
			}
			var fresh Doc
			fresh.fields = append(fresh.fields, r.fields...)
			if a, b := string(d.AppendJSON(nil)), string(fresh.AppendJSON(nil)); a != b {
				t.Fatalf("step %d: JSON %s, want %s", i, a, b)
			}
			if a, b := string(d.AppendJSON(nil)), string(refEncode(&d)); a != b {
				t.Fatalf("step %d: JSON %s, reference encoder %s", i, a, b)
			}
		}
	})
}
