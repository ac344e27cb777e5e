package indexname

import (
	"bytes"
	"time"
)

// Route names the document as Name does and, in datastream mode, returns
// the source with the data stream fields set to the stream it is written
// to: data_stream.type (logs), data_stream.dataset, data_stream.namespace
// and event.dataset (equal to the dataset, as Elastic's integrations set
// it). In other modes, and when the document already says the same, the
// source comes back as it was, without a copy.
//
// Why: a data stream's backing indices map data_stream.* as
// constant_keyword on Elasticsearch, so a document that names another
// dataset or namespace than its stream (one routed to the fallback dataset
// because its own is not allowed, or one whose value had to be made valid)
// would be refused; one without them is unfindable by the dataset filters
// Kibana and the Fleet-style dashboards use.
func (r *Router) Route(header string, source []byte, recordTime time.Time) (string, []byte) {
	if r.mode != ModeDataStream {
		return r.Name(header, source, recordTime), source
	}
	ds, ns := r.target(source)
	r.buf = append(append(append(append(r.buf[:0], "logs-"...), ds...), '-'), ns...)
	name := r.intern(r.buf)
	return name, SetDataStream(source, ds, ns)
}

// target returns the dataset and namespace of the stream a document goes
// to: its own (made valid) when it has them and the dataset is allowed,
// the configured ones otherwise.
func (r *Router) target(source []byte) (ds, ns string) {
	ds, ns = r.dataset, r.ns
	if v, k := lookup(source, "data_stream.dataset"); k == kindString {
		if s := dsPart(string(v)); s != "" && (r.allow == nil || r.allow[s] != "") {
			ds = s
		}
	}
	if v, k := lookup(source, "data_stream.namespace"); k == kindString {
		if s := dsPart(string(v)); s != "" {
			ns = s
		}
	}
	return ds, ns
}

// dsFields are the fields SetDataStream owns, in the order it writes them.
var dsFields = [...]string{"data_stream.type", "data_stream.dataset", "data_stream.namespace", "event.dataset"}

// edit replaces src[start:end] with text (an insertion when start == end).
type edit struct {
	start, end int
	text       []byte
}

// SetDataStream returns the JSON object src with data_stream.type "logs",
// data_stream.dataset ds, data_stream.namespace ns and event.dataset ds.
// ds and ns must be valid data stream parts (see dsPart): they are written
// without escaping.
//
// The document is spliced, not decoded and encoded again: a field holding
// another value has that value replaced where it stands (nested or
// dotted), and missing fields are added before the closing brace, as a
// data_stream object when the document has no data_stream key at all and
// as dotted keys otherwise (merging into an object the document already
// has would mean rewriting it). No field is ever written twice. src comes
// back unchanged, and not copied, when every field already holds its
// value, and also when src is not a JSON object: the engine will refuse it
// with a better reason than we could give.
func SetDataStream(src []byte, ds, ns string) []byte {
	want := [len(dsFields)]string{"logs", ds, ns, ds}
	var (
		edits   [len(dsFields) + 1]edit
		n       int
		missing [len(dsFields)]bool
		absent  int
	)
	for i, path := range dsFields {
		start, end, ok := locate(src, path)
		switch {
		case !ok:
			missing[i] = true
			absent++
		case end-start == len(want[i])+2 && src[start] == '"' && string(src[start+1:end-1]) == want[i]:
			// Already right (no escapes can hide in a valid part).
		default:
			edits[n] = edit{start, end, quote(nil, want[i])}
			n++
		}
	}
	if n == 0 && absent == 0 {
		return src
	}
	if absent > 0 {
		closing, empty, ok := closingBrace(src)
		if !ok {
			return src
		}
		// Room for all four fields with 100-byte parts: one allocation.
		text := make([]byte, 0, 128+3*len(ds)+len(ns))
		sep := func() {
			if len(text) > 0 || !empty {
				text = append(text, ',')
			}
		}
		nested := missing[0] && missing[1] && missing[2] && !hasKey(src, "data_stream")
		for i, path := range dsFields {
			if !missing[i] {
				continue
			}
			if nested && i <= 2 {
				if i == 0 {
					sep()
					text = append(text, `"data_stream":{`...)
				} else {
					text = append(text, ',')
				}
				text = append(quote(text, path[len("data_stream."):]), ':')
				text = quote(text, want[i])
				if i == 2 {
					text = append(text, '}')
				}
				continue
			}
			sep()
			text = append(quote(text, path), ':')
			text = quote(text, want[i])
		}
		edits[n] = edit{closing, closing, text}
		n++
	}
	return apply(src, edits[:n])
}

// apply performs non-overlapping edits in any order.
func apply(src []byte, edits []edit) []byte {
	// At most five edits: an insertion sort keeps this allocation-free.
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].start < edits[j-1].start; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	size := len(src)
	for _, e := range edits {
		size += len(e.text) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, e := range edits {
		out = append(append(out, src[at:e.start]...), e.text...)
		at = e.end
	}
	return append(out, src[at:]...)
}

func quote(b []byte, s string) []byte {
	return append(append(append(b, '"'), s...), '"')
}

// closingBrace finds the '}' that ends the top-level object of src and
// whether the object is empty. It checks the object is well formed as far
// as the splice needs: every member's key and value can be passed over.
func closingBrace(src []byte) (at int, empty, ok bool) {
	s := scanner{b: src}
	s.ws()
	if !s.eat('{') {
		return 0, false, false
	}
	if s.eat('}') {
		return s.i - 1, true, trailingSpace(src[s.i:])
	}
	for {
		s.ws()
		if _, ok := s.rawStrAt(); !ok || !s.eat(':') {
			return 0, false, false
		}
		s.ws()
		if !s.skip() {
			return 0, false, false
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return s.i - 1, false, trailingSpace(src[s.i:])
		}
		return 0, false, false
	}
}

func trailingSpace(b []byte) bool {
	return len(bytes.TrimLeft(b, " \t\r\n")) == 0
}

// rawStrAt passes over the string at s.i, if there is one.
func (s *scanner) rawStrAt() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	return s.rawStr()
}

// hasKey reports whether the top-level object of src has the key name,
// whatever its value.
func hasKey(src []byte, name string) bool {
	_, _, ok := locate(src, name)
	return ok
}

// locate finds where the value at a dotted path starts and ends in the
// JSON object src, nested, flattened or mixed as lookup reads it, whatever
// the value's kind. When a path occurs more than once (which JSON allows
// and the engines reject as a duplicate field), the first is found.
func locate(src []byte, path string) (start, end int, ok bool) {
	s := scanner{b: src}
	s.ws()
	if !s.eat('{') {
		return 0, 0, false
	}
	return s.locate(path)
}

// locate scans the members of an object whose '{' was consumed.
func (s *scanner) locate(path string) (int, int, bool) {
	if s.eat('}') {
		return 0, 0, false
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok || !s.eat(':') {
			return 0, 0, false
		}
		s.ws()
		switch {
		case string(key) == path:
			start := s.i
			if !s.skip() {
				return 0, 0, false
			}
			return start, s.i, true
		case len(path) > len(key) && path[len(key)] == '.' && string(key) == path[:len(key)]:
			if s.i < len(s.b) && s.b[s.i] == '{' {
				s.i++
				save := s.i
				if start, end, ok := s.locate(path[len(key)+1:]); ok {
					return start, end, true
				}
				s.i = save - 1
			}
			if !s.skip() {
				return 0, 0, false
			}
		default:
			if !s.skip() {
				return 0, 0, false
			}
		}
		if s.eat(',') {
			continue
		}
		return 0, 0, false
	}
}
