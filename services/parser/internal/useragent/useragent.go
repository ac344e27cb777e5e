// Package useragent parses user agent strings into the ECS user_agent
// fields, with the regexes of the ua-parser project (uap-core, embedded in
// github.com/ua-parser/uap-go) that Elastic's user_agent processor also
// uses.
//
// Parsing one string runs hundreds of regular expressions (tens of
// microseconds to milliseconds), while web traffic repeats a few hundred
// distinct agents, so results are kept in a bounded LRU cache keyed by the
// string.
package useragent

import (
	"fmt"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ua-parser/uap-go/uaparser"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// DefaultCacheSize is the number of distinct user agents a Parser keeps.
const DefaultCacheSize = 4096

// Agent is a parsed user agent; empty fields are unknown.
type Agent struct {
	Name, Version             string
	OSName, OSVersion, OSFull string
	Device                    string
}

// Parser parses user agents. It is safe for concurrent use.
type Parser struct {
	uap   *uaparser.Parser
	cache *lru.Cache[string, *Agent]
}

// compiled is the uap-core regex set, compiled once per process: every
// Parser shares it (compiling takes a noticeable fraction of a second).
var compiled = sync.OnceValues(func() (*uaparser.Parser, error) {
	// uap-go's own caches would hold what ours holds; keep them minimal.
	return uaparser.New(uaparser.WithCacheSize(1))
})

// New returns a Parser that keeps up to cacheSize results (0 means
// DefaultCacheSize).
func New(cacheSize int) (*Parser, error) {
	if cacheSize < 0 {
		return nil, fmt.Errorf("cache size %d is negative", cacheSize)
	}
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	uap, err := compiled()
	if err != nil {
		return nil, fmt.Errorf("user agent regexes: %w", err)
	}
	c, err := lru.New[string, *Agent](cacheSize)
	if err != nil {
		return nil, err
	}
	return &Parser{uap: uap, cache: c}, nil
}

// Parse returns the agent s describes. The result is shared: do not
// modify it.
func (p *Parser) Parse(s string) *Agent {
	if a, ok := p.cache.Get(s); ok {
		return a
	}
	a := p.parse(s)
	p.cache.Add(strings.Clone(s), a)
	return a
}

func (p *Parser) parse(s string) *Agent {
	ua := p.uap.ParseUserAgent(s)
	os := p.uap.ParseOs(s)
	dev := p.uap.ParseDevice(s)
	a := &Agent{Name: ua.Family, Version: join(ua.Major, ua.Minor, ua.Patch), Device: dev.Family}
	if os.Family != "" && os.Family != "Other" {
		a.OSName = os.Family
		a.OSVersion = join(os.Major, os.Minor, os.Patch, os.PatchMinor)
		if a.OSVersion != "" {
			a.OSFull = os.Family + " " + a.OSVersion
		}
	}
	return a
}

// join writes a version from its parts, up to the first empty one.
func join(parts ...string) string {
	v := ""
	for i, p := range parts {
		if p == "" {
			break
		}
		if i > 0 {
			v += "."
		}
		v += p
	}
	return v
}

// Set writes the agent's fields under prefix (normally "user_agent"):
// name, version, os.name, os.version, os.full (name and version, only
// when the version is known, as Elastic writes it) and device.name,
// leaving out the unknown ones.
func (a *Agent) Set(d *document.Doc, prefix string) {
	paths := &defaultPaths
	if prefix != "user_agent" {
		paths = pathsUnder(prefix)
	}
	for i, v := range [...]string{a.Name, a.Version, a.OSName, a.OSVersion, a.OSFull, a.Device} {
		if v != "" {
			d.SetPath(paths[i], document.S(v))
		}
	}
}

var suffixes = [...]string{".name", ".version", ".os.name", ".os.version", ".os.full", ".device.name"}

// defaultPaths are the paths under "user_agent", built once: Set runs for
// every access log line.
var defaultPaths = *pathsUnder("user_agent")

func pathsUnder(prefix string) *[len(suffixes)]document.Path {
	var p [len(suffixes)]document.Path
	for i, s := range suffixes {
		p[i] = document.P(prefix + s)
	}
	return &p
}
