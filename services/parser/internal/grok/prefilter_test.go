package grok

import "testing"

// TestRequiredLiterals checks the literals the prefilter requires and that
// lines of other formats are proven not to match without RE2.
func TestRequiredLiterals(t *testing.T) {
	for _, mode := range []Mode{ModeLegacy, ModeECS} {
		m, err := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.prog.req) < 10 {
			t.Errorf("%s: required literals %q, want at least 10", mode, m.prog.req)
		}
		for _, l := range noMatchLines {
			if differential(t, m, l) != stNo {
				t.Errorf("%s: fast path did not reject %q", mode, l)
			}
		}
	}
	tests := []struct {
		expr string
		want []string
	}{
		{`a(?:b|c)d`, []string{"a", "d"}},
		{`(?i)ab(?-i)cd`, []string{"cd"}},
		{`x(?:yz)*w(?:uv)+`, []string{"x", "w", "uv"}},
		{`(?<f>é\.)?q`, []string{"q"}},
		{`(?<f>é\.)q`, []string{"é.", "q"}},
	}
	for _, tt := range tests {
		m, err := NewLibrary(ModeLegacy).Compile(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range m.prog.req {
			got = append(got, string(r))
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: required %q, want %q", tt.expr, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: required %q, want %q", tt.expr, got, tt.want)
				break
			}
		}
		for _, line := range []string{"ad", "abd", "xwuv", "XwUV", "abcd", "ABcd", "aBcd", "é.q", "q", "x é. q", "zzz"} {
			differential(t, m, []byte(line))
		}
	}
}
