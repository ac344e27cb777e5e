package rules

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/record"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// TestMalformedLineTimestamp pins the dating of lines the shipper could
// not decode: the runtime's time when it could still be read, otherwise
// the ingest time, with a tag saying which; never 1970-01-01.
func TestMalformedLineTimestamp(t *testing.T) {
	runtime := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ingest := time.Date(2026, 12, 4, 10, 0, 2, 0, time.UTC)
	tests := []struct {
		name     string
		line     string
		rt, it   time.Time
		flags    []string
		wantTS   time.Time // zero: no @timestamp
		wantTag  string    // "": no timestamp tag
		wantIdx  string
		noOrigin bool
	}{
		{"well-formed line", "GET /", runtime, ingest, nil, runtime, "", "logs-2026.12.04", false},
		{"unknown stream, runtime time kept", "2026-12-04T10:00:00Z stdweird F x", runtime, ingest, []string{"malformed"}, runtime, TagTimestampFromRuntime, "logs-2026.12.04", false},
		{"not CRI: ingest time", "panic: runtime error", time.Time{}, ingest, []string{"malformed"}, ingest, TagTimestampFromIngest, "logs-2026.12.04", false},
		{"bad time: ingest time", "2026-13-04T10:00:00Z stdout F x", time.Time{}, ingest, []string{"malformed"}, ingest, TagTimestampFromIngest, "logs-2026.12.04", false},
		{"overlong malformed: ingest time", "{\"log\":\"xx", time.Time{}, ingest, []string{"overlong", "malformed"}, ingest, TagTimestampFromIngest, "logs-2026.12.04", false},
		{"no time at all", "x", time.Time{}, time.Time{}, nil, time.Time{}, TagTimestampMissing, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := raw(tt.line)
			rec.TimeUnixNano, rec.IngestTimeUnixNano, rec.Flags = 0, 0, tt.flags
			if !tt.rt.IsZero() {
				rec.TimeUnixNano = tt.rt.UnixNano()
			}
			if !tt.it.IsZero() {
				rec.IngestTimeUnixNano = tt.it.UnixNano()
			}
			m, idx, err := apply(t, []config.Rule{{Name: "none", Builtin: "none"}}, rec)
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := m["@timestamp"].(string)
			if tt.wantTS.IsZero() {
				if ts != "" {
					t.Fatalf("@timestamp = %q, want none", ts)
				}
			} else {
				got, err := time.Parse(time.RFC3339Nano, ts)
				if err != nil || !got.Equal(tt.wantTS) {
					t.Fatalf("@timestamp = %q, want %v", ts, tt.wantTS)
				}
				if created := get(m, "event.created"); created != ts {
					t.Fatalf("event.created = %v, want %q", created, ts)
				}
				if got.Year() == 1970 {
					t.Fatal("dated 1970")
				}
			}
			var tags []string
			for _, v := range asSlice(m["tags"]) {
				tags = append(tags, v.(string))
			}
			for _, f := range tt.flags {
				if !slices.Contains(tags, f) {
					t.Errorf("tags %v lack the shipper's flag %q", tags, f)
				}
			}
			for _, tag := range []string{TagTimestampFromRuntime, TagTimestampFromIngest, TagTimestampMissing} {
				if slices.Contains(tags, tag) != (tag == tt.wantTag) {
					t.Errorf("tags = %v, want timestamp tag %q", tags, tt.wantTag)
				}
			}
			if !tt.noOrigin && idx != tt.wantIdx {
				t.Errorf("index = %q, want %q", idx, tt.wantIdx)
			}
			if idx == "logs-1970.01.01" {
				t.Errorf("index %q", idx)
			}
		})
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TestIndexIsAFunctionOfTheRecord replays records (decodes the same bytes
// again, as after a crash or from the dead-letter topic) and checks they
// get the same index and _id as the first time, and that the index is the
// pattern rendered on the record's own time even when a processor removed
// @timestamp, and not on the processing clock.
func TestIndexIsAFunctionOfTheRecord(t *testing.T) {
	origin := time.Date(2020, 12, 31, 23, 59, 0, 0, time.UTC) // ISO week 53 of 2020
	for _, tt := range []struct {
		name    string
		pattern string
		rules   []config.Rule
		rt, it  time.Time
	}{
		{"runtime time", "logs-%{+yyyy.MM.dd}", nil, origin, origin.Add(time.Hour)},
		{"weeks", "logs-%{+xxxx.ww}", nil, origin, origin.Add(time.Hour)},
		{"@timestamp removed", "logs-%{+yyyy.MM.dd.HH}", []config.Rule{{Name: "rm", Processors: []config.Processor{{Remove: []string{"@timestamp"}}}}}, origin, origin.Add(time.Hour)},
		{"malformed, ingest time", "logs-%{+yyyy.MM.dd}", nil, time.Time{}, origin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(Options{Rules: tt.rules, Index: tt.pattern})
			if err != nil {
				t.Fatal(err)
			}
			rec := raw("line")
			rec.TimeUnixNano, rec.IngestTimeUnixNano = 0, tt.it.UnixNano()
			if !tt.rt.IsZero() {
				rec.TimeUnixNano = tt.rt.UnixNano()
			}
			b, err := proto.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			want := record.MustParseIndexPattern(tt.pattern).Name(origin)
			var first string
			for i := range 3 {
				var dc Decoder
				var got logsv1.RawRecord
				meta, err := dc.Decode(b, &got)
				if err != nil {
					t.Fatal(err)
				}
				var d document.Doc
				idx, err := e.ApplyMeta(e.Select(&got), &got, meta, &d)
				if err != nil {
					t.Fatal(err)
				}
				if _, has := d.Get("@timestamp"); has == (tt.rules != nil) {
					t.Fatalf("@timestamp present = %v, want %v", has, tt.rules == nil)
				}
				src, kube := got.GetSource(), got.GetKubernetes()
				id := string(record.AppendDocID(nil, src.GetNode(), kube.GetNamespace(), kube.GetPod(), kube.GetContainer(), src.GetFingerprint(), src.GetOffset()))
				if idx != want {
					t.Fatalf("replay %d: index %q, want %q (the record's time)", i, idx, want)
				}
				if i == 0 {
					first = id
				} else if id != first {
					t.Fatalf("replay %d: _id %q, first %q", i, id, first)
				}
			}
		})
	}
}

// TestIndexAllocs pins the parser's hot path: naming the index of a
// document in an hour already named allocates nothing.
func TestIndexAllocs(t *testing.T) {
	e, err := Compile(Options{Index: "logs-%{+xxxx.ww}"})
	if err != nil {
		t.Fatal(err)
	}
	rec := raw("x")
	var d document.Doc
	base(rec, &d, nil)
	want := e.Index(rec, &d)
	if n := testing.AllocsPerRun(100, func() {
		if e.Index(rec, &d) != want {
			t.Fatal("index changed")
		}
	}); n != 0 {
		t.Fatalf("Index: %v allocs, want 0", n)
	}
}
