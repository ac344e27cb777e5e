package document

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		set  func(d *Doc)
		want string
	}{
		{"empty", func(d *Doc) {}, `{}`},
		{"nested", func(d *Doc) {
			d.Set("http.request.method", S("GET"))
			d.Set("http.response.status_code", I(200))
			d.Set("message", S("hi"))
			d.Set("http.version", S("1.1"))
		}, `{"http":{"request":{"method":"GET"},"response":{"status_code":200},"version":"1.1"},"message":"hi"}`},
		{"value and parent", func(d *Doc) {
			d.Set("a", S("x"))
			d.Set("a.b", I(1))
		}, `{"a":{"_value":"x","b":1}}`},
		{"sibling with dash", func(d *Doc) {
			d.Set("a.b", I(1))
			d.Set("a-b", I(2))
			d.Set("a.c", I(3))
		}, `{"a":{"b":1,"c":3},"a-b":2}`},
		{"escapes and invalid utf8", func(d *Doc) {
			d.Set("m", S("q\"\\\n\x00\xff"))
		}, `{"m":"q\"\\\n\u0000\ufffd"}`},
		{"kinds", func(d *Doc) {
			d.Set("t", T(time.Date(2016, 10, 25, 12, 49, 33, 0, time.UTC)))
			d.Set("f", F(1.5))
			d.Set("b", B(true))
			d.Set("tags", L("x", "y"))
			d.Set("r", RawJSON(`[1,{"a":2}]`))
		}, `{"b":true,"f":1.5,"r":[1,{"a":2}],"t":"2016-10-25T12:49:33.000Z","tags":["x","y"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Doc
			tt.set(&d)
			got := string(d.AppendJSON(nil))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

func TestEdits(t *testing.T) {
	var d Doc
	d.Set("a.b", I(1))
	d.Set("a.c", I(2))
	d.Set("x", S("y"))
	d.Rename("a", "z")
	d.Remove("x")
	d.AddTag("t1")
	d.AddTag("t1")
	got := string(d.AppendJSON(nil))
	want := `{"tags":["t1"],"z":{"b":1,"c":2}}`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("a.b", "c", "a", "v")
	f.Add("", ".", "..", "\xff")
	f.Fuzz(func(t *testing.T, p1, v1, p2, v2 string) {
		var d Doc
		d.Set(p1, S(v1))
		d.Set(p2, S(v2))
		d.Set(p1+".x", I(1))
		out := d.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q %q: %s", p1, p2, out)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	b.ReportAllocs()
	var d Doc
	buf := make([]byte, 0, 2048)
	for i := 0; i < b.N; i++ {
		d.Reset()
		d.Set("@timestamp", T(time.Unix(1477399773, 0)))
		d.Set("source.address", S("67.43.156.13"))
		d.Set("http.request.method", S("GET"))
		d.Set("url.original", S("/favicon.ico"))
		d.Set("http.version", S("1.1"))
		d.Set("http.response.status_code", I(404))
		d.Set("http.response.body.bytes", I(571))
		d.Set("user_agent.original", S("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0)"))
		d.Set("kubernetes.namespace", S("default"))
		d.Set("kubernetes.pod.name", S("web-1"))
		buf = d.AppendJSON(buf[:0])
	}
}
