package config

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redacted replaces a secret's value wherever a configuration is shown.
const Redacted = "[redacted]"

// secretWords are key names (or the last word of one, as in bearer_token)
// whose values are secrets wherever they appear.
var secretWords = []string{"password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "credentials", "authorization"}

// IsSecretKey reports whether a configuration key holds a secret by its
// name: a password, token, API key or the like. A key naming a file
// (token_file, key_file) holds a path, which is not a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	if strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "_path") || strings.HasSuffix(k, "_dir") {
		return false
	}
	for _, w := range secretWords {
		if k == w || strings.HasSuffix(k, "_"+w) || strings.HasPrefix(k, w+"_") {
			return true
		}
	}
	return false
}

// RedactedYAML returns v (a configuration struct) as YAML with every secret
// replaced by Redacted: the fields tagged `secret:"true"`, the keys
// IsSecretKey names, every SASL setting but the mechanism, and the password
// of a URL with one (as url.URL.Redacted shows it). An empty
// secret stays empty, so the output still says whether one is set.
func RedactedYAML(v any) ([]byte, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	tagged := map[string]bool{}
	secretPaths(reflect.TypeOf(v), "", tagged, 0)
	if len(root.Content) > 0 {
		redactNode(root.Content[0], "", false, tagged)
	}
	out, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return out, nil
}

// secretPaths collects the key paths of the fields of t tagged
// `secret:"true"`.
func secretPaths(t reflect.Type, prefix string, out map[string]bool, depth int) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || depth > 16 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, inline := yamlName(f)
		if name == "-" {
			continue
		}
		path := prefix
		if !inline {
			path = joinKey(prefix, name)
		}
		if f.Tag.Get("secret") == "true" {
			out[path] = true
		}
		secretPaths(f.Type, path, out, depth+1)
	}
}

// yamlName is the key yaml.v3 uses for f, and whether f is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	inline := strings.Contains(","+opts+",", ",inline,")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func redactNode(n *yaml.Node, path string, inSASL bool, tagged map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			p := joinKey(path, k)
			sasl := inSASL || strings.EqualFold(k, "sasl")
			secret := tagged[p] || IsSecretKey(k) || (inSASL && !strings.EqualFold(k, "mechanism"))
			if secret {
				redactValue(v)
				continue
			}
			redactNode(v, p, sasl, tagged)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			redactNode(c, path, inSASL, tagged)
		}
	case yaml.ScalarNode:
		// A URL may carry a password (https://user:pass@host).
		if strings.Contains(n.Value, "://") && strings.Contains(n.Value, "@") {
			if u, err := url.Parse(n.Value); err == nil && u.User != nil {
				if _, ok := u.User.Password(); ok {
					n.Value = u.Redacted()
				}
			}
		}
	}
}

// redactValue replaces every non-empty scalar under n.
func redactValue(n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value != "" && n.ShortTag() != "!!null" {
			n.SetString(Redacted)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			redactValue(n.Content[i])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			redactValue(c)
		}
	}
}
