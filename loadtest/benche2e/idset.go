package benche2e

import "math/bits"

// SeqSet records which sequence numbers of each source (a generated pod)
// have been seen, as one bitmap per source: a million lines cost 125 KB
// whatever order they arrive in. Sequence numbers start at 1. Not safe for
// concurrent use.
type SeqSet struct {
	bits [][]uint64
}

// NewSeqSet returns a set for sources 0..sources-1.
func NewSeqSet(sources int) *SeqSet {
	return &SeqSet{bits: make([][]uint64, sources)}
}

// Add marks seq of source src and reports whether it was already marked.
// A source or sequence number out of range (src < 0, src ≥ sources,
// seq < 1) is refused with ok false.
func (s *SeqSet) Add(src int, seq int64) (dup, ok bool) {
	if src < 0 || src >= len(s.bits) || seq < 1 {
		return false, false
	}
	i, m := uint64(seq)/64, uint64(1)<<(uint64(seq)%64)
	b := s.bits[src]
	if i >= uint64(len(b)) {
		// Grow by doubling so arrival in order costs amortised O(1).
		n := max(int(i)+1, 2*len(b))
		b = append(b, make([]uint64, n-len(b))...)
		s.bits[src] = b
	}
	if b[i]&m != 0 {
		return true, true
	}
	b[i] |= m
	return false, true
}

// Missing returns how many of the sequence numbers 1..upTo of source src
// have not been added.
func (s *SeqSet) Missing(src int, upTo int64) int64 {
	if upTo < 1 {
		return 0
	}
	var b []uint64
	if src >= 0 && src < len(s.bits) {
		b = s.bits[src]
	}
	seen := int64(0)
	last := uint64(upTo) / 64
	for i := uint64(0); i <= last && i < uint64(len(b)); i++ {
		w := b[i]
		if i == 0 {
			w &^= 1 // sequence 0 does not exist
		}
		if i == last {
			w &= (uint64(1) << (uint64(upTo)%64 + 1)) - 1
		}
		seen += int64(bits.OnesCount64(w))
	}
	return upTo - seen
}
