// Package config loads service configuration files: YAML decoded strictly
// (an unknown key is an error, not a silently ignored typo), ${VAR} and
// ${VAR:-default} expanded from the environment, and sections shared by every
// service (Kafka, admin API, telemetry, logging) defined once.
//
// Every section has a NewDefault constructor and a Validate method whose
// errors name the offending key, e.g.
//
//	kafka.brokers: at least one broker is required
package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads path, expands environment references and decodes it strictly
// into dst, which must already hold the defaults. It returns the SHA-256 of
// the expanded document (the config digest the admin API reports).
func Load(path string, dst any) (digest string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	return Decode(b, dst)
}

// Duration is a time.Duration written as "250ms", "5s" or "1m" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return typeErrorf(n, "%q is not a duration (use 500ms, 5s, 1m)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ByteSize is a byte count written as 1048576, "64KiB", "16MiB" or "1GiB".
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return typeErrorf(n, "%v", err)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "123", "64KiB", "16MiB", "1GiB" (also KB/MB/GB, as powers of 1024).
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a byte size (use 1048576, 64KiB, 16MiB)", s)
	}
	return n * mult, nil
}

// Validator is a configuration that checks itself.
type Validator interface{ Validate() error }

// LoadValidated reads file over the defaults in def, validates the result
// and returns it with its digest: the one way every service loads its file.
func LoadValidated[T Validator](file string, def T) (T, string, error) {
	digest, err := Load(file, &def)
	return def, digest, merge(err, def)
}

// DecodeValidated is LoadValidated for a document in memory.
func DecodeValidated[T Validator](doc []byte, def T) (T, string, error) {
	digest, err := Decode(doc, &def)
	return def, digest, merge(err, def)
}

// StringList is a list of strings written as a YAML sequence or as one
// comma-separated string. The second form lets one environment variable
// carry a whole list (brokers: ${KAFKA_BROKERS:-kafka:9092} with
// KAFKA_BROKERS=a:9092,b:9092); a YAML flow list around a reference
// ([${VAR}]) would not parse once the variable holds YAML syntax.
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = nil
		if n.ShortTag() == "!!null" {
			return nil
		}
		for _, s := range strings.Split(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*l = append(*l, s)
			}
		}
		return nil
	case yaml.SequenceNode:
		out := make(StringList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind == yaml.AliasNode {
				c = c.Alias
			}
			if c == nil || c.Kind != yaml.ScalarNode {
				return typeErrorf(n, "want a list of strings")
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return typeErrorf(n, "want a list of strings or one comma-separated string")
}
