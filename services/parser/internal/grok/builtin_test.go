package grok

import (
	"bufio"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/libs/corpus"
)

// TestBuiltinPatternsCompile compiles every built-in pattern of both modes
// and checks that it gets a fast-path program.
func TestBuiltinPatternsCompile(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		lib := NewLibrary(mode)
		for _, name := range lib.Names() {
			m, err := lib.Compile("%{" + name + "}")
			if err != nil {
				t.Errorf("%s %s: %v", mode, name, err)
				continue
			}
			if !m.FastPath() {
				t.Logf("%s %s: no fast path", mode, name)
			}
		}
	}
}

// TestSpecInputsDifferential runs the fast path against RE2 on the inputs
// of the shared spec cases and on mutations of them.
func TestSpecInputsDifferential(t *testing.T) {
	dir := corpus.Dir(t, "grok")
	f, err := os.Open(filepath.Join(dir, "spec_cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type specCase struct{ Pattern, Input, Mode string }
	libs := map[Mode]*Library{}
	r := rand.New(rand.NewSource(2))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	fastDecided, total := 0, 0
	for sc.Scan() {
		var c specCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		mode := ModeLegacy
		if c.Mode == string(ModeECS) {
			mode = ModeECS
		}
		if libs[mode] == nil {
			libs[mode] = NewLibrary(mode)
		}
		m, err := libs[mode].Compile(c.Pattern)
		if err != nil {
			t.Errorf("%s %q: %v", mode, c.Pattern, err)
			continue
		}
		total++
		if differential(t, m, []byte(c.Input)) != stUnknown {
			fastDecided++
		}
		for i := 0; i < 50; i++ {
			differential(t, m, mutate(r, []byte(c.Input)))
		}
	}
	t.Logf("fast path decided %d of %d spec inputs", fastDecided, total)
}
