package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/dissect"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/grok"
	"github.com/sluice-io/sluice/services/parser/internal/kv"
	"github.com/sluice-io/sluice/services/parser/internal/logfmt"
	"github.com/sluice-io/sluice/services/parser/internal/timefmt"
)

// grokProc tries its patterns in order; the first match wins. Nested
// targets ([http][version]) become dotted paths (http.version).
//
// A grokProc is shared by the workers and read-only once compiled: the
// dotted path of every capture is joined at compile time (paths, keyed
// by the capture's path segments, which the matcher hands back as they
// are), so matching a line allocates nothing per capture.
type grokProc struct {
	field    string
	at       document.Path // field, prepared
	matchers []*grok.Matcher
	paths    map[*string]document.Path
}

func compileGrok(g *config.Grok, patterns map[string]string) (Processor, error) {
	mode := grok.ModeECS
	switch g.Mode {
	case "", "ecs-v1":
	case "legacy":
		mode = grok.ModeLegacy
	default:
		return nil, fmt.Errorf("grok.mode: unknown mode %q (want ecs-v1 or legacy)", g.Mode)
	}
	if len(g.Patterns) == 0 {
		return nil, errors.New("grok.patterns: at least one pattern is required")
	}
	lib := grok.NewLibrary(mode)
	for name, def := range patterns {
		if err := lib.Add(name, def); err != nil {
			return nil, fmt.Errorf("grok: patterns.%s: %w", name, err)
		}
	}
	p := &grokProc{field: field(g.Field), paths: map[*string]document.Path{}}
	p.at = document.P(p.field)
	for i, expr := range g.Patterns {
		m, err := lib.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("grok.patterns[%d]: %w", i, err)
		}
		p.matchers = append(p.matchers, m)
		for _, c := range m.Captures() {
			if len(c.Path) > 0 {
				p.paths[&c.Path[0]] = document.P(strings.Join(c.Path, "."))
			}
		}
	}
	return p, nil
}

// path returns the dotted path of a capture's segments.
func (p *grokProc) path(segs []string) document.Path {
	if len(segs) == 0 {
		return document.P("")
	}
	if s, ok := p.paths[&segs[0]]; ok {
		return s
	}
	return document.P(strings.Join(segs, "."))
}

func (p *grokProc) Name() string { return "grok" }

func (p *grokProc) Process(d *document.Doc) error {
	s, err := sourceStringAt(d, p.field, p.at)
	if err != nil {
		return err
	}
	// The matchers only read the line: a view of s's bytes saves copying
	// it for every record.
	line := unsafe.Slice(unsafe.StringData(s), len(s))
	for _, m := range p.matchers {
		ok := m.Match(line, func(path []string, v grok.Value) {
			var dv document.Value
			switch v.Kind {
			case grok.KindInt:
				dv = document.I(v.Int)
			case grok.KindFloat:
				dv = document.F(v.Float)
			default:
				// v.Bytes is line[a:b]; its value is the same part of s,
				// which the document can share instead of a copy.
				a := cap(line) - cap(v.Bytes)
				dv = document.S(s[a : a+len(v.Bytes)])
			}
			d.SetPath(p.path(path), dv)
		})
		if ok {
			return nil
		}
	}
	return errors.New("no pattern matched")
}

type dissectProc struct {
	field string
	d     *dissect.Dissector
}

func compileDissect(c *config.Dissect) (Processor, error) {
	d, err := dissect.Compile(c.Pattern)
	if err != nil {
		return nil, fmt.Errorf("dissect.pattern: %w", err)
	}
	return &dissectProc{field: field(c.Field), d: d}, nil
}

func (p *dissectProc) Name() string { return "dissect" }

func (p *dissectProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	return p.d.Dissect(s, func(k, v string) { d.Set(k, document.S(v)) })
}

type kvProc struct {
	field string
	p     *kv.Parser
}

func compileKV(c *config.KV) (Processor, error) {
	p, err := kv.New(kv.Config{FieldSplit: c.FieldSplit, ValueSplit: c.ValueSplit, Prefix: c.Prefix})
	if err != nil {
		return nil, fmt.Errorf("kv: %w", err)
	}
	return &kvProc{field: field(c.Field), p: p}, nil
}

func (p *kvProc) Name() string { return "kv" }

func (p *kvProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	p.p.Parse(s, func(k, v string) { d.Set(k, document.S(v)) })
	return nil
}

func (p *logfmtProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	return logfmt.Decode([]byte(s), func(k, v []byte) error {
		d.Set(string(k), document.S(string(v)))
		return nil
	})
}

// dateProc parses a field with the first format that fits.
type dateProc struct {
	field, target string
	parsers       []*timefmt.Parser
}

func compileDate(c *config.Date) (Processor, error) {
	if len(c.Formats) == 0 {
		return nil, errors.New("date.formats: at least one format is required")
	}
	var opts []timefmt.Option
	if c.Timezone != "" {
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			return nil, fmt.Errorf("date.timezone: %w", err)
		}
		opts = append(opts, timefmt.WithLocation(loc))
	}
	p := &dateProc{field: field(c.Field), target: c.Target}
	if p.target == "" {
		p.target = "@timestamp"
	}
	for i, f := range c.Formats {
		tp, err := timefmt.Compile(f, opts...)
		if err != nil {
			return nil, fmt.Errorf("date.formats[%d]: %w", i, err)
		}
		p.parsers = append(p.parsers, tp)
	}
	return p, nil
}

func (p *dateProc) Name() string { return "date" }

func (p *dateProc) Process(d *document.Doc) error {
	v, ok := d.Get(p.field)
	if !ok {
		return fmt.Errorf("field %q is missing", p.field)
	}
	s := v.Str
	if v.Kind == document.Int {
		s = fmt.Sprint(v.Int)
	}
	var errs []string
	for _, tp := range p.parsers {
		t, err := tp.Parse(s)
		if err == nil {
			d.Set(p.target, document.T(t))
			return nil
		}
		errs = append(errs, err.Error())
	}
	return fmt.Errorf("%q fits no format: %s", s, strings.Join(errs, "; "))
}
