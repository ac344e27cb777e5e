// Package geoip looks IP addresses up in MaxMind-format databases
// (GeoLite2/GeoIP2 City, Country and ASN, and compatible files such as
// DB-IP's) and writes the ECS geo and as fields, as Elastic's geoip
// processor does.
//
// Several databases can be given (a City and an ASN database, usually):
// each address is looked up in all of them and the fields they hold are
// merged. Results are kept in a bounded LRU cache keyed by the address,
// since a log's client addresses repeat.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// DefaultCacheSize is the number of distinct addresses a Locator keeps.
const DefaultCacheSize = 8192

// Location is what the databases know of one address; zero fields are
// unknown.
type Location struct {
	CountryISOCode, CountryName  string
	ContinentCode, ContinentName string
	RegionISOCode, RegionName    string
	CityName                     string
	Lat, Lon                     float64
	HasLocation                  bool
	ASNumber                     uint64
	ASOrganization               string
}

// record is the part of a City, Country or ASN record that is read.
type record struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Code  string            `maxminddb:"code"`
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"country"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	ASNumber       uint64 `maxminddb:"autonomous_system_number"`
	ASOrganization string `maxminddb:"autonomous_system_organization"`
}

// Locator looks addresses up. It is safe for concurrent use.
type Locator struct {
	dbs   []*maxminddb.Reader
	cache *lru.Cache[netip.Addr, *Location]
}

// Open opens the databases at paths (at least one).
func Open(paths []string, cacheSize int) (*Locator, error) {
	if len(paths) == 0 {
		return nil, errors.New("no database given")
	}
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	c, err := lru.New[netip.Addr, *Location](cacheSize)
	if err != nil {
		return nil, err
	}
	l := &Locator{cache: c}
	for _, p := range paths {
		r, err := maxminddb.Open(p)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("opening %s: %w", p, err)
		}
		l.dbs = append(l.dbs, r)
	}
	// A rule set replaced by a configuration reload drops its Locators
	// without closing them; unmap their databases when they are collected.
	runtime.AddCleanup(l, func(dbs []*maxminddb.Reader) {
		for _, r := range dbs {
			r.Close()
		}
	}, l.dbs)
	return l, nil
}

// Close releases the databases now rather than when l is collected.
func (l *Locator) Close() error {
	var errs []error
	for _, r := range l.dbs {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// Lookup returns what the databases know of ip, or nil when ip is not an
// address or no database holds it. The result is shared: do not modify it.
func (l *Locator) Lookup(ip string) (*Location, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, nil
	}
	addr = addr.WithZone("")
	if loc, ok := l.cache.Get(addr); ok {
		return loc, nil
	}
	var loc *Location
	for _, r := range l.dbs {
		res := r.Lookup(addr)
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", addr, err)
		}
		if !res.Found() {
			continue
		}
		var rec record
		if err := res.Decode(&rec); err != nil {
			return nil, fmt.Errorf("decoding the record of %s: %w", addr, err)
		}
		if loc == nil {
			loc = new(Location)
		}
		loc.merge(&rec)
	}
	l.cache.Add(addr, loc)
	return loc, nil
}

func (loc *Location) merge(r *record) {
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	first(&loc.CityName, r.City.Names["en"])
	first(&loc.ContinentCode, r.Continent.Code)
	first(&loc.ContinentName, r.Continent.Names["en"])
	first(&loc.CountryISOCode, r.Country.ISOCode)
	first(&loc.CountryName, r.Country.Names["en"])
	if len(r.Subdivisions) > 0 {
		s := r.Subdivisions[0]
		first(&loc.RegionName, s.Names["en"])
		if s.ISOCode != "" && r.Country.ISOCode != "" {
			first(&loc.RegionISOCode, r.Country.ISOCode+"-"+s.ISOCode)
		}
	}
	if !loc.HasLocation && r.Location.Latitude != nil && r.Location.Longitude != nil {
		loc.Lat, loc.Lon, loc.HasLocation = *r.Location.Latitude, *r.Location.Longitude, true
	}
	if loc.ASNumber == 0 {
		loc.ASNumber = r.ASNumber
	}
	first(&loc.ASOrganization, r.ASOrganization)
}

// Set writes the location under prefix (normally "source"): geo.* (with
// geo.location as {lat, lon}, a geo_point) and as.number,
// as.organization.name.
func (loc *Location) Set(d *document.Doc, prefix string) {
	p := &sourcePaths
	if prefix = strings.TrimSuffix(prefix, "."); prefix != "source" {
		p = pathsUnder(prefix)
	}
	for i, v := range [...]string{loc.CityName, loc.ContinentCode, loc.ContinentName, loc.CountryISOCode,
		loc.CountryName, loc.RegionISOCode, loc.RegionName} {
		if v != "" {
			d.Set(p[i], document.S(v))
		}
	}
	if loc.HasLocation {
		d.Set(p[pathLat], document.F(loc.Lat))
		d.Set(p[pathLon], document.F(loc.Lon))
	}
	if loc.ASNumber != 0 {
		d.Set(p[pathASNumber], document.I(int64(loc.ASNumber)))
	}
	if loc.ASOrganization != "" {
		d.Set(p[pathASOrg], document.S(loc.ASOrganization))
	}
}

var suffixes = [...]string{".geo.city_name", ".geo.continent_code", ".geo.continent_name", ".geo.country_iso_code",
	".geo.country_name", ".geo.region_iso_code", ".geo.region_name",
	".geo.location.lat", ".geo.location.lon", ".as.number", ".as.organization.name"}

const (
	pathLat = 7 + iota
	pathLon
	pathASNumber
	pathASOrg
)

// sourcePaths are the paths under "source", built once.
var sourcePaths = *pathsUnder("source")

func pathsUnder(prefix string) *[len(suffixes)]string {
	var p [len(suffixes)]string
	for i, s := range suffixes {
		p[i] = prefix + s
	}
	return &p
}
