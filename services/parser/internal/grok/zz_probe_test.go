package grok

import "testing"

func TestZZProbe(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		m, _ := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
		for _, l := range benchLines {
			mc := &machine{caps: make([]int, 2*m.ncap), in: l, las: make([]la, m.prog.nla)}
			st := m.prog.exec(mc)
			t.Logf("%s %d steps=%d len=%d", mode, st, mc.steps, len(l))
		}
	}
}
