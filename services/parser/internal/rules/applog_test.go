package rules

import (
	"strings"
	"testing"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/geoip/geoiptest"
)

func TestAutoRuleMapsAppLogs(t *testing.T) {
	tests := []struct {
		name   string
		rule   config.Rule
		line   string
		want   map[string]any
		absent []string
	}{
		{"zap line", config.Rule{Name: "a", Builtin: "auto"},
			`{"level":"info","ts":1764842400.5,"caller":"api/h.go:7","msg":"done","user":"bob","status":200}`,
			map[string]any{"log.level": "info", "message": "done", "@timestamp": "2025-12-04T10:00:00.500Z",
				"event.created": "2026-11-24T10:00:00.000Z", "log.origin.file.line": float64(7),
				"app.user": "bob", "app.status": float64(200), "kubernetes.namespace": "shop"},
			[]string{"user", "level", "tags"}},
		{"root target", config.Rule{Name: "a", Builtin: "json", Target: "root"},
			`{"lvl":"warn","message":"m","user":"bob"}`,
			map[string]any{"log.level": "warn", "message": "m", "user": "bob"}, []string{"app"}},
		{"local time in the rule's zone", config.Rule{Name: "a", Builtin: "auto", Timezone: "+02:00"},
			`{"asctime":"2026-12-04 10:00:00,125","levelname":"INFO","message":"m"}`,
			map[string]any{"@timestamp": "2026-12-04T08:00:00.125Z"}, nil},
		{"not JSON stays as it is", config.Rule{Name: "a", Builtin: "auto"},
			`{"level":"info", oops}`,
			map[string]any{"message": `{"level":"info", oops}`}, []string{"log.level", "tags"}},
		{"plain text stays as it is", config.Rule{Name: "a", Builtin: "auto"},
			`GET /health 200`, map[string]any{"message": `GET /health 200`}, []string{"tags"}},
		{"json processor with ecs", config.Rule{Name: "a", Processors: []config.Processor{
			{JSON: &config.JSON{ECS: true, Target: "svc"}}}},
			`{"severity":"ERROR","msg":"x","trace_id":"t1","span_id":"s1","k":{"v":1}}`,
			map[string]any{"log.level": "ERROR", "message": "x", "trace.id": "t1", "span.id": "s1", "svc.k.v": float64(1)}, nil},
		{"json processor without ecs, root target", config.Rule{Name: "a", Processors: []config.Processor{
			{JSON: &config.JSON{Target: "root"}}}},
			`{"level":"info","msg":"x"}`,
			map[string]any{"level": "info", "msg": "x"}, []string{"root", "log.level"}},
		{"json processor without ecs keeps names", config.Rule{Name: "a", Processors: []config.Processor{
			{JSON: &config.JSON{Target: "j"}}}},
			`{"level":"info","msg":"x"}`,
			map[string]any{"j.level": "info", "j.msg": "x"}, []string{"log.level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := apply(t, []config.Rule{tt.rule}, raw(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			for path, w := range tt.want {
				if got := get(m, path); got != w {
					t.Errorf("%s = %#v, want %#v", path, got, w)
				}
			}
			for _, path := range tt.absent {
				if got := get(m, path); got != nil {
					t.Errorf("%s = %#v, want absent", path, got)
				}
			}
		})
	}
}

func TestJSONProcessorFailure(t *testing.T) {
	m, _, err := apply(t, []config.Rule{{Name: "a", Processors: []config.Processor{{JSON: &config.JSON{ECS: true}}}}}, raw(`{"a":`))
	if err != nil {
		t.Fatal(err)
	}
	if tags, _ := m["tags"].([]any); len(tags) != 1 || tags[0] != FailureTag {
		t.Errorf("tags = %v, want the failure tag", m["tags"])
	}
}

func TestEnrichmentProcessors(t *testing.T) {
	db := geoiptest.Write(t, "GeoLite2-City", []geoiptest.Entry{
		{Network: "81.2.69.0/24", CountryISOCode: "GB", CountryName: "United Kingdom", CityName: "London",
			ContinentName: "Europe", Lat: geoiptest.F(51.5), Lon: geoiptest.F(-0.12)},
	})
	line := `81.2.69.160 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"`
	t.Run("nginx builtin with a database", func(t *testing.T) {
		m, _, err := apply(t, []config.Rule{{Name: "n", Builtin: "nginx", GeoIPDatabases: []string{db}}}, raw(line))
		if err != nil {
			t.Fatal(err)
		}
		for path, w := range map[string]any{"user_agent.name": "Firefox", "user_agent.os.name": "Linux",
			"user_agent.device.name": "Other", "source.geo.country_iso_code": "GB", "source.geo.city_name": "London",
			"source.geo.location.lat": 51.5, "source.geo.location.lon": -0.12} {
			if got := get(m, path); got != w {
				t.Errorf("%s = %#v, want %#v", path, got, w)
			}
		}
	})
	t.Run("nginx builtin without a database", func(t *testing.T) {
		m, _, err := apply(t, []config.Rule{{Name: "n", Builtin: "nginx"}}, raw(line))
		if err != nil {
			t.Fatal(err)
		}
		if get(m, "user_agent.name") != "Firefox" || get(m, "source.geo") != nil {
			t.Errorf("user_agent = %v, source = %v", m["user_agent"], m["source"])
		}
	})
	t.Run("processors on other fields", func(t *testing.T) {
		rs := []config.Rule{{Name: "p", Processors: []config.Processor{
			{JSON: &config.JSON{}},
			{UserAgent: &config.UserAgent{Field: "ua", CacheSize: 8}},
			{GeoIP: &config.GeoIP{Field: "client", Target: "client", Databases: []string{db}}},
		}}}
		m, _, err := apply(t, rs, raw(`{"ua":"curl/8.5.0","client":"81.2.69.7"}`))
		if err != nil {
			t.Fatal(err)
		}
		if get(m, "user_agent.name") != "curl" || get(m, "client.geo.country_name") != "United Kingdom" {
			t.Errorf("document %v", m)
		}
	})
	t.Run("missing database names the key", func(t *testing.T) {
		_, err := Compile(Options{Index: "logs", Rules: []config.Rule{{Name: "p", Processors: []config.Processor{
			{GeoIP: &config.GeoIP{Databases: []string{"/nonexistent.mmdb"}}}}}}})
		if err == nil || !strings.HasPrefix(err.Error(), "rules[0].processors[0].geoip.databases") {
			t.Errorf("err = %v", err)
		}
		_, err = Compile(Options{Index: "logs", Rules: []config.Rule{{Name: "n", Builtin: "nginx", GeoIPDatabases: []string{"/nonexistent.mmdb"}}}})
		if err == nil || !strings.HasPrefix(err.Error(), "rules[0].builtin: geoip_databases") {
			t.Errorf("err = %v", err)
		}
	})
}
