package grok

import (
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestScanDefsPinned checks that the definitions the scanners implement are
// still the built-in ones, so built-in references keep their scanners.
func TestScanDefsPinned(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		lib := NewLibrary(mode)
		for name, def := range scanDefs {
			if lib.defs[name] != def {
				t.Errorf("%s: built-in %s differs from the definition its scanner implements", mode, name)
			}
		}
		for name, def := range scanDefsMode[mode] {
			if lib.defs[name] != def {
				t.Errorf("%s: built-in %s differs from the definition its scanner implements", mode, name)
			}
		}
	}
}

// TestScannersAgainstRE2 compares every scanner with RE2 on random text:
// for a start p, `\A(?s:.){p}(ref)` gives the first match of ref at p.
func TestScannersAgainstRE2(t *testing.T) {
	scannersOnce.Do(loadScanners)
	r := rand.New(rand.NewSource(3))
	pieces := []string{"0", "1", "2", "5", "9", "25", "255", "256", "249", "01", "300", ".", ".", ":", "-", "+", "/", " ", "a", "Z", "_", "x-y", "Feb", "feb", "FEB", "Mar", "May", "Dec", "Sept", "ab", "é", "\n",
		"24/Feb/2015:16:40:26 +0000", "10.0.0.1", "::1", "fe80:", "host.example.com", "2015", ":40:", "99/Feb", "24/Fob/", "23:59:60",
		"@", "@", "a@b", "x.y@h", "frank", "!#", "{|}~", "'", "`", "=", ";", "<", "\\", "\"", "\"", "\\\"", "''", "\"\"", "..", "x+y@ex-ample.org.", "é@x",
		strings.Repeat("a", 62), strings.Repeat("b", 63), strings.Repeat("c", 65), strings.Repeat("d.", 64)}
	for _, s := range scanners {
		res := make([]*regexp.Regexp, 8)
		for p := range res {
			res[p] = regexp.MustCompile(`\A(?s:.){` + strconv.Itoa(p) + `}(` + s.ref.String() + `)`)
		}
		decided := 0
		for i := 0; i < 20000; i++ {
			var b []byte
			if r.Intn(3) == 0 {
				b = append(b, pieces[r.Intn(len(pieces))][:r.Intn(2)]...)
				b = append(b, randomDate(r)...)
			}
			for n := r.Intn(8); n >= 0; n-- {
				if r.Intn(4) == 0 {
					b = append(b, randomDate(r)...)
					continue
				}
				b = append(b, pieces[r.Intn(len(pieces))]...)
			}
			for p := 0; p < len(res) && p <= len(b); p++ {
				if p < len(b) && !utf8.RuneStart(b[p]) {
					continue // (?s:.){k} counts runes
				}
				e, st := s.fn(b, p)
				loc := res[utf8.RuneCount(b[:p])].FindSubmatchIndex(b)
				switch st {
				case stMatch:
					decided++
					if loc == nil || loc[3] != e {
						t.Fatalf("%s at %d of %q: scanner end %d, RE2 %v", s.name, p, b, e, loc)
					}
				case stNo:
					decided++
					if loc != nil {
						t.Fatalf("%s at %d of %q: scanner says no match, RE2 %v", s.name, p, b, loc)
					}
				}
			}
		}
		t.Logf("%s: %d decided", s.name, decided)
	}
}

// TestCombinedUsesScanners makes sure the hot built-ins of
// %{COMBINEDAPACHELOG} are recognised.
func TestCombinedUsesScanners(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		m, err := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var walk func(*node)
		walk = func(x *node) {
			if x == nil {
				return
			}
			if x.scan != nil {
				n++
			}
			walk(x.sub)
			for _, c := range x.subs {
				walk(c)
			}
		}
		walk(m.prog.root)
		if n < 5 { // IPORHOST, HTTPDATE, NUMBER x3
			t.Errorf("%s: %d scanner nodes, want at least 5", mode, n)
		}
	}
}

// randomDate returns an HTTPDATE string, sometimes with a random digit,
// month case or separator damaged.
func randomDate(r *rand.Rand) []byte {
	tz := time.FixedZone("", (r.Intn(27)-12)*3600)
	b := []byte(time.Unix(r.Int63n(4e9), 0).In(tz).Format("02/Jan/2006:15:04:05 -0700"))
	switch r.Intn(6) {
	case 0:
		b[r.Intn(len(b))] = " :/.0+"[r.Intn(6)]
	case 1:
		b[r.Intn(len(b))] = byte('0' + r.Intn(10))
	case 2:
		b[3] = lower(b[3])
	case 3:
		b[4] = upper(b[4])
	}
	return b
}

// TestScannersTextAlphabet compares the scanners with RE2 on strings over a
// small alphabet of the characters that delimit addresses, user names and
// quoted strings, with runs long enough to reach the length limits.
func TestScannersTextAlphabet(t *testing.T) {
	scannersOnce.Do(loadScanners)
	r := rand.New(rand.NewSource(4))
	pieces := []string{"a", "Z", "0", ".", ".", "@", "@", "-", "_", "+", "!", "\"", "\"", "'", "`", "\\", "\\", " ", "\n", "é", "\xff", ":", "=",
		strings.Repeat("x", 30), strings.Repeat("y", 62), strings.Repeat("z", 64), "host.example.org", "a@b.c"}
	for _, s := range scanners {
		res := make([]*regexp.Regexp, 3)
		for p := range res {
			res[p] = regexp.MustCompile(`\A(?s:.){` + strconv.Itoa(p) + `}(` + s.ref.String() + `)`)
		}
		for i := 0; i < 5000; i++ {
			var b []byte
			for n := r.Intn(12); n >= 0; n-- {
				b = append(b, pieces[r.Intn(len(pieces))]...)
			}
			if r.Intn(8) == 0 {
				b = append(b, strings.Repeat(".x", 63+r.Intn(2))...)
				b = append(b, '@', 'h')
			}
			for p := 0; p < len(res) && p <= len(b); p++ {
				if p < len(b) && !utf8.RuneStart(b[p]) || !utf8.Valid(b[:p]) {
					continue
				}
				e, st := s.fn(b, p)
				loc := res[utf8.RuneCount(b[:p])].FindSubmatchIndex(b)
				switch st {
				case stMatch:
					if loc == nil || loc[3] != e {
						t.Fatalf("%s at %d of %q: scanner end %d, RE2 %v", s.name, p, b, e, loc)
					}
				case stNo:
					if loc != nil {
						t.Fatalf("%s at %d of %q: scanner says no match, RE2 %v", s.name, p, b, loc)
					}
				}
			}
		}
	}
}
