package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/applog"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/weblog"
)

type compileEnv struct {
	patterns map[string]string
}

// compile builds one configured processor. The error's text starts with the
// processor's key so the caller can prefix it with "rules[i].processors[j].".
func (env *compileEnv) compile(pc config.Processor) (Processor, error) {
	switch {
	case pc.JSON != nil:
		return compileJSON(pc.JSON)
	case pc.Regex != nil && pc.Regex.FluentBit != nil:
		if pc.Regex.Pattern != "" {
			return nil, errors.New("regex: pattern and fluentbit are exclusive")
		}
		return compileFluentBit(pc.Regex)
	case pc.Regex != nil:
		re, err := regexp.Compile(pc.Regex.Pattern)
		if err != nil {
			return nil, fmt.Errorf("regex.pattern: %w", err)
		}
		if re.NumSubexp() == 0 {
			return nil, errors.New("regex.pattern: no named groups to capture")
		}
		return &regexProc{field: field(pc.Regex.Field), re: re, names: re.SubexpNames()}, nil
	case pc.Grok != nil:
		return compileGrok(pc.Grok, env.patterns)
	case pc.Dissect != nil:
		return compileDissect(pc.Dissect)
	case pc.Logfmt != nil:
		return &logfmtProc{field: field(pc.Logfmt.Field)}, nil
	case pc.KV != nil:
		return compileKV(pc.KV)
	case pc.UserAgent != nil:
		return compileUserAgent(pc.UserAgent)
	case pc.GeoIP != nil:
		return compileGeoIP(pc.GeoIP)
	case pc.Date != nil:
		return compileDate(pc.Date)
	case pc.Rename != nil:
		return renameProc(pc.Rename), nil
	case pc.Remove != nil:
		return removeProc(pc.Remove), nil
	case pc.Add != nil:
		return addProc(pc.Add), nil
	case pc.Convert != nil:
		for k, t := range pc.Convert {
			switch t {
			case "int", "integer", "long", "float", "double", "bool", "boolean", "string":
			default:
				return nil, fmt.Errorf("convert.%s: unknown type %q (want int, float, bool or string)", k, t)
			}
		}
		return convertProc(pc.Convert), nil
	}
	return nil, errors.New("empty processor")
}

func field(f string) string {
	if f == "" {
		return "message"
	}
	return f
}

func sourceString(d *document.Doc, f string) (string, error) {
	return sourceStringAt(d, f, document.P(f))
}

// sourceStringAt is sourceString with f prepared as p.
func sourceStringAt(d *document.Doc, f string, p document.Path) (string, error) {
	v, ok := d.GetPath(p)
	if !ok {
		return "", fmt.Errorf("field %q is missing", f)
	}
	if v.Kind != document.String {
		return "", fmt.Errorf("field %q is not a string", f)
	}
	return v.Str, nil
}

// builtin returns the processors of a rule shipped with Sluice.
func builtin(rc config.Rule) ([]Processor, error) {
	switch rc.Builtin {
	case "nginx", "apache":
		f := weblog.Nginx
		if rc.Builtin == "apache" {
			f = weblog.Apache
		}
		enrich, err := webEnrichment(rc)
		if err != nil {
			return nil, err
		}
		return []Processor{&accessProc{flavor: f, enrich: enrich}}, nil
	case "nginx_error", "apache_error":
		loc, err := weblog.ParseZone(rc.Timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
		f := weblog.Nginx
		if rc.Builtin == "apache_error" {
			f = weblog.Apache
		}
		return []Processor{&errorLogProc{flavor: f, loc: loc}}, nil
	case "json", "auto":
		loc, err := weblog.ParseZone(rc.Timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
		m := applog.New(rc.Target, loc)
		if rc.Builtin == "auto" {
			return []Processor{&autoProc{mapper: m}}, nil
		}
		return []Processor{&jsonProc{field: "message", mapper: m}}, nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown builtin rule %q (want %s)", rc.Builtin, strings.Join(Builtins(), ", "))
}

// Builtins lists the builtin rule names.
func Builtins() []string {
	return []string{"nginx", "apache", "nginx_error", "apache_error", "json", "auto", "none"}
}

// accessProc parses nginx and Apache access logs into the fields Elastic's
// integrations produce, then runs enrich, the user agent and geoip
// processors of the builtin rules (webEnrichment): one step, so that the
// builtin shows as one processor whatever it is configured with.
type accessProc struct {
	flavor weblog.Flavor
	enrich []Processor
}

func (p *accessProc) Name() string {
	if p.flavor == weblog.Apache {
		return "apache"
	}
	return "nginx"
}

func (p *accessProc) Process(d *document.Doc) error {
	msg, err := sourceStringAt(d, "message", pathMessage)
	if err != nil {
		return err
	}
	// The entry lives on the stack: processors are shared by every worker.
	var list [8]string
	a := weblog.Access{RemoteList: list[:0]}
	if p.flavor == weblog.Apache {
		err = weblog.ParseApache(msg, &a)
	} else {
		err = weblog.ParseNginx(msg, &a)
	}
	if err != nil {
		return err
	}
	// Every part of a parsed line goes to a field of its own; the line
	// itself is kept only in event.original, when the rule asks for it
	// (keep_original), as Elastic's integrations drop it unless told to
	// preserve it. Deleted before the access fields are added, while the
	// document is small. (msg stays valid: a and the fields share it.)
	d.Delete("message")
	weblog.SetAccess(p.flavor, &a, d)
	for _, e := range p.enrich {
		if err := e.Process(d); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

// errorLogProc parses nginx and Apache error logs.
type errorLogProc struct {
	flavor weblog.Flavor
	loc    *time.Location
}

func (p *errorLogProc) Name() string {
	if p.flavor == weblog.Apache {
		return "apache_error"
	}
	return "nginx_error"
}

func (p *errorLogProc) Process(d *document.Doc) error {
	msg, err := sourceString(d, "message")
	if err != nil {
		return err
	}
	var e weblog.ErrorEntry
	if p.flavor == weblog.Apache {
		err = weblog.ParseApacheError(msg, p.loc, &e)
	} else {
		err = weblog.ParseNginxError(msg, p.loc, &e)
	}
	if err != nil {
		return err
	}
	weblog.SetError(p.flavor, &e, d)
	return nil
}

// autoProc maps a message that is a JSON object as an application log
// line (see applog) and leaves other messages alone.
type autoProc struct {
	mapper *applog.Mapper
}

func (*autoProc) Name() string { return "auto" }

func (p *autoProc) Process(d *document.Doc) error {
	msg, err := sourceString(d, "message")
	if err != nil {
		return nil
	}
	t := strings.TrimSpace(msg)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return nil
	}
	// A line that looks like JSON but is not stays as it is: Map leaves
	// the document untouched on a syntax error.
	_ = p.mapper.Map(d, t)
	return nil
}

// jsonProc decodes a JSON object in field. With a mapper (the json builtin
// rule, or ecs: true) it maps application log fields to ECS and puts the
// rest under the mapper's target; without one the fields go under target
// (default: the root) as they are. A "message" key replaces the message,
// nested objects become dotted paths, arrays stay JSON arrays.
type jsonProc struct {
	field, target string
	mapper        *applog.Mapper
}

func compileJSON(c *config.JSON) (Processor, error) {
	p := &jsonProc{field: field(c.Field), target: c.Target}
	if c.ECS {
		loc, err := weblog.ParseZone(c.Timezone)
		if err != nil {
			return nil, fmt.Errorf("json.timezone: %w", err)
		}
		p.mapper = applog.New(c.Target, loc)
	} else if c.Timezone != "" {
		return nil, errors.New("json.timezone: only used with ecs: true")
	}
	return p, nil
}

func (p *jsonProc) Name() string { return "json" }

func (p *jsonProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	if p.mapper != nil {
		err = p.mapper.Map(d, s)
	} else {
		prefix := ""
		if p.target != "" && p.target != applog.TargetRoot {
			prefix = p.target + "."
		}
		err = applog.Decode(d, s, prefix)
	}
	if err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	return nil
}

// regexProc captures a regular expression's named groups into fields.
type regexProc struct {
	field string
	re    *regexp.Regexp
	names []string
}

func (p *regexProc) Name() string { return "regex" }

func (p *regexProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	m := p.re.FindStringSubmatchIndex(s)
	if m == nil {
		return errors.New("no match")
	}
	for i, n := range p.names {
		if n == "" || m[2*i] < 0 {
			continue
		}
		d.Set(n, document.S(s[m[2*i]:m[2*i+1]]))
	}
	return nil
}

type logfmtProc struct{ field string }

func (p *logfmtProc) Name() string { return "logfmt" }

type renameProc map[string]string

func (renameProc) Name() string { return "rename" }
func (p renameProc) Process(d *document.Doc) error {
	for from, to := range p {
		d.Rename(from, to)
	}
	return nil
}

type removeProc []string

func (removeProc) Name() string { return "remove" }
func (p removeProc) Process(d *document.Doc) error {
	for _, f := range p {
		d.Remove(f)
	}
	return nil
}

type addProc map[string]string

func (addProc) Name() string { return "add" }
func (p addProc) Process(d *document.Doc) error {
	for k, v := range p {
		d.Set(k, document.S(v))
	}
	return nil
}

type convertProc map[string]string

func (convertProc) Name() string { return "convert" }
func (p convertProc) Process(d *document.Doc) error {
	for f, typ := range p {
		v, ok := d.Get(f)
		if !ok {
			continue
		}
		s := v.Str
		switch v.Kind {
		case document.Int:
			s = strconv.FormatInt(v.Int, 10)
		case document.Float:
			s = strconv.FormatFloat(v.Float, 'g', -1, 64)
		case document.Bool:
			s = strconv.FormatBool(v.Bool)
		case document.String:
		default:
			return fmt.Errorf("convert %s: cannot convert a list or object", f)
		}
		switch typ {
		case "int", "integer", "long":
			i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				fl, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if ferr != nil {
					return fmt.Errorf("convert %s: %q is not an integer", f, s)
				}
				i = int64(fl)
			}
			d.Set(f, document.I(i))
		case "float", "double":
			fl, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return fmt.Errorf("convert %s: %q is not a number", f, s)
			}
			d.Set(f, document.F(fl))
		case "bool", "boolean":
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("convert %s: %q is not a boolean", f, s)
			}
			d.Set(f, document.B(b))
		case "string":
			d.Set(f, document.S(s))
		}
	}
	return nil
}
