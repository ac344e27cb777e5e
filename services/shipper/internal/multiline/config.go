package multiline

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// Rule types. Each keeps the semantics of the collector its settings come
// from, so a rule ported from another collector joins the same way there
// and here (see README.md for the few deliberate differences).
const (
	// TypeBuiltin: language stack-trace detection (Languages), a state
	// machine in the manner of detect-exceptions: any line that is not part
	// of a trace is its own event.
	TypeBuiltin = "builtin"
	// TypeStates: a Fluent Bit [MULTILINE_PARSER] of type regex (States),
	// or Fluent Bit's own built-in parsers (Parsers).
	TypeStates = "states"
	// TypeEndsWith: Fluent Bit's endswith type (EndsWith, Negate).
	TypeEndsWith = "endswith"
	// TypePattern, TypeCount, TypeWhilePattern: Filebeat's multiline types.
	TypePattern      = "pattern"
	TypeCount        = "count"
	TypeWhilePattern = "while_pattern"
	// TypeCondition: Vector's multiline (StartPattern, ConditionPattern, Mode).
	TypeCondition = "condition"
	// TypeRecombine: the OpenTelemetry Collector's recombine operator
	// (IsFirstEntry or IsLastEntry expressions).
	TypeRecombine = "recombine"
	// TypeSplit: the OpenTelemetry filelog receiver's multiline split
	// (LineStartPattern or LineEndPattern).
	TypeSplit = "split"
)

// StateRule is one rule of a TypeStates rule: in any of From, a line
// matching Pattern moves the machine to To. From "start_state" marks a
// start rule.
type StateRule struct {
	From    []string `yaml:"from"`
	Pattern string   `yaml:"pattern"`
	To      string   `yaml:"to"`
}

// Rule is one multiline rule. Type selects the engine; the other fields
// are that engine's settings, named as in the collector they come from.
type Rule struct {
	// Name identifies the rule for annotations (sluice.io/multiline: NAME)
	// and errors. Required for rules in the config file.
	Name string `yaml:"name"`
	// Match selects the containers the rule applies to when no annotation
	// names a rule. Empty matches nothing (the rule is then only used by
	// name).
	Match Selector `yaml:"match"`
	Type  string   `yaml:"type"`

	// Languages (builtin): java, python, go, ruby, dotnet; js and csharp
	// are aliases of java's rules; "all" is every language.
	Languages []string `yaml:"languages"`

	// States (states): the rules in order; Parsers: Fluent Bit built-in
	// parsers (java, python, go, ruby), tried in order after States.
	States  []StateRule `yaml:"states"`
	Parsers []string    `yaml:"parsers"`

	// EndsWith (endswith): a line ending with it continues (Negate) or
	// ends (not Negate) the event.
	EndsWith string `yaml:"ends_with"`

	// Pattern, Negate, MatchMode, FlushPattern (pattern, while_pattern):
	// Filebeat's multiline.pattern/negate/match/flush_pattern.
	Pattern      string `yaml:"pattern"`
	Negate       bool   `yaml:"negate"`
	MatchMode    string `yaml:"match_mode"` // after (default) or before
	FlushPattern string `yaml:"flush_pattern"`
	// CountLines (count): lines per event.
	CountLines int `yaml:"count_lines"`

	// StartPattern, ConditionPattern, Mode (condition): Vector's settings;
	// Mode is continue_through, continue_past, halt_before or halt_with.
	StartPattern     string `yaml:"start_pattern"`
	ConditionPattern string `yaml:"condition_pattern"`
	Mode             string `yaml:"mode"`

	// IsFirstEntry, IsLastEntry (recombine): expressions over the line,
	// e.g. `body matches "^\\S"` or `body == "end"`. MaxBatchSize (default
	// 1000) and MaxUnmatchedBatchSize (default 100; 0 unlimited) end a
	// batch by entries, MaxLogSize by bytes after the entry is added.
	IsFirstEntry          string `yaml:"is_first_entry"`
	IsLastEntry           string `yaml:"is_last_entry"`
	MaxBatchSize          *int   `yaml:"max_batch_size"`
	MaxUnmatchedBatchSize *int   `yaml:"max_unmatched_batch_size"`
	MaxLogSize            int    `yaml:"max_log_size"`

	// LineStartPattern, LineEndPattern (split): filelog's split patterns.
	LineStartPattern string `yaml:"line_start_pattern"`
	LineEndPattern   string `yaml:"line_end_pattern"`

	// Separator joins lines; default "\n".
	Separator *string `yaml:"separator"`
	// MaxLines bounds the lines of one event: 0 means the default, 500;
	// -1 means no limit of its own (MaxEventLines still applies).
	MaxLines int `yaml:"max_lines"`
	// MaxBytes bounds the joined text of one event: 0 means the shipper's
	// tail.max_event_bytes, which is also its cap.
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// OnLimit is what happens at a limit: "split" (default) ends the event
	// there, flagged, and the following lines start a new one, so nothing
	// is lost; "drop" keeps consuming the event's lines but drops them,
	// flagging the event truncated, as Filebeat does.
	OnLimit string `yaml:"on_limit"`
	// Timeout emits a pending event after this long; default 5s, negative
	// for none. A rule that never sees its end line relies on it.
	Timeout config.Duration `yaml:"timeout"`
	// TimeoutFrom is "last_line" (default: the timeout restarts with every
	// line, as Filebeat and Vector do) or "first_line" (a cap on the
	// event's age, as Fluent Bit's flush timer and OTel's
	// force_flush_period are).
	TimeoutFrom string `yaml:"timeout_from"`
	// Trim removes leading and trailing white space of each event
	// (filelog's default for split).
	Trim bool `yaml:"trim"`
	// MaxSources (recombine): pending events across streams; one more
	// emits them all. 0 means no limit.
	MaxSources int `yaml:"max_sources"`
}

// Selector picks containers by namespace, pod, container name (globs) and
// pod labels (exact).
type Selector struct {
	Namespaces []string          `yaml:"namespaces"`
	Pods       []string          `yaml:"pods"`
	Containers []string          `yaml:"containers"`
	Labels     map[string]string `yaml:"labels"`
}

// Defaults of a Rule's zero values.
const (
	DefaultMaxLines = 500
	DefaultTimeout  = 5 * time.Second
)

// Spec is a compiled Rule: immutable and safe to share between joiners.
type Spec struct {
	name       string
	newDecider func() decider
	sep        string
	maxLines   int
	maxBytes   int
	onLimit    limitMode
	timeout    time.Duration
	timeoutAge bool
	trim       bool
	maxSources int
}

type limitMode uint8

const (
	limitSplit limitMode = iota
	limitDrop
)

// Name returns the rule's name.
func (s *Spec) Name() string { return s.name }

// Timeout returns the rule's timeout (0: none).
func (s *Spec) Timeout() time.Duration { return s.timeout }

// CompileRule validates and compiles r. defaultMaxBytes applies when
// r.MaxBytes is 0. Errors name the offending key relative to the rule.
func CompileRule(r Rule, defaultMaxBytes int) (*Spec, error) {
	sp := &Spec{name: r.Name, sep: "\n", maxLines: DefaultMaxLines, maxBytes: defaultMaxBytes, timeout: DefaultTimeout}
	if r.Separator != nil {
		sp.sep = *r.Separator
	}
	switch {
	case r.MaxLines < 0:
		sp.maxLines = 0
	case r.MaxLines > 0:
		sp.maxLines = r.MaxLines
	}
	switch {
	case r.MaxBytes < 0:
		sp.maxBytes = 0
	case r.MaxBytes > 0:
		sp.maxBytes = int(r.MaxBytes)
	}
	switch r.OnLimit {
	case "", "split":
	case "drop":
		sp.onLimit = limitDrop
	default:
		return nil, config.Errorf("on_limit", "unknown value %q (want split or drop)", r.OnLimit)
	}
	switch {
	case r.Timeout < 0:
		sp.timeout = 0
	case r.Timeout > 0:
		sp.timeout = r.Timeout.D()
	}
	switch r.TimeoutFrom {
	case "", "last_line":
	case "first_line":
		sp.timeoutAge = true
	default:
		return nil, config.Errorf("timeout_from", "unknown value %q (want last_line or first_line)", r.TimeoutFrom)
	}
	sp.trim = r.Trim
	sp.maxSources = r.MaxSources
	var err error
	switch r.Type {
	case TypeBuiltin:
		sp.newDecider, err = builtinDecider(r.Languages)
	case TypeStates:
		sp.newDecider, err = statesDecider(r.States, r.Parsers)
	case TypeEndsWith:
		if r.EndsWith == "" {
			return nil, config.Errorf("ends_with", "required for type endswith")
		}
		sp.newDecider = endsWithDecider(r.EndsWith, r.Negate)
	case TypePattern, TypeWhilePattern:
		sp.newDecider, err = patternDecider(r)
	case TypeCount:
		if r.CountLines <= 0 {
			return nil, config.Errorf("count_lines", "must be positive for type count")
		}
		n := r.CountLines
		sp.newDecider = func() decider { return countDecider(n) }
	case TypeCondition:
		sp.newDecider, err = conditionDecider(r.StartPattern, r.ConditionPattern, r.Mode)
	case TypeRecombine:
		sp.newDecider, err = recombineDecider(r)
	case TypeSplit:
		sp.newDecider, err = splitDecider(r.LineStartPattern, r.LineEndPattern)
	case "":
		return nil, config.Errorf("type", "required (builtin, states, endswith, pattern, count, while_pattern, condition, recombine or split)")
	default:
		return nil, config.Errorf("type", "unknown type %q (want builtin, states, endswith, pattern, count, while_pattern, condition, recombine or split)", r.Type)
	}
	if err != nil {
		return nil, err
	}
	return sp, nil
}

// BuiltinNames are the rule names usable in an annotation without any
// configuration.
var BuiltinNames = []string{"java", "python", "go", "ruby", "dotnet"}

// Config is the shipper's multiline section.
type Config struct {
	// Rules are named rules; a pod's sluice.io/multiline annotation names
	// one of them or a built-in language, and a rule with a Match applies
	// to the containers it selects when no annotation says otherwise.
	Rules []Rule `yaml:"rules"`
	// ParsersFile is a Fluent Bit parsers file whose [MULTILINE_PARSER]
	// sections become rules named after them.
	ParsersFile string `yaml:"parsers_file"`
	// Timeout is the default timeout of the built-in languages; default 5s.
	Timeout config.Duration `yaml:"timeout"`
	// MaxLines is the default max_lines of the built-in languages;
	// default 500.
	MaxLines int `yaml:"max_lines"`
}

// Validate checks every rule; errors name the key.
func (c Config) Validate() error {
	var p config.Problems
	seen := map[string]int{}
	for i, r := range c.Rules {
		key := fmt.Sprintf("multiline.rules[%d]", i)
		if r.Name == "" {
			p.Addf(key+".name", "required")
		} else if j, dup := seen[r.Name]; dup {
			p.Addf(key+".name", "%q is already the name of multiline.rules[%d]", r.Name, j)
		} else {
			seen[r.Name] = i
		}
		if _, err := CompileRule(r, 1<<20); err != nil {
			p.AddPrefixed(key, err)
		}
	}
	if c.ParsersFile != "" {
		if _, err := loadParsersFile(c.ParsersFile); err != nil {
			p.Addf("multiline.parsers_file", "%v", err)
		}
	}
	if c.Timeout < 0 {
		p.Addf("multiline.timeout", "must not be negative")
	}
	if c.MaxLines < 0 {
		p.Addf("multiline.max_lines", "must not be negative")
	}
	return p.Err()
}

// Enabled reports whether the section configures anything beyond the
// built-in languages (which annotations can always select).
func (c Config) Enabled() bool { return len(c.Rules) > 0 || c.ParsersFile != "" }

func loadParsersFile(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadFluentBit(f)
}

// Registry holds the compiled rules the shipper chooses from.
type Registry struct {
	byName  map[string]*Spec
	matched []matchedSpec
}

type matchedSpec struct {
	sel  Selector
	spec *Spec
}

// NewRegistry compiles c. maxBytes is the shipper's event size limit, the
// default and the cap of every rule's max_bytes.
func NewRegistry(c Config, maxBytes int) (*Registry, error) {
	reg := &Registry{byName: map[string]*Spec{}}
	rules := slices.Clone(c.Rules)
	if c.ParsersFile != "" {
		fb, err := loadParsersFile(c.ParsersFile)
		if err != nil {
			return nil, fmt.Errorf("multiline.parsers_file: %w", err)
		}
		rules = append(rules, fb...)
	}
	for _, lang := range BuiltinNames {
		r := Rule{Name: lang, Type: TypeBuiltin, Languages: []string{lang}, Timeout: c.Timeout, MaxLines: c.MaxLines}
		sp, err := CompileRule(r, maxBytes)
		if err != nil {
			return nil, err
		}
		reg.byName[lang] = sp
	}
	for i, r := range rules {
		sp, err := CompileRule(r, maxBytes)
		if err != nil {
			return nil, config.Prefix(fmt.Sprintf("multiline.rules[%d]", i), err)
		}
		if sp.maxBytes <= 0 || sp.maxBytes > maxBytes {
			sp.maxBytes = maxBytes
		}
		reg.byName[r.Name] = sp
		if !r.Match.empty() {
			reg.matched = append(reg.matched, matchedSpec{sel: r.Match, spec: sp})
		}
	}
	return reg, nil
}

// Lookup returns the rule named name.
func (r *Registry) Lookup(name string) (*Spec, bool) {
	if r == nil {
		return nil, false
	}
	sp, ok := r.byName[name]
	return sp, ok
}

// Container identifies a container for Select.
type Container struct {
	Namespace, Pod, Container string
	Labels, Annotations       map[string]string
}

// Annotation names: sluice.io/multiline applies to every container of the
// pod; sluice.io/multiline-<container> wins for that container, as with
// sluice.io/parser. The value "none" turns joining off.
const AnnotationMultiline = "sluice.io/multiline"

// ErrUnknownRule is returned by Select when an annotation names no rule.
var ErrUnknownRule = errors.New("unknown multiline rule")

// Select returns the rule for a container: the one its annotations name,
// else the first configured rule whose Match selects it, else nil.
func (r *Registry) Select(c Container) (*Spec, error) {
	if r == nil {
		return nil, nil
	}
	name, ok := c.Annotations[AnnotationMultiline+"-"+c.Container]
	if !ok || c.Container == "" {
		name, ok = c.Annotations[AnnotationMultiline]
	}
	if ok {
		name = strings.TrimSpace(name)
		if name == "" || name == "none" {
			return nil, nil
		}
		sp, found := r.byName[name]
		if !found {
			return nil, fmt.Errorf("%w %q (annotation %s)", ErrUnknownRule, name, AnnotationMultiline)
		}
		return sp, nil
	}
	for _, m := range r.matched {
		if m.sel.matches(c) {
			return m.spec, nil
		}
	}
	return nil, nil
}

func (s Selector) empty() bool {
	return len(s.Namespaces) == 0 && len(s.Pods) == 0 && len(s.Containers) == 0 && len(s.Labels) == 0
}

func (s Selector) matches(c Container) bool {
	if s.empty() {
		return false
	}
	anyGlob := func(globs []string, v string) bool {
		if len(globs) == 0 {
			return true
		}
		for _, g := range globs {
			if ok, _ := path.Match(g, v); ok {
				return true
			}
		}
		return false
	}
	if !anyGlob(s.Namespaces, c.Namespace) || !anyGlob(s.Pods, c.Pod) || !anyGlob(s.Containers, c.Container) {
		return false
	}
	for k, v := range s.Labels {
		if c.Labels[k] != v {
			return false
		}
	}
	return true
}
