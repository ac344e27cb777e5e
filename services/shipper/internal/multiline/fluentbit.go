package multiline

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/libs/config"
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
	var out []Rule
	var cur *Rule
	var curLine int
	var mlType, matchStr string
	var negate bool
	vars := map[string]string{}
	seen := map[string]int{}
	finish := func() error {
		if cur == nil {
			return nil
		}
		defer func() { cur = nil }()
		if cur.Name == "" {
			return fmt.Errorf("line %d: [MULTILINE_PARSER] has no name", curLine)
		}
		if prev, dup := seen[cur.Name]; dup {
			return fmt.Errorf("line %d: multiline parser %q already defined at line %d", curLine, cur.Name, prev)
		}
		seen[cur.Name] = curLine
		switch mlType {
		case "regex":
			cur.Type = TypeStates
		case "endswith":
			cur.Type = TypeEndsWith
			cur.EndsWith, cur.Negate = matchStr, negate
		default:
			return fmt.Errorf("line %d: multiline parser %q: type %q is not supported (want regex or endswith)", curLine, cur.Name, mlType)
		}
		if _, err := CompileRule(*cur, 1<<20); err != nil {
			return fmt.Errorf("line %d: multiline parser %q: %w", curLine, cur.Name, err)
		}
		out = append(out, *cur)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	inML := false
	for sc.Scan() {
		n++
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
					return nil, fmt.Errorf("line %d: @SET needs name=value", n)
				}
				vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
			case "@INCLUDE":
				return nil, fmt.Errorf("line %d: @INCLUDE cannot be followed; list the file's sections here", n)
			default:
				return nil, fmt.Errorf("line %d: unknown command %s", n, cmd)
			}
			continue
		}
		if line[0] == '[' {
			if err := finish(); err != nil {
				return nil, err
			}
			inML = strings.EqualFold(strings.Trim(line, "[] \t"), "MULTILINE_PARSER")
			if inML {
				cur, curLine = &Rule{Timeout: config.Duration(4 * time.Second), TimeoutFrom: "first_line"}, n
				mlType, matchStr, negate = "", "", false
			}
			continue
		}
		if !inML {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '\t'); i >= 0 && (i < len(key)) {
			key, val = line[:i], line[i+1:]
		}
		val = expand(strings.TrimSpace(val), vars)
		switch strings.ToLower(key) {
		case "name":
			cur.Name = val
		case "type":
			mlType = strings.ToLower(val)
		case "flush_timeout":
			ms, err := strconv.Atoi(val)
			if err != nil || ms < 0 {
				return nil, fmt.Errorf("line %d: flush_timeout must be milliseconds, not %q", n, val)
			}
			cur.Timeout = config.Duration(time.Duration(ms) * time.Millisecond)
		case "rule":
			toks, err := quoted(val)
			if err != nil || len(toks) != 3 {
				return nil, fmt.Errorf("line %d: rule needs three quoted values: state(s), regex, next state", n)
			}
			var from []string
			for _, f := range strings.Split(toks[0], ",") {
				from = append(from, strings.TrimSpace(f))
			}
			cur.States = append(cur.States, StateRule{From: from, Pattern: toks[1], To: toks[2]})
		case "match_str":
			matchStr = val
		case "negate":
			switch strings.ToLower(val) {
			case "on", "true", "yes", "1":
				negate = true
			case "off", "false", "no", "0":
				negate = false
			default:
				return nil, fmt.Errorf("line %d: negate must be On or Off, not %q", n, val)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

// quoted splits `"a" "b c" d` into [a, b c, d].
func quoted(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if q := s[0]; q == '"' || q == '\'' {
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
