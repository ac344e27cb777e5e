// Package rules turns a raw record into a ready-to-index document: it builds
// the base document (message, timestamps, Kubernetes metadata), picks the
// first rule whose match fits the record, and runs that rule's processors.
//
// A processor that fails never loses the line: by default the document goes
// on with the raw message and the tag "_parsefailure" (and error.message),
// or, for rules with on_failure: dlq, the caller sends it to the dead-letter
// topic.
package rules

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/libs/record"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// FailureTag marks a document whose rule did not parse it.
const FailureTag = "_parsefailure"

// ErrDeadLetter is returned by Apply when the matched rule sends failures to
// the dead-letter topic.
var ErrDeadLetter = errors.New("rules: parse failed and the rule sends failures to the dead-letter topic")

// Processor is one parsing or editing step on a document.
type Processor interface {
	// Process edits d. An error means the step did not apply; d may have
	// been partly edited.
	Process(d *document.Doc) error
	// Name is the processor type, for ListRules.
	Name() string
}

// Rule is a compiled rule.
type Rule struct {
	Name       string
	match      config.Match
	processors []Processor
	dlq        bool
	// original is config.Rule.KeepOriginal.
	original bool

	Records  atomic.Int64
	Failures atomic.Int64
}

// Describe returns the match as text and the processor names, for the admin API.
func (r *Rule) Describe() (string, []string) {
	m := ""
	if r.match.Hint != "" {
		m += "hint=" + r.match.Hint + " "
	}
	if len(r.match.Namespaces) > 0 {
		m += fmt.Sprintf("namespaces=%v ", r.match.Namespaces)
	}
	if len(r.match.Containers) > 0 {
		m += fmt.Sprintf("containers=%v ", r.match.Containers)
	}
	if len(r.match.Labels) > 0 {
		m += fmt.Sprintf("labels=%v ", r.match.Labels)
	}
	if m == "" {
		m = "*"
	}
	names := make([]string, len(r.processors))
	for i, p := range r.processors {
		names[i] = p.Name()
	}
	return m, names
}

// Engine is a compiled rule set. It is immutable and safe for concurrent use;
// a reload builds a new Engine.
type Engine struct {
	rules    []*Rule
	fallback *Rule
	index    *record.IndexPattern

	lastIndex atomic.Pointer[renderedIndex]
}

// Options are the parts of the configuration the engine needs.
type Options struct {
	Rules    []config.Rule
	Patterns map[string]string
	Index    string
	// Builtins adds rules a program embedding the engine ships, by name;
	// they take precedence over Sluice's own. Each call to the function
	// returns the processors of one rule.
	Builtins map[string]func() []Processor
}

// Compile builds an engine. Errors name the rule and processor:
// rules[2].processors[0].grok.patterns[0]: unknown grok pattern "FOO".
func Compile(opts Options) (*Engine, error) {
	e := &Engine{}
	idx, err := record.ParseIndexPattern(opts.Index)
	if err != nil {
		return nil, fmt.Errorf("kafka.index: %w", err)
	}
	e.index = idx
	env := &compileEnv{patterns: opts.Patterns}
	for i, rc := range opts.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		r := &Rule{Name: rc.Name, match: rc.Match, dlq: rc.OnFailure == "dlq", original: rc.KeepOriginal}
		if f, ok := opts.Builtins[rc.Builtin]; ok && rc.Builtin != "" {
			r.processors = append(r.processors, f()...)
		} else if rc.Builtin != "" {
			ps, err := builtin(rc)
			if err != nil {
				return nil, fmt.Errorf("%s.builtin: %w", key, err)
			}
			r.processors = append(r.processors, ps...)
		}
		for j, pc := range rc.Processors {
			p, err := env.compile(pc)
			if err != nil {
				return nil, fmt.Errorf("%s.processors[%d].%w", key, j, err)
			}
			r.processors = append(r.processors, p)
		}
		e.rules = append(e.rules, r)
	}
	e.fallback = &Rule{Name: "none"}
	return e, nil
}

// Rules returns the rules in match order.
func (e *Engine) Rules() []*Rule { return e.rules }

// Rule returns the rule named name.
func (e *Engine) Rule(name string) *Rule {
	for _, r := range e.rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Select returns the first rule matching rec, or a rule without processors.
func (e *Engine) Select(rec *logsv1.RawRecord) *Rule {
	k := rec.GetKubernetes()
	for _, r := range e.rules {
		if matches(r.match, rec.GetParserHint(), k) {
			return r
		}
	}
	return e.fallback
}

func matches(m config.Match, hint string, k *logsv1.Kubernetes) bool {
	if m.Hint != "" && m.Hint != hint {
		return false
	}
	if len(m.Namespaces) > 0 && !contains(m.Namespaces, k.GetNamespace()) {
		return false
	}
	if len(m.Containers) > 0 && !contains(m.Containers, k.GetContainer()) {
		return false
	}
	for lk, lv := range m.Labels {
		if k.GetLabels()[lk] != lv {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Apply fills d from rec with rule r (from Select) and returns the index the
// document goes to. ErrDeadLetter means the rule failed and wants the record
// dead-lettered; any other processing error has been recorded in d.
func (e *Engine) Apply(r *Rule, rec *logsv1.RawRecord, d *document.Doc) (index string, err error) {
	return e.ApplyMeta(r, rec, nil, d)
}

// ApplyMeta is Apply with the Kubernetes fields of the base document taken
// from m (see Decoder) when m is the Meta of rec's Kubernetes message. The
// document is the same as Apply's.
func (e *Engine) ApplyMeta(r *Rule, rec *logsv1.RawRecord, m *Meta, d *document.Doc) (index string, err error) {
	return e.apply(r, rec, m, d, true)
}

// Try is Apply without counting: the rule's Records and Failures stay as
// they are. It is for trying a rule on sample lines (the admin API's
// TestParse), which must not move the live counters operators watch.
func (e *Engine) Try(r *Rule, rec *logsv1.RawRecord, d *document.Doc) (index string, err error) {
	return e.apply(r, rec, nil, d, false)
}

func (e *Engine) apply(r *Rule, rec *logsv1.RawRecord, m *Meta, d *document.Doc, count bool) (index string, err error) {
	d.Reset()
	base(rec, d, m)
	if count {
		r.Records.Add(1)
	}
	var original document.Value
	if r.original {
		// The line as base set it, before a processor rewrites message.
		original, _ = d.GetPath(pathMessage)
	}
	if err := RunProcessors(r.processors, d); err != nil {
		if count {
			r.Failures.Add(1)
		}
		if r.dlq {
			return "", fmt.Errorf("%w: rule %s: %v", ErrDeadLetter, r.Name, err)
		}
		d.AddTag(FailureTag)
		d.Set("error.message", document.S(fmt.Sprintf("rule %s: %v", r.Name, err)))
	} else if r.original && original.Kind == document.String {
		d.Set("event.original", original)
	}
	return e.Index(rec, d), nil
}

// RunProcessors runs ps in order and stops at the first error.
func RunProcessors(ps []Processor, d *document.Doc) error {
	for _, p := range ps {
		if err := p.Process(d); err != nil {
			return fmt.Errorf("%s: %w", p.Name(), err)
		}
	}
	return nil
}

// Index returns the index of the document d built from rec: the index
// pattern rendered on d's @timestamp, or on rec's origin time when a
// processor removed it. Both come from the record alone, never from the
// processing clock, so a replayed record lands in the same index and
// `create` with its _id still deduplicates it.
func (e *Engine) Index(rec *logsv1.RawRecord, d *document.Doc) string {
	if name, ok := e.index.Literal(); ok {
		return name
	}
	var ts time.Time
	if v, ok := d.GetPath(pathTimestamp); ok && v.Kind == document.Time {
		ts = v.Time()
	}
	if ts.IsZero() {
		ts, _ = originTime(rec)
	}
	if ts.IsZero() {
		// A record with no time at all (TagTimestampMissing).
		ts = time.Now()
	}
	return e.renderIndex(ts)
}

// renderedIndex is the index name last rendered, for the UTC hour it holds
// for (a name depends on the time only through its UTC hour).
type renderedIndex struct {
	hour int64
	name string
}

// renderIndex renders the index pattern with the last name remembered:
// consecutive documents mostly fall in the same hour.
func (e *Engine) renderIndex(ts time.Time) string {
	sec := ts.Unix()
	hour := sec - ((sec%3600)+3600)%3600
	if c := e.lastIndex.Load(); c != nil && c.hour == hour {
		return c.name
	}
	name := e.index.Name(ts)
	e.lastIndex.Store(&renderedIndex{hour: hour, name: name})
	return name
}
