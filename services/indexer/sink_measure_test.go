package indexer

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

func TestDocTimes(t *testing.T) {
	ts := "2026-12-04T10:00:00.123Z"
	in := "2026-12-04T10:00:01.5Z"
	tests := []struct {
		name, doc   string
		event, read string
	}{
		{"nested", `{"@timestamp":"` + ts + `","message":"x","event":{"ingested":"` + in + `"}}`, ts, in},
		{"dotted", `{"event.ingested":"` + in + `","@timestamp":"` + ts + `"}`, ts, in},
		{"no times", `{"message":"@timestamp"}`, "", ""},
		{"bad time", `{"@timestamp":"yesterday"}`, "", ""},
		{"unterminated", `{"@timestamp":"2026`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, rd := docTimes([]byte(tt.doc))
			if got := fmtTime(ev); got != tt.event {
				t.Errorf("event = %q, want %q", got, tt.event)
			}
			if got := fmtTime(rd); got != tt.read {
				t.Errorf("read = %q, want %q", got, tt.read)
			}
		})
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

type fixedSink []bulk.Result

func (f fixedSink) Index(context.Context, []bulk.Doc) []bulk.Result { return f }

func TestMeasuredSink(t *testing.T) {
	tel, err := telemetry.New("indexer")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc := []byte(`{"@timestamp":"` + now.Add(-3*time.Second).Format(time.RFC3339Nano) + `","event":{"ingested":"` + now.Add(-time.Second).Format(time.RFC3339Nano) + `"}}`)
	docs := []bulk.Doc{{Source: doc}, {Source: doc}, {Source: doc}}
	m := Measure(fixedSink{{Outcome: bulk.Created}, {Outcome: bulk.Exists}, {Outcome: bulk.Created}})
	m.Index(context.Background(), docs) // before Attach: forwards only
	m.Attach(tel)
	m.Index(context.Background(), docs)
	mfs := telemetrytest.Scrape(t, tel.Handler())
	if v, _ := telemetrytest.Value(mfs, "sluice_indexer_pipeline_delay_seconds", nil); v != 2 {
		t.Errorf("pipeline delays recorded = %v, want 2 (created only, after Attach)", v)
	}
	if v, _ := telemetrytest.Value(mfs, "sluice_indexer_bulk_request_duration_seconds", map[string]string{"outcome": "ok"}); v != 1 {
		t.Errorf("bulk requests recorded = %v, want 1 ok", v)
	}
}
