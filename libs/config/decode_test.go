package config

import (
	"errors"
	"strings"
	"testing"
)

type nested struct {
	Kafka struct {
		Kafka `yaml:",inline"`
		Group string `yaml:"group"`
	} `yaml:"kafka"`
	Port     int               `yaml:"port"`
	Enabled  bool              `yaml:"enabled"`
	Interval Duration          `yaml:"interval"`
	Labels   map[string]string `yaml:"labels"`
	Rules    []struct {
		Name    string `yaml:"name"`
		Pattern string `yaml:"pattern"`
	} `yaml:"rules"`
}

func (n nested) Validate() error {
	var p Problems
	p.AddPrefixed("kafka", n.Kafka.Kafka.Validate())
	if n.Kafka.Group == "" {
		p.Addf("kafka.group", "required")
	}
	return p.Err()
}

// TestExpandScalarValues pins that a variable's value is taken as one
// string whatever it holds: YAML syntax inside a secret must neither end
// the value nor add keys.
func TestExpandScalarValues(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"hash", "pa#ss # not a comment"},
		{"colon space", "user: admin"},
		{"newline", "line one\nkafka:\n  group: evil"},
		{"quotes and braces", `"}{'[]`},
		{"yaml null", "null"},
		{"yaml bool", "true"},
		{"leading zero", "0123"},
		{"reference inside", "${SLUICE_TEST_OTHER}"},
	}
	t.Setenv("SLUICE_TEST_OTHER", "expanded twice")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLUICE_TEST_SECRET", tt.value)
			for _, doc := range []string{
				"kafka:\n  brokers: [k:9092]\n  group: g\n  sasl:\n    mechanism: plain\n    username: u\n    password: ${SLUICE_TEST_SECRET}\n",
				"kafka:\n  brokers: [k:9092]\n  group: g\n  sasl:\n    mechanism: plain\n    username: u\n    password: \"${SLUICE_TEST_SECRET}\"\n",
			} {
				var got nested
				if _, err := Decode([]byte(doc), &got); err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got.Kafka.SASL.Password != tt.value {
					t.Fatalf("password = %q, want %q", got.Kafka.SASL.Password, tt.value)
				}
				if got.Kafka.Group != "g" {
					t.Fatalf("group = %q: the value changed the document", got.Kafka.Group)
				}
			}
		})
	}
}

func TestExpandTypedValues(t *testing.T) {
	t.Setenv("SLUICE_TEST_PORT", "9092")
	t.Setenv("SLUICE_TEST_ON", "true")
	t.Setenv("SLUICE_TEST_EVERY", "250ms")
	doc := "port: ${SLUICE_TEST_PORT}\nenabled: ${SLUICE_TEST_ON}\ninterval: ${SLUICE_TEST_EVERY}\nlabels:\n  team: ${SLUICE_TEST_UNSET:-core}\n"
	var got nested
	if _, err := Decode([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	if got.Port != 9092 || !got.Enabled || got.Interval.D().Milliseconds() != 250 || got.Labels["team"] != "core" {
		t.Fatalf("got %+v", got)
	}
}

func TestDigestFollowsExpandedValues(t *testing.T) {
	doc := []byte("kafka:\n  group: ${SLUICE_TEST_GROUP}\n")
	t.Setenv("SLUICE_TEST_GROUP", "a")
	var v nested
	d1, err := Decode(doc, &v)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_TEST_GROUP", "b")
	d2, _ := Decode(doc, &v)
	if d1 == d2 {
		t.Fatal("digest did not change with the variable's value")
	}
}

// TestEveryErrorNamed checks that one decode reports every problem, each
// with its key path, sorted by key.
func TestEveryErrorNamed(t *testing.T) {
	doc := `kafka:
  brokers: [k:9092]
  gruop: g
  sasl:
    mechansim: plain
port: many
interval: soon
rules:
  - name: a
    patern: x
colour: blue
`
	_, _, err := DecodeValidated([]byte(doc), nested{})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %T %v, want Errors", err, err)
	}
	want := []string{
		`colour: unknown field "colour"`,
		`interval: "soon" is not a duration (use 500ms, 5s, 1m)`,
		`kafka.group: required`,
		`kafka.gruop: unknown field "gruop" (did you mean "group"?)`,
		`kafka.sasl.mechansim: unknown field "mechansim" (did you mean "mechanism"?)`,
		"port: cannot unmarshal !!str `many` into int",
		`rules[0].patern: unknown field "patern" (did you mean "pattern"?)`,
	}
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidationSkipsKeysThatFailedToDecode(t *testing.T) {
	// kafka is a string, not a section: one decode error, and no
	// "kafka.brokers: at least one broker" or "kafka.group: required" about
	// the keys inside it.
	_, _, err := DecodeValidated([]byte("port: 1\nkafka: k:9092\n"), nested{})
	if n := len(List(err)); n != 1 || !strings.HasPrefix(err.Error(), "kafka: ") {
		t.Fatalf("got %d errors: %v", n, err)
	}
}

func TestSyntaxErrorIsOneError(t *testing.T) {
	_, err := Decode([]byte("kafka: [unclosed\n"), &nested{})
	if err == nil || !strings.Contains(err.Error(), "line") {
		t.Fatalf("err = %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"brokers", "client_id", "group", "sasl", "tls", "topic"}
	for key, want := range map[string]string{"gruop": "group", "broker": "brokers", "tpoic": "topic", "zzzzzz": "", "x": "tls"[:0]} {
		if got := suggest(key, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("kafka:\n  brokers: [a:1]\n  group: ${X:-y}\nport: 1\n"))
	f.Add([]byte("rules: [{name: a, patern: b}]\n<<: {port: 2}\n"))
	f.Add([]byte("a: &x {port: 1}\nb: *x\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v nested
		_, _ = Decode(doc, &v) // must not panic
	})
}

func TestStringList(t *testing.T) {
	t.Setenv("SLUICE_TEST_BROKERS", "a:9092, b:9092")
	tests := []struct {
		doc  string
		want []string
		err  string
	}{
		{doc: "brokers: [x:1, y:2]", want: []string{"x:1", "y:2"}},
		{doc: "brokers: ${SLUICE_TEST_BROKERS}", want: []string{"a:9092", "b:9092"}},
		{doc: "brokers: ${SLUICE_TEST_UNSET:-kafka:9092}", want: []string{"kafka:9092"}},
		{doc: "brokers: [\"${SLUICE_TEST_UNSET:-k:1}\", z:3]", want: []string{"k:1", "z:3"}},
		{doc: "brokers: {a: b}", err: "brokers: want a list"},
	}
	for _, tt := range tests {
		var k Kafka
		_, err := Decode([]byte(tt.doc), &k)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.doc, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(k.Brokers, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, %v; want %q", tt.doc, k.Brokers, err, tt.want)
		}
	}
}
