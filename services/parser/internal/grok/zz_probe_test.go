package grok

import "testing"

func TestZZProbe(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		m, _ := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
		for _, l := range append(noMatchLines, benchLines...) {
			_, st := m.matchFast(l)
			t.Logf("%s %d %.40q", mode, st, l)
		}
	}
}
