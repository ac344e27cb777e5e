package weblog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseZone reads the time zone of logs whose times carry no offset: an
// IANA name ("Europe/Paris"), "UTC", a UTC offset ("+02:00", "-0530") or
// the Java/Elasticsearch spelling "GMT+2" / "UTC+02:00" the integrations'
// event.timezone uses. "" is UTC.
func ParseZone(s string) (*time.Location, error) {
	switch s {
	case "", "UTC", "GMT", "Z":
		return time.UTC, nil
	}
	off := s
	for _, p := range []string{"GMT", "UTC", "UT"} {
		if strings.HasPrefix(s, p) && len(s) > len(p) && (s[len(p)] == '+' || s[len(p)] == '-') {
			off = s[len(p):]
			break
		}
	}
	if off[0] == '+' || off[0] == '-' {
		sign := 1
		if off[0] == '-' {
			sign = -1
		}
		h, m, hasColon := off[1:], "0", false
		if i := strings.IndexByte(h, ':'); i >= 0 {
			h, m, hasColon = h[:i], h[i+1:], true
		} else if len(h) == 4 {
			h, m = h[:2], h[2:]
		}
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || hh > 18 || mm > 59 || (hasColon && len(m) != 2) {
			return nil, fmt.Errorf("bad UTC offset %q", s)
		}
		return time.FixedZone(s, sign*(hh*3600+mm*60)), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	return loc, nil
}
