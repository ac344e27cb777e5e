package multiline

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// Case is one conformance case in the shared corpus format
// (multiline/cases.jsonl): lines in, expected events out, under another
// collector's settings. TranslateCase turns those settings into a Rule.
type Case struct {
	ID          string         `json:"id"`
	Mode        string         `json:"mode"`
	Style       string         `json:"style"`
	Rule        map[string]any `json:"rule"`
	Options     map[string]any `json:"options"`
	Input       []string       `json:"input"`
	InputSource []string       `json:"input_source"`
	FlushAfter  []int          `json:"flush_after"`
	Expect      []string       `json:"expect"`
	PeerAssert  string         `json:"peer_assert"`
	Source      string         `json:"source"`
	Note        string         `json:"note"`
}

// ReadCases reads a JSON-lines cases file.
func ReadCases(r io.Reader) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Case
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// RunCase joins c's input with the translated rule and returns the events.
// Each flush_after index lets every pending event go (as the peer's timer
// or reader close did); after the last line everything is flushed.
func RunCase(c Case) ([]string, error) {
	r, err := TranslateCase(c)
	if err != nil {
		return nil, err
	}
	spec, err := CompileRule(r, 0)
	if err != nil {
		return nil, fmt.Errorf("translated rule: %w", err)
	}
	var got []string
	set := NewSet(func(_ string, ev Event[int]) { got = append(got, string(ev.Text)) })
	t0 := time.Unix(0, 0)
	for i, line := range c.Input {
		key := ""
		if i < len(c.InputSource) {
			key = c.InputSource[i]
		}
		set.Add(key, spec, []byte(line), i, t0.Add(time.Duration(i)*time.Millisecond))
		if slices.Contains(c.FlushAfter, i) {
			set.FlushAll()
		}
	}
	set.FlushAll()
	return got, nil
}

// TranslateCase turns a case's peer settings into a Sluice rule.
func TranslateCase(c Case) (Rule, error) {
	o := opts{c.Rule}
	switch c.Style {
	case "fluentbit":
		return translateFluentBit(c, o)
	case "detect_exceptions":
		return translateDetect(c)
	case "beats":
		return translateBeats(o)
	case "vector":
		return translateVector(o)
	case "otel":
		return translateOTel(o)
	}
	return Rule{}, fmt.Errorf("unknown style %q", c.Style)
}

type opts struct{ m map[string]any }

func (o opts) str(k string) string {
	switch v := o.m[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (o opts) has(k string) bool { _, ok := o.m[k]; return ok }

func (o opts) boolean(k string) bool {
	switch v := o.m[k].(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(strings.ToLower(v))
		return b || strings.EqualFold(v, "on")
	}
	return false
}

func (o opts) integer(k string) (int, bool) {
	switch v := o.m[k].(type) {
	case float64:
		return int(v), true
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
		if b, err := config.ParseByteSize(v); err == nil {
			return int(b), true
		}
	}
	return 0, false
}

func (o opts) list(k string) []string {
	switch v := o.m[k].(type) {
	case string:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (o opts) duration(k string) (time.Duration, bool) {
	switch v := o.m[k].(type) {
	case string:
		d, err := time.ParseDuration(v)
		return d, err == nil
	case float64:
		return time.Duration(v * float64(time.Second)), true
	}
	return 0, false
}

func translateFluentBit(c Case, o opts) (Rule, error) {
	r := Rule{Type: TypeStates, MaxLines: -1, MaxBytes: -1, TimeoutFrom: "first_line", Timeout: config.Duration(4 * time.Second)}
	if c.Mode != "custom" {
		op := opts{c.Options}
		for _, k := range []string{"multiline.parser", "parsers", "parser"} {
			if l := op.list(k); len(l) > 0 {
				r.Parsers = l
				break
			}
		}
		if len(r.Parsers) == 0 {
			r.Parsers = []string{c.Mode}
		}
		return r, nil
	}
	if ms, ok := o.integer("flush_timeout"); ok {
		r.Timeout = config.Duration(time.Duration(ms) * time.Millisecond)
	}
	switch t := strings.ToLower(o.str("type")); t {
	case "regex":
		rules, _ := o.m["rules"].([]any)
		for i, e := range rules {
			t, _ := e.([]any)
			if len(t) != 3 {
				return r, fmt.Errorf("rules[%d]: want [from, regex, to]", i)
			}
			re, _ := t[1].(string)
			to, _ := t[2].(string)
			fs := opts{map[string]any{"from": t[0]}}.list("from")
			r.States = append(r.States, StateRule{From: fs, Pattern: re, To: to})
		}
	case "endswith":
		r.Type, r.EndsWith, r.Negate = TypeEndsWith, o.str("match_str"), o.boolean("negate")
	case "docker_mode":
		// The first-line parser tests the decoded message; lines before
		// the first match pass through, each match starts an event.
		re := o.str("equivalent_on_message")
		if re == "" {
			return r, errors.New("docker_mode needs equivalent_on_message (the first-line regex on the decoded message)")
		}
		r.Type, r.StartPattern, r.ConditionPattern, r.Mode = TypeCondition, re, re, ModeHaltBefore
	default:
		return r, fmt.Errorf("fluentbit multiline type %q is not supported", t)
	}
	return r, nil
}

func translateDetect(c Case) (Rule, error) {
	op := opts{c.Options}
	langs := op.list("languages")
	if len(langs) == 0 {
		langs = opts{c.Rule}.list("detect_exceptions_languages")
	}
	if len(langs) == 0 {
		langs = opts{c.Rule}.list("languages")
	}
	if len(langs) == 0 {
		langs = []string{c.Mode}
	}
	r := Rule{Type: TypeBuiltin, Languages: langs, MaxLines: -1, MaxBytes: -1, TimeoutFrom: "first_line"}
	if n, ok := op.integer("max_lines"); ok && n > 0 {
		r.MaxLines = n
	}
	if n, ok := op.integer("max_bytes"); ok && n > 0 {
		// detect-exceptions counts each line with its "\n" and tests
		// before adding: buffered+len(line)+1 > max. Sluice counts the
		// joined text: joined+1+len(line) > max-1 is the same test.
		r.MaxBytes = config.ByteSize(n - 1)
	}
	return r, nil
}

func translateBeats(o opts) (Rule, error) {
	r := Rule{OnLimit: "drop", MaxLines: 500, MaxBytes: 10 << 20, Timeout: config.Duration(5 * time.Second)}
	if n, ok := o.integer("max_lines"); ok {
		r.MaxLines = n
		if n == 0 {
			r.MaxLines = -1
		}
	}
	for _, k := range []string{"max_bytes", "message_max_bytes"} {
		if n, ok := o.integer(k); ok {
			r.MaxBytes = config.ByteSize(n)
		}
	}
	if d, ok := o.duration("timeout"); ok {
		r.Timeout = config.Duration(d)
	}
	if o.boolean("skip_newline") {
		empty := ""
		r.Separator = &empty
	}
	r.Pattern, r.Negate, r.MatchMode, r.FlushPattern = o.str("pattern"), o.boolean("negate"), o.str("match"), o.str("flush_pattern")
	switch t := o.str("type"); t {
	case "", "pattern":
		r.Type = TypePattern
	case "while_pattern":
		r.Type = TypeWhilePattern
	case "count":
		r.Type = TypeCount
		n, _ := o.integer("count_lines")
		r.CountLines = n
	case "message_buffer":
		// The join buffer on its own: every line belongs to one event.
		r.Type, r.Pattern, r.Negate, r.MatchMode = TypePattern, "^", false, "after"
	default:
		return r, fmt.Errorf("beats multiline type %q is not supported", t)
	}
	return r, nil
}

func translateVector(o opts) (Rule, error) {
	r := Rule{Type: TypeCondition, MaxLines: -1, MaxBytes: -1}
	if eq, ok := o.m["equivalent"].(map[string]any); ok && !o.has("start_pattern") {
		o = opts{eq}
	}
	if ind := o.str("message_start_indicator"); ind != "" {
		r.StartPattern, r.ConditionPattern, r.Mode = ind, ind, ModeHaltBefore
		if ms, ok := o.integer("multi_line_timeout"); ok {
			r.Timeout = config.Duration(time.Duration(ms) * time.Millisecond)
		}
		return r, nil
	}
	r.StartPattern, r.ConditionPattern, r.Mode = o.str("start_pattern"), o.str("condition_pattern"), o.str("mode")
	if ms, ok := o.integer("timeout_ms"); ok {
		r.Timeout = config.Duration(time.Duration(ms) * time.Millisecond)
	}
	return r, nil
}

func translateOTel(o opts) (Rule, error) {
	r := Rule{MaxLines: -1, MaxBytes: -1, TimeoutFrom: "first_line", Timeout: config.Duration(5 * time.Second)}
	if d, ok := o.duration("force_flush_period"); ok {
		r.Timeout = config.Duration(d)
	}
	if strings.Contains(o.str("operator"), "split") || o.has("line_start_pattern") || o.has("line_end_pattern") {
		r.Type = TypeSplit
		r.LineStartPattern, r.LineEndPattern = o.str("line_start_pattern"), o.str("line_end_pattern")
		// The cases hold the split function's tokens: filelog's later
		// trimming is a separate step (Rule.Trim) that they do not apply.
		r.Trim = o.boolean("trim")
		return r, nil
	}
	r.Type = TypeRecombine
	r.IsFirstEntry, r.IsLastEntry = o.str("is_first_entry"), o.str("is_last_entry")
	if o.has("combine_with") {
		s := o.str("combine_with")
		r.Separator = &s
	}
	if n, ok := o.integer("max_batch_size"); ok {
		r.MaxBatchSize = &n
	}
	if n, ok := o.integer("max_unmatched_batch_size"); ok {
		r.MaxUnmatchedBatchSize = &n
	}
	if n, ok := o.integer("max_log_size"); ok {
		r.MaxLogSize = n
	}
	r.MaxSources = 1000
	if n, ok := o.integer("max_sources"); ok {
		r.MaxSources = n
	}
	return r, nil
}
