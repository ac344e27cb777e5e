package kv

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Config selects separators and post-processing. The zero value behaves
// like a Logstash kv filter with default settings.
type Config struct {
	FieldSplit string // bytes that separate pairs (default " ")
	ValueSplit string // bytes that separate a key from its value (default "=")

	TrimKey         string // bytes trimmed from both ends of keys
	TrimValue       string // bytes trimmed from both ends of values
	RemoveCharKey   string // bytes removed anywhere in keys
	RemoveCharValue string // bytes removed anywhere in values
	TransformKey    string // "", "lowercase", "uppercase" or "capitalize"
	TransformValue  string // as TransformKey

	IncludeKeys []string // if set, only these keys (before Prefix) are kept
	ExcludeKeys []string // these keys (before Prefix) are dropped
	Prefix      string   // prepended to every key

	ExcludeBrackets  bool // do not treat (…), […], <…> as quoted values
	AllowEmptyValues bool // keep pairs whose value is empty
	StrictWhitespace bool // no spaces allowed around ValueSplit
}

// Parser is a compiled Config. It is safe for concurrent use.
type Parser struct {
	cfg     Config
	isField [256]bool
	isValue [256]bool
	include map[string]bool
	exclude map[string]bool
}

// New validates cfg and returns a Parser.
func New(cfg Config) (*Parser, error) {
	if cfg.FieldSplit == "" {
		cfg.FieldSplit = " "
	}
	if cfg.ValueSplit == "" {
		cfg.ValueSplit = "="
	}
	p := &Parser{cfg: cfg}
	for i := 0; i < len(cfg.FieldSplit); i++ {
		p.isField[cfg.FieldSplit[i]] = true
	}
	for i := 0; i < len(cfg.ValueSplit); i++ {
		c := cfg.ValueSplit[i]
		if p.isField[c] {
			return nil, fmt.Errorf("kv: %q is both a field and a value separator", c)
		}
		p.isValue[c] = true
	}
	for _, t := range []string{cfg.TransformKey, cfg.TransformValue} {
		switch t {
		case "", "lowercase", "uppercase", "capitalize":
		default:
			return nil, fmt.Errorf("kv: unknown transform %q (want lowercase, uppercase or capitalize)", t)
		}
	}
	if len(cfg.IncludeKeys) > 0 {
		p.include = map[string]bool{}
		for _, k := range cfg.IncludeKeys {
			p.include[k] = true
		}
	}
	if len(cfg.ExcludeKeys) > 0 {
		p.exclude = map[string]bool{}
		for _, k := range cfg.ExcludeKeys {
			p.exclude[k] = true
		}
	}
	return p, nil
}

// MustNew is New that panics on error.
func MustNew(cfg Config) *Parser {
	p, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return p
}

func closing(c byte, brackets bool) byte {
	switch c {
	case '"', '\'':
		return c
	}
	if !brackets {
		return 0
	}
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	case '<':
		return '>'
	}
	return 0
}

// Parse calls fn for each pair found in line, in order. Keys and values are
// substrings of line unless Prefix, RemoveChar* or Transform* change them.
func (p *Parser) Parse(line string, fn func(k, v string)) {
	n := len(line)
	pos := 0
	for pos < n {
		// Skip field separators.
		for pos < n && p.isField[line[pos]] {
			pos++
		}
		if pos >= n {
			return
		}
		// Key.
		ks := pos
		for pos < n {
			c := line[pos]
			if c == '\\' && pos+1 < n && line[pos+1] == ' ' {
				pos += 2
				continue
			}
			if p.isField[c] || p.isValue[c] {
				break
			}
			pos++
		}
		key := line[ks:pos]
		if !p.cfg.StrictWhitespace {
			key = strings.TrimRight(key, " \t")
		}
		j := pos
		if !p.cfg.StrictWhitespace {
			for j < n && (line[j] == ' ' || line[j] == '\t') {
				j++
			}
		}
		if key == "" || j >= n || !p.isValue[line[j]] {
			// Not a pair: skip this token. An empty key before a value
			// separator is skipped with the separator.
			if pos == ks {
				pos++
			}
			continue
		}
		pos = j + 1
		if !p.cfg.StrictWhitespace {
			for pos < n && (line[pos] == ' ' || line[pos] == '\t') {
				pos++
			}
		}
		// Value.
		var val string
		if pos < n {
			if cl := closing(line[pos], !p.cfg.ExcludeBrackets); cl != 0 {
				if e := strings.IndexByte(line[pos+1:], cl); e >= 0 {
					val = line[pos+1 : pos+1+e]
					pos += e + 2
					p.emit(key, val, fn)
					continue
				}
			}
		}
		vs := pos
		for pos < n {
			c := line[pos]
			if c == '\\' && pos+1 < n && line[pos+1] == ' ' {
				pos += 2
				continue
			}
			if p.isField[c] {
				break
			}
			pos++
		}
		val = line[vs:pos]
		p.emit(key, val, fn)
	}
}

func (p *Parser) emit(key, val string, fn func(k, v string)) {
	c := &p.cfg
	if c.TrimKey != "" {
		key = strings.Trim(key, c.TrimKey)
	}
	if c.RemoveCharKey != "" {
		key = removeChars(key, c.RemoveCharKey)
	}
	key = transform(key, c.TransformKey)
	if key == "" {
		return
	}
	if p.include != nil && !p.include[key] {
		return
	}
	if p.exclude != nil && p.exclude[key] {
		return
	}
	if c.TrimValue != "" {
		val = strings.Trim(val, c.TrimValue)
	}
	if c.RemoveCharValue != "" {
		val = removeChars(val, c.RemoveCharValue)
	}
	val = transform(val, c.TransformValue)
	if val == "" && !c.AllowEmptyValues {
		return
	}
	if c.Prefix != "" {
		key = c.Prefix + key
	}
	fn(key, val)
}

func removeChars(s, chars string) string {
	if !strings.ContainsAny(s, chars) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(chars, r) {
			return -1
		}
		return r
	}, s)
}

func transform(s, how string) string {
	switch how {
	case "lowercase":
		return strings.ToLower(s)
	case "uppercase":
		return strings.ToUpper(s)
	case "capitalize":
		// Ruby's String#capitalize: first character upper, rest lower.
		if s == "" {
			return s
		}
		r, size := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + strings.ToLower(s[size:])
	}
	return s
}

// ParseMap collects the pairs of line. A key seen once maps to a string; a
// repeated key maps to a []string of its values in order, as Logstash
// builds an array for duplicate keys.
func (p *Parser) ParseMap(line string) map[string]any {
	m := map[string]any{}
	p.Parse(line, func(k, v string) {
		switch old := m[k].(type) {
		case nil:
			m[k] = v
		case string:
			m[k] = []string{old, v}
		case []string:
			m[k] = append(old, v)
		}
	})
	return m
}
