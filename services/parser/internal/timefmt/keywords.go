package timefmt

import (
	"time"
)

// parseISO parses ISO 8601 extended date-times, as Logstash's ISO8601
// keyword accepts them:
//
//	YYYY-MM-DD[(T|t| )hh[:mm[:ss[(.|,)fraction]]]][Z|±hh|±hhmm|±hh:mm]
//
// With rfc set it requires RFC 3339: seconds and a zone ("Z" or ±hh:mm).
func (p *Parser) parseISO(s string, rfc bool) (time.Time, error) {
	var f fields
	var ok bool
	i := 0
	if f.year, i, ok = readDigits(s, 0, 4, 4); !ok {
		return time.Time{}, p.fail(s, 0, "expected year")
	}
	if i >= len(s) || s[i] != '-' {
		return time.Time{}, p.fail(s, i, "expected \"-\"")
	}
	f.monthPos = i + 1
	if f.month, i, ok = readDigits(s, i+1, 2, 2); !ok || f.month < 1 || f.month > 12 {
		return time.Time{}, p.fail(s, f.monthPos, "expected month")
	}
	if i >= len(s) || s[i] != '-' {
		return time.Time{}, p.fail(s, i, "expected \"-\"")
	}
	f.dayPos = i + 1
	if f.day, i, ok = readDigits(s, i+1, 2, 2); !ok || f.day < 1 || f.day > daysIn(f.month, f.year) {
		return time.Time{}, p.fail(s, f.dayPos, "day out of range")
	}
	if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
		i++
		start := i
		if f.hour, i, ok = readDigits(s, i, 2, 2); !ok || f.hour > 23 {
			return time.Time{}, p.fail(s, start, "expected hour")
		}
		if i < len(s) && s[i] == ':' {
			start = i + 1
			if f.minute, i, ok = readDigits(s, i+1, 2, 2); !ok || f.minute > 59 {
				return time.Time{}, p.fail(s, start, "expected minute")
			}
			if i < len(s) && s[i] == ':' {
				start = i + 1
				if f.sec, i, ok = readDigits(s, i+1, 2, 2); !ok || f.sec > 59 {
					return time.Time{}, p.fail(s, start, "expected second")
				}
				if i < len(s) && (s[i] == '.' || s[i] == ',') {
					j := i + 1
					ns, d := 0, 0
					for j < len(s) && s[j] >= '0' && s[j] <= '9' {
						if d < 9 {
							ns = ns*10 + int(s[j]-'0')
							d++
						}
						j++
					}
					if j == i+1 {
						return time.Time{}, p.fail(s, j, "expected fraction of a second")
					}
					for ; d < 9; d++ {
						ns *= 10
					}
					f.nsec, i = ns, j
				}
			} else if rfc {
				return time.Time{}, p.fail(s, i, "expected \":\"")
			}
		} else if rfc {
			return time.Time{}, p.fail(s, i, "expected \":\"")
		}
		if i < len(s) {
			if rfc && s[i] != 'Z' && s[i] != 'z' && !(i+6 == len(s) && s[i+3] == ':') {
				return time.Time{}, p.fail(s, i, "expected zone offset")
			}
			off, utc, j, ok := parseOffset(s, i)
			if !ok || (utc && s[i] != 'Z' && s[i] != 'z') {
				return time.Time{}, p.fail(s, i, "expected zone offset")
			}
			f.hasOff, f.off, i = true, off, j
		} else if rfc {
			return time.Time{}, p.fail(s, i, "expected zone offset")
		}
	} else if rfc {
		return time.Time{}, p.fail(s, i, "expected \"T\"")
	}
	if i != len(s) && !p.trailing {
		return time.Time{}, p.fail(s, i, "unexpected trailing text")
	}
	return p.makeTime(&f), nil
}

// parseEpoch parses an integer count of units (nanoseconds per unit given by
// scale) since the Unix epoch; frac allows a decimal fraction (UNIX).
func (p *Parser) parseEpoch(s string, scale int64, frac bool) (time.Time, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if i-start >= 19 {
			return time.Time{}, p.fail(s, start, "number too large")
		}
		v = v*10 + int64(s[i]-'0')
		i++
	}
	if i == start {
		return time.Time{}, p.fail(s, start, "expected digits")
	}
	var fracNS int64
	if frac && i < len(s) && s[i] == '.' {
		j := i + 1
		d := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if d < 9 {
				fracNS = fracNS*10 + int64(s[j]-'0')
				d++
			}
			j++
		}
		for ; d < 9; d++ {
			fracNS *= 10
		}
		i = j
	}
	if i != len(s) && !p.trailing {
		return time.Time{}, p.fail(s, i, "unexpected trailing text")
	}
	sec, nsec := v/(1e9/scale), (v%(1e9/scale))*scale+fracNS
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).In(p.loc), nil
}

// parseTAI64N parses "@4000000052f88ea32489532c": 16 hex digits of TAI64
// label and 8 of nanoseconds, with an optional leading "@".
func (p *Parser) parseTAI64N(s string) (time.Time, error) {
	i := 0
	if i < len(s) && s[i] == '@' {
		i++
	}
	if len(s)-i < 24 {
		return time.Time{}, p.fail(s, i, "expected 24 hex digits")
	}
	var label, nano uint64
	for k := 0; k < 24; k++ {
		c := s[i+k]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case lower(c) >= 'a' && lower(c) <= 'f':
			d = uint64(lower(c)-'a') + 10
		default:
			return time.Time{}, p.fail(s, i+k, "expected hex digit")
		}
		if k < 16 {
			label = label<<4 | d
		} else {
			nano = nano<<4 | d
		}
	}
	if label < 1<<62 || label-(1<<62) > 1<<40 {
		return time.Time{}, p.fail(s, i, "TAI64 label out of range")
	}
	if nano >= 1e9 {
		return time.Time{}, p.fail(s, i+16, "nanoseconds out of range")
	}
	if i+24 != len(s) && !p.trailing {
		return time.Time{}, p.fail(s, i+24, "unexpected trailing text")
	}
	return time.Unix(int64(label-(1<<62)), int64(nano)).In(p.loc), nil
}
