package indexname

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/record"
)

// Modes.
const (
	// ModeHeader keeps the name the parser rendered into the sluice-index
	// header; Default names documents without one.
	ModeHeader = "header"
	// ModeFixed writes every document to Name.
	ModeFixed = "fixed"
	// ModeDate renders Name (e.g. logs-%{+yyyy.MM.dd}) on @timestamp, UTC.
	ModeDate = "date"
	// ModeField renders Name with %{value} set to the document's Field when
	// that value is in Allow, and Default otherwise.
	ModeField = "field"
	// ModeDataStream writes to the data stream logs-<dataset>-<namespace>.
	ModeDataStream = "datastream"
)

// DefaultPattern is the name the parser renders by default.
const DefaultPattern = record.DefaultIndexPattern

// Config chooses the names; its YAML form is the indexer's index section.
type Config struct {
	// Mode is header (default), fixed, date, field or datastream.
	Mode string `yaml:"mode"`
	// Name is the index for fixed, the pattern for date and field
	// (%{+<yyyy.MM.dd-style format>} on @timestamp in UTC; %{value} in
	// field mode). Default logs-%{+yyyy.MM.dd}.
	Name string `yaml:"name"`
	// Field is the dotted path of the field naming the index (field mode,
	// e.g. kubernetes.namespace).
	Field string `yaml:"field"`
	// Allow lists the values of Field that may name an index (field mode,
	// required: an open set would let any workload create indices), or the
	// datasets allowed (datastream mode; empty allows any).
	Allow []string `yaml:"allow"`
	// Default is the pattern for documents the mode cannot name: no header
	// (header mode), a value outside Allow (field mode). Default
	// logs-%{+yyyy.MM.dd}.
	Default string `yaml:"default"`
	// Dataset and Namespace are the data stream parts used when the
	// document has no data_stream.dataset / data_stream.namespace (or an
	// unlisted dataset). Defaults generic and default.
	Dataset   string `yaml:"dataset"`
	Namespace string `yaml:"namespace"`
}

// NewDefaultConfig returns header mode with the parser's default pattern as
// the fallback.
func NewDefaultConfig() Config {
	return Config{Mode: ModeHeader, Name: DefaultPattern, Default: DefaultPattern, Dataset: "generic", Namespace: "default"}
}

// Validate checks c; errors name keys relative to the index section.
func (c Config) Validate() error {
	_, err := New(c)
	return err
}

// DataStream reports whether documents go to data streams.
func (c Config) DataStream() bool { return c.Mode == ModeDataStream }

// Patterns returns the index patterns an index template must match for the
// names c produces (e.g. logs-*). Names are prefixes up to the first
// placeholder.
func (c Config) Patterns() []string {
	switch c.Mode {
	case ModeDataStream:
		return []string{"logs-*-*"}
	case ModeFixed:
		return []string{c.Name}
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range []string{c.Name, c.Default} {
		if c.Mode == ModeHeader && p == c.Name {
			// The parser's own pattern: its default prefix.
			p = DefaultPattern
		}
		prefix := p
		if i := strings.Index(p, "%{"); i >= 0 {
			prefix = p[:i] + "*"
		}
		if prefix != "" && prefix != "*" && !seen[prefix] {
			seen[prefix] = true
			out = append(out, prefix)
		}
	}
	return out
}

// Router names documents. It is not safe for concurrent use; give each
// goroutine its own (New is cheap).
type Router struct {
	mode        string
	name, dflt  *record.IndexPattern
	field       string
	allow       map[string]string // value → sanitised component
	dataset, ns string
	buf         []byte
	last        struct {
		name []byte
		s    string
	}
}

// New compiles c.
func New(c Config) (*Router, error) {
	d := NewDefaultConfig()
	if c.Mode == "" {
		c.Mode = d.Mode
	}
	if c.Name == "" {
		c.Name = d.Name
	}
	if c.Default == "" {
		c.Default = d.Default
	}
	if c.Dataset == "" {
		c.Dataset = d.Dataset
	}
	if c.Namespace == "" {
		c.Namespace = d.Namespace
	}
	r := &Router{mode: c.Mode, field: c.Field}
	var err error
	if r.dflt, err = record.ParseIndexPattern(c.Default); err != nil {
		return nil, config.Errorf("default", "%v", err)
	}
	switch c.Mode {
	case ModeHeader:
	case ModeFixed:
		if r.name, err = record.ParseIndexPattern(c.Name); err != nil {
			return nil, config.Errorf("name", "%v", err)
		}
		if _, ok := r.name.Literal(); !ok {
			return nil, config.Errorf("name", "%q has a placeholder; with mode fixed the name is used as it is (use mode date)", c.Name)
		}
	case ModeDate:
		if r.name, err = record.ParseIndexPattern(c.Name); err != nil {
			return nil, config.Errorf("name", "%v", err)
		}
	case ModeField:
		if c.Field == "" {
			return nil, config.Errorf("field", "required with mode field (e.g. kubernetes.namespace)")
		}
		if len(c.Allow) == 0 {
			return nil, config.Errorf("allow", "list the values of %s that may name an index; an open set lets any workload create indices", c.Field)
		}
		if r.name, err = record.ParseIndexPatternWithValue(c.Name); err != nil {
			return nil, config.Errorf("name", "%v", err)
		}
		if !r.name.Valued() {
			return nil, config.Errorf("name", "%q has no %%{value} for the field's value", c.Name)
		}
		r.allow = map[string]string{}
		for i, v := range c.Allow {
			b := r.name.AppendName(nil, time.Unix(0, 0), v)
			if err := record.CheckIndexName(string(b)); err != nil {
				return nil, config.Errorf("allow["+strconv.Itoa(i)+"]", "%v", err)
			}
			r.allow[v] = v
		}
	case ModeDataStream:
		for key, v := range map[string]string{"dataset": c.Dataset, "namespace": c.Namespace} {
			if s := dsPart(v); s != v {
				return nil, config.Errorf(key, "%q is not a valid data stream part (lowercase, no '-', spaces or \\/*?\"<>|,#:, at most 100 bytes)", v)
			}
		}
		r.dataset, r.ns = c.Dataset, c.Namespace
		if len(c.Allow) > 0 {
			r.allow = map[string]string{}
			for i, v := range c.Allow {
				if s := dsPart(v); s != v {
					return nil, config.Errorf("allow["+strconv.Itoa(i)+"]", "%q is not a valid dataset", v)
				}
				r.allow[v] = v
			}
		}
	default:
		return nil, config.Errorf("mode", "unknown mode %q (want header, fixed, date, field or datastream)", c.Mode)
	}
	return r, nil
}

// Name returns the index for a document: header is the sluice-index
// header (may be empty), source the JSON _source, and recordTime the Kafka
// record's timestamp, which dates documents without a usable @timestamp.
func (r *Router) Name(header string, source []byte, recordTime time.Time) string {
	switch r.mode {
	case ModeHeader:
		if header != "" {
			return header
		}
		return r.render(r.dflt, source, recordTime, "")
	case ModeFixed:
		name, _ := r.name.Literal()
		return name
	case ModeDate:
		return r.render(r.name, source, recordTime, "")
	case ModeField:
		v, k := lookup(source, r.field)
		if k != kindNone {
			if comp, ok := r.allow[string(v)]; ok {
				return r.render(r.name, source, recordTime, comp)
			}
		}
		return r.render(r.dflt, source, recordTime, "")
	case ModeDataStream:
		ds, ns := r.target(source)
		r.buf = append(append(append(append(r.buf[:0], "logs-"...), ds...), '-'), ns...)
		return r.intern(r.buf)
	}
	return ""
}

func (r *Router) render(p *record.IndexPattern, source []byte, recordTime time.Time, value string) string {
	if name, ok := p.Literal(); ok {
		return name
	}
	t := recordTime
	if p.Dated() {
		if ts, ok := Timestamp(source); ok {
			t = ts
		}
	}
	r.buf = p.AppendName(r.buf[:0], t, value)
	return r.intern(r.buf)
}

// intern returns b as a string, reusing the previous one when equal: runs
// of documents share a name, and this saves an allocation each.
func (r *Router) intern(b []byte) string {
	if string(b) == string(r.last.name) && r.last.name != nil {
		return r.last.s
	}
	r.last.s = string(b)
	r.last.name = append(r.last.name[:0], b...)
	return r.last.s
}

// Timestamp returns the document's @timestamp: an RFC 3339 string (with
// or without zone; without is UTC, as Elasticsearch reads it) or epoch
// milliseconds.
func Timestamp(source []byte) (time.Time, bool) {
	v, k := lookup(source, "@timestamp")
	switch k {
	case kindString:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, string(v)); err == nil {
				return t.UTC(), true
			}
		}
	case kindNumber:
		if ms, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), true
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return time.UnixMilli(int64(f)).UTC(), true
		}
	}
	return time.Time{}, false
}

// dsPart makes a value a valid data stream dataset or namespace: lowercase,
// '-' and forbidden characters turned into '_', at most 100 bytes. It
// returns "" for a value with nothing left.
func dsPart(v string) string {
	if v == "" {
		return ""
	}
	ok := len(v) <= 100 && v[0] != '_' && v[0] != '+'
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = record.ValidIndexNameByte(c) && c != '-' && c < 0x80
	}
	if ok {
		return v
	}
	b := []byte(strings.ToLower(v))
	for i, c := range b {
		if !record.ValidIndexNameByte(c) || c == '-' || c >= 0x80 {
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), "_+")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// String describes the routing for logs.
func (c Config) String() string {
	switch c.Mode {
	case ModeField:
		return fmt.Sprintf("field %s in %v → %s, else %s", c.Field, c.Allow, c.Name, c.Default)
	case ModeDataStream:
		return "data streams logs-<dataset>-<namespace>"
	case ModeHeader, "":
		return "sluice-index header, else " + c.Default
	}
	return c.Mode + " " + c.Name
}
