package weblog

import (
	"testing"
	"time"
)

func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		`67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "curl"`,
		`"10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=%7B HTTP/1.1" 200 1 "-" "CF"`,
		`vhost 192.168.33.2 - - [26/Dec/2016:16:22:14 +0000] "GET /hello HTTP/1.1" 404 499 "-" "x"`,
		`[10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE "GET /x.php?a=1 HTTP/1.1" 1375`,
		`2016/10/25 14:49:34 [error] 54053#0: *1 open() failed, client: 127.0.0.1`,
		`[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 43] [client 89.160.20.156:80] File does not exist: /x, referer: http://a/`,
		`[2025-07-22 15:45:51.323610 +0200] [core:notice] [pid 1:tid 1] AH00094`,
	} {
		f.Add(s)
	}
	gmt2 := time.FixedZone("", 7200)
	f.Fuzz(func(t *testing.T, s string) {
		var a Access
		if ParseNginx(s, &a) == nil && a.Method != "" {
			ParseURL(a.Target)
		}
		_ = ParseApache(s, &a)
		var e ErrorEntry
		_ = ParseNginxError(s, gmt2, &e)
		_ = ParseApacheError(s, gmt2, &e)
		if u, ok := ParseURL(s); ok && len(u.Path) > len(s) {
			t.Fatalf("decoded path %q longer than the input %q", u.Path, s)
		}
	})
}
