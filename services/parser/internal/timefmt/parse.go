package timefmt

import (
	"time"
)

// fields collects what the operations have read.
type fields struct {
	year, month, day, yday    int
	hour, minute, sec, nsec   int
	yearPos, monthPos, dayPos int
	ampm                      int8 // 0 none, 1 AM, 2 PM
	hour12                    bool
	hasOff                    bool
	off                       int // seconds east of UTC
	loc                       *time.Location
	hasEpoch                  bool
	epoch                     int64
}

// readDigits reads between lo and hi ASCII digits at s[i:].
func readDigits(s string, i, lo, hi int) (v, j int, ok bool) {
	j = i
	for j < len(s) && j-i < hi {
		c := s[j]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int(c-'0')
		j++
	}
	return v, j, j-i >= lo
}

var monthNames = [12]string{"january", "february", "march", "april", "may", "june",
	"july", "august", "september", "october", "november", "december"}

var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func lower(c byte) byte { return c | 0x20 }

// matchName matches a full or three-letter English name case-insensitively
// and returns the index in names and the end offset.
func matchName(s string, i int, names []string) (int, int, bool) {
	if i+3 > len(s) {
		return 0, i, false
	}
	a, b, c := lower(s[i]), lower(s[i+1]), lower(s[i+2])
	for k, n := range names {
		if n[0] != a || n[1] != b || n[2] != c {
			continue
		}
		// Prefer the full name when it is present.
		j := i + 3
		full := true
		for x := 3; x < len(n); x++ {
			if j+x-3 >= len(s) || lower(s[j+x-3]) != n[x] {
				full = false
				break
			}
		}
		if full {
			return k, i + len(n), true
		}
		return k, j, true
	}
	return 0, i, false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if isLetter(x) && isLetter(y) && lower(x) == lower(y) {
			continue
		}
		return false
	}
	return true
}

// parseOffset reads Z, UTC, GMT, ±hh, ±hhmm or ±hh:mm at s[i:].
func parseOffset(s string, i int) (off int, utc bool, j int, ok bool) {
	if i >= len(s) {
		return 0, false, i, false
	}
	switch s[i] {
	case 'Z', 'z':
		return 0, true, i + 1, true
	case 'U', 'G':
		if i+3 <= len(s) && (s[i:i+3] == "UTC" || s[i:i+3] == "GMT") {
			j = i + 3
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				off, _, j, ok = parseOffset(s, j)
				return off, off == 0, j, ok
			}
			return 0, true, j, true
		}
		return 0, false, i, false
	case '+', '-':
	default:
		return 0, false, i, false
	}
	neg := s[i] == '-'
	h, j, ok := readDigits(s, i+1, 2, 2)
	if !ok || h > 23 {
		return 0, false, i, false
	}
	m := 0
	if j < len(s) && s[j] == ':' {
		m, j, ok = readDigits(s, j+1, 2, 2)
		if !ok {
			return 0, false, i, false
		}
	} else if j+1 < len(s) && s[j] >= '0' && s[j] <= '9' && s[j+1] >= '0' && s[j+1] <= '9' {
		m, j, _ = readDigits(s, j, 2, 2)
	}
	if m > 59 {
		return 0, false, i, false
	}
	off = h*3600 + m*60
	if neg {
		off = -off
	}
	return off, false, j, true
}

func (p *Parser) parseOps(s string) (time.Time, error) {
	var f fields
	i := 0
	for k := range p.ops {
		o := &p.ops[k]
		start := i
		switch o.kind {
		case opLit:
			n := len(o.lit)
			if i+n > len(s) || (s[i:i+n] != o.lit && !equalFoldASCII(s[i:i+n], o.lit)) {
				return time.Time{}, p.fail(s, i, "expected "+quote(o.lit))
			}
			i += n
		case opSpace:
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		case opMonthName:
			m, j, ok := matchName(s, i, monthNames[:])
			if !ok {
				return time.Time{}, p.fail(s, i, "expected month name")
			}
			f.month, f.monthPos, i = m+1, i, j
		case opWeekday:
			_, j, ok := matchName(s, i, dayNames[:])
			if !ok {
				return time.Time{}, p.fail(s, i, "expected weekday name")
			}
			i = j
		case opAMPM:
			if i+2 > len(s) || lower(s[i+1]) != 'm' || (lower(s[i]) != 'a' && lower(s[i]) != 'p') {
				return time.Time{}, p.fail(s, i, "expected AM or PM")
			}
			if lower(s[i]) == 'a' {
				f.ampm = 1
			} else {
				f.ampm = 2
			}
			i += 2
		case opOffset:
			off, utc, j, ok := parseOffset(s, i)
			if !ok {
				return time.Time{}, p.fail(s, i, "expected zone offset")
			}
			f.hasOff, f.off, i = true, off, j
			if utc {
				f.loc = time.UTC
			}
		case opZLit:
			if i >= len(s) || (s[i] != 'Z' && s[i] != 'z') {
				return time.Time{}, p.fail(s, i, "expected \"Z\"")
			}
			f.hasOff, f.off, f.loc = true, 0, time.UTC
			i++
		case opZoneAbbr:
			j := i
			for j < len(s) && (isLetter(s[j]) || s[j] == '/' || s[j] == '_') {
				j++
			}
			loc, off, ok := lookupZone(s[i:j])
			if !ok {
				return time.Time{}, p.fail(s, i, "unknown time zone")
			}
			i = j
			if loc != nil {
				f.loc = loc
			} else {
				f.hasOff, f.off = true, off
			}
			// "UTC+02:00" style suffix.
			if i < len(s) && (s[i] == '+' || s[i] == '-') && loc == time.UTC {
				off, _, j, ok := parseOffset(s, i)
				if ok {
					f.loc, f.hasOff, f.off, i = nil, true, off, j
				}
			}
		case opZoneID:
			j := i
			for j < len(s) && (isLetter(s[j]) || s[j] == '/' || s[j] == '_' || s[j] == '-' || s[j] == '+' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			loc, err := loadLocation(s[i:j])
			if err != nil {
				return time.Time{}, p.fail(s, i, "unknown time zone")
			}
			f.loc, i = loc, j
		case opEpoch:
			neg := false
			j := i
			if j < len(s) && s[j] == '-' {
				neg = true
				j++
			}
			v, e, ok := readDigits(s, j, 1, 18)
			if !ok {
				return time.Time{}, p.fail(s, i, "expected seconds since the epoch")
			}
			if neg {
				v = -v
			}
			f.hasEpoch, f.epoch, i = true, int64(v), e
		case opFrac:
			j := i
			ns := 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < int(o.max) {
				ns = ns*10 + int(s[j]-'0')
				j++
			}
			if j-i < int(o.min) {
				return time.Time{}, p.fail(s, i, "expected fraction of a second")
			}
			for d := j - i; d < 9; d++ {
				ns *= 10
			}
			if o.max == 9 { // unbounded: drop precision beyond nanoseconds
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			f.nsec, i = ns, j
		default:
			if o.padSpace {
				for i < len(s) && s[i] == ' ' {
					i++
				}
				start = i
			}
			v, j, ok := readDigits(s, i, int(o.min), int(o.max))
			if !ok {
				return time.Time{}, p.fail(s, i, "expected "+numName(o.kind))
			}
			switch o.kind {
			case opYear:
				f.year, f.yearPos = v, start
			case opYear2:
				f.year, f.yearPos = p.pivotYear(v), start
			case opMonth:
				if v < 1 || v > 12 {
					return time.Time{}, p.fail(s, start, "month out of range")
				}
				f.month, f.monthPos = v, start
			case opDay:
				if v < 1 || v > 31 {
					return time.Time{}, p.fail(s, start, "day out of range")
				}
				f.day, f.dayPos = v, start
			case opYDay:
				if v < 1 || v > 366 {
					return time.Time{}, p.fail(s, start, "day of year out of range")
				}
				f.yday, f.dayPos = v, start
			case opHour:
				if v > 23 {
					return time.Time{}, p.fail(s, start, "hour out of range")
				}
				f.hour = v
			case opHour12:
				if v < 1 || v > 12 {
					return time.Time{}, p.fail(s, start, "hour out of range")
				}
				f.hour, f.hour12 = v, true
			case opHour0to11:
				if v > 11 {
					return time.Time{}, p.fail(s, start, "hour out of range")
				}
				f.hour, f.hour12 = v, true
			case opHour1to24:
				if v < 1 || v > 24 {
					return time.Time{}, p.fail(s, start, "hour out of range")
				}
				f.hour = v % 24
			case opMinute:
				if v > 59 {
					return time.Time{}, p.fail(s, start, "minute out of range")
				}
				f.minute = v
			case opSecond:
				if v > 59 {
					return time.Time{}, p.fail(s, start, "second out of range")
				}
				f.sec = v
			}
			i = j
		}
	}
	if i != len(s) && !p.trailing {
		return time.Time{}, p.fail(s, i, "unexpected trailing text")
	}
	return p.assemble(s, &f)
}

func numName(k opKind) string {
	switch k {
	case opYear, opYear2:
		return "year"
	case opMonth:
		return "month"
	case opDay:
		return "day"
	case opYDay:
		return "day of year"
	case opHour, opHour12, opHour0to11, opHour1to24:
		return "hour"
	case opMinute:
		return "minute"
	case opSecond:
		return "second"
	}
	return "number"
}

func quote(s string) string { return "\"" + s + "\"" }

// pivotYear maps a two-digit year to a full year. Joda patterns use the
// hundred-year window starting 80 years before the reference year; strftime
// uses POSIX (69-99 → 19xx, 00-68 → 20xx).
func (p *Parser) pivotYear(v int) int {
	if !p.joda {
		if v >= 69 {
			return 1900 + v
		}
		return 2000 + v
	}
	low := p.now().Year() - 79
	y := low - low%100 + v
	if y < low {
		y += 100
	}
	return y
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

var daysBefore = [13]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}

func daysIn(m, y int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	return daysBefore[m] - daysBefore[m-1]
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func (p *Parser) assemble(s string, f *fields) (time.Time, error) {
	if f.hasEpoch {
		t := time.Unix(f.epoch, int64(f.nsec))
		if f.loc != nil {
			return t.In(f.loc), nil
		}
		if f.hasOff {
			return t.In(fixedZone(f.off)), nil
		}
		return t.In(p.loc), nil
	}
	if f.hour12 {
		switch {
		case f.ampm == 2 && f.hour < 12:
			f.hour += 12
		case f.ampm == 1 && f.hour == 12:
			f.hour = 0
		}
	}
	if !p.hasYear {
		if err := p.inferYear(s, f); err != nil {
			return time.Time{}, err
		}
	}
	if f.yday != 0 && f.month == 0 {
		if f.yday > 365 && !isLeap(f.year) {
			return time.Time{}, p.fail(s, f.dayPos, "day of year out of range")
		}
		m := 1
		for m < 12 && daysBefore[m]+leapAdj(m, f.year) < f.yday {
			m++
		}
		f.month = m
		f.day = f.yday - daysBefore[m-1] - leapAdj(m-1, f.year)
	}
	if f.month == 0 {
		f.month = 1
	}
	if f.day == 0 {
		f.day = 1
	}
	if f.day > daysIn(f.month, f.year) {
		return time.Time{}, p.fail(s, f.dayPos, "day out of range")
	}
	return p.makeTime(f), nil
}

func leapAdj(m, y int) int {
	if m >= 2 && isLeap(y) {
		return 1
	}
	return 0
}

func (p *Parser) makeTime(f *fields) time.Time {
	if f.hasOff || (f.loc == nil && p.loc == time.UTC) || f.loc == time.UTC {
		sec := daysFromCivil(f.year, f.month, f.day)*86400 +
			int64(f.hour*3600+f.minute*60+f.sec) - int64(f.off)
		t := time.Unix(sec, int64(f.nsec))
		if f.hasOff && f.off != 0 {
			return t.In(fixedZone(f.off))
		}
		return t.UTC()
	}
	loc := f.loc
	if loc == nil {
		loc = p.loc
	}
	return time.Date(f.year, time.Month(f.month), f.day, f.hour, f.minute, f.sec, f.nsec, loc)
}

// inferYear picks the year for a year-less timestamp: the latest of the
// surrounding years that is not more than FutureTolerance ahead of now.
func (p *Parser) inferYear(s string, f *fields) error {
	now := p.now()
	loc := f.loc
	if loc == nil {
		loc = p.loc
	}
	ny := now.In(loc).Year()
	limit := now.Add(FutureTolerance)
	month, day := f.month, f.day
	if month == 0 {
		month = 1
	}
	if day == 0 {
		day = 1
	}
	for y := ny + 1; y >= ny-8; y-- {
		if f.yday > 365 && !isLeap(y) {
			continue
		}
		if f.yday == 0 && day > daysIn(month, y) {
			continue
		}
		g := *f
		g.year = y
		if g.yday != 0 {
			g.month, g.day = 1, 1
			t := p.makeTime(&g).AddDate(0, 0, f.yday-1)
			if !t.After(limit) {
				f.year = y
				return nil
			}
			continue
		}
		g.month, g.day = month, day
		if !p.makeTime(&g).After(limit) {
			f.year = y
			return nil
		}
	}
	return p.fail(s, f.dayPos, "cannot infer year")
}
