package record

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// yearBoundaries are the instants where the ISO week-based year differs
// from the calendar year, or the week number jumps, plus ordinary days.
var yearBoundaries = []time.Time{
	time.Date(2020, 12, 31, 23, 59, 59, 999999999, time.UTC), // Thu, 2020-W53
	time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),              // Fri, 2020-W53
	time.Date(2021, 1, 3, 12, 0, 0, 0, time.UTC),             // Sun, 2020-W53
	time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC),              // Mon, 2021-W01
	time.Date(2024, 12, 29, 23, 0, 0, 0, time.UTC),           // Sun, 2024-W52
	time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC),            // Mon, 2025-W01
	time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC),           // Fri, 2026-W49
	time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC),            // Mon, 2026-W53
	time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),              // Fri, 2026-W53
	time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC),              // Mon, 2027-W01
	time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC),          // leap day
	time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("+02", 7200)),
}

func TestIndexPatternName(t *testing.T) {
	tests := []struct {
		pattern string
		at      time.Time
		want    string
	}{
		{"logs-%{+yyyy.MM.dd}", time.Date(2026, 2, 14, 23, 59, 59, 0, time.UTC), "logs-2026.02.14"},
		{"logs-%{+YYYY.MM.dd}", time.Date(2019, 12, 30, 0, 0, 0, 0, time.UTC), "logs-2019.12.30"},
		{"logs-%{+yyyy.MM.dd}", time.Date(2026, 2, 15, 1, 0, 0, 0, time.FixedZone("+02", 7200)), "logs-2026.02.14"},
		{"k8s-%{+yyyy.MM.dd.HH}", time.Date(2026, 2, 14, 7, 5, 0, 0, time.UTC), "k8s-2026.02.14.07"},
		{"logs-%{+yy.MM}", time.Date(2007, 5, 1, 0, 0, 0, 0, time.UTC), "logs-07.05"},
		{"logs-%{+yyyy-MM}-x-%{+dd}", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC), "logs-2026-02-x-03"},
		{"logs", time.Time{}, "logs"},
		// ISO weeks, with the week-based year around New Year.
		{"logs-%{+xxxx.ww}", time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC), "logs-2020.53"},
		{"logs-%{+xxxx.ww}", time.Date(2021, 1, 3, 0, 0, 0, 0, time.UTC), "logs-2020.53"},
		{"logs-%{+xxxx.ww}", time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC), "logs-2021.01"},
		{"logs-%{+xxxx.ww}", time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), "logs-2026.53"},
		{"logs-%{+xxxx.ww}", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), "logs-2025.01"},
		{"logs-%{+xxxx.ww}", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), "logs-2026.49"},
		// A year written yyyy or YYYY next to ww is the week-based year.
		{"logs-%{+yyyy.ww}", time.Date(2021, 1, 3, 0, 0, 0, 0, time.UTC), "logs-2020.53"},
		{"logs-%{+YYYY.ww}", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), "logs-2025.01"},
		{"logs-%{+yyyy}-w%{+ww}", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "logs-2026-w53"},
		{"logs-%{+xx.ww}", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "logs-26.53"},
		// Quoted literal text inside a date format.
		{"logs-%{+xxxx.'w'ww}", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), "logs-2026.w49"},
		{"logs-%{+yyyy'q'}", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), "logs-2026q"},
		{"logs-%{+MM.dd.5}", time.Date(2026, 12, 4, 0, 0, 7, 0, time.UTC), "logs-12.04.5"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"@"+tt.at.Format(time.RFC3339), func(t *testing.T) {
			ip, err := ParseIndexPattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := ip.Name(tt.at); got != tt.want {
				t.Fatalf("Name = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIndexPatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty"},
		{"logs-%{+yyyy", "unclosed %{"},
		{"logs-%{+}", "empty date format"},
		{"logs-%{+yyyy.MMM}", `unsupported date field "MMM"`},
		{"logs-%{+yyyy.MM.dd.mm}", `unsupported date field "mm"`},
		{"logs-%{+yyyy.'x}", "unclosed quote"},
		{"logs-%{host}", "unknown placeholder"},
		{"logs-%{value}", "%{value} is only"},
		{"Logs-%{+yyyy}", "not allowed"},
		{"logs x", "not allowed"},
		{"_logs-%{+yyyy}", "must not start"},
		{"logs-%{+xxxx.MM}", "cannot mix ISO weeks"},
		{"logs-%{+yyyy.MM}-%{+ww}", "cannot mix ISO weeks"},
		{strings.Repeat("l", 256), "longer than 255"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := ParseIndexPattern(tt.pattern)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestIndexPatternValue(t *testing.T) {
	ip, err := ParseIndexPatternWithValue("logs-%{value}-%{+yyyy.MM}")
	if err != nil {
		t.Fatal(err)
	}
	if !ip.Valued() || !ip.Dated() {
		t.Fatalf("Valued %v Dated %v", ip.Valued(), ip.Dated())
	}
	if got := string(ip.AppendName(nil, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "shop")); got != "logs-shop-2026.01" {
		t.Fatalf("AppendName = %q", got)
	}
	if _, err := ParseIndexPatternWithValue("logs-%{other}"); err == nil || !strings.Contains(err.Error(), "or %{value}") {
		t.Fatalf("error %v", err)
	}
	lit := MustParseIndexPattern("applogs")
	if name, ok := lit.Literal(); !ok || name != "applogs" || lit.Dated() {
		t.Fatalf("Literal = %q, %v", name, ok)
	}
}

// genPattern builds a random pattern of the supported fields: a calendar
// one or a week one, with separators, quoted text and literal prefixes,
// and the layout an independent renderer uses for it: a Go time layout for
// calendar fields, and Printf verbs for week fields, which have no Go
// layout (%[1]d week-year, %02[2]d week, %02[3]d two-digit week-year).
func genPattern(r *rand.Rand) (pattern, layout string) {
	weeks := r.IntN(3) == 0
	hasWeek := false
	var p, l strings.Builder
	p.WriteString([]string{"logs-", "k8s-app-", "", "a."}[r.IntN(4)])
	l.WriteString(p.String())
	if p.Len() == 0 {
		p.WriteString("x")
		l.WriteString("x")
	}
	for range 1 + r.IntN(2) {
		p.WriteString("%{+")
		for k := range 1 + r.IntN(4) {
			if k > 0 {
				sep := []string{".", "-", "_", "'t'"}[r.IntN(4)]
				p.WriteString(sep)
				l.WriteString(strings.Trim(sep, "'"))
			}
			var tok string
			if weeks {
				tok = []string{"xxxx", "yyyy", "YYYY", "ww", "HH", "xx"}[r.IntN(6)]
			} else {
				tok = []string{"yyyy", "YYYY", "uuuu", "yy", "MM", "dd", "HH"}[r.IntN(7)]
			}
			p.WriteString(tok)
			hasWeek = hasWeek || tok == "ww" || tok == "xxxx" || tok == "xx"
			l.WriteString(map[string]string{
				"yyyy": "2006", "YYYY": "2006", "uuuu": "2006", "yy": "06", "MM": "01", "dd": "02", "HH": "15",
				"xxxx": "%[1]d", "xx": "%02[3]d", "ww": "%02[2]d",
			}[tok])
		}
		p.WriteString("}")
		if r.IntN(2) == 0 {
			p.WriteString("-z")
			l.WriteString("-z")
		}
	}
	pat, lay := p.String(), l.String()
	if hasWeek {
		// Every year of a week pattern is the week-based year.
		lay = strings.NewReplacer("2006", "%[1]d", "06", "%02[3]d").Replace(lay)
	}
	return pat, lay
}

// render is the independent renderer genPattern's layouts are for:
// time.Format for calendar fields, time.ISOWeek for week fields.
func render(layout string, t time.Time) string {
	t = t.UTC()
	y, w := t.ISOWeek()
	if strings.Contains(layout, "%") {
		// Calendar fields never share a pattern with week fields, so
		// the layout is either all Go layout or all Printf verbs
		// (plus the hour, rendered first).
		layout = strings.ReplaceAll(layout, "15", fmt.Sprintf("%02d", t.Hour()))
		return fmt.Sprintf(layout, y, w, y%100)
	}
	return t.Format(layout)
}

// TestIndexPatternEquivalence renders generated patterns at the year
// boundaries and at random instants and compares them with an
// independent renderer; it also checks the property callers cache on: a
// name depends only on the UTC hour.
func TestIndexPatternEquivalence(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	times := append([]time.Time(nil), yearBoundaries...)
	for range 200 {
		times = append(times, time.Unix(r.Int64N(4102444800), r.Int64N(1e9))) // 1970..2100
	}
	for range 300 {
		pattern, layout := genPattern(r)
		ip, err := ParseIndexPattern(pattern)
		if err != nil {
			t.Fatalf("ParseIndexPattern(%q): %v", pattern, err)
		}
		for _, at := range times {
			got := ip.Name(at)
			if want := render(layout, at); got != want {
				t.Fatalf("%q at %v: %q, independent renderer %q", pattern, at, got, want)
			}
			if hour := ip.Name(at.Truncate(time.Hour)); hour != got {
				t.Fatalf("%q at %v: %q, but %q at the start of the hour", pattern, at, got, hour)
			}
			if err := CheckIndexName(got); err != nil {
				t.Fatalf("%q rendered an invalid name: %v", pattern, err)
			}
		}
	}
}

func TestIndexPatternAllocs(t *testing.T) {
	ip := MustParseIndexPattern("logs-%{+xxxx.ww}-%{+HH}")
	buf := make([]byte, 0, 64)
	at := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if n := testing.AllocsPerRun(100, func() { buf = ip.AppendName(buf[:0], at, "") }); n != 0 {
		t.Fatalf("AppendName: %v allocs, want 0", n)
	}
}

func FuzzParseIndexPattern(f *testing.F) {
	f.Add("logs-%{+yyyy.MM.dd}", int64(1700000000))
	f.Add("logs-%{+xxxx.'w'ww}", int64(-1))
	f.Add("a%{value}%{+''}", int64(0))
	f.Fuzz(func(t *testing.T, pattern string, sec int64) {
		ip, err := ParseIndexPatternWithValue(pattern)
		if err != nil {
			return
		}
		at := time.Unix(sec%(1<<35), 0)
		name := string(ip.AppendName(nil, at, "v"))
		if again := string(ip.AppendName(nil, at, "v")); again != name {
			t.Fatalf("not deterministic: %q then %q", name, again)
		}
		if y := at.UTC().Year(); y >= 1000 && y <= 9999 {
			if err := CheckIndexName(name); err != nil {
				t.Fatalf("%q accepted but renders %q: %v", pattern, name, err)
			}
		}
	})
}

func BenchmarkIndexPattern(b *testing.B) {
	ip := MustParseIndexPattern("logs-%{+yyyy.MM.dd}")
	buf := make([]byte, 0, 64)
	at := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		buf = ip.AppendName(buf[:0], at, "")
	}
}
