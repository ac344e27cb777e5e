package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Difference is one setting that differs between two configurations.
type Difference struct {
	// Key is the setting's key path, as in the YAML (kafka.group).
	Key string
	// Was and Now are the two values, formatted for a message; both are
	// Redacted for a secret.
	Was, Now string
}

// Diff lists the settings that differ between a and b (two values of the
// same configuration type), by key path under prefix, in field order.
// Structs are compared field by field; lists, maps and scalars as a
// whole.
func Diff(prefix string, a, b any) []Difference {
	var out []Difference
	diffValue(prefix, reflect.ValueOf(a), reflect.ValueOf(b), false, &out)
	return out
}

func diffValue(path string, a, b reflect.Value, secret bool, out *[]Difference) {
	if a.IsValid() && b.IsValid() && a.Type() == b.Type() && a.Kind() == reflect.Struct {
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, inline := yamlName(f)
			if name == "-" {
				continue
			}
			p := path
			if !inline {
				p = joinKey(path, name)
			}
			s := secret || f.Tag.Get("secret") == "true" || IsSecretKey(name) || strings.EqualFold(name, "sasl")
			diffValue(p, a.Field(i), b.Field(i), s, out)
		}
		return
	}
	var av, bv any
	if a.IsValid() && a.CanInterface() {
		av = a.Interface()
	}
	if b.IsValid() && b.CanInterface() {
		bv = b.Interface()
	}
	if reflect.DeepEqual(av, bv) {
		return
	}
	d := Difference{Key: path, Was: Redacted, Now: Redacted}
	if !secret {
		d.Was, d.Now = formatSetting(av), formatSetting(bv)
	}
	*out = append(*out, d)
}

func formatSetting(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case fmt.Stringer:
		return fmt.Sprintf("%q", x.String())
	case Duration:
		return fmt.Sprintf("%q", time.Duration(x).String())
	}
	return fmt.Sprintf("%v", v)
}
