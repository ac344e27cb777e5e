package rules

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// Decoder decodes sluice.logs.v1.RawRecord values for the parser's workers.
// It gives the same record as proto.Unmarshal (and the same error), but
// decodes the Kubernetes message of a container once: records whose
// Kubernetes bytes were seen recently share one read-only message and its
// Meta. The strings of Source, the flags and the parser hint are shared
// in the same way.
//
// A Decoder is not safe for concurrent use; each worker has its own.
type Decoder struct {
	metas  genCache[*Meta]
	strs   genCache[string]
	src    logsv1.Source
	flags  []string
	misses int64
}

// cacheGeneration bounds the entries of one generation of a Decoder's
// caches; with two generations a cache holds at most twice as many.
const cacheGeneration = 1024

// genCache is a bounded map that keeps what was used recently: entries
// live in the current generation, and when it is full it becomes the old
// one (the previous old one is dropped). An entry found in the old
// generation moves back to the current one. It is an LRU approximation
// with no per-entry bookkeeping.
type genCache[V any] struct {
	cur, old map[string]V
}

func (c *genCache[V]) get(k []byte) (V, bool) {
	if v, ok := c.cur[string(k)]; ok {
		return v, true
	}
	if v, ok := c.old[string(k)]; ok {
		c.put(string(k), v)
		return v, true
	}
	var zero V
	return zero, false
}

func (c *genCache[V]) put(k string, v V) {
	if len(c.cur) >= cacheGeneration {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]V, 64)
	}
	c.cur[k] = v
}

// Decode decodes b into rec and returns the Meta of its Kubernetes message
// (nil when it has none). rec.Line aliases b, and rec.Source and
// rec.Kubernetes belong to the decoder: rec is valid until the next call,
// and neither rec's messages nor b may be modified.
func (dc *Decoder) Decode(b []byte, rec *logsv1.RawRecord) (*Meta, error) {
	if m, ok := dc.decode(b, rec); ok {
		return m, nil
	}
	dc.misses++
	if err := proto.Unmarshal(b, rec); err != nil {
		return nil, err
	}
	if rec.Kubernetes == nil {
		return nil, nil
	}
	return NewMeta(rec.Kubernetes), nil
}

// decode is the fast path. It declines (false) whatever it does not handle
// exactly as proto.Unmarshal would: unknown fields, a message field given
// twice (proto merges them), malformed wire data, invalid UTF-8 in a
// string.
func (dc *Decoder) decode(b []byte, rec *logsv1.RawRecord) (*Meta, bool) {
	rec.Reset()
	dc.src.Reset()
	dc.flags = dc.flags[:0]
	var meta *Meta
	var kube []byte
	haveSrc, haveKube := false, false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && (num == 2 || num == 3 || num == 8):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
			switch num {
			case 2:
				rec.TimeUnixNano = int64(v)
			case 3:
				rec.Stream = logsv1.Stream(int32(v))
			case 8:
				rec.IngestTimeUnixNano = int64(v)
			}
		case typ == protowire.BytesType && num >= 1 && num <= 7 && num != 2 && num != 3:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
			switch num {
			case 1:
				rec.Line = v[:len(v):len(v)]
			case 4:
				if haveSrc || !dc.decodeSource(v) {
					return nil, false
				}
				haveSrc = true
			case 5:
				if haveKube {
					return nil, false
				}
				haveKube, kube = true, v
			case 6:
				s, ok := dc.str(v)
				if !ok {
					return nil, false
				}
				dc.flags = append(dc.flags, s)
			case 7:
				s, ok := dc.str(v)
				if !ok {
					return nil, false
				}
				rec.ParserHint = s
			}
		default:
			return nil, false
		}
	}
	if haveSrc {
		rec.Source = &dc.src
	}
	if len(dc.flags) > 0 {
		rec.Flags = dc.flags
	}
	if haveKube {
		m, ok := dc.metas.get(kube)
		if !ok {
			k := new(logsv1.Kubernetes)
			if err := proto.Unmarshal(kube, k); err != nil {
				return nil, false
			}
			m = NewMeta(k)
			dc.metas.put(string(kube), m)
		}
		meta = m
		rec.Kubernetes = m.kube
	}
	return meta, true
}

func (dc *Decoder) decodeSource(b []byte) bool {
	s := &dc.src
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && (num == 4 || num == 5):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			if num == 4 {
				s.Offset = int64(v)
			} else {
				s.EndOffset = int64(v)
			}
		case typ == protowire.BytesType && num >= 1 && num <= 3:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			b = b[n:]
			str, ok := dc.str(v)
			if !ok {
				return false
			}
			switch num {
			case 1:
				s.Node = str
			case 2:
				s.Path = str
			case 3:
				s.Fingerprint = str
			}
		default:
			return false
		}
	}
	return true
}

// str returns b as a string, shared with earlier records; false when b is
// not valid UTF-8 (proto.Unmarshal refuses such a string).
func (dc *Decoder) str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if s, ok := dc.strs.get(b); ok {
		return s, true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	s := string(b)
	dc.strs.put(s, s)
	return s, true
}
