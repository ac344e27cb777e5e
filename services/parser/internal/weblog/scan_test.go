package weblog

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"25/Oct/2016:14:49:34 +0200", time.Date(2016, 10, 25, 12, 49, 34, 0, time.UTC), true},
		{"10/Oct/2000:13:55:36 -0700", time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC), true},
		{"25/Oct/2016:14:49:34.5 -0000", time.Date(2016, 10, 25, 14, 49, 34, 5e8, time.UTC), true},
		{"25/Foo/2016:14:49:34 +0200", time.Time{}, false},
		{"32/Oct/2016:14:49:34 +0200", time.Time{}, false},
		{"25/Oct/2016:14:49:34", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestQuotedAndNumber(t *testing.T) {
	if s, rest, ok := quoted(`"a\"b" 200`); !ok || s != `a\"b` || rest != " 200" {
		t.Fatalf("quoted = %q %q %v", s, rest, ok)
	}
	if _, _, ok := quoted(`"unterminated`); ok {
		t.Fatal("unterminated quote accepted")
	}
	if n, i := number("404 x"); n != 404 || i != 3 {
		t.Fatalf("number = %d, %d", n, i)
	}
	if _, i := number("1234567890123456789012"); i != 18 {
		t.Fatalf("number read %d digits, want the 18-digit cap", i)
	}
}
