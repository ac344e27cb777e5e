package record

import "testing"

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
}

func TestKey(t *testing.T) {
	if got := string(Key("ns", "pod", "c")); got != "ns/pod/c" {
		t.Fatalf("Key = %q", got)
	}
}

func BenchmarkID(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, IDLen)
	for i := 0; i < b.N; i++ {
		buf = AppendID(buf[:0], "node-1", "3f2a9c0d", int64(i))
	}
}
