package accesslog

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Entry
		err  error
	}{
		{
			name: "combined",
			line: `67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0 (Macintosh)"`,
			want: Entry{Remote: "67.43.156.13", Time: time.Date(2016, 10, 25, 12, 49, 34, 0, time.UTC),
				Request: "GET /favicon.ico HTTP/1.1", Method: "GET", Target: "/favicon.ico", Version: "1.1",
				Status: 404, Bytes: 571, HasBytes: true, Referrer: "http://localhost:8080/", Agent: "Mozilla/5.0 (Macintosh)", Combined: true},
		},
		{
			name: "common with user and no body",
			line: `127.0.0.1 ident frank [10/Oct/2000:13:55:36 -0700] "POST /x HTTP/1.0" 304 -`,
			want: Entry{Remote: "127.0.0.1", Ident: "ident", User: "frank", Time: time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC),
				Request: "POST /x HTTP/1.0", Method: "POST", Target: "/x", Version: "1.0", Status: 304},
		},
		{
			name: "proxy chain and escaped quote",
			line: `10.0.0.2, 10.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /a\"b HTTP/1.1" 200 0 "-" "curl/7.0"`,
			want: Entry{Remote: "10.0.0.2", RemoteList: []string{"10.0.0.2", "10.0.0.1"}, Time: time.Date(2016, 12, 7, 10, 5, 7, 0, time.UTC),
				Request: `GET /a\"b HTTP/1.1`, Method: "GET", Target: `/a\"b`, Version: "1.1", Status: 200, HasBytes: true, Agent: "curl/7.0", Combined: true},
		},
		{
			name: "garbage request",
			line: `::1 - - [07/Dec/2016:11:05:07 +0100] "-" 400 0 "-" "-"`,
			want: Entry{Remote: "::1", Time: time.Date(2016, 12, 7, 10, 5, 7, 0, time.UTC), Request: "-", Status: 400, HasBytes: true, Combined: true},
		},
		{name: "no time", line: `1.2.3.4 - - "GET / HTTP/1.1" 200 1`, err: ErrTime},
		{name: "bad status", line: `1.2.3.4 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" x 1`, err: ErrStatus},
		{name: "unterminated", line: `1.2.3.4 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1`, err: ErrQuoted},
		{name: "empty", line: ``, err: ErrRemote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Entry
			err := Parse(tt.line, &e)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if len(e.RemoteList) == 0 {
				e.RemoteList = nil
			}
			if !e.Time.Equal(tt.want.Time) {
				t.Fatalf("time %v, want %v", e.Time, tt.want.Time)
			}
			e.Time, tt.want.Time = time.Time{}, time.Time{}
			if e.Remote != tt.want.Remote || e.User != tt.want.User || e.Method != tt.want.Method || e.Target != tt.want.Target ||
				e.Version != tt.want.Version || e.Status != tt.want.Status || e.Bytes != tt.want.Bytes || e.HasBytes != tt.want.HasBytes ||
				e.Referrer != tt.want.Referrer || e.Agent != tt.want.Agent || e.Combined != tt.want.Combined || e.Request != tt.want.Request ||
				len(e.RemoteList) != len(tt.want.RemoteList) {
				t.Fatalf("got  %+v\nwant %+v", e, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0"`)
	f.Add(`a, b - x y [25/Oct/2016:14:49:34.5 -0000] "\"" 1 - "`)
	f.Fuzz(func(t *testing.T, line string) {
		var e Entry
		if Parse(line, &e) == nil && e.Status > 999 {
			t.Fatalf("status %d accepted", e.Status)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := `67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36"`
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	var e Entry
	for i := 0; i < b.N; i++ {
		if err := Parse(line, &e); err != nil {
			b.Fatal(err)
		}
	}
}
