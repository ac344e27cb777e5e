package grok

import (
	"regexp/syntax"
	"sync"
)

// Scanners are hand-written matchers for hot capture-free built-ins. A
// scanner is attached to a node of the expression tree only when that
// subtree is structurally identical (syntax.Regexp.Equal) to the pinned
// definition it implements (scanDefs), so a redefined pattern never gets
// one. A scanner reports the end of the first match in priority order
// (leftmost-first, as a backtracker would find it), stNo when there is no
// match at p, or stUnknown when it does not handle the input; the caller
// falls back to walking the subtree whenever the scanner cannot decide or
// its match is not followed by what must come next.
type scanFunc func(in []byte, p int) (int, status)

type scanner struct {
	name string
	ref  *syntax.Regexp
	fn   scanFunc
}

var (
	scannersOnce sync.Once
	scanners     []scanner
)

func loadScanners() {
	lib := &Library{mode: ModeLegacy, defs: scanDefs}
	for _, s := range []struct {
		name string
		fn   scanFunc
	}{
		{"IPORHOST", scanIPORHOST},
		{"HTTPDATE", scanHTTPDATE},
		{"NUMBER", scanNumber},
		{"INT", scanInt},
	} {
		expanded, _, err := lib.expand("%{" + s.name + "}")
		if err != nil {
			panic("grok: scanner " + s.name + ": " + err.Error())
		}
		re, err := syntax.Parse(expanded, syntax.Perl)
		if err != nil {
			panic("grok: scanner " + s.name + ": " + err.Error())
		}
		scanners = append(scanners, scanner{s.name, re, s.fn})
	}
}

// scannerFor returns the scanner implementing re exactly, if any.
func scannerFor(re *syntax.Regexp) *scanner {
	scannersOnce.Do(loadScanners)
	for i := range scanners {
		s := &scanners[i]
		if re.Op == s.ref.Op && len(re.Sub) == len(s.ref.Sub) && re.Equal(s.ref) {
			return s
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func digitsAt(in []byte, p int) int {
	q := p
	for q < len(in) && isDigit(in[q]) {
		q++
	}
	return q - p
}

// scanInt is INT: [+-]?[0-9]+, greedy.
func scanInt(in []byte, p int) (int, status) {
	q := p
	if q < len(in) && (in[q] == '+' || in[q] == '-') {
		q++
	}
	n := digitsAt(in, q)
	if n == 0 {
		return 0, stNo
	}
	return q + n, stMatch
}

// scanNumber is NUMBER (BASE10NUM): [+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+).
func scanNumber(in []byte, p int) (int, status) {
	q := p
	if q < len(in) && (in[q] == '+' || in[q] == '-') {
		q++
	}
	if n := digitsAt(in, q); n > 0 {
		q += n
		if q+1 < len(in) && in[q] == '.' && isDigit(in[q+1]) {
			q++
			q += digitsAt(in, q)
		}
		return q, stMatch
	}
	if q+1 < len(in) && in[q] == '.' && isDigit(in[q+1]) {
		q++
		return q + digitsAt(in, q), stMatch
	}
	return 0, stNo
}

// scanIPORHOST is IPORHOST: (?:IPV6|IPV4)|HOSTNAME. It decides only when
// IPV6 provably cannot match (every IPV6 form starts with ':' or with one
// to four hex digits and a ':').
func scanIPORHOST(in []byte, p int) (int, status) {
	if p >= len(in) {
		return 0, stNo
	}
	if in[p] == ':' {
		return 0, stUnknown
	}
	h := 0
	for h < 5 && p+h < len(in) && isHex(in[p+h]) {
		h++
	}
	if h >= 1 && h <= 4 && p+h < len(in) && in[p+h] == ':' {
		return 0, stUnknown
	}
	if e, ok := scanIPV4(in, p); ok {
		return e, stMatch
	}
	return scanHostname(in, p)
}

// octet3 reports whether the 1-3 digits s match
// 25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2} as a whole.
func octetOK(s []byte) bool {
	switch len(s) {
	case 1, 2:
		return true
	case 3:
		switch {
		case s[0] == '0' || s[0] == '1':
			return true
		case s[0] == '2' && s[1] <= '4':
			return true
		case s[0] == '2' && s[1] == '5' && s[2] <= '5':
			return true
		}
	}
	return false
}

// scanIPV4 returns the end of IPV4's first match at p. The first three
// octets must end at a '.', which fixes their length; the last one takes
// its first alternative in priority order.
func scanIPV4(in []byte, p int) (int, bool) {
	q := p
	for i := 0; i < 3; i++ {
		n := digitsAt(in, q)
		if n == 0 || n > 3 || q+n >= len(in) || in[q+n] != '.' || !octetOK(in[q:q+n]) {
			return 0, false
		}
		q += n + 1
	}
	r := digitsAt(in, q)
	switch {
	case r == 0:
		return 0, false
	case r >= 3 && in[q] == '2' && in[q+1] == '5' && in[q+2] <= '5':
		return q + 3, true
	case r >= 3 && in[q] == '2' && in[q+1] <= '4':
		return q + 3, true
	case in[q] == '0' || in[q] == '1':
		if r >= 2 {
			return q + 1 + min(r-1, 2), true
		}
		return q + 1, true
	}
	return q + min(r, 2), true
}

// scanHostname is HOSTNAME:
// \b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*(?:\.?|\b)
func scanHostname(in []byte, p int) (int, status) {
	if p >= len(in) || !isAlnum(in[p]) || p > 0 && isWordByte(in[p-1]) {
		return 0, stNo
	}
	q := label(in, p)
	for q+1 < len(in) && in[q] == '.' && isAlnum(in[q+1]) {
		q = label(in, q+1)
	}
	if q < len(in) && in[q] == '.' {
		q++
	}
	return q, stMatch
}

// label scans [0-9A-Za-z][0-9A-Za-z-]{0,62} at p (in[p] is alphanumeric).
func label(in []byte, p int) int {
	q, lim := p+1, min(len(in), p+63)
	for q < lim && (isAlnum(in[q]) || in[q] == '-') {
		q++
	}
	return q
}

var monthAbbr = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// scanHTTPDATE is HTTPDATE: %{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}.
// It decides only the canonical "02/Jan/2006:15:04:05 -0700" layout: there
// every piece is pinned between separators it cannot contain, so the only
// freedom is the final INT, which takes all its digits first.
func scanHTTPDATE(in []byte, p int) (int, status) {
	if len(in)-p < 22 {
		return 0, stUnknown
	}
	s := in[p : p+21]
	if s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return 0, stUnknown
	}
	for _, i := range [...]int{0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19} {
		if !isDigit(s[i]) {
			return 0, stUnknown
		}
	}
	// MONTHDAY: 0[1-9]|[12][0-9]|3[01] (two digits).
	if !(s[0] == '0' && s[1] != '0' || s[0] == '1' || s[0] == '2' || s[0] == '3' && s[1] <= '1') {
		return 0, stUnknown
	}
	// MONTH: an English abbreviation with either case of its first letter.
	m0, m1, m2 := lower(s[3]), s[4], s[5]
	known := false
	for _, a := range monthAbbr {
		if m0 == a[0] && m1 == a[1] && m2 == a[2] {
			known = true
			break
		}
	}
	if !known {
		return 0, stUnknown
	}
	// HOUR 2[0123]|[01][0-9], MINUTE and SECOND [0-5][0-9].
	if !(s[12] <= '1' || s[12] == '2' && s[13] <= '3') || s[15] > '5' || s[18] > '5' {
		return 0, stUnknown
	}
	e, st := scanInt(in, p+21)
	if st != stMatch {
		return 0, stUnknown
	}
	return e, stMatch
}
