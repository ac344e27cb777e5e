package indexer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
)

// TestDataStreamFields checks the hook in toDoc: in datastream mode every
// document reaches the engine carrying the stream it was written to, and
// in other modes the source is passed through as the parser wrote it.
func TestDataStreamFields(t *testing.T) {
	e := newEnv(t)
	e.cfg.Index = indexname.Config{Mode: indexname.ModeDataStream, Dataset: "k8s", Namespace: "test"}
	e.produce(0, 20, 200)
	e.start(e.cfg, nil)
	const stream = "logs-k8s-test"
	waitFor(t, 20*time.Second, func() bool { return len(e.es.Index(stream)) == 20 }, "20 documents in %s (indices %v)", stream, e.es.Indices())
	for id, src := range e.es.Index(stream) {
		var doc struct {
			DataStream struct{ Type, Dataset, Namespace string } `json:"data_stream"`
			Event      struct{ Dataset string }                  `json:"event"`
			EventDS    string                                    `json:"event.dataset"`
			Message    string                                    `json:"message"`
		}
		if err := json.Unmarshal(src, &doc); err != nil {
			t.Fatalf("%s: %v in %s", id, err, src)
		}
		ds := doc.Event.Dataset + doc.EventDS
		if doc.DataStream.Type != "logs" || doc.DataStream.Dataset != "k8s" || doc.DataStream.Namespace != "test" || ds != "k8s" || doc.Message == "" {
			t.Fatalf("%s: data stream fields %+v, event.dataset %q, message %q in %s", id, doc.DataStream, ds, doc.Message, src)
		}
	}
}
