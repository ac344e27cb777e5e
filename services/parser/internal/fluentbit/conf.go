package fluentbit

import (
	"fmt"
	"io"
	"strings"

	"github.com/sluice-io/sluice/libs/fluentbitconf"
)

// Type is one entry of a parser's Types property.
type Type struct {
	Key  string
	Type string // string, integer, float, bool or hex
}

// Decoder is one Decode_Field or Decode_Field_As property.
type Decoder struct {
	Field   string
	Decoder string // json, escaped, escaped_utf8 or mysql_quoted
	Action  string // "", "try_next" or "do_next"
	As      bool   // Decode_Field_As: replace the field's value in place
}

// Rule is one rule of a [MULTILINE_PARSER].
type Rule struct {
	State string
	Regex string
	Next  string
}

// Parser is one [PARSER] or [MULTILINE_PARSER] section as written.
type Parser struct {
	Name               string
	Format             string // lower-cased: regex, json, logfmt, ltsv
	Regex              string
	TimeKey            string
	TimeFormat         string
	TimeKeep           bool
	TimeOffset         string
	TimeStrict         bool // default true; Fluent Bit only logs differently
	TimeSystemTimezone bool
	SkipEmptyValues    bool // default true
	LogfmtNoBareKeys   bool
	Types              []Type
	Decoders           []Decoder

	// Multiline is set for [MULTILINE_PARSER] sections, which Compile
	// does not support; MultilineType, FlushTimeout and Rules record them.
	Multiline     bool
	MultilineType string
	FlushTimeout  string
	Rules         []Rule

	Line  int               // line of the section header
	Extra map[string]string // other properties, keys lower-cased
}

// ParseFile reads parser definitions from a Fluent Bit classic-format
// configuration. Sections other than [PARSER] and [MULTILINE_PARSER] are
// ignored. @SET variables are substituted as ${name}; @INCLUDE cannot be
// followed from a reader and is an error.
func ParseFile(r io.Reader) ([]Parser, error) {
	// On a syntax error the sections before it are still interpreted, so
	// the first error in the file is the one reported; the last of them is
	// cut short by the error and is not checked for completeness.
	sections, syntaxErr := fluentbitconf.Parse(r)
	var out []Parser
	seen := map[string]int{}
	for i, s := range sections {
		var p Parser
		switch s.Name {
		case "PARSER":
			p = Parser{Line: s.Line, SkipEmptyValues: true, TimeStrict: true}
		case "MULTILINE_PARSER":
			p = Parser{Line: s.Line, Multiline: true, SkipEmptyValues: true, TimeStrict: true}
		default:
			continue
		}
		for _, prop := range s.Properties {
			if prop.Raw == "" {
				return nil, fmt.Errorf("fluentbit: line %d: property %q has no value", prop.Line, prop.Key)
			}
			if err := p.set(prop.Lower, prop.Value, prop.Line); err != nil {
				return nil, err
			}
		}
		if syntaxErr != nil && i == len(sections)-1 {
			break
		}
		if err := p.validate(seen); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if syntaxErr != nil {
		return nil, fmt.Errorf("fluentbit: %w", syntaxErr)
	}
	return out, nil
}

// validate checks what a section needs once all its properties are read,
// and records its name in seen so a later section cannot redefine it.
func (p *Parser) validate(seen map[string]int) error {
	if p.Name == "" {
		return fmt.Errorf("fluentbit: line %d: section has no Name", p.Line)
	}
	if prev, dup := seen[p.Name]; dup {
		return fmt.Errorf("fluentbit: line %d: parser %q already defined at line %d", p.Line, p.Name, prev)
	}
	seen[p.Name] = p.Line
	if !p.Multiline {
		if p.Format == "" {
			return fmt.Errorf("fluentbit: line %d: parser %q has no Format", p.Line, p.Name)
		}
		if p.Format == "regex" && p.Regex == "" {
			return fmt.Errorf("fluentbit: line %d: parser %q has Format regex but no Regex", p.Line, p.Name)
		}
	}
	return nil
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, true
	case "off", "false", "no", "0":
		return false, true
	}
	return false, false
}

func (p *Parser) set(key, val string, line int) error {
	boolVal := func(dst *bool) error {
		b, ok := parseBool(val)
		if !ok {
			return fmt.Errorf("fluentbit: line %d: %s must be On or Off, not %q", line, key, val)
		}
		*dst = b
		return nil
	}
	if p.Multiline {
		switch key {
		case "type":
			p.MultilineType = strings.ToLower(val)
			return nil
		case "flush_timeout":
			p.FlushTimeout = val
			return nil
		case "rule":
			toks, err := fluentbitconf.Fields(val)
			if err != nil || len(toks) != 3 {
				return fmt.Errorf("fluentbit: line %d: rule needs three quoted values: state, regex, next state", line)
			}
			p.Rules = append(p.Rules, Rule{State: toks[0], Regex: toks[1], Next: toks[2]})
			return nil
		}
	}
	switch key {
	case "name":
		p.Name = val
	case "format":
		p.Format = strings.ToLower(val)
	case "regex":
		p.Regex = val
	case "time_key":
		p.TimeKey = val
	case "time_format":
		p.TimeFormat = val
	case "time_offset":
		p.TimeOffset = val
	case "time_keep":
		return boolVal(&p.TimeKeep)
	case "time_strict":
		return boolVal(&p.TimeStrict)
	case "time_system_timezone":
		return boolVal(&p.TimeSystemTimezone)
	case "skip_empty_values":
		return boolVal(&p.SkipEmptyValues)
	case "logfmt_no_bare_keys":
		return boolVal(&p.LogfmtNoBareKeys)
	case "types":
		for _, tok := range strings.FieldsFunc(val, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
			k, t, ok := strings.Cut(tok, ":")
			if !ok || k == "" {
				return fmt.Errorf("fluentbit: line %d: Types entry %q is not key:type", line, tok)
			}
			p.Types = append(p.Types, Type{Key: k, Type: strings.ToLower(t)})
		}
	case "decode_field", "decode_field_as":
		f := strings.Fields(val)
		if len(f) < 2 || len(f) > 3 {
			return fmt.Errorf("fluentbit: line %d: %s needs 'decoder field [action]'", line, key)
		}
		d := Decoder{Decoder: strings.ToLower(f[0]), Field: f[1], As: key == "decode_field_as"}
		if len(f) == 3 {
			d.Action = strings.ToLower(f[2])
		}
		p.Decoders = append(p.Decoders, d)
	default:
		if p.Extra == nil {
			p.Extra = map[string]string{}
		}
		p.Extra[key] = val
	}
	return nil
}
