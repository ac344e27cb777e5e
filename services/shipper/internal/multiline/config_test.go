package multiline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// TestConfigFromYAML decodes a multiline section as users write it, with
// a Fluent Bit parsers file imported next to the rules.
func TestConfigFromYAML(t *testing.T) {
	fb := filepath.Join(t.TempDir(), "parsers_multiline.conf")
	if err := os.WriteFile(fb, []byte(`[MULTILINE_PARSER]
    name          es-trace
    type          regex
    flush_timeout 1000
    rule          "start_state"  "/^\[/"   "cont"
    rule          "cont"         "/^\s+/"  "cont"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := []byte(`
parsers_file: ` + fb + `
timeout: 2s
rules:
  - name: bracket
    type: pattern
    pattern: '^\['
    negate: true
    match_mode: after
    max_lines: 50
    max_bytes: 64KiB
    on_limit: drop
    timeout: 3s
    match: {namespaces: ["shop-*"], labels: {app: api}}
  - name: vec
    type: condition
    start_pattern: '^[^\s]'
    condition_pattern: '^[\s]+at'
    mode: continue_through
    separator: " "
`)
	var c Config
	if _, err := config.Decode(doc, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(c, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := reg.Select(Container{Namespace: "shop-eu", Labels: map[string]string{"app": "api"}})
	if err != nil || sp == nil || sp.Name() != "bracket" || sp.Timeout() != 3*time.Second || sp.maxBytes != 64<<10 || sp.onLimit != limitDrop {
		t.Fatalf("selected %+v, %v", sp, err)
	}
	es, ok := reg.Lookup("es-trace")
	if !ok || es.Timeout() != time.Second || !es.timeoutAge {
		t.Fatalf("imported Fluent Bit parser: %+v", es)
	}
	if got := texts(join(es, []string{"[x] boom", "  at a", "next"})); !slices.Equal(got, []string{"[x] boom\n  at a", "next"}) {
		t.Errorf("es-trace joined %q", got)
	}
	vec, _ := reg.Lookup("vec")
	if got := texts(join(vec, []string{"E", "  at a", "  at b"})); !slices.Equal(got, []string{"E   at a   at b"}) {
		t.Errorf("separator: %q", got)
	}
	java, _ := reg.Lookup("java")
	if java.Timeout() != 2*time.Second {
		t.Errorf("built-in timeout %v, want the section's 2s", java.Timeout())
	}
}
