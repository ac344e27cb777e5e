package benche2e

import (
	"math/rand/v2"
	"testing"
)

func TestSeqSet(t *testing.T) {
	s := NewSeqSet(2)
	for _, tc := range []struct {
		name          string
		src           int
		seq           int64
		wantDup, isOK bool
	}{
		{"first", 0, 1, false, true},
		{"again", 0, 1, true, true},
		{"other source same seq", 1, 1, false, true},
		{"word boundary 63", 0, 63, false, true},
		{"word boundary 64", 0, 64, false, true},
		{"far ahead grows", 0, 100_000, false, true},
		{"far ahead again", 0, 100_000, true, true},
		{"seq zero refused", 0, 0, false, false},
		{"negative source refused", -1, 5, false, false},
		{"unknown source refused", 2, 5, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dup, ok := s.Add(tc.src, tc.seq)
			if dup != tc.wantDup || ok != tc.isOK {
				t.Fatalf("Add(%d, %d) = dup %v ok %v, want dup %v ok %v", tc.src, tc.seq, dup, ok, tc.wantDup, tc.isOK)
			}
		})
	}
	for _, tc := range []struct {
		src  int
		upTo int64
		want int64
	}{
		{0, 0, 0},
		{0, 1, 0},
		{0, 2, 1},
		{0, 64, 64 - 3},
		{0, 65, 65 - 3},
		{0, 100_000, 100_000 - 4},
		{0, 200_000, 200_000 - 4},
		{1, 1, 0},
		{1, 10, 9},
		{5, 10, 10},
	} {
		if got := s.Missing(tc.src, tc.upTo); got != tc.want {
			t.Errorf("Missing(%d, %d) = %d, want %d", tc.src, tc.upTo, got, tc.want)
		}
	}
}

// TestSeqSetShuffled checks the set against a map on random arrivals with
// duplicates.
func TestSeqSetShuffled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := NewSeqSet(3)
	ref := map[[2]int64]bool{}
	for range 50_000 {
		src, seq := r.IntN(3), 1+r.Int64N(20_000)
		dup, ok := s.Add(src, seq)
		if !ok {
			t.Fatalf("Add(%d, %d) refused", src, seq)
		}
		k := [2]int64{int64(src), seq}
		if dup != ref[k] {
			t.Fatalf("Add(%d, %d) dup = %v, reference says %v", src, seq, dup, ref[k])
		}
		ref[k] = true
	}
	for src := range 3 {
		seen := int64(0)
		for k := range ref {
			if k[0] == int64(src) && k[1] <= 15_000 {
				seen++
			}
		}
		if got, want := s.Missing(src, 15_000), 15_000-seen; got != want {
			t.Errorf("source %d: Missing = %d, want %d", src, got, want)
		}
	}
}
