package multiline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/libs/config"
)

// recombineDecider is the OpenTelemetry Collector's recombine operator.
//
// is_first_entry true emits the batch and starts the next with the entry;
// is_last_entry true adds the entry and emits the batch. After each entry
// is added the batch is emitted when its text is longer than max_log_size,
// when it holds max_batch_size entries, or when no entry has matched yet
// and it holds max_unmatched_batch_size entries.
func recombineDecider(r Rule) (func() decider, error) {
	if (r.IsFirstEntry == "") == (r.IsLastEntry == "") {
		return nil, config.Errorf("is_first_entry", "exactly one of is_first_entry and is_last_entry is required for type recombine")
	}
	src, key := r.IsFirstEntry, "is_first_entry"
	if src == "" {
		src, key = r.IsLastEntry, "is_last_entry"
	}
	pred, err := ParseExpr(src)
	if err != nil {
		return nil, config.Errorf(key, "%v", err)
	}
	maxBatch, maxUnmatched := 1000, 100
	if r.MaxBatchSize != nil {
		if *r.MaxBatchSize <= 0 {
			return nil, config.Errorf("max_batch_size", "must be positive")
		}
		maxBatch = *r.MaxBatchSize
	}
	if r.MaxUnmatchedBatchSize != nil {
		if *r.MaxUnmatchedBatchSize < 0 {
			return nil, config.Errorf("max_unmatched_batch_size", "must not be negative")
		}
		maxUnmatched = *r.MaxUnmatchedBatchSize
	}
	if r.MaxLogSize < 0 {
		return nil, config.Errorf("max_log_size", "must not be negative")
	}
	sep := "\n"
	if r.Separator != nil {
		sep = *r.Separator
	}
	first := r.IsFirstEntry != ""
	maxLog := r.MaxLogSize
	return func() decider {
		return &recombine{pred: pred, first: first, maxBatch: maxBatch, maxUnmatched: maxUnmatched, maxLog: maxLog, sep: len(sep)}
	}, nil
}

type recombine struct {
	pred                           Predicate
	first                          bool
	maxBatch, maxUnmatched, maxLog int
	sep                            int
	matched                        bool
}

func (r *recombine) decide(line string, p pending) action {
	if !p.open {
		r.matched = false
	}
	match := r.pred(line)
	n, size := p.lines+1, p.bytes+len(line)
	if p.open {
		size += r.sep
	}
	switch {
	case match && r.first:
		r.matched = true
		if (r.maxLog > 0 && len(line) > r.maxLog) || r.maxBatch <= 1 {
			return actSingle
		}
		return actStart
	case match:
		return actAppendFlush
	}
	if (r.maxLog > 0 && size > r.maxLog) || n >= r.maxBatch {
		return actAppendFlush
	}
	if r.maxUnmatched > 0 && !r.matched && n >= r.maxUnmatched {
		return actAppendFlush
	}
	return actAppend
}

func (r *recombine) reset() { r.matched = false }

// Predicate tests one line.
type Predicate func(line string) bool

// ParseExpr compiles the subset of the expression language that recombine
// rules use on a line: the line is body (also $body, body.message,
// $record and the like: Sluice joins the message text only); string
// literals in single or double quotes; ==, !=, matches, contains,
// startsWith, endsWith; and, or, not (&&, ||, !); parentheses; true, false.
// Any other field is absent: it compares unequal and matches nothing.
func ParseExpr(src string) (Predicate, error) {
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].s)
	}
	return func(line string) bool { v, _ := n(line).(bool); return v }, nil
}

type tokKind uint8

const (
	tkIdent tokKind = iota
	tkString
	tkOp
)

type exprTok struct {
	kind tokKind
	s    string
}

func lexExpr(src string) ([]exprTok, error) {
	var out []exprTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			raw := src[i+1 : j]
			var s string
			if c == '`' {
				s = raw
			} else {
				var err error
				s, err = unquoteExpr(raw)
				if err != nil {
					return nil, fmt.Errorf("string at offset %d: %w", i, err)
				}
			}
			out = append(out, exprTok{tkString, s})
			i = j + 1
		case strings.HasPrefix(src[i:], "==") || strings.HasPrefix(src[i:], "!=") ||
			strings.HasPrefix(src[i:], "&&") || strings.HasPrefix(src[i:], "||"):
			out = append(out, exprTok{tkOp, src[i : i+2]})
			i += 2
		case c == '!' || c == '(' || c == ')':
			out = append(out, exprTok{tkOp, string(c)})
			i++
		case c == '$' || c == '_' || c == '.' || c == '[' || c == ']' || isAlnum(c):
			j := i
			depth := 0
			for j < len(src) {
				d := src[j]
				if d == '[' {
					depth++
				} else if d == ']' {
					depth--
				} else if depth == 0 && !(d == '$' || d == '_' || d == '.' || isAlnum(d)) {
					break
				}
				j++
			}
			out = append(out, exprTok{tkIdent, src[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
		}
	}
	return out, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func unquoteExpr(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\', '\'', '"':
			b.WriteByte(s[i])
		default:
			return "", fmt.Errorf(`unknown escape \%c`, s[i])
		}
	}
	return b.String(), nil
}

type exprNode func(line string) any

type exprParser struct {
	toks []exprTok
	pos  int
}

func (p *exprParser) peek(words ...string) bool {
	if p.pos >= len(p.toks) || p.toks[p.pos].kind == tkString {
		return false
	}
	for _, w := range words {
		if p.toks[p.pos].s == w {
			return true
		}
	}
	return false
}

func (p *exprParser) or() (exprNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek("or", "||") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(s string) any { x, _ := a(s).(bool); y, _ := b(s).(bool); return x || y }
	}
	return l, nil
}

func (p *exprParser) and() (exprNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek("and", "&&") {
		p.pos++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(s string) any { x, _ := a(s).(bool); y, _ := b(s).(bool); return x && y }
	}
	return l, nil
}

func (p *exprParser) not() (exprNode, error) {
	if p.peek("not", "!") {
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(s string) any { x, _ := n(s).(bool); return !x }, nil
	}
	return p.cmp()
}

func (p *exprParser) cmp() (exprNode, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.peek("==", "!=", "matches", "contains", "startsWith", "endsWith") {
		return l, nil
	}
	op := p.toks[p.pos].s
	p.pos++
	if op == "matches" && p.pos < len(p.toks) && p.toks[p.pos].kind == tkString {
		re, err := regexp.Compile(p.toks[p.pos].s)
		if err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
		p.pos++
		return func(s string) any { v, ok := l(s).(string); return ok && re.MatchString(v) }, nil
	}
	r, err := p.primary()
	if err != nil {
		return nil, err
	}
	return func(s string) any {
		a, b := l(s), r(s)
		switch op {
		case "==":
			return a != nil && a == b
		case "!=":
			return a != b
		}
		x, ok1 := a.(string)
		y, ok2 := b.(string)
		if !ok1 || !ok2 {
			return false
		}
		switch op {
		case "contains":
			return strings.Contains(x, y)
		case "startsWith":
			return strings.HasPrefix(x, y)
		case "endsWith":
			return strings.HasSuffix(x, y)
		}
		re, err := regexp.Compile(y)
		return err == nil && re.MatchString(x)
	}, nil
}

func (p *exprParser) primary() (exprNode, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	t := p.toks[p.pos]
	p.pos++
	switch {
	case t.kind == tkString:
		v := t.s
		return func(string) any { return v }, nil
	case t.kind == tkOp && t.s == "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case t.kind == tkIdent:
		switch t.s {
		case "true":
			return func(string) any { return true }, nil
		case "false":
			return func(string) any { return false }, nil
		case "nil":
			return func(string) any { return nil }, nil
		}
		if _, err := strconv.ParseFloat(t.s, 64); err == nil {
			v := t.s
			return func(string) any { return v }, nil
		}
		if isBodyField(t.s) {
			return func(s string) any { return s }, nil
		}
		return func(string) any { return nil }, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.s)
}

// isBodyField reports whether a field reference names the message text.
func isBodyField(f string) bool {
	f = strings.TrimPrefix(f, "$")
	root, _, _ := strings.Cut(f, ".")
	root, _, _ = strings.Cut(root, "[")
	return root == "body" || root == "record" || root == "message" || root == "log"
}
