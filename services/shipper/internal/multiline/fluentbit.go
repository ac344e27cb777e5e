package multiline

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/fluentbitconf"
)

// ReadFluentBit reads the [MULTILINE_PARSER] sections of a Fluent Bit
// parsers file (classic format) as rules named after them, so a parsers
// file already in use moves over unchanged. Other sections are skipped;
// @SET variables are expanded; @INCLUDE is refused (one file is read).
//
// Supported: type regex (rule lines), type endswith (match_str, negate),
// flush_timeout (milliseconds, default 4000 as in Fluent Bit, counted from
// the event's first line like Fluent Bit's flush timer). key_content and
// parser describe record fields and do not apply: the shipper joins the
// message text.
func ReadFluentBit(r io.Reader) ([]Rule, error) {
	// On a syntax error the sections before it are still interpreted, so
	// the first error in the file is the one reported; the last of them is
	// cut short by the error and is not checked for completeness.
	sections, syntaxErr := fluentbitconf.Parse(r)
	var out []Rule
	seen := map[string]int{}
	for i, s := range sections {
		if s.Name != "MULTILINE_PARSER" {
			continue
		}
		rule, err := fluentBitRule(s, seen, syntaxErr == nil || i < len(sections)-1)
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	var ce *fluentbitconf.Error
	if errors.Is(syntaxErr, fluentbitconf.ErrInclude) && errors.As(syntaxErr, &ce) {
		return nil, fmt.Errorf("line %d: @INCLUDE cannot be followed; list the file's sections here", ce.Line)
	}
	if syntaxErr != nil {
		return nil, syntaxErr
	}
	return out, nil
}

// fluentBitRule interprets one [MULTILINE_PARSER] section and, if complete
// is set, checks it names a new, supported and compilable rule; seen maps
// the names already defined to their header lines. Other keys are ignored:
// key_content and parser describe record fields.
func fluentBitRule(s fluentbitconf.Section, seen map[string]int, complete bool) (Rule, error) {
	rule := Rule{Timeout: config.Duration(4 * time.Second), TimeoutFrom: "first_line"}
	var mlType, matchStr string
	var negate bool
	for _, p := range s.Properties {
		switch p.Lower {
		case "name":
			rule.Name = p.Value
		case "type":
			mlType = strings.ToLower(p.Value)
		case "flush_timeout":
			ms, err := strconv.Atoi(p.Value)
			if err != nil || ms < 0 {
				return Rule{}, fmt.Errorf("line %d: flush_timeout must be milliseconds, not %q", p.Line, p.Value)
			}
			rule.Timeout = config.Duration(time.Duration(ms) * time.Millisecond)
		case "rule":
			toks, err := fluentbitconf.Fields(p.Value)
			if err != nil || len(toks) != 3 {
				return Rule{}, fmt.Errorf("line %d: rule needs three quoted values: state(s), regex, next state", p.Line)
			}
			var from []string
			for _, f := range strings.Split(toks[0], ",") {
				from = append(from, strings.TrimSpace(f))
			}
			rule.States = append(rule.States, StateRule{From: from, Pattern: toks[1], To: toks[2]})
		case "match_str":
			matchStr = p.Value
		case "negate":
			switch strings.ToLower(p.Value) {
			case "on", "true", "yes", "1":
				negate = true
			case "off", "false", "no", "0":
				negate = false
			default:
				return Rule{}, fmt.Errorf("line %d: negate must be On or Off, not %q", p.Line, p.Value)
			}
		}
	}
	if !complete {
		return rule, nil
	}
	if rule.Name == "" {
		return Rule{}, fmt.Errorf("line %d: [MULTILINE_PARSER] has no name", s.Line)
	}
	if prev, dup := seen[rule.Name]; dup {
		return Rule{}, fmt.Errorf("line %d: multiline parser %q already defined at line %d", s.Line, rule.Name, prev)
	}
	seen[rule.Name] = s.Line
	switch mlType {
	case "regex":
		rule.Type = TypeStates
	case "endswith":
		rule.Type = TypeEndsWith
		rule.EndsWith, rule.Negate = matchStr, negate
	default:
		return Rule{}, fmt.Errorf("line %d: multiline parser %q: type %q is not supported (want regex or endswith)", s.Line, rule.Name, mlType)
	}
	if _, err := CompileRule(rule, 1<<20); err != nil {
		return Rule{}, fmt.Errorf("line %d: multiline parser %q: %w", s.Line, rule.Name, err)
	}
	return rule, nil
}
