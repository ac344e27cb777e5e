package applog

import (
	"strconv"
	"strings"
	"time"
)

// parseTime parses the string times application loggers write: RFC 3339
// with any number of fractional digits (slog, logrus, zerolog, bunyan,
// winston, structlog, logstash-logback-encoder), zap's ISO 8601 encoder
// ("2026-12-04T10:00:00.123+0100"), Python's asctime
// ("2026-12-04 10:00:00,123"), and epoch numbers written as strings. A
// time without an offset is in loc.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) > 0 && s[0] >= '0' && s[0] <= '9' && isDigits(s) {
		return parseEpoch(s)
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return time.Time{}, false
	}
	year, ok1 := atoi(s[0:4])
	month, ok2 := atoi(s[5:7])
	day, ok3 := atoi(s[8:10])
	hour, ok4 := atoi(s[11:13])
	minute, ok5 := atoi(s[14:16])
	sec, ok6 := atoi(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			if j <= 9 {
				nsec = nsec*10 + int(rest[j]-'0')
			}
			j++
		}
		if j == 1 {
			return time.Time{}, false
		}
		for k := j; k <= 9; k++ {
			nsec *= 10
		}
		rest = rest[j:]
	}
	var z *time.Location
	switch {
	case rest == "":
		z = loc
	case rest == "Z" || rest == "z" || rest == " UTC" || rest == "UTC":
		z = time.UTC
	case rest[0] == '+' || rest[0] == '-':
		off, ok := parseOffset(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		if rest[0] == '-' {
			off = -off
		}
		z = time.FixedZone("", off)
		if off == 0 {
			z = time.UTC
		}
	default:
		return time.Time{}, false
	}
	leap := sec == 60
	if leap {
		sec = 59
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, z).UTC()
	if leap {
		t = t.Add(time.Second)
	}
	return t, true
}

// parseOffset parses "hh:mm", "hhmm" or "hh" into seconds.
func parseOffset(s string) (int, bool) {
	var h, m int
	var ok bool
	switch len(s) {
	case 2:
		h, ok = atoi(s)
	case 4:
		var ok2 bool
		h, ok = atoi(s[:2])
		m, ok2 = atoi(s[2:])
		ok = ok && ok2
	case 5:
		var ok2 bool
		h, ok = atoi(s[:2])
		m, ok2 = atoi(s[3:])
		ok = ok && ok2 && s[2] == ':'
	}
	if !ok || h > 23 || m > 59 {
		return 0, false
	}
	return h*3600 + m*60, true
}

// parseEpoch reads an epoch number by its magnitude, as Filebeat's and
// Vector's timestamp detection do: up to 11 integer digits are seconds
// (zap's and zerolog's floats and ints), up to 14 milliseconds (pino,
// logback's timeMillis), up to 17 microseconds, else nanoseconds.
// Fractions are kept to the nanosecond.
func parseEpoch(t string) (time.Time, bool) {
	if t == "" || t[0] == '-' {
		return time.Time{}, false
	}
	intPart, frac := t, ""
	if i := strings.IndexAny(t, ".eE"); i >= 0 {
		if t[i] != '.' || strings.ContainsAny(t[i+1:], "eE") {
			f, err := strconv.ParseFloat(t, 64)
			if err != nil || f < 0 || f >= 1e19 {
				return time.Time{}, false
			}
			t = strconv.FormatFloat(f, 'f', -1, 64)
			return parseEpoch(t)
		}
		intPart, frac = t[:i], t[i+1:]
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var unit int64
	switch {
	case len(intPart) <= 11:
		unit = 1e9
	case len(intPart) <= 14:
		unit = 1e6
	case len(intPart) <= 17:
		unit = 1e3
	default:
		unit = 1
	}
	if n > (1<<63-1)/unit {
		return time.Time{}, false
	}
	ns := n * unit
	for f := unit / 10; f > 0 && frac != ""; f /= 10 {
		ns += int64(frac[0]-'0') * f
		frac = frac[1:]
	}
	return time.Unix(0, ns).UTC(), true
}

func isDigits(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && !dot && i > 0 && i < len(s)-1 {
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int(m-1)%7%2
}
