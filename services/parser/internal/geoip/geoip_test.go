package geoip

import (
	"encoding/json"
	"testing"

	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/geoip/geoiptest"
)

func TestLookupMergesCityAndASN(t *testing.T) {
	city := geoiptest.Write(t, "GeoLite2-City", []geoiptest.Entry{
		{Network: "203.0.113.0/24", CountryISOCode: "NZ", CountryName: "New Zealand", ContinentCode: "OC",
			ContinentName: "Oceania", RegionISOCode: "WGN", RegionName: "Wellington Region", CityName: "Wellington",
			Lat: geoiptest.F(-41.29), Lon: geoiptest.F(174.78)},
		{Network: "2001:db8::/32", CountryISOCode: "DE", CountryName: "Germany"},
	})
	asn := geoiptest.Write(t, "GeoLite2-ASN", []geoiptest.Entry{
		{Network: "203.0.113.0/25", ASNumber: 64500, ASOrganization: "Example Transit"},
	})
	l, err := Open([]string{city, asn}, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })

	tests := []struct {
		ip   string
		want string // the document's JSON
	}{
		{"203.0.113.7", `{"source":{"as":{"number":64500,"organization":{"name":"Example Transit"}},"geo":{"city_name":"Wellington","continent_code":"OC","continent_name":"Oceania","country_iso_code":"NZ","country_name":"New Zealand","location":{"lat":-41.29,"lon":174.78},"region_iso_code":"NZ-WGN","region_name":"Wellington Region"}}}`},
		{"203.0.113.200", `{"source":{"geo":{"city_name":"Wellington","continent_code":"OC","continent_name":"Oceania","country_iso_code":"NZ","country_name":"New Zealand","location":{"lat":-41.29,"lon":174.78},"region_iso_code":"NZ-WGN","region_name":"Wellington Region"}}}`},
		{"2001:db8::1", `{"source":{"geo":{"country_iso_code":"DE","country_name":"Germany"}}}`},
		{"198.51.100.1", `{}`},
		{"not-an-ip", `{}`},
	}
	for _, tt := range tests {
		for range 2 { // the second time from the cache
			loc, err := l.Lookup(tt.ip)
			if err != nil {
				t.Fatalf("Lookup(%s): %v", tt.ip, err)
			}
			var d document.Doc
			if loc != nil {
				loc.Set(&d, "source")
			}
			if got := string(d.AppendJSON(nil)); got != tt.want {
				t.Errorf("Lookup(%s):\n got %s\nwant %s", tt.ip, got, tt.want)
			}
			if !json.Valid(d.AppendJSON(nil)) {
				t.Fatal("invalid JSON")
			}
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(nil, 0); err == nil {
		t.Error("Open without databases accepted")
	}
	if _, err := Open([]string{"/nonexistent/GeoLite2-City.mmdb"}, 0); err == nil {
		t.Error("Open of a missing file accepted")
	}
}
