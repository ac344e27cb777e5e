package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode is Load for a document already in memory. It reports every problem
// it finds, not only the first: unknown keys (with the nearest known key as a
// suggestion), values of the wrong type, each as a FieldError naming its key
// path, gathered in an Errors.
//
// Environment references are expanded in the parsed scalar values, never in
// the raw text, so a value holding "#", ": " or a newline stays exactly that
// string and cannot change the document's structure. A reference in a value
// decoded into a number, boolean or duration is resolved after expansion
// (port: ${PORT} works); into a string it is taken verbatim ("true", "null"
// and "0123" stay strings).
//
// The digest is the SHA-256 of the document after expansion, so a changed
// secret changes the digest.
func Decode(doc []byte, dst any) (digest string, err error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	if root.Kind == 0 || len(root.Content) == 0 { // empty document: defaults only
		sum := sha256.Sum256(nil)
		return hex.EncodeToString(sum[:]), nil
	}
	body := root.Content[0]
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer {
		return "", errors.New("config: Decode needs a pointer")
	}
	w := &walker{lines: map[int]string{}, seen: map[*yaml.Node]bool{}}
	w.walk(body, t.Elem(), "")

	var errs Errors
	errs = append(errs, w.errs...)
	if derr := body.Decode(dst); derr != nil {
		var te *yaml.TypeError
		if !errors.As(derr, &te) {
			return "", fmt.Errorf("config: %w", derr)
		}
		for _, msg := range te.Errors {
			errs = append(errs, w.typeError(msg))
		}
	}
	enc, merr := yaml.Marshal(body)
	if merr != nil {
		enc = doc
	}
	sum := sha256.Sum256(enc)
	if len(errs) > 0 {
		errs.sort()
		return hex.EncodeToString(sum[:]), errs
	}
	return hex.EncodeToString(sum[:]), nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// walker goes over the parsed document beside the type it decodes into: it
// expands environment references in scalars, reports keys the type does not
// have, and remembers which key path each line holds so the decoder's type
// errors, which name only a line, can name the key.
type walker struct {
	errs  Errors
	lines map[int]string // line → deepest key path starting on it
	seen  map[*yaml.Node]bool
	// opaque counts the custom-decoded values being walked: their inner
	// keys are not the config's keys, so errors name the value's own key.
	opaque int
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
		if n == nil || w.seen[n] {
			return
		}
	}
	if w.seen[n] {
		return
	}
	w.seen[n] = true
	if path != "" && w.opaque == 0 {
		w.lines[n.Line] = path
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	opaque := t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType)
	if t != nil && opaque {
		w.opaque++
		defer func() { w.opaque-- }()
	}
	switch n.Kind {
	case yaml.ScalarNode:
		w.expand(n, t)
	case yaml.SequenceNode:
		var elem reflect.Type
		if !opaque && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i, c := range n.Content {
			w.walk(c, elem, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.MappingNode:
		switch {
		case opaque:
			w.walkPairs(n, path, func(string) (reflect.Type, bool) { return nil, true })
		case t.Kind() == reflect.Map:
			w.walkPairs(n, path, func(string) (reflect.Type, bool) { return t.Elem(), true })
		case t.Kind() == reflect.Struct:
			fields := structFields(t)
			w.walkPairs(n, path, func(key string) (reflect.Type, bool) {
				if ft, ok := fields.byName[key]; ok {
					return ft, true
				}
				if fields.inlineMap != nil {
					return fields.inlineMap, true
				}
				w.errs = append(w.errs, &FieldError{Key: join(path, key), Msg: unknownField(key, fields.names)})
				return nil, false
			})
		default:
			// A mapping where a scalar or list belongs: the decoder reports it.
			w.walkPairs(n, path, func(string) (reflect.Type, bool) { return nil, true })
		}
	}
}

// walkPairs walks a mapping's values; field returns the type a key's value
// decodes into and whether the key is known. Merge keys (<<) are walked with
// the mapping's own type.
func (w *walker) walkPairs(n *yaml.Node, path string, field func(key string) (reflect.Type, bool)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			target := v
			if target.Kind == yaml.AliasNode {
				target = target.Alias
			}
			if target != nil && target.Kind == yaml.MappingNode {
				w.walkPairs(target, path, field)
			}
			continue
		}
		t, ok := field(k.Value)
		if !ok {
			continue
		}
		if w.opaque == 0 {
			w.lines[k.Line] = join(path, k.Value)
		}
		w.walk(v, t, join(path, k.Value))
	}
}

// expand replaces environment references in one scalar. A value decoded
// into a string is marked as a string so that what the variable holds is
// taken as it is; any other value is re-resolved from its new text.
func (w *walker) expand(n *yaml.Node, t reflect.Type) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	v := ExpandString(n.Value)
	if v == n.Value {
		return
	}
	n.Value = v
	if t != nil && t.Kind() == reflect.String && !reflect.PointerTo(t).Implements(unmarshalerType) {
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
		return
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Tag == "!!str" {
		n.Tag = "" // resolve the expanded text: port: ${PORT} is a number
	}
}

var typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeError turns one of the decoder's "line N: …" messages into a
// FieldError naming the key on that line.
func (w *walker) typeError(msg string) error {
	m := typeErrLine.FindStringSubmatch(msg)
	if m == nil {
		return errors.New(msg)
	}
	line, _ := strconv.Atoi(m[1])
	if key, ok := w.lines[line]; ok {
		return &FieldError{Key: key, Msg: m[2]}
	}
	return errors.New(msg)
}

type fieldSet struct {
	byName    map[string]reflect.Type
	names     []string
	inlineMap reflect.Type // value type of an ,inline map, which takes any key
}

// structFields lists the keys a struct accepts, as yaml.v3 names them
// (the tag's name, else the lower-cased field name), following ,inline.
func structFields(t reflect.Type) fieldSet {
	fs := fieldSet{byName: map[string]reflect.Type{}}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.PkgPath != "" && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",inline,") {
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				switch ft.Kind() {
				case reflect.Struct:
					add(ft)
				case reflect.Map:
					fs.inlineMap = ft.Elem()
				}
				continue
			}
			if f.PkgPath != "" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fs.byName[name] = f.Type
			fs.names = append(fs.names, name)
		}
	}
	add(t)
	sort.Strings(fs.names)
	return fs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unknownField words the error for a key the section does not have, with
// the closest known key when one is near enough to be a typo.
func unknownField(key string, known []string) string {
	msg := fmt.Sprintf("unknown field %q", key)
	if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggest returns the known name closest to key by edit distance, if the
// distance is small for the key's length (at most a third of it, and at
// least one edit allowed), or "" otherwise.
func suggest(key string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(key), k)
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(1, len(key)/3) {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions, the commonest typo: "gruop").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// ExpandString replaces ${VAR} with the variable's value and ${VAR:-def}
// with the value or, when it is unset or empty, def. A value is inserted as
// it is: references inside it are not expanded again.
func ExpandString(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		if v := os.Getenv(sub[1]); v != "" {
			return v
		}
		return sub[3]
	})
}

// Expand is ExpandString on bytes. Decode does not use it on whole
// documents (see Decode); it remains for single values.
func Expand(doc []byte) []byte { return []byte(ExpandString(string(doc))) }
