package grok

import (
	"bytes"
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
	for _, s := range []struct {
		name string
		mode Mode // whose mode-specific pinned definitions apply
		fn   scanFunc
	}{
		{"IPORHOST", ModeLegacy, scanIPORHOST},
		{"HTTPDATE", ModeLegacy, scanHTTPDATE},
		{"NUMBER", ModeLegacy, scanNumber},
		{"INT", ModeLegacy, scanInt},
		{"QS", ModeLegacy, scanQS},
		{"HTTPDUSER", ModeLegacy, scanHTTPDUSERLegacy},
		{"HTTPDUSER", ModeECS, scanHTTPDUSERECS},
	} {
		defs := make(map[string]string, len(scanDefs)+len(scanDefsMode[s.mode]))
		for k, v := range scanDefs {
			defs[k] = v
		}
		for k, v := range scanDefsMode[s.mode] {
			defs[k] = v
		}
		lib := &Library{mode: s.mode, defs: defs}
		expanded, _, err := lib.expand("%{" + s.name + "}")
		if err != nil {
			panic("grok: scanner " + s.name + ": " + err.Error())
		}
		re, err := syntax.Parse(expanded, syntax.Perl)
		if err != nil {
			panic("grok: scanner " + s.name + ": " + err.Error())
		}
		scanners = append(scanners, scanner{s.name + "/" + string(s.mode), re, s.fn})
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

// scanQS is QS (QUOTEDSTRING): a string in double quotes, single quotes or
// backquotes where a backslash escapes the next character:
// "(?:\\.|[^\\"]+)+"|"" and the same with ' and `. The content between
// the quotes is the greedy repetition; it cannot cross an unescaped quote
// (only \\. can consume one, and only right after a backslash), so the
// only possible end is the first unescaped quote, and an empty content
// falls to the "" branch. No ASCII byte occurs inside a multi-byte rune,
// so scanning bytes finds the same quotes and backslashes as decoding.
func scanQS(in []byte, p int) (int, status) {
	if p >= len(in) {
		return 0, stNo
	}
	qc := in[p]
	if qc != '"' && qc != '\'' && qc != '`' {
		return 0, stNo
	}
	q := p + 1
	if q < len(in) && in[q] == qc {
		return q + 1, stMatch
	}
	for {
		i := bytes.IndexByte(in[q:], qc)
		if i < 0 {
			return 0, stNo
		}
		j := bytes.IndexByte(in[q:q+i], '\\')
		if j < 0 {
			return q + i + 1, stMatch
		}
		// The backslash and the character after it (maybe the quote).
		q += j + 2
	}
}

// asciiTable returns the membership table of the byte ranges lo-hi given as
// consecutive pairs in r.
func asciiTable(r string) *[256]bool {
	var t [256]bool
	for i := 0; i+1 < len(r); i += 2 {
		for c := int(r[i]); c <= int(r[i+1]); c++ {
			t[c] = true
		}
	}
	return &t
}

var (
	// USERNAME: [a-zA-Z0-9._-]
	userTable = asciiTable("azAZ09..__--")
	// legacy EMAILLOCALPART: [a-zA-Z][a-zA-Z0-9_.+-=:]+ ("+-=" is a range)
	emailLegacyTable = asciiTable("azAZ09__..+=::")
	// ecs-v1 EMAILLOCALPART characters: [a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]
	emailECSTable = asciiTable("azAZ09!!#'**++--//==??^`{~")
)

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// scanUser is USER (USERNAME): [a-zA-Z0-9._-]+, greedy.
func scanUser(in []byte, p int) (int, status) {
	n := classRun(userTable, in[p:])
	if n == 0 {
		return 0, stNo
	}
	return p + n, stMatch
}

// scanHTTPDUSERLegacy is HTTPDUSER, %{EMAILADDRESS}|%{USER}, with the
// legacy EMAILLOCALPART [a-zA-Z][a-zA-Z0-9_.+-=:]+. '@' is not in the
// local part's class, so of the lengths the greedy run can take only the
// longest can be followed by '@': the address matches exactly when the
// whole run is followed by '@' and a HOSTNAME, whose first match ends it.
func scanHTTPDUSERLegacy(in []byte, p int) (int, status) {
	if p < len(in) && isLetter(in[p]) {
		q := p + 1
		if n := classRun(emailLegacyTable, in[q:]); n > 0 {
			q += n
			if q < len(in) && in[q] == '@' {
				if e, st := scanHostname(in, q+1); st == stMatch {
					return e, stMatch
				}
			}
		}
	}
	return scanUser(in, p)
}

// scanHTTPDUSERECS is HTTPDUSER with the ecs-v1 EMAILLOCALPART: a label of
// 1-64 characters, then up to 63 labels of '.' and 1-62 characters, all
// from a class without '.' and '@'. Each label's run must stop at a '.' or
// at the '@', so the local part can only end at the first byte outside the
// class and '.', which must be '@'; it matches there exactly when every
// label has an allowed length and count.
func scanHTTPDUSERECS(in []byte, p int) (int, status) {
	q, ok := p, true
	for labels := 0; ; labels++ {
		n := classRun(emailECSTable, in[q:])
		if n == 0 || labels == 0 && n > 64 || labels > 0 && n > 62 || labels > 63 {
			ok = false
			break
		}
		q += n
		if q >= len(in) || in[q] != '.' {
			break
		}
		q++
	}
	if ok && q < len(in) && in[q] == '@' {
		if e, st := scanHostname(in, q+1); st == stMatch {
			return e, stMatch
		}
	}
	return scanUser(in, p)
}
