package useragent

import (
	"testing"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

func TestParse(t *testing.T) {
	p, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want Agent
	}{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36",
			Agent{Name: "Chrome", Version: "54.0.2840", OSName: "Mac OS X", OSVersion: "10.12.0", OSFull: "Mac OS X 10.12.0", Device: "Mac"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
			Agent{Name: "Firefox", Version: "133.0", OSName: "Windows", OSVersion: "10", OSFull: "Windows 10", Device: "Other"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			Agent{Name: "Mobile Safari", Version: "17.5", OSName: "iOS", OSVersion: "17.5", OSFull: "iOS 17.5", Device: "iPhone"}},
		{"curl/8.5.0", Agent{Name: "curl", Version: "8.5.0", Device: "Other"}},
		{"", Agent{Name: "Other", Device: "Other"}},
	}
	for _, tt := range tests {
		for range 2 { // the second time from the cache
			if got := p.Parse(tt.in); *got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, *got, tt.want)
			}
		}
	}
	if n := p.cache.Len(); n != 2 {
		t.Errorf("cache holds %d agents, want its bound 2", n)
	}
}

func TestSet(t *testing.T) {
	var d document.Doc
	(&Agent{Name: "curl", Version: "8.5.0", Device: "Other"}).Set(&d, "user_agent")
	if d.Len() != 3 {
		t.Fatalf("%d fields, want 3 (unknown ones left out)", d.Len())
	}
	if v, _ := d.Get("user_agent.device.name"); v.Str != "Other" {
		t.Errorf("device.name = %q", v.Str)
	}
}

func TestNegativeCacheSize(t *testing.T) {
	if _, err := New(-1); err == nil {
		t.Error("New(-1) accepted")
	}
}

func BenchmarkParseCached(b *testing.B) {
	p, err := New(0)
	if err != nil {
		b.Fatal(err)
	}
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36"
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(ua)
	}
}
