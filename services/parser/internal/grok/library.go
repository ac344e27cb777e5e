package grok

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// Mode selects the pattern set: Logstash's legacy field names or the
// ECS-compatible (ecs-v1) ones.
type Mode string

const (
	ModeLegacy Mode = "legacy"
	ModeECS    Mode = "ecs-v1"
)

//go:embed patterns/*.grok
var patternFS embed.FS

var (
	builtinOnce sync.Once
	builtin     map[Mode]map[string]string
	builtinErr  error
)

// loadBuiltin parses the embedded pattern files once. Each file holds
// "NAME definition" lines; "[legacy]", "[ecs-v1]" and "[all]" lines switch
// which modes the following definitions belong to (default: all).
func loadBuiltin() {
	builtin = map[Mode]map[string]string{ModeLegacy: {}, ModeECS: {}}
	files, err := fs.Glob(patternFS, "patterns/*.grok")
	if err != nil {
		builtinErr = err
		return
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := patternFS.ReadFile(f)
		if err != nil {
			builtinErr = err
			return
		}
		modes := []Mode{ModeLegacy, ModeECS}
		for n, line := range strings.Split(string(b), "\n") {
			line = strings.TrimRight(line, "\r")
			t := strings.TrimSpace(line)
			if t == "" || t[0] == '#' {
				continue
			}
			switch t {
			case "[all]":
				modes = []Mode{ModeLegacy, ModeECS}
				continue
			case "[legacy]":
				modes = []Mode{ModeLegacy}
				continue
			case "[ecs-v1]":
				modes = []Mode{ModeECS}
				continue
			}
			name, def, ok := strings.Cut(t, " ")
			if !ok {
				builtinErr = fmt.Errorf("grok: %s:%d: definition without a body", f, n+1)
				return
			}
			def = strings.TrimLeft(def, " ")
			for _, m := range modes {
				builtin[m][name] = def
			}
		}
	}
}

// Library is a set of named patterns for one mode plus any custom patterns
// added to it. Add and Compile must not run concurrently; compiled Matchers
// are independent of the Library and safe for concurrent use.
type Library struct {
	mode Mode
	defs map[string]string
}

// NewLibrary returns a library holding the built-in patterns of mode. Any
// mode other than ModeECS ("default" included) selects the legacy set.
func NewLibrary(mode Mode) *Library {
	builtinOnce.Do(loadBuiltin)
	if builtinErr != nil {
		panic(builtinErr)
	}
	if mode != ModeECS {
		mode = ModeLegacy
	}
	src := builtin[mode]
	defs := make(map[string]string, len(src)+8)
	for k, v := range src {
		defs[k] = v
	}
	return &Library{mode: mode, defs: defs}
}

// Mode reports the library's pattern set.
func (l *Library) Mode() Mode { return l.mode }

// Add defines (or redefines) the pattern name. The definition is a regular
// expression in RE2 syntax that may reference other patterns with %{...};
// references are resolved when an expression using it is compiled.
func (l *Library) Add(name, definition string) error {
	if name == "" {
		return errEmptyName
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return fmt.Errorf("grok: invalid pattern name %q: use letters, digits and _", name)
		}
	}
	l.defs[name] = definition
	return nil
}

// Has reports whether name is defined.
func (l *Library) Has(name string) bool {
	_, ok := l.defs[name]
	return ok
}

// Names lists the defined pattern names in sorted order.
func (l *Library) Names() []string {
	out := make([]string, 0, len(l.defs))
	for k := range l.defs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
