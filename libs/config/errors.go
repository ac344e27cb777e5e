package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is a validation error that names the key it is about.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Errorf returns a FieldError for key.
func Errorf(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Errors is every problem found in one configuration, one per line when
// printed, so an operator fixes them all in one round instead of one per
// restart.
type Errors []error

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is and errors.As look at every problem.
func (e Errors) Unwrap() []error { return e }

// sort orders the problems by key, so the output follows the file's
// structure and is stable between runs.
func (e Errors) sort() {
	sort.SliceStable(e, func(i, j int) bool { return keyOf(e[i]) < keyOf(e[j]) })
}

func keyOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Key
	}
	return ""
}

// List flattens err into its single problems: the members of an Errors or
// of an errors.Join, recursively. A nil err gives nil.
func List(err error) []error {
	if err == nil {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range m.Unwrap() {
			out = append(out, List(e)...)
		}
		return out
	}
	return []error{err}
}

func isMulti(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}

// Problems gathers a Validate method's findings so that it reports all of
// them rather than returning at the first.
type Problems struct{ errs Errors }

// Add records err (nil is ignored; a multiple error adds each member).
func (p *Problems) Add(err error) { p.errs = append(p.errs, List(err)...) }

// Addf records a FieldError for key.
func (p *Problems) Addf(key, format string, args ...any) { p.Add(Errorf(key, format, args...)) }

// AddPrefixed records err with its keys placed under prefix (see Prefix).
func (p *Problems) AddPrefixed(prefix string, err error) { p.Add(Prefix(prefix, err)) }

// Err returns the problems as an Errors, or nil when there are none.
func (p *Problems) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	p.errs.sort()
	return p.errs
}

// Prefix returns err with its key placed under prefix ("kafka" + "brokers"
// → "kafka.brokers"); other errors are wrapped as "prefix: err". Every
// member of a multiple error is prefixed.
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if isMulti(err) {
		var out Errors
		for _, e := range List(err) {
			out = append(out, Prefix(prefix, e))
		}
		return out
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Key: prefix + "." + fe.Key, Msg: fe.Msg}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// merge combines decoding problems with what Validate finds in the decoded
// value. A validation error about a key that already failed to decode is
// left out: it would only repeat the first problem in other words.
func merge[T Validator](decodeErr error, v T) error {
	var derrs Errors
	if decodeErr != nil && !errors.As(decodeErr, &derrs) {
		return decodeErr // unreadable file or YAML syntax: nothing decoded
	}
	out := append(Errors(nil), derrs...)
	bad := map[string]bool{}
	for _, e := range derrs {
		bad[keyOf(e)] = true
	}
	for _, e := range List(v.Validate()) {
		if k := keyOf(e); k != "" && overlaps(k, bad) {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	out.sort()
	return out
}

func overlaps(key string, bad map[string]bool) bool {
	for b := range bad {
		if b == "" {
			continue
		}
		if key == b || strings.HasPrefix(key, b+".") || strings.HasPrefix(key, b+"[") ||
			strings.HasPrefix(b, key+".") || strings.HasPrefix(b, key+"[") {
			return true
		}
	}
	return false
}

// typeErrorf reports a value a custom decoder cannot take as a yaml
// TypeError, so decoding goes on to find the other problems; Decode turns
// the line into the key path.
func typeErrorf(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}
