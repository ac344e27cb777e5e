package rules

import (
	"fmt"
	"strings"
	"time"
)

// indexTemplate is an index name with date parts taken from @timestamp in
// UTC, Logstash style: "logs-%{+yyyy.MM.dd}".
type indexTemplate struct {
	parts []indexPart
	// hourly is set when the name depends only on the UTC hour of the time.
	hourly bool
}

type indexPart struct {
	lit    string
	layout string // Go time layout when non-empty
}

func parseIndex(s string) (indexTemplate, error) {
	if s == "" {
		return indexTemplate{}, fmt.Errorf("empty index name")
	}
	var t indexTemplate
	for s != "" {
		i := strings.Index(s, "%{+")
		if i < 0 {
			t.parts = append(t.parts, indexPart{lit: s})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, indexPart{lit: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return t, fmt.Errorf("unterminated %%{+ in %q", s)
		}
		layout, err := jodaToGo(s[i+3 : i+end])
		if err != nil {
			return t, err
		}
		t.parts = append(t.parts, indexPart{layout: layout})
		s = s[i+end+1:]
	}
	t.hourly = true
	for _, p := range t.parts {
		if strings.ContainsAny(p.lit, `"\/*?<>| ,#:`) || p.lit != strings.ToLower(p.lit) {
			return t, fmt.Errorf("index name part %q has characters an index name cannot have", p.lit)
		}
		if p.layout != "" && !hourlyLayout(p.layout) {
			t.hourly = false
		}
	}
	return t, nil
}

// hourlyLayout reports whether layout is made only of the Go layout
// elements 2006, 01, 02 and 15 and the separators '.' and '-', none of
// which time.Format reads as part of another element, so that the text
// depends only on the hour.
func hourlyLayout(layout string) bool {
	for s := layout; s != ""; {
		switch {
		case strings.HasPrefix(s, "2006"):
			s = s[4:]
		case strings.HasPrefix(s, "01"), strings.HasPrefix(s, "02"), strings.HasPrefix(s, "15"):
			s = s[2:]
		case s[0] == '.' || s[0] == '-':
			s = s[1:]
		default:
			return false
		}
	}
	return true
}

func (t indexTemplate) render(ts time.Time) string {
	if len(t.parts) == 1 && t.parts[0].layout == "" {
		return t.parts[0].lit
	}
	var b []byte
	for _, p := range t.parts {
		if p.layout == "" {
			b = append(b, p.lit...)
		} else {
			b = ts.AppendFormat(b, p.layout)
		}
	}
	return string(b)
}

func jodaToGo(f string) (string, error) {
	r := strings.NewReplacer("yyyy", "2006", "YYYY", "2006", "MM", "01", "dd", "02", "HH", "15", "ww", "")
	out := r.Replace(f)
	if strings.ContainsAny(out, "yYMdHmsw") {
		return "", fmt.Errorf("unsupported date pattern %q (use yyyy, MM, dd, HH)", f)
	}
	return out, nil
}
