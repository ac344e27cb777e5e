package record

import (
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	tests := []struct {
		name      string
		a, b      [3]any
		wantEqual bool
	}{
		{"same source", [3]any{"n1", "fp", int64(10)}, [3]any{"n1", "fp", int64(10)}, true},
		{"other offset", [3]any{"n1", "fp", int64(10)}, [3]any{"n1", "fp", int64(11)}, false},
		{"other node", [3]any{"n1", "fp", int64(10)}, [3]any{"n2", "fp", int64(10)}, false},
		{"other file", [3]any{"n1", "fp", int64(10)}, [3]any{"n1", "fq", int64(10)}, false},
		{"boundary shift", [3]any{"ab", "c", int64(0)}, [3]any{"a", "bc", int64(0)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ID(tt.a[0].(string), tt.a[1].(string), tt.a[2].(int64))
			b := ID(tt.b[0].(string), tt.b[1].(string), tt.b[2].(int64))
			if len(a) != IDLen {
				t.Fatalf("len(ID) = %d, want %d", len(a), IDLen)
			}
			if (a == b) != tt.wantEqual {
				t.Fatalf("ID equal = %v, want %v (%s vs %s)", a == b, tt.wantEqual, a, b)
			}
		})
	}
}

func TestIDStable(t *testing.T) {
	// The _id is part of the stored data: changing the derivation would
	// index every replayed line twice. This value must never change.
	const want = "X4HGK9y6eLhGy_hRYWtezA"
	if got := ID("node-1", "3f2a", 4096); got != want {
		t.Fatalf("ID changed: got %q, want %q", got, want)
	}
}

func TestDocID(t *testing.T) {
	a := DocID("n1", "shop/web-0/nginx", "fp", 10)
	if a == DocID("n1", "shop/web-1/nginx", "fp", 10) {
		t.Fatal("two containers with the same fingerprint share an _id")
	}
	if a != DocID("n1", "shop/web-0/nginx", "fp", 10) || len(a) != IDLen {
		t.Fatalf("DocID not stable or wrong length: %q", a)
	}
	// Part of the stored data: changing it would index replayed lines twice.
	if got, want := DocID("node-1", "ns/pod/c", "3f2a", 4096), "T-3xk0LimciZTS390-dfIw"; got != want {
		t.Fatalf("DocID changed: got %q, want %q", got, want)
	}
	if got, want := string(AppendDocID(nil, "node-1", "ns", "pod", "c", "3f2a", 4096)), "T-3xk0LimciZTS390-dfIw"; got != want {
		t.Fatalf("AppendDocID changed: got %q, want %q", got, want)
	}
}

// TestAppendDocIDAllocs pins the parser's hot path: deriving an _id into a
// buffer with room allocates nothing, for names as long as Kubernetes
// allows.
func TestAppendDocIDAllocs(t *testing.T) {
	long := strings.Repeat("n", 253)
	buf := make([]byte, 0, IDLen)
	for _, tt := range []struct{ node, ns, pod, c string }{
		{"node-1", "shop", "web-7d4b9c-xk2p9", "nginx"},
		{long, strings.Repeat("a", 63), long, strings.Repeat("c", 63)},
	} {
		if n := testing.AllocsPerRun(100, func() {
			buf = AppendDocID(buf[:0], tt.node, tt.ns, tt.pod, tt.c, "3f2a9c0d3f2a9c0d", 123456)
		}); n != 0 {
			t.Errorf("AppendDocID (node of %d bytes): %v allocs, want 0", len(tt.node), n)
		}
	}
}

// FuzzAppendDocID checks that the split form equals the string form for
// any input, including input longer than the stack buffer.
func FuzzAppendDocID(f *testing.F) {
	f.Add("node-1", "ns", "pod", "c", "fp", int64(0))
	f.Add(strings.Repeat("x", 2000), "", "/", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, node, ns, pod, c, fp string, off int64) {
		want := DocID(node, ns+"/"+pod+"/"+c, fp, off)
		if got := string(AppendDocID(nil, node, ns, pod, c, fp, off)); got != want {
			t.Fatalf("AppendDocID = %s, DocID = %s", got, want)
		}
	})
}

func BenchmarkID(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, IDLen)
	for i := 0; i < b.N; i++ {
		buf = AppendID(buf[:0], "node-1", "3f2a9c0d", int64(i))
	}
}
