package grok

import (
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const combinedLine = `83.149.9.216 - - [24/Feb/2015:16:40:26 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"`

func TestMatchMap(t *testing.T) {
	tests := []struct {
		name   string
		mode   Mode
		custom map[string]string
		expr   string
		line   string
		want   map[string]any // nil: no match
	}{
		{"legacy combined", ModeLegacy, nil, "%{COMBINEDAPACHELOG}", combinedLine, map[string]any{
			"clientip": "83.149.9.216", "ident": "-", "auth": "-", "timestamp": "24/Feb/2015:16:40:26 +0000",
			"verb": "GET", "request": "/presentations/logstash-monitorama-2013/images/kibana-search.png",
			"httpversion": "1.1", "response": "200", "bytes": "203023",
			"referrer": `"http://semicomplete.com/presentations/logstash-monitorama-2013/"`,
			"agent":    `"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"`,
		}},
		{"ecs combined", ModeECS, nil, "%{COMBINEDAPACHELOG}", combinedLine, map[string]any{
			"source":    map[string]any{"address": "83.149.9.216"},
			"timestamp": "24/Feb/2015:16:40:26 +0000",
			"http": map[string]any{
				"request":  map[string]any{"method": "GET", "referrer": "http://semicomplete.com/presentations/logstash-monitorama-2013/"},
				"version":  "1.1",
				"response": map[string]any{"status_code": int64(200), "body": map[string]any{"bytes": int64(203023)}},
			},
			"url":        map[string]any{"original": "/presentations/logstash-monitorama-2013/images/kibana-search.png"},
			"user_agent": map[string]any{"original": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"},
		}},
		{"int and float", ModeLegacy, nil, "%{INT:a:int} %{NUMBER:b:float} %{NUMBER:c}", "-12 3.5 7", map[string]any{"a": int64(-12), "b": 3.5, "c": "7"}},
		{"nested target", ModeLegacy, nil, "%{WORD:[a][b]} %{WORD:[a][c]}", "x y", map[string]any{"a": map[string]any{"b": "x", "c": "y"}}},
		{"inline group", ModeLegacy, nil, `(?<user>\w+)@(?<[host][name]>[a-z.]+)`, "bob@example.org", map[string]any{"user": "bob", "host": map[string]any{"name": "example.org"}}},
		{"custom pattern", ModeLegacy, map[string]string{"ID": `[A-Z]{2}-\d+`}, "id=%{ID:id}", "id=AB-42 ok", map[string]any{"id": "AB-42"}},
		{"inline definition", ModeLegacy, nil, "%{TOKEN:t=[a-z]+}!", "abc!", map[string]any{"t": "abc"}},
		{"unnamed reference not captured", ModeLegacy, nil, "%{WORD} %{WORD:w}", "a b", map[string]any{"w": "b"}},
		{"repeated field becomes array", ModeLegacy, nil, "%{WORD:w} %{WORD:w}", "a b", map[string]any{"w": []any{"a", "b"}}},
		{"empty capture dropped", ModeLegacy, nil, "a%{DATA:d}b", "ab", map[string]any{}},
		{"optional absent", ModeLegacy, nil, "%{WORD:a}(?: %{INT:n})?$", "x", map[string]any{"a": "x"}},
		{"no match", ModeLegacy, nil, "^%{INT}$", "12a", nil},
		{"multiline dot", ModeLegacy, nil, "%{WORD:w} %{GREEDYDATA:rest}", "a b\nc", map[string]any{"w": "a", "rest": "b\nc"}},
		{"anchored lines", ModeLegacy, nil, "^%{INT:n}$", "x\n42\ny", map[string]any{"n": "42"}},
		{"ignored text after name", ModeLegacy, nil, "%{INT - comment}", "5", map[string]any{}},
		{"unicode path", ModeLegacy, nil, "%{UNIXPATH:p}", "/opt/Čierný/.中 x", map[string]any{"p": "/opt/Čierný/.中"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := NewLibrary(tt.mode)
			for k, v := range tt.custom {
				if err := lib.Add(k, v); err != nil {
					t.Fatal(err)
				}
			}
			m, err := lib.Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := m.MatchMap(tt.line)
			if tt.want == nil {
				if ok {
					t.Fatalf("matched: %v", got)
				}
				return
			}
			if !ok {
				t.Fatalf("no match; expanded %s", m.Expanded())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			differential(t, m, []byte(tt.line))
		})
	}
}

func TestCompileErrors(t *testing.T) {
	lib := NewLibrary(ModeLegacy)
	_ = lib.Add("LOOP1", "%{LOOP2}")
	_ = lib.Add("LOOP2", "a%{LOOP1}")
	_ = lib.Add("SELF", "%{SELF}")
	_ = lib.Add("B0", strings.Repeat("x", 200))
	for i := 1; i <= 20; i++ {
		prev := "%{B" + itoa(i-1) + "}"
		_ = lib.Add("B"+itoa(i), prev+prev)
	}
	tests := []struct{ expr, want string }{
		{"%{FOO}", `unknown grok pattern "FOO"`},
		{"%{LOOP1}", "recursive pattern reference"},
		{"%{SELF}", "recursive pattern reference: SELF -> SELF"},
		{"%{B20}", "grok: pattern expands beyond 64 KiB"},
		{"(?<=a)b", "lookbehind"},
		{"a(?!b)", "lookahead"},
		{"%{INT:x", ""},
		{"(", "missing closing )"},
	}
	for _, tt := range tests {
		_, err := lib.Compile(tt.expr)
		if tt.want == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(%q) error = %v, want it to contain %q", tt.expr, err, tt.want)
		}
	}
	if err := lib.Add("bad name", "x"); err == nil {
		t.Error("Add accepted a name with a space")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRubyConversions(t *testing.T) {
	ints := map[string]int64{"12": 12, "-7": -7, "+3": 3, "1_000": 1000, "12.9": 12, "abc": 0, "": 0, "  42x": 42, "99999999999999999999": 1<<63 - 1}
	for in, want := range ints {
		if got := rubyInt([]byte(in)); got != want {
			t.Errorf("rubyInt(%q) = %d, want %d", in, got, want)
		}
	}
	floats := map[string]float64{"1.5": 1.5, "-1": -1, ".5": 0.5, "1e3": 1000, "1.": 1, "x": 0, "2.5abc": 2.5}
	for in, want := range floats {
		if got := rubyFloat([]byte(in)); got != want {
			t.Errorf("rubyFloat(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items); scripts/test.sh runs this test without it")
	}
	m, err := NewLibrary(ModeECS).Compile("%{COMBINEDAPACHELOG}")
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(combinedLine)
	n := 0
	fn := func(path []string, v Value) { n++ }
	allocs := testing.AllocsPerRun(100, func() { m.Match(line, fn) })
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times per line, want 0", allocs)
	}
}

// differential checks the fast path against RE2 on one line.
func differential(t testing.TB, m *Matcher, line []byte) status {
	t.Helper()
	caps, st := m.matchFast(line)
	want := m.matchRE2(line)
	switch st {
	case stMatch:
		if !reflect.DeepEqual(caps, want) {
			t.Fatalf("fast path disagrees with RE2\nexpr %q\nline %q\nfast %v\nre2  %v", m.expr, line, caps, want)
		}
	case stNo:
		if want != nil {
			t.Fatalf("fast path says no match, RE2 matched\nexpr %q\nline %q\nre2 %v", m.expr, line, want)
		}
	}
	return st
}

var diffExprs = []struct {
	mode Mode
	expr string
}{
	{ModeLegacy, "%{COMBINEDAPACHELOG}"},
	{ModeECS, "%{COMBINEDAPACHELOG}"},
	{ModeLegacy, "%{HTTPD_ERRORLOG}"},
	{ModeECS, "%{HTTPD_ERRORLOG}"},
	{ModeLegacy, "%{SYSLOGLINE}"},
	{ModeECS, "%{SYSLOGLINE}"},
	{ModeECS, "%{SYSLOG5424LINE}"},
	{ModeLegacy, "%{IPORHOST:h}:%{POSINT:p}"},
	{ModeLegacy, "^%{IP:ip}$"},
	{ModeLegacy, "%{NUMBER:a}%{NUMBER:b}"},
	{ModeLegacy, "%{DATA:a}:%{DATA:b}"},
	{ModeLegacy, "%{GREEDYDATA:a} %{WORD:b}"},
	{ModeLegacy, "%{QS:q} %{NOTSPACE:n}"},
	{ModeLegacy, "%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:l} %{GREEDYDATA:m}"},
	{ModeLegacy, `(?i)get %{URIPATHPARAM:u}`},
	{ModeLegacy, `((a=(?<a>%{UNIXPATH})?|b=(?<b>%{UNIXPATH})?)(,\s)?)+`},
	{ModeECS, "%{JAVASTACKTRACEPART}"},
	{ModeECS, "%{CATALINALOG}"},
	{ModeECS, "%{ELB_ACCESS_LOG}"},
	{ModeLegacy, `(?:x|%{WORD:w})*y`},
	{ModeLegacy, `%{EMAILADDRESS:e}`},
}

var diffSeeds = []string{
	combinedLine,
	`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "-"`,
	`::1 - - [10/Oct/2000:13:55:36 -0700] "GET /" 404 - "-" "curl"`,
	`[Mon Aug 31 07:15:38.664897 2015] [proxy_fcgi:error] [pid 28786:tid 140169629898496] [client 81.139.1.34:52042] AH01071: Got error 'Primary script unknown\n'`,
	`[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test`,
	`Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]`,
	`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8`,
	`2015-04-10T08:11:09.865823Z us-west-1-production-media 49.150.87.133:55128 - -1 -1 -1 408 - 1294336 0 "PUT https://media.xxxyyyzzz.com:443/videos/F4_M-T4X0MM6Hvy1PFHesw HTTP/1.1"`,
	`    at org.apache.jsp.index_jsp._jspService(index_jsp.java:85)`,
	`a=/some/path, b=/some/other/path`,
	`2001:db8::1:8080 10.0.0.256:80 host.example.com.:443`,
	`"quoted \" string" rest "x"`,
	`123.45.67 1.2.3.4 -5.5+3 .5`,
	`xxxy wordy y`,
	`john.doe+tag@example.com, a@b`,
	`GET /a/b?c=d&e=f HTTP/1.1`,
	`2020-01-02T03:04:05Z INFO started ÄÖÜ`,
}

func mutate(r *rand.Rand, s []byte) []byte {
	out := append([]byte(nil), s...)
	alphabet := []byte(" -:/.\"[]0123456789aZ\n\t\\@%?é\xff")
	for n := r.Intn(4); n >= 0 && len(out) > 0; n-- {
		i := r.Intn(len(out))
		switch r.Intn(4) {
		case 0:
			out[i] = alphabet[r.Intn(len(alphabet))]
		case 1:
			out = append(out[:i], out[i+1:]...)
		case 2:
			out = append(out[:i], append([]byte{alphabet[r.Intn(len(alphabet))]}, out[i:]...)...)
		case 3:
			j := i + r.Intn(len(out)-i)
			out = append(out[:i], out[j:]...)
		}
	}
	return out
}

// TestDifferential runs every expression over seeds and random mutations and
// checks the fast path against RE2, and that the fast path decides typical
// lines by itself.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, de := range diffExprs {
		m, err := NewLibrary(de.mode).Compile(de.expr)
		if err != nil {
			t.Fatalf("%s: %v", de.expr, err)
		}
		if !m.FastPath() {
			t.Errorf("%s: no fast path", de.expr)
			continue
		}
		for _, s := range diffSeeds {
			differential(t, m, []byte(s))
			for i := 0; i < 300; i++ {
				differential(t, m, mutate(r, []byte(s)))
			}
		}
	}
	for _, de := range diffExprs[:2] {
		m, _ := NewLibrary(de.mode).Compile(de.expr)
		for _, s := range diffSeeds[:3] { // [2]: request without HTTP version
			if _, st := m.matchFast([]byte(s)); st != stMatch {
				t.Errorf("%s (%s): fast path left %q to RE2", de.expr, de.mode, s)
			}
		}
	}
}
