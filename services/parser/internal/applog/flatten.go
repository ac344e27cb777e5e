package applog

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// Decode writes the members of the JSON object s into d under prefix ("" for
// the root, else a dotted path ending in "."), without any ECS mapping:
// nested objects become dotted paths, arrays stay JSON arrays, nulls and
// empty objects are left out, and numbers become integers when they are
// integers that fit 64 bits, floats otherwise (numbers beyond float64's
// range are left out). It is the same as decoding s with encoding/json into
// a map[string]any with UseNumber and writing that map into d, except that
// for duplicate keys the last one wins in input order. A syntax error
// leaves d as it was.
//
// The input "null" is accepted as an object without members, as
// encoding/json's Unmarshal into a map accepts it.
func Decode(d *document.Doc, s, prefix string) error {
	i := skipSpace(s, 0)
	if hasLit(s, i, "null") && skipSpace(s, i+4) == len(s) {
		return nil
	}
	if i >= len(s) || s[i] != '{' {
		return ErrSyntax
	}
	end, ok := skipObject(s, i, 1)
	if !ok || skipSpace(s, end) != len(s) {
		return ErrSyntax
	}
	writeObject(d, s, i, prefix)
	return nil
}

// writeObject writes the members of the validated object at s[i] and
// returns the index after it. Nested objects are walked in the same pass:
// scanning each one's extent first would rescan the inner levels once per
// level, quadratic in the nesting depth.
func writeObject(d *document.Doc, s string, i int, prefix string) int {
	i = skipSpace(s, i+1)
	if s[i] == '}' {
		return i + 1
	}
	for {
		end, plain, _ := scanString(s, i)
		path := join(prefix, span{start: i, end: end, kind: kindString, plain: plain}.str(s))
		i = skipSpace(s, skipSpace(s, end)+1) // past the colon
		if s[i] == '{' {
			i = writeObject(d, s, i, path+".")
		} else {
			v, _ := scanValue(s, i, 0)
			writeValue(d, s, path, v)
			i = v.end
		}
		i = skipSpace(s, i)
		if s[i] == '}' {
			return i + 1
		}
		i = skipSpace(s, i+1)
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + key
}

// writeValue writes one validated value at path.
func writeValue(d *document.Doc, s, path string, v span) {
	if v.kind == kindObject {
		writeObject(d, s, v.start, path+".")
		return
	}
	writeValueAt(d, s, path, document.P(path), v)
}

// writeValueAt is writeValue with path already prepared as p.
func writeValueAt(d *document.Doc, s, path string, p document.Path, v span) {
	switch v.kind {
	case kindString:
		d.SetPath(p, document.S(v.str(s)))
	case kindNumber:
		if nv, ok := number(s[v.start:v.end]); ok {
			d.SetPath(p, nv)
		}
	case kindTrue:
		d.SetPath(p, document.B(true))
	case kindFalse:
		d.SetPath(p, document.B(false))
	case kindObject:
		writeObject(d, s, v.start, path+".")
	case kindArray:
		d.SetPath(p, document.RawJSON(rawArray(s[v.start:v.end])))
	}
}

// number converts a JSON number as the UseNumber decoding does: an int64
// when it is one, else a float64 when it is in range.
func number(t string) (document.Value, bool) {
	if i, err := strconv.ParseInt(t, 10, 64); err == nil {
		return document.I(i), true
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return document.Value{}, false
	}
	return document.F(f), true
}

// rawArray returns the validated array text a to embed in the document.
// The text is kept as it is unless it holds invalid UTF-8 (encoding/json
// accepts it in strings and replaces it; the document must stay valid
// UTF-8), in which case it is decoded and encoded again.
func rawArray(a string) string {
	if utf8.ValidString(a) {
		return a
	}
	dec := json.NewDecoder(strings.NewReader(a))
	dec.UseNumber()
	var v []any
	if err := dec.Decode(&v); err != nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
