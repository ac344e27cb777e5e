package weblog

import (
	"strings"
	"time"
)

// ErrorEntry is one parsed nginx or Apache error log event.
type ErrorEntry struct {
	Time  time.Time
	Level string
	// Message is the text after the header; it may span lines.
	Message string

	PID, TID, ConnectionID        int64
	HasPID, HasTID, HasConnection bool

	// Apache only.
	Module                          string
	Address, SourceIP, SourceDomain string
	Port                            int64
	HasPort                         bool
	FilePath, Referrer              string
}

// EventType is event.type as the integrations set it: nginx error logs are
// always "error"; Apache's are "error" for the levels emerg, alert, crit,
// error and warn and "info" for the rest.
func (e *ErrorEntry) EventType(apache bool) string {
	if !apache {
		return "error"
	}
	switch e.Level {
	case "emerg", "alert", "crit", "error", "warn":
		return "error"
	}
	return "info"
}

// ParseNginxError parses an nginx error log event:
//
//	2016/10/25 14:49:34 [error] 54053#0: *1 open() "/x" failed (2: No such file or directory), client: ...
//
// The time has no zone; it is read in loc (nil means UTC), as the
// integration reads it in event.timezone.
func ParseNginxError(s string, loc *time.Location, e *ErrorEntry) error {
	*e = ErrorEntry{}
	if len(s) < 20 || s[4] != '/' || s[7] != '/' || s[10] != ' ' {
		return ErrTime
	}
	t, ok := dateTime(s[:4], s[5:7], s[8:10], s[11:19], loc)
	if !ok {
		return ErrTime
	}
	e.Time = t
	s = s[19:]
	if !strings.HasPrefix(s, " [") {
		return ErrFormat
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return ErrFormat
	}
	e.Level = s[2:end]
	s = s[end+1:]
	if len(s) < 2 || s[0] != ' ' {
		return ErrFormat
	}
	n, i := number(s[1:])
	if i == 0 || len(s) < 1+i+1 || s[1+i] != '#' {
		return ErrFormat
	}
	e.PID, e.HasPID = n, true
	s = s[2+i:]
	n, i = number(s)
	if i == 0 || !strings.HasPrefix(s[i:], ": ") {
		return ErrFormat
	}
	e.TID, e.HasTID = n, true
	s = s[i+2:]
	if len(s) > 1 && s[0] == '*' {
		if n, i := number(s[1:]); i > 0 && len(s) > 1+i && s[1+i] == ' ' {
			e.ConnectionID, e.HasConnection = n, true
			s = s[2+i:]
		}
	}
	e.Message = s
	return nil
}

// ParseApacheError parses an Apache error log event in the 2.2 and 2.4
// layouts:
//
//	[Mon Dec 26 16:22:08 2016] [error] [client 192.168.33.1] File does not exist: /var/www/favicon.ico
//	[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 89.160.20.156:80] message
//
// and the ISO time some builds write ("[2025-07-22 15:45:51.323610 +0200]").
// A time without a zone is read in loc (nil means UTC). "File does not
// exist: <path>[, referer: <url>]" messages also yield file.path and
// http.request.referrer.
func ParseApacheError(s string, loc *time.Location, e *ErrorEntry) error {
	*e = ErrorEntry{}
	if !strings.HasPrefix(s, "[") {
		return ErrTime
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return ErrTime
	}
	t, ok := apacheErrorTime(s[1:end], loc)
	if !ok {
		return ErrTime
	}
	e.Time = t
	s = s[end+1:]
	if !strings.HasPrefix(s, " [") {
		return ErrFormat
	}
	end = strings.IndexByte(s, ']')
	if end < 0 {
		return ErrFormat
	}
	level := s[2:end]
	s = s[end+1:]
	if mod, lvl, ok := strings.Cut(level, ":"); ok {
		e.Module, level = mod, lvl
		if !strings.HasPrefix(s, " [pid ") {
			return ErrFormat
		}
		s = s[6:]
		n, i := number(s)
		if i == 0 {
			return ErrFormat
		}
		e.PID, e.HasPID = n, true
		s = s[i:]
		if strings.HasPrefix(s, ":tid ") {
			n, i := number(s[5:])
			if i == 0 {
				return ErrFormat
			}
			e.TID, e.HasTID = n, true
			s = s[5+i:]
		}
		if !strings.HasPrefix(s, "]") {
			return ErrFormat
		}
		s = s[1:]
	}
	if !isWord(level) {
		return ErrFormat
	}
	e.Level = level
	if strings.HasPrefix(s, " [client ") {
		if end := strings.IndexByte(s, ']'); end > 0 {
			addr := s[9:end]
			if c := strings.LastIndexByte(addr, ':'); c > 0 && !isIP(addr) {
				if n, i := number(addr[c+1:]); i > 0 && i == len(addr)-c-1 && n > 0 {
					addr, e.Port, e.HasPort = addr[:c], n, true
				}
			}
			e.Address = addr
			if isIP(addr) {
				e.SourceIP = addr
			} else if isHostname(addr) {
				e.SourceDomain = addr
			}
			s = s[end+1:]
		}
	}
	e.Message = strings.TrimPrefix(s, " ")
	fileNotFound(e)
	return nil
}

// fileNotFound applies the pipeline's second grok:
// "File does not exist: %{URIPATH:file.path}(, referer: %{URI:http.request.referrer})?".
func fileNotFound(e *ErrorEntry) {
	const lead = "File does not exist: "
	i := strings.Index(e.Message, lead)
	if i < 0 {
		return
	}
	rest := e.Message[i+len(lead):]
	if j := strings.Index(rest, ", referer: "); j > 0 && isURIPath(rest[:j]) {
		ref := rest[j+len(", referer: "):]
		if k := strings.IndexAny(ref, " \t\r\n"); k >= 0 {
			ref = ref[:k]
		}
		if strings.Contains(ref, "://") {
			e.FilePath, e.Referrer = rest[:j], ref
			return
		}
	}
	n := 0
	for n < len(rest) && (rest[n] == '/' || uriPathByte(rest[n])) {
		n++
	}
	if n > 0 && rest[0] == '/' {
		e.FilePath = rest[:n]
	}
}

func isURIPath(s string) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '/' && !uriPathByte(s[i]) {
			return false
		}
	}
	return true
}

// uriPathByte is grok URIPATH's class [A-Za-z0-9$.+!*'(){},~:;=@#%&_\-].
func uriPathByte(c byte) bool {
	if isWordByte(c) {
		return true
	}
	return strings.IndexByte("$.+!*'(){},~:;=@#%&-", c) >= 0
}

// apacheErrorTime reads "Mon Dec 26 16:22:08 2016", with optional
// fractional seconds, or "2025-07-22 15:45:51.323610 +0200".
func apacheErrorTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' {
		ns, rest := fraction(s[19:])
		zone := locOrUTC(loc)
		if len(rest) == 6 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') {
			hh, ok1 := atoi(rest[2:4])
			mm, ok2 := atoi(rest[4:6])
			if !ok1 || !ok2 {
				return time.Time{}, false
			}
			off := hh*3600 + mm*60
			if rest[1] == '-' {
				off = -off
			}
			zone = time.FixedZone("", off)
		} else if rest != "" {
			return time.Time{}, false
		}
		t, ok := dateTime(s[:4], s[5:7], s[8:10], s[11:19], zone)
		return t.Add(time.Duration(ns)), ok
	}
	// "Mon Dec 26 16:22:08[.ffffff] 2016"
	f := strings.Fields(s)
	if len(f) != 5 || len(f[3]) < 8 {
		return time.Time{}, false
	}
	mon := monthIndex(f[1])
	if mon == 0 {
		return time.Time{}, false
	}
	day, ok := atoi(f[2])
	if !ok {
		return time.Time{}, false
	}
	clock := f[3]
	ns, frac := fraction(clock[8:])
	if frac != "" {
		return time.Time{}, false
	}
	t, ok := dateTime(f[4], twoDigit(mon), twoDigit(day), clock[:8], loc)
	if !ok {
		return t, false
	}
	return t.Add(time.Duration(ns)), true
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func twoDigit(n int) string {
	return string([]byte{byte('0' + n/10%10), byte('0' + n%10)})
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthIndex(s string) int {
	for i, m := range monthNames {
		if s == m {
			return i + 1
		}
	}
	return 0
}

// fraction reads ".123456" and returns nanoseconds and the rest.
func fraction(s string) (int64, string) {
	if s == "" || s[0] != '.' {
		return 0, s
	}
	var ns int64
	scale := int64(100000000)
	i := 1
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		ns += int64(s[i]-'0') * scale
		scale /= 10
	}
	return ns, s[i:]
}

// dateTime builds a time from "2016", "10", "25", "14:49:34" in loc.
func dateTime(ys, ms, ds, clock string, loc *time.Location) (time.Time, bool) {
	y, ok1 := atoi(ys)
	m, ok2 := atoi(ms)
	d, ok3 := atoi(ds)
	if !ok1 || !ok2 || !ok3 || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, false
	}
	hh, ok4 := atoi(clock[:2])
	mi, ok5 := atoi(clock[3:5])
	ss, ok6 := atoi(clock[6:8])
	if !ok4 || !ok5 || !ok6 || m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, hh, mi, ss, 0, locOrUTC(loc)), true
}
