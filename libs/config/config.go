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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
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

// Decode is Load for a document already in memory.
func Decode(doc []byte, dst any) (digest string, err error) {
	expanded := Expand(doc)
	sum := sha256.Sum256(expanded)
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("config: %w", err)
	}
	return hex.EncodeToString(sum[:]), nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// Expand replaces ${VAR} with the variable's value and ${VAR:-def} with the
// value or, when it is unset or empty, def.
func Expand(doc []byte) []byte {
	return envRef.ReplaceAllFunc(doc, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		if v := os.Getenv(string(sub[1])); v != "" {
			return []byte(v)
		}
		return sub[3]
	})
}

// Duration is a time.Duration written as "250ms", "5s" or "1m" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use 500ms, 5s, 1m)", n.Line, n.Value)
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
		return fmt.Errorf("line %d: %w", n.Line, err)
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

// Prefix returns err with its key placed under prefix ("kafka" + "brokers"
// → "kafka.brokers"); other errors are wrapped as "prefix: err".
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Key: prefix + "." + fe.Key, Msg: fe.Msg}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// Validator is a configuration that checks itself.
type Validator interface{ Validate() error }

// LoadValidated reads file over the defaults in def, validates the result
// and returns it with its digest: the one way every service loads its file.
func LoadValidated[T Validator](file string, def T) (T, string, error) {
	digest, err := Load(file, &def)
	if err != nil {
		return def, "", err
	}
	return def, digest, def.Validate()
}

// DecodeValidated is LoadValidated for a document in memory.
func DecodeValidated[T Validator](doc []byte, def T) (T, string, error) {
	digest, err := Decode(doc, &def)
	if err != nil {
		return def, "", err
	}
	return def, digest, def.Validate()
}
