package bulk

import (
	"runtime"
	"testing"
)

// TestSparesOutliveGC checks that request bodies are reused across garbage
// collections, which empty a sync.Pool, and response-sized buffers are not
// kept as spares.
func TestSparesOutliveGC(t *testing.T) {
	for len(spares) > 0 {
		<-spares
	}
	tests := []struct {
		name     string
		capacity int
		kept     bool
	}{
		{"body", 5 << 20, true},
		{"response", 64 << 10, false},
		{"oversized", maxPooledBuffer + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &buffer{b: make([]byte, 10, tt.capacity)}
			putBuffer(b)
			runtime.GC()
			runtime.GC()
			// A body released late by an earlier test's transport may
			// sit beside b, so every spare is looked at.
			kept := false
			for range len(spares) {
				if got := getBuffer(largeBuffer); got == b {
					kept = true
					if len(got.b) != 0 {
						t.Errorf("reused buffer holds %d bytes, want it empty", len(got.b))
					}
				}
			}
			if kept != tt.kept {
				t.Fatalf("buffer among the spares after two collections = %v, want %v", kept, tt.kept)
			}
		})
	}
}
