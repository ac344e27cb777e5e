package realinfra

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Documents returns every document of a small test index by _id, after a
// refresh, or nil while the index does not exist yet or its shard has not
// started. user and password are used for basic auth when user is set.
func Documents(tb testing.TB, url, index, user, password string) map[string]json.RawMessage {
	tb.Helper()
	do := func(method, path, body string) (int, []byte) {
		req, err := http.NewRequest(method, url+path, strings.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	do(http.MethodPost, "/"+index+"/_refresh", "")
	status, body := do(http.MethodPost, "/"+index+"/_search?size=10000", `{"query":{"match_all":{}}}`)
	if status == http.StatusNotFound || status == http.StatusServiceUnavailable {
		return nil
	}
	if status != http.StatusOK {
		tb.Fatalf("search %s: %d: %s", index, status, body)
	}
	var r struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		tb.Fatal(fmt.Errorf("search response: %w", err))
	}
	docs := make(map[string]json.RawMessage, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		docs[h.ID] = h.Source
	}
	return docs
}
