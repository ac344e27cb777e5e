package rules

import (
	"fmt"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/geoip"
	"github.com/sluice-io/sluice/services/parser/internal/useragent"
)

// userAgentProc parses a user agent string into user_agent.*. A document
// without the field is left as it is, as Elastic's integrations run their
// user_agent processor with ignore_missing.
type userAgentProc struct {
	field string
	p     *useragent.Parser
}

func compileUserAgent(c *config.UserAgent) (Processor, error) {
	p, err := useragent.New(c.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("user_agent: %w", err)
	}
	f := c.Field
	if f == "" {
		f = "user_agent.original"
	}
	return &userAgentProc{field: f, p: p}, nil
}

func (*userAgentProc) Name() string { return "user_agent" }

func (p *userAgentProc) Process(d *document.Doc) error {
	v, ok := d.Get(p.field)
	if !ok || v.Kind != document.String || v.Str == "" {
		return nil
	}
	p.p.Parse(v.Str).Set(d, "user_agent")
	return nil
}

// geoIPProc looks an address up in MaxMind-format databases and writes
// <target>.geo.* and <target>.as.*. A document without the field, or
// whose address no database holds, is left as it is.
type geoIPProc struct {
	field, target string
	l             *geoip.Locator
}

func compileGeoIP(c *config.GeoIP) (Processor, error) {
	l, err := geoip.Open(c.Databases, 0)
	if err != nil {
		return nil, fmt.Errorf("geoip.databases: %w", err)
	}
	p := &geoIPProc{field: c.Field, target: c.Target, l: l}
	if p.field == "" {
		p.field = "source.ip"
	}
	if p.target == "" {
		p.target = "source"
	}
	return p, nil
}

func (*geoIPProc) Name() string { return "geoip" }

func (p *geoIPProc) Process(d *document.Doc) error {
	v, ok := d.Get(p.field)
	if !ok || v.Kind != document.String {
		return nil
	}
	loc, err := p.l.Lookup(v.Str)
	if err != nil {
		return err
	}
	if loc != nil {
		loc.Set(d, p.target)
	}
	return nil
}

// webEnrichment returns the processors the nginx and apache builtins run
// after parsing, as Elastic's integrations do: the user agent always, geo
// and AS data for source.ip when the rule names databases.
func webEnrichment(rc config.Rule) ([]Processor, error) {
	ua, err := compileUserAgent(&config.UserAgent{})
	if err != nil {
		return nil, err
	}
	ps := []Processor{ua}
	if len(rc.GeoIPDatabases) > 0 {
		g, err := compileGeoIP(&config.GeoIP{Databases: rc.GeoIPDatabases})
		if err != nil {
			return nil, fmt.Errorf("geoip_databases: %w", err)
		}
		ps = append(ps, g)
	}
	return ps, nil
}
