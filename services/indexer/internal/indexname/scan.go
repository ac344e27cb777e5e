package indexname

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Kinds of value lookup finds.
const (
	kindNone = iota
	kindString
	kindNumber
)

// lookup finds the value at a dotted path in a JSON object, whether it is
// nested ({"data_stream":{"dataset":"x"}}), flattened
// ({"data_stream.dataset":"x"}) or a mix. It returns strings unquoted and
// numbers as written; other values (objects, arrays, booleans, null) and
// malformed input report kindNone. It reads no further than it must.
func lookup(src []byte, path string) ([]byte, int) {
	s := scanner{b: src}
	s.ws()
	if !s.eat('{') {
		return nil, kindNone
	}
	return s.object(path)
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object scans the members of an object whose '{' was consumed.
func (s *scanner) object(path string) ([]byte, int) {
	if s.eat('}') {
		return nil, kindNone
	}
	for {
		s.ws()
		key, ok := s.str()
		if !ok || !s.eat(':') {
			return nil, kindNone
		}
		s.ws()
		switch {
		case string(key) == path:
			return s.value()
		case len(path) > len(key) && path[len(key)] == '.' && strings.HasPrefix(path, string(key)):
			if s.i < len(s.b) && s.b[s.i] == '{' {
				s.i++
				// A nested miss does not end the search: a flattened
				// sibling key may still hold the value.
				save := s.i
				if v, k := s.object(path[len(key)+1:]); k != kindNone {
					return v, k
				}
				s.i = save - 1
			}
			if !s.skip() {
				return nil, kindNone
			}
		default:
			if !s.skip() {
				return nil, kindNone
			}
		}
		if s.eat(',') {
			continue
		}
		return nil, kindNone
	}
}

// str reads a string at s.i (after ws), unescaped.
func (s *scanner) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	escaped := false
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			if !escaped {
				return s.b[start+1 : j], true
			}
			var out string
			if json.Unmarshal(s.b[start:j+1], &out) != nil {
				return nil, false
			}
			return []byte(out), true
		}
	}
	return nil, false
}

// value reads a string or number at s.i.
func (s *scanner) value() ([]byte, int) {
	if s.i >= len(s.b) {
		return nil, kindNone
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, ok := s.str()
		if !ok {
			return nil, kindNone
		}
		return v, kindString
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && bytes.IndexByte([]byte("+-.0123456789eE"), s.b[s.i]) >= 0 {
			s.i++
		}
		return s.b[start:s.i], kindNumber
	}
	return nil, kindNone
}

// skip passes over one value at s.i.
func (s *scanner) skip() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, ok := s.rawStr()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			case '"':
				if _, ok := s.rawStr(); !ok {
					return false
				}
				continue
			}
			s.i++
		}
		return false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.i > start
		}
		s.i++
	}
	return s.i > start
}

// rawStr passes over a string without unescaping it.
func (s *scanner) rawStr() ([]byte, bool) {
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			v := s.b[s.i+1 : j]
			s.i = j + 1
			return v, true
		}
	}
	return nil, false
}
