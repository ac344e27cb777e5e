package fluentbitconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []Section
	}{
		{"empty", "", nil},
		{"comments and blanks only", "# a comment\n\n   \n\t# indented comment\n", nil},
		{
			name: "sections and properties",
			conf: "[SERVICE]\n    Flush 1\n\n[parser]\n    Name   json\n    Format json\n",
			want: []Section{
				{Name: "SERVICE", Line: 1, Properties: []Property{{Key: "Flush", Lower: "flush", Raw: "1", Value: "1", Line: 2}}},
				{Name: "PARSER", Line: 4, Properties: []Property{
					{Key: "Name", Lower: "name", Raw: "json", Value: "json", Line: 5},
					{Key: "Format", Lower: "format", Raw: "json", Value: "json", Line: 6},
				}},
			},
		},
		{
			name: "header name trimmed and upper-cased",
			conf: "  [ Multiline_Parser ]  \n",
			want: []Section{{Name: "MULTILINE_PARSER", Line: 1}},
		},
		{
			name: "empty section name",
			conf: "[]\n k v\n",
			want: []Section{{Name: "", Line: 1, Properties: []Property{{Key: "k", Lower: "k", Raw: "v", Value: "v", Line: 2}}}},
		},
		{
			name: "tab separates key from value",
			conf: "[P]\n\tRegex\t^(?<a> b)$ \n",
			want: []Section{{Name: "P", Line: 1, Properties: []Property{{Key: "Regex", Lower: "regex", Raw: "^(?<a> b)$", Value: "^(?<a> b)$", Line: 2}}}},
		},
		{
			name: "first blank wins whether space or tab",
			conf: "[P]\n a\tb c\n d e\tf\n",
			want: []Section{{Name: "P", Line: 1, Properties: []Property{
				{Key: "a", Lower: "a", Raw: "b c", Value: "b c", Line: 2},
				{Key: "d", Lower: "d", Raw: "e\tf", Value: "e\tf", Line: 3},
			}}},
		},
		{
			name: "key without value is kept with an empty value",
			conf: "[P]\n Name\n",
			want: []Section{{Name: "P", Line: 1, Properties: []Property{{Key: "Name", Lower: "name", Raw: "", Value: "", Line: 2}}}},
		},
		{
			name: "repeated keys keep file order",
			conf: "[MULTILINE_PARSER]\n rule a\n RULE b\n",
			want: []Section{{Name: "MULTILINE_PARSER", Line: 1, Properties: []Property{
				{Key: "rule", Lower: "rule", Raw: "a", Value: "a", Line: 2},
				{Key: "RULE", Lower: "rule", Raw: "b", Value: "b", Line: 3},
			}}},
		},
		{
			name: "@SET expands later values only",
			conf: "[P]\n a ${x}\n@set x = 1 \n b ${x}-${x}\n c ${y} ${x\n",
			want: []Section{{Name: "P", Line: 1, Properties: []Property{
				{Key: "a", Lower: "a", Raw: "${x}", Value: "${x}", Line: 2},
				{Key: "b", Lower: "b", Raw: "${x}-${x}", Value: "1-1", Line: 4},
				{Key: "c", Lower: "c", Raw: "${y} ${x", Value: "${y} ${x", Line: 5},
			}}},
		},
		{
			name: "@SET value may hold = and is not expanded twice",
			conf: "@SET a=${b}\n@SET b=k=v\n[P]\n p ${a}|${b}\n",
			want: []Section{{Name: "P", Line: 3, Properties: []Property{{Key: "p", Lower: "p", Raw: "${a}|${b}", Value: "${b}|k=v", Line: 4}}}},
		},
		{
			name: "later @SET overrides",
			conf: "@SET a=1\n[P]\n p ${a}\n@SET a=2\n q ${a}\n",
			want: []Section{{Name: "P", Line: 2, Properties: []Property{
				{Key: "p", Lower: "p", Raw: "${a}", Value: "1", Line: 3},
				{Key: "q", Lower: "q", Raw: "${a}", Value: "2", Line: 5},
			}}},
		},
		{
			name: "variable set to nothing leaves Raw written",
			conf: "@SET e=\n[P]\n k ${e}\n",
			want: []Section{{Name: "P", Line: 2, Properties: []Property{{Key: "k", Lower: "k", Raw: "${e}", Value: "", Line: 3}}}},
		},
		{
			name: "CRLF line endings",
			conf: "[P]\r\n Name x\r\n",
			want: []Section{{Name: "P", Line: 1, Properties: []Property{{Key: "Name", Lower: "name", Raw: "x", Value: "x", Line: 2}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.conf))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, conf string
		want       string // the whole message
		line       int
		include    bool
	}{
		{"@SET without =", "@SET x\n", "line 1: @SET needs name=value", 1, false},
		{"@INCLUDE", "[P]\n a b\n@INCLUDE  other.conf \n", "line 3: @INCLUDE other.conf cannot be followed when reading a single file", 3, true},
		{"@include lower-case", "@include x.conf\n", "line 1: @INCLUDE x.conf cannot be followed when reading a single file", 1, true},
		{"unknown command", "\n@FOO bar\n", "line 2: unknown command @FOO", 2, false},
		{"command ends at a space, not a tab", "@SET\tx=1\n", "line 1: unknown command @SET\tx=1", 1, false},
		{"malformed header", "[P]\n[PARSER\n", `line 2: malformed section header "[PARSER"`, 2, false},
		{"property before any section", "# c\nName x\n[P]\n", "line 2: property outside a section", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.conf))
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("err = %q, want %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line != tc.line {
				t.Errorf("err = %#v, want *Error at line %d", err, tc.line)
			}
			if errors.Is(err, ErrInclude) != tc.include {
				t.Errorf("errors.Is(err, ErrInclude) = %v, want %v", !tc.include, tc.include)
			}
		})
	}
}

func TestParseErrorKeepsEarlierSections(t *testing.T) {
	const conf = "[A]\n a 1\n[B]\n b 2\n@INCLUDE x.conf\n c 3\n[C]\n"
	got, err := Parse(strings.NewReader(conf))
	if !errors.Is(err, ErrInclude) {
		t.Fatalf("err = %v, want ErrInclude", err)
	}
	want := []Section{
		{Name: "A", Line: 1, Properties: []Property{{Key: "a", Lower: "a", Raw: "1", Value: "1", Line: 2}}},
		{Name: "B", Line: 3, Properties: []Property{{Key: "b", Lower: "b", Raw: "2", Value: "2", Line: 4}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "reading: ") {
		t.Fatalf("err = %v, want reading: %v", err, boom)
	}
	long := "[P]\n k " + strings.Repeat("x", MaxLineBytes) + "\n"
	if _, err := Parse(strings.NewReader(long)); err == nil || !strings.HasPrefix(err.Error(), "reading: ") {
		t.Fatalf("line over MaxLineBytes: err = %v", err)
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{``, nil, false},
		{`"a" "b c" d`, []string{"a", "b c", "d"}, false},
		{"'x'\t\"y\"  z ", []string{"x", "y", "z"}, false},
		{`"start_state, cont" "/^\s+at/" "cont"`, []string{"start_state, cont", `/^\s+at/`, "cont"}, false},
		{`"it's" ''`, []string{"it's", ""}, false},
		{`a"b c`, []string{`a"b`, "c"}, false},
		{`"a" "b`, nil, true},
	}
	for _, tc := range tests {
		got, err := Fields(tc.in)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Fields(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if tc.wantErr && !errors.Is(err, ErrUnterminatedQuote) {
			t.Errorf("Fields(%q) err = %v, want ErrUnterminatedQuote", tc.in, err)
		}
	}
}
