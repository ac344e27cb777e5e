package main

import "testing"

func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:19092", true},
		{"localhost:19092", true},
		{"[::1]:9092", true},
		{"127.0.0.1", true},
		{"10.0.0.5:9092", false},
		{"kafka:9092", false},
		{"example.com:443", false},
	} {
		if err := loopback(tc.addr); (err == nil) != tc.ok {
			t.Errorf("loopback(%q) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
}
