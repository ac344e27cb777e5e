package rules

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/corpus"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/geoip/geoiptest"
)

// enrichFields are the user agent and geo fields compared with Elastic's
// expected documents. user_agent.version is left out: Elastic's processor
// writes versions like "50.0." and "54.0.2840.59" from a patch_minor part
// uap-go does not expose. A field absent on one side must be absent on the
// other.
var enrichFields = []string{
	"user_agent.name", "user_agent.os.name", "user_agent.os.version", "user_agent.os.full", "user_agent.device.name",
	"source.geo.country_iso_code", "source.geo.country_name", "source.geo.city_name", "source.geo.continent_name",
	"source.geo.region_name", "source.geo.region_iso_code", "source.geo.location.lat", "source.geo.location.lon",
	"source.as.number", "source.as.organization.name",
}

// TestElasticFixturesUserAgentAndGeo runs the nginx and apache builtins,
// with a geoip database, over Elastic's access-log fixtures and compares
// the user agent and geo fields of every event with the expected
// documents. Elastic's pipeline tests use MaxMind's test databases, which
// are not here: the test builds a database holding, for each address the
// expected documents locate, the location they give, so what is checked is
// that the rule looks source.ip up in the configured databases and writes
// each field where Elastic does, and nothing for addresses it does not
// know.
func TestElasticFixturesUserAgentAndGeo(t *testing.T) {
	for _, product := range []string{"nginx", "apache"} {
		dir := filepath.Join(corpus.Dir(t, product), "access")
		logs, _ := filepath.Glob(filepath.Join(dir, "test-*.log"))
		if len(logs) == 0 {
			t.Fatalf("no access fixtures in %s", dir)
		}
		for _, logFile := range logs {
			t.Run(product+"/"+filepath.Base(logFile), func(t *testing.T) {
				enrichFixture(t, dir, logFile, product)
			})
		}
	}
}

func enrichFixture(t *testing.T, dir, logFile, builtin string) {
	cfg := loadFixtureConfig(t, filepath.Join(dir, "test-common-config.yml"))
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Expected []map[string]any `json:"expected"`
	}
	b, err := os.ReadFile(logFile + "-expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	lines := groupEvents(t, string(raw), cfg.Multiline.FirstLinePattern)
	if len(lines) != len(expected.Expected) {
		t.Fatalf("%d events from the log, %d expected documents", len(lines), len(expected.Expected))
	}
	city, asn := fixtureDatabases(t, expected.Expected)
	e, err := Compile(Options{Index: "logs", Rules: []config.Rule{{Name: builtin, Builtin: builtin, GeoIPDatabases: []string{city, asn}}}})
	if err != nil {
		t.Fatal(err)
	}
	var d document.Doc
	compared, withUA, withGeo := 0, 0, 0
	for i, line := range lines {
		rec := &logsv1.RawRecord{Line: []byte(line), TimeUnixNano: time.Date(2020, 4, 28, 11, 7, 58, 0, time.UTC).UnixNano()}
		if _, err := e.Apply(e.Rules()[0], rec, &d); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var got map[string]any
		if err := json.Unmarshal(d.AppendJSON(nil), &got); err != nil {
			t.Fatal(err)
		}
		want := expected.Expected[i]
		if _, ok := lookup(want, "user_agent.name"); ok {
			withUA++
		}
		if _, ok := lookup(want, "source.geo"); ok {
			withGeo++
		}
		for _, f := range enrichFields {
			wv, wok := lookup(want, f)
			gv, gok := lookup(got, f)
			compared++
			if wok != gok || (wok && !sameValue(f, wv, gv)) {
				t.Errorf("event %d %s: got %s, want %s", i, f, show(gv, gok), show(wv, wok))
			}
		}
	}
	t.Logf("%d events (%d with a parsed user agent, %d located), %d fields compared", len(lines), withUA, withGeo, compared)
}

// fixtureDatabases writes a City and an ASN database locating the
// addresses of the expected documents where they say.
func fixtureDatabases(t *testing.T, docs []map[string]any) (city, asn string) {
	str := func(m map[string]any, p string) string { v, _ := lookup(m, p); s, _ := v.(string); return s }
	num := func(m map[string]any, p string) (float64, bool) {
		v, ok := lookup(m, p)
		f, isNum := v.(float64)
		return f, ok && isNum
	}
	var cities, asns []geoiptest.Entry
	seen := map[string]bool{}
	for _, doc := range docs {
		ip := str(doc, "source.ip")
		addr, err := netip.ParseAddr(ip)
		if err != nil || seen[ip] {
			continue
		}
		seen[ip] = true
		network := fmt.Sprintf("%s/%d", addr, addr.BitLen())
		if _, ok := lookup(doc, "source.geo"); ok {
			region := str(doc, "source.geo.region_iso_code")
			if c := str(doc, "source.geo.country_iso_code"); len(region) > len(c)+1 {
				region = region[len(c)+1:]
			}
			e := geoiptest.Entry{Network: network,
				CountryISOCode: str(doc, "source.geo.country_iso_code"), CountryName: str(doc, "source.geo.country_name"),
				ContinentName: str(doc, "source.geo.continent_name"), CityName: str(doc, "source.geo.city_name"),
				RegionISOCode: region, RegionName: str(doc, "source.geo.region_name")}
			if lat, ok := num(doc, "source.geo.location.lat"); ok {
				lon, _ := num(doc, "source.geo.location.lon")
				e.Lat, e.Lon = geoiptest.F(lat), geoiptest.F(lon)
			}
			cities = append(cities, e)
		}
		if n, ok := num(doc, "source.as.number"); ok {
			asns = append(asns, geoiptest.Entry{Network: network, ASNumber: uint32(n), ASOrganization: str(doc, "source.as.organization.name")})
		}
	}
	return geoiptest.Write(t, "GeoLite2-City", cities), geoiptest.Write(t, "GeoLite2-ASN", asns)
}
