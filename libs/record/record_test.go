package record

import "testing"

func TestKey(t *testing.T) {
	if got := string(Key("ns", "pod", "c")); got != "ns/pod/c" {
		t.Fatalf("Key = %q", got)
	}
}
