package bulk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

// TestUsage shows how the indexer drives a Client and reads its results.
func TestUsage(t *testing.T) {
	var out strings.Builder
	srv := bulktest.New(t) // a real node in production
	srv.Seed("logs-2024.05.01", "node-1:inode-7:0", []byte(`{"message":"first"}`))

	cfg := bulk.DefaultConfig()
	cfg.URLs = []string{srv.URL()}
	c, err := bulk.New(cfg, bulk.WithLimiter(bulk.NewLimiter(1, 8)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	docs := []bulk.Doc{
		{Index: "logs-2024.05.01", ID: "node-1:inode-7:0", Source: []byte(`{"message":"first"}`)},
		{Index: "logs-2024.05.01", ID: "node-1:inode-7:20", Source: []byte(`{"message":"second"}`)},
		{Index: "logs-2024.05.01", ID: "node-1:inode-7:41", Source: []byte(`{"message":`)},
	}
	res, err := c.Send(ctx, docs)
	if err != nil {
		// The request failed as a whole: the caller retries (429, 5xx,
		// connection errors) or splits it (400, 413).
		t.Fatal(err)
	}
	for i, r := range res {
		switch {
		case r.OK(): // Created or Exists: the offset may be committed
			fmt.Fprintln(&out, i, r.Outcome)
		case r.Outcome == bulk.Permanent: // to the dead-letter topic, with the reason
			fmt.Fprintln(&out, i, r.Outcome, r.Status, r.ErrorType)
		default: // Retryable: send it again later; do not commit
			fmt.Fprintln(&out, i, r.Outcome)
		}
	}
	want := "0 exists\n1 created\n2 permanent 400 document_parsing_exception\n"
	if out.String() != want {
		t.Fatalf("got\n%swant\n%s", out.String(), want)
	}
}
