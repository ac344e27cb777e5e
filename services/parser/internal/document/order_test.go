package document

import (
	"math/rand"
	"slices"
	"testing"
)

// TestAppendJSONOrderCache checks that reusing the encoding order of the
// previous document never changes the output: every document encodes
// exactly as a fresh document whose fields were inserted already sorted.
func TestAppendJSONOrderCache(t *testing.T) {
	paths := []string{"a", "a.b", "a.c", "a-b", "b", "b.x.y", "c", "http.request.method", "http.version", "@timestamp", "tags", "z"}
	rng := rand.New(rand.NewSource(1))
	var reused Doc
	for iter := 0; iter < 2000; iter++ {
		reused.Reset()
		n := 1 + rng.Intn(len(paths))
		for _, i := range rng.Perm(len(paths))[:n] {
			reused.Set(paths[i], I(int64(rng.Intn(100))))
		}
		if rng.Intn(3) == 0 {
			reused.Remove(paths[rng.Intn(len(paths))])
		}
		got := string(reused.AppendJSON(nil))
		again := string(reused.AppendJSON(nil))

		sorted := slices.Clone(reused.fields)
		slices.SortStableFunc(sorted, func(a, b field) int {
			switch {
			case pathLess(a.path, b.path):
				return -1
			case pathLess(b.path, a.path):
				return 1
			}
			return 0
		})
		var fresh Doc
		for _, f := range sorted {
			fresh.Set(f.path, f.val)
		}
		want := string(fresh.AppendJSON(nil))
		if got != want || again != want {
			t.Fatalf("iteration %d: got %s, again %s, want %s", iter, got, again, want)
		}
	}
}
