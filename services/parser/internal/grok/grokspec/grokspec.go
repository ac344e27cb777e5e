// Package grokspec evaluates grok conformance cases in the JSONL format of
// the Logstash pattern spec suite (see the shared corpus README, grok/): a
// pattern, an input, a mode and the fields the event must, or must not, end
// up with. cmd/grokcheck and the grok package tests share it.
package grokspec

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/services/parser/internal/grok"
)

// Case is one spec case.
type Case struct {
	Pattern         string            `json:"pattern"`
	Input           string            `json:"input"`
	Mode            string            `json:"mode"`
	Match           *bool             `json:"match"`
	Expect          map[string]any    `json:"expect"`
	ExactPaths      []string          `json:"exact_paths"`
	Absent          []string          `json:"absent"`
	Present         []string          `json:"present"`
	Contains        map[string][]any  `json:"contains"`
	NotContains     map[string][]any  `json:"not_contains"`
	ExpectNot       map[string]any    `json:"expect_not"`
	ExpectLoose     map[string]any    `json:"expect_loose"`
	Prefix          map[string]string `json:"prefix"`
	TopLevelAllowed []string          `json:"top_level_allowed"`
	Source          string            `json:"source"`
	Description     string            `json:"description"`
}

// Load reads a JSONL case file.
func Load(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Case
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Case
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Evaluator compiles patterns once per (mode, pattern) and checks cases.
type Evaluator struct {
	libs     map[grok.Mode]*grok.Library
	matchers map[string]*grok.Matcher
	errs     map[string]error
}

// NewEvaluator returns an empty evaluator.
func NewEvaluator() *Evaluator {
	return &Evaluator{libs: map[grok.Mode]*grok.Library{}, matchers: map[string]*grok.Matcher{}, errs: map[string]error{}}
}

// Mode maps a case's mode to a library mode; "default" means legacy.
func Mode(s string) grok.Mode {
	if s == string(grok.ModeECS) {
		return grok.ModeECS
	}
	return grok.ModeLegacy
}

func (ev *Evaluator) matcher(mode grok.Mode, pattern string) (*grok.Matcher, error) {
	key := string(mode) + "\x00" + pattern
	if m, ok := ev.matchers[key]; ok {
		return m, nil
	}
	if err, ok := ev.errs[key]; ok {
		return nil, err
	}
	lib := ev.libs[mode]
	if lib == nil {
		lib = grok.NewLibrary(mode)
		ev.libs[mode] = lib
	}
	m, err := lib.Compile(pattern)
	if err != nil {
		ev.errs[key] = err
		return nil, err
	}
	ev.matchers[key] = m
	return m, nil
}

// Event runs the case's pattern over its input the way the Logstash grok
// filter would: the event starts as {"message": input, "@version": "1"} and
// captures are added with Logstash's rules (a capture onto an existing
// string turns it into [old, new]). It reports whether the pattern matched.
func (ev *Evaluator) Event(c Case) (map[string]any, bool, error) {
	m, err := ev.matcher(Mode(c.Mode), c.Pattern)
	if err != nil {
		return nil, false, err
	}
	event := map[string]any{"message": c.Input, "@version": "1"}
	ok := m.Match([]byte(c.Input), func(path []string, v grok.Value) {
		grok.SetField(event, path, v.Any())
	})
	return event, ok, nil
}

// Check evaluates c and returns what differed; nil means the case passed.
func (ev *Evaluator) Check(c Case) []string {
	event, ok, err := ev.Event(c)
	if err != nil {
		return []string{"compile: " + err.Error()}
	}
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if c.Match != nil && *c.Match != ok {
		if ok {
			add("matched, expected no match")
		} else {
			add("did not match, expected a match")
		}
	}
	for _, k := range sortedKeys(c.Expect) {
		want := c.Expect[k]
		got, found := Get(event, k)
		if !found {
			add("%s: missing, want %s", k, show(want))
		} else if !Equal(got, want) {
			add("%s: got %s, want %s", k, show(got), show(want))
		}
	}
	for _, p := range c.ExactPaths {
		obj, found := Get(event, p)
		mp, isMap := obj.(map[string]any)
		if !found || !isMap {
			add("%s: want an object, got %s", p, show(obj))
			continue
		}
		allowed := map[string]bool{}
		for k := range c.Expect {
			if rest, ok := strings.CutPrefix(k, p+"."); ok {
				allowed[firstSeg(rest)] = true
			}
		}
		for _, k := range c.ExactPaths {
			if rest, ok := strings.CutPrefix(k, p+"."); ok {
				allowed[firstSeg(rest)] = true
			}
		}
		for _, k := range sortedKeys(mp) {
			if !allowed[k] {
				add("%s: unexpected key %q (= %s)", p, k, show(mp[k]))
			}
		}
	}
	for _, p := range c.Absent {
		if v, found := Get(event, p); found && v != nil {
			add("%s: should be absent, got %s", p, show(v))
		}
	}
	for _, p := range c.Present {
		if v, found := Get(event, p); !found || v == nil {
			add("%s: should be present", p)
		}
	}
	for _, p := range sortedKeys(c.Contains) {
		v, _ := Get(event, p)
		for _, want := range c.Contains[p] {
			if !contains(v, want) {
				add("%s: %s does not contain %s", p, show(v), show(want))
			}
		}
	}
	for _, p := range sortedKeys(c.NotContains) {
		v, _ := Get(event, p)
		for _, want := range c.NotContains[p] {
			if contains(v, want) {
				add("%s: %s should not contain %s", p, show(v), show(want))
			}
		}
	}
	for _, p := range sortedKeys(c.ExpectNot) {
		if v, found := Get(event, p); found && Equal(v, c.ExpectNot[p]) {
			add("%s: should not equal %s", p, show(v))
		}
	}
	for _, p := range sortedKeys(c.ExpectLoose) {
		want := c.ExpectLoose[p]
		v, found := Get(event, p)
		if !found || !looseEqual(v, want) {
			add("%s: got %s, want (loosely) %s", p, show(v), show(want))
		}
	}
	for _, p := range sortedKeys(c.Prefix) {
		v, _ := Get(event, p)
		s, isStr := v.(string)
		if !isStr || !strings.HasPrefix(s, c.Prefix[p]) {
			add("%s: %s does not start with %q", p, show(v), c.Prefix[p])
		}
	}
	if c.TopLevelAllowed != nil {
		allowed := map[string]bool{"@timestamp": true, "@version": true, "message": true, "@metadata": true}
		for _, k := range c.TopLevelAllowed {
			allowed[k] = true
		}
		for _, k := range sortedKeys(event) {
			if !allowed[k] {
				add("top-level key %q not allowed (= %s)", k, show(event[k]))
			}
		}
	}
	return diffs
}

// Result is the outcome of one case.
type Result struct {
	Case  Case
	Diffs []string
}

// Run checks all cases.
func (ev *Evaluator) Run(cases []Case) (results []Result, passed, failed int) {
	for _, c := range cases {
		d := ev.Check(c)
		results = append(results, Result{Case: c, Diffs: d})
		if len(d) == 0 {
			passed++
		} else {
			failed++
		}
	}
	return results, passed, failed
}

func firstSeg(s string) string {
	if i := strings.IndexAny(s, ".["); i >= 0 {
		return s[:i]
	}
	return s
}

// Get resolves a dotted path with [n] / [-1] array indexes, e.g.
// "http.request.method" or "message[1]".
func Get(root map[string]any, path string) (any, bool) {
	var cur any = root
	for _, seg := range strings.Split(path, ".") {
		key, idx := seg, []string(nil)
		if i := strings.IndexByte(seg, '['); i > 0 && strings.HasSuffix(seg, "]") {
			key = seg[:i]
			idx = strings.Split(strings.TrimSuffix(seg[i+1:], "]"), "][")
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[key]
		if !ok {
			return nil, false
		}
		for _, s := range idx {
			n, err := strconv.Atoi(s)
			arr, isArr := cur.([]any)
			if err != nil || !isArr {
				return nil, false
			}
			if n < 0 {
				n += len(arr)
			}
			if n < 0 || n >= len(arr) {
				return nil, false
			}
			cur = arr[n]
		}
	}
	return cur, true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Equal compares a produced value with an expected one; numbers compare by
// value (-1 == -1.0), arrays and objects element-wise.
func Equal(got, want any) bool {
	if wf, ok := toFloat(want); ok {
		gf, ok := toFloat(got)
		return ok && (gf == wf || math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf)))
	}
	switch w := want.(type) {
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !Equal(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !Equal(g[k], w[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

func looseEqual(got, want any) bool {
	if Equal(got, want) {
		return true
	}
	if wf, ok := toFloat(want); ok {
		if s, ok := got.(string); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			return err == nil && f == wf
		}
		return false
	}
	if ws, ok := want.(string); ok {
		return fmt.Sprint(got) == ws
	}
	return false
}

func contains(v, want any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if Equal(e, want) {
				return true
			}
		}
	case string:
		if s, ok := want.(string); ok {
			return strings.Contains(x, s)
		}
	}
	return false
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:197]) + "..."
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
