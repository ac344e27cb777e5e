package multiline

import (
	"fmt"
	"strconv"
	"strings"
)

// CaseResult is the outcome of one case; Failure is empty when it passed.
type CaseResult struct {
	ID      string
	Failure string
}

// CheckResult summarises a run of cases.
type CheckResult struct {
	Results        []CaseResult
	Passed, Failed int
}

// Check runs every case and compares the events with the expected ones
// exactly (text and order).
func Check(cases []Case) CheckResult {
	var res CheckResult
	for _, c := range cases {
		got, err := RunCase(c)
		var fail string
		switch {
		case err != nil:
			fail = fmt.Sprintf("FAIL %s (%s, mode %s): %v", c.ID, c.Style, c.Mode, err)
		default:
			fail = diffEvents(c, got)
		}
		res.Results = append(res.Results, CaseResult{ID: c.ID, Failure: fail})
		if fail == "" {
			res.Passed++
		} else {
			res.Failed++
		}
	}
	return res
}

func diffEvents(c Case, got []string) string {
	if len(got) == len(c.Expect) {
		same := true
		for i := range got {
			if got[i] != c.Expect[i] {
				same = false
				break
			}
		}
		if same {
			return ""
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FAIL %s (%s, mode %s): %d events, want %d\n", c.ID, c.Style, c.Mode, len(got), len(c.Expect))
	n := max(len(got), len(c.Expect))
	shown := 0
	for i := 0; i < n && shown < 5; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(c.Expect) {
			w = c.Expect[i]
		}
		if g == w && i < len(got) && i < len(c.Expect) {
			continue
		}
		shown++
		fmt.Fprintf(&b, "  event %d:\n    got:  %s\n    want: %s\n", i, clip(g, i < len(got)), clip(w, i < len(c.Expect)))
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "  note: %s\n", c.Note)
	}
	return strings.TrimRight(b.String(), "\n")
}

func clip(s string, present bool) string {
	if !present {
		return "(none)"
	}
	q := strconv.Quote(s)
	if len(q) > 400 {
		q = q[:200] + " ... " + q[len(q)-150:]
	}
	return q
}
