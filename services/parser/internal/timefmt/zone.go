package timefmt

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fixed zones for whole-minute offsets within ±24h are created once and
// shared, so parsing "+0200" does not allocate a *time.Location per call.
const maxCachedOffsetMin = 24 * 60

var fixedZones [2*maxCachedOffsetMin + 1]atomic.Pointer[time.Location]

func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if off%60 != 0 || off/60 > maxCachedOffsetMin || off/60 < -maxCachedOffsetMin {
		return time.FixedZone("", off)
	}
	slot := &fixedZones[off/60+maxCachedOffsetMin]
	if l := slot.Load(); l != nil {
		return l
	}
	l := time.FixedZone("", off)
	slot.Store(l)
	return l
}

// zoneAbbrs maps common abbreviations to fixed offsets. Abbreviations are
// ambiguous in general (IST, CST); these follow the usual North American and
// European readings, as most log tools do.
var zoneAbbrs = map[string]int{
	"EST": -5 * 3600, "EDT": -4 * 3600,
	"CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600,
	"PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600,
	"HST": -10 * 3600,
	"WET": 0, "WEST": 3600, "BST": 3600,
	"CET": 3600, "CEST": 2 * 3600,
	"EET": 2 * 3600, "EEST": 3 * 3600,
	"MSK": 3 * 3600,
	"JST": 9 * 3600, "KST": 9 * 3600,
	"AEST": 10 * 3600, "AEDT": 11 * 3600,
}

// lookupZone resolves a zone abbreviation or IANA name. It returns either a
// location (UTC or an IANA zone) or a fixed offset.
func lookupZone(name string) (loc *time.Location, off int, ok bool) {
	switch name {
	case "":
		return nil, 0, false
	case "UTC", "GMT", "Z", "UT", "utc", "gmt", "z":
		return time.UTC, 0, true
	}
	if off, ok := zoneAbbrs[name]; ok {
		return nil, off, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			l, err := loadLocation(name)
			if err != nil {
				return nil, 0, false
			}
			return l, 0, true
		}
	}
	return nil, 0, false
}

var locCache sync.Map // string → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if v, ok := locCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	if name == "" {
		return nil, errNoZone
	}
	name = strings.Clone(name) // name may alias a caller's []byte
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locCache.Store(name, l)
	return l, nil
}

type zoneError struct{}

func (zoneError) Error() string { return "empty zone name" }

var errNoZone error = zoneError{}
