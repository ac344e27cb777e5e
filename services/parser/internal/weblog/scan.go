package weblog

import "time"

// quoted reads a double-quoted field starting at s[0] == '"', honouring
// backslash escapes (nginx escapes " as \x22, Apache as \"). It returns the
// content (escapes kept as written) and what follows the closing quote.
func quoted(s string) (string, string, bool) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}
	return "", "", false
}

// number reads up to 18 leading decimal digits of s (so the value never
// overflows) and returns the value and the digits read.
func number(s string) (int64, int) {
	var n int64
	i := 0
	for ; i < len(s) && i < 18; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n, i
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseTime parses the access log time "25/Oct/2016:14:49:33 +0200"
// (optionally with fractional seconds, "…:33.123 +0200").
func parseTime(s string) (time.Time, bool) {
	if len(s) < 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' {
		return time.Time{}, false
	}
	day, ok1 := d2(s[0:2])
	year, ok2 := d4(s[7:11])
	hh, ok3 := d2(s[12:14])
	mm, ok4 := d2(s[15:17])
	ss, ok5 := d2(s[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false
	}
	mon := 0
	for i, m := range months {
		if s[3:6] == m {
			mon = i + 1
			break
		}
	}
	if mon == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	rest := s[20:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i, scale := 1, 100000000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		rest = rest[i:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return time.Time{}, false
	}
	zh, ok1 := d2(rest[2:4])
	zm, ok2 := d2(rest[4:6])
	if !ok1 || !ok2 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	if rest[1] == '-' {
		off = -off
	}
	t := time.Date(year, time.Month(mon), day, hh, mm, ss, nsec, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), true
}

func d2(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func d4(s string) (int, bool) {
	a, ok1 := d2(s[:2])
	b, ok2 := d2(s[2:])
	return a*100 + b, ok1 && ok2
}
