package fluentbit

import (
	"bufio"
	"fmt"
	"io"
	"strings"
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
	var out []Parser
	vars := map[string]string{}
	seen := map[string]int{}
	var cur *Parser
	skipping := false
	finish := func() error {
		if cur == nil {
			return nil
		}
		p := cur
		cur = nil
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
		out = append(out, *p)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '@' {
			cmd, arg, _ := strings.Cut(line, " ")
			switch strings.ToUpper(cmd) {
			case "@SET":
				k, v, ok := strings.Cut(strings.TrimSpace(arg), "=")
				if !ok {
					return nil, fmt.Errorf("fluentbit: line %d: @SET needs name=value", lineNo)
				}
				vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
			case "@INCLUDE":
				return nil, fmt.Errorf("fluentbit: line %d: @INCLUDE %s cannot be followed when reading a single file", lineNo, strings.TrimSpace(arg))
			default:
				return nil, fmt.Errorf("fluentbit: line %d: unknown command %s", lineNo, cmd)
			}
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("fluentbit: line %d: malformed section header %q", lineNo, line)
			}
			if err := finish(); err != nil {
				return nil, err
			}
			switch strings.ToUpper(strings.TrimSpace(line[1 : len(line)-1])) {
			case "PARSER":
				cur = &Parser{Line: lineNo, SkipEmptyValues: true, TimeStrict: true}
				skipping = false
			case "MULTILINE_PARSER":
				cur = &Parser{Line: lineNo, Multiline: true, SkipEmptyValues: true, TimeStrict: true}
				skipping = false
			default:
				skipping = true
			}
			continue
		}
		if skipping {
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("fluentbit: line %d: property outside a section", lineNo)
		}
		key, val := splitProperty(line)
		if val == "" {
			return nil, fmt.Errorf("fluentbit: line %d: property %q has no value", lineNo, key)
		}
		val = expandVars(val, vars)
		if err := cur.set(strings.ToLower(key), val, lineNo); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fluentbit: reading: %w", err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}

func splitProperty(line string) (key, val string) {
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimSpace(line[i:])
}

func expandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
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
			toks, err := quotedTokens(val)
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

// quotedTokens splits `"a" "b c" d` into [a, b c, d].
func quotedTokens(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if s[0] == '"' || s[0] == '\'' {
			q := s[0]
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			out = append(out, s[1:1+end])
			s = s[end+2:]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
}
