package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/fluentbit"
)

// fluentBitProc runs one Fluent Bit parser definition: its fields become
// document fields and its Time_Key, parsed with Time_Format, becomes
// @timestamp.
type fluentBitProc struct {
	field string
	c     *fluentbit.Compiled
}

func compileFluentBit(r *config.Regex) (Processor, error) {
	fb := r.FluentBit
	var src string
	switch {
	case fb.File != "" && fb.Inline != "":
		return nil, errors.New("regex.fluentbit: file and inline are exclusive")
	case fb.File != "":
		b, err := os.ReadFile(fb.File)
		if err != nil {
			return nil, fmt.Errorf("regex.fluentbit.file: %w", err)
		}
		src = string(b)
	case fb.Inline != "":
		src = fb.Inline
	default:
		return nil, errors.New("regex.fluentbit: file or inline is required")
	}
	key := "regex.fluentbit.inline"
	if fb.File != "" {
		key = "regex.fluentbit.file"
	}
	defs, err := fluentbit.ParseFile(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	var def *fluentbit.Parser
	var names []string
	for i := range defs {
		if defs[i].Multiline {
			continue
		}
		names = append(names, defs[i].Name)
		if defs[i].Name == fb.Parser || (fb.Parser == "" && def == nil) {
			def = &defs[i]
		}
	}
	switch {
	case fb.Parser == "" && len(names) != 1:
		return nil, fmt.Errorf("regex.fluentbit.parser: required when %s defines %d parsers", key, len(names))
	case def == nil:
		return nil, fmt.Errorf("regex.fluentbit.parser: no parser %q in %s (it has %s)", fb.Parser, key, strings.Join(names, ", "))
	}
	c, err := def.Compile()
	if err != nil {
		return nil, fmt.Errorf("regex.fluentbit.parser: %w", err)
	}
	return &fluentBitProc{field: field(r.Field), c: c}, nil
}

func (p *fluentBitProc) Name() string { return "regex" }

func (p *fluentBitProc) Process(d *document.Doc) error {
	s, err := sourceString(d, p.field)
	if err != nil {
		return err
	}
	fields, ts, hasTime, err := p.c.Parse([]byte(s))
	if fields == nil && err != nil {
		return err
	}
	for k, v := range fields {
		d.Set(k, fluentValue(v))
	}
	if hasTime {
		d.Set("@timestamp", document.T(ts))
	}
	// A Time_Key value that did not parse: the fields are kept, the
	// document is tagged as a failure with the reason.
	return err
}

func fluentValue(v any) document.Value {
	switch x := v.(type) {
	case string:
		return document.S(x)
	case int64:
		return document.I(x)
	case float64:
		return document.F(x)
	case bool:
		return document.B(x)
	case uint64:
		return document.F(float64(x))
	case nil:
		return document.RawJSON("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return document.S(fmt.Sprint(v))
	}
	return document.RawJSON(string(b))
}
