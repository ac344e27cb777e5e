package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SearchOptions say where to read documents from a search engine.
type SearchOptions struct {
	// URL of Elasticsearch or OpenSearch, e.g. http://localhost:9200.
	URL string
	// Index pattern; default "logs-*".
	Index string
	// Username and Password for basic authentication, or APIKey.
	Username, Password, APIKey string
	// PageSize is hits per request; default 5000.
	PageSize int
	// Client defaults to an http.Client with a 60 s timeout.
	Client *http.Client
	// Indexed is the time given to every document as its indexing time
	// (the engine does not keep one); zero leaves latencies out.
	Indexed time.Time
}

// Search reads every document of the index pattern with search_after
// pagination: in a point in time sorted by _shard_doc where the engine
// has one (Elasticsearch 7.10+ with the default distribution), else
// sorted by _id (OpenSearch, Elasticsearch OSS), which is consistent
// because a verification reads an index nobody writes to any more.
func Search(ctx context.Context, o SearchOptions) (docs []Doc, unparsed int64, err error) {
	if o.Index == "" {
		o.Index = "logs-*"
	}
	if o.PageSize == 0 {
		o.PageSize = 5000
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second}
	}
	s := &searcher{o: o, url: strings.TrimRight(o.URL, "/")}
	if _, err := s.do(ctx, "POST", "/"+o.Index+"/_refresh", nil); err != nil {
		return nil, 0, fmt.Errorf("refreshing %s: %w", o.Index, err)
	}
	pit := ""
	if body, err := s.do(ctx, "POST", "/"+o.Index+"/_pit?keep_alive=2m", nil); err == nil {
		var r struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &r) == nil {
			pit = r.ID
		}
	}
	if pit != "" {
		defer func() {
			b, _ := json.Marshal(map[string]string{"id": pit})
			_, _ = s.do(context.WithoutCancel(ctx), "DELETE", "/_pit", b)
		}()
	}
	var after []json.RawMessage
	for {
		req := map[string]any{
			"size":             o.PageSize,
			"_source":          []string{"url.original", "message", "event.created", "event.ingested"},
			"track_total_hits": false,
		}
		path := "/" + o.Index + "/_search"
		if pit != "" {
			req["pit"] = map[string]string{"id": pit, "keep_alive": "2m"}
			req["sort"] = []any{map[string]string{"_shard_doc": "asc"}}
			path = "/_search"
		} else {
			req["sort"] = []any{map[string]string{"_id": "asc"}}
		}
		if after != nil {
			req["search_after"] = after
		}
		b, _ := json.Marshal(req)
		body, err := s.do(ctx, "POST", path, b)
		if err != nil {
			return nil, 0, fmt.Errorf("searching %s: %w", o.Index, err)
		}
		var page struct {
			PitID string `json:"pit_id"`
			Hits  struct {
				Hits []struct {
					ID     string            `json:"_id"`
					Source json.RawMessage   `json:"_source"`
					Sort   []json.RawMessage `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, 0, fmt.Errorf("decoding search response: %w", err)
		}
		if pit != "" && page.PitID != "" {
			pit = page.PitID
		}
		hits := page.Hits.Hits
		if len(hits) == 0 {
			return docs, unparsed, nil
		}
		for _, h := range hits {
			d, ok, err := ParseSource(h.ID, h.Source)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				unparsed++
				continue
			}
			d.Indexed = o.Indexed
			docs = append(docs, d)
		}
		after = hits[len(hits)-1].Sort
	}
}

type searcher struct {
	o   SearchOptions
	url string
}

func (s *searcher) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case s.o.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+s.o.APIKey)
	case s.o.Username != "":
		req.SetBasicAuth(s.o.Username, s.o.Password)
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, b)
	}
	return b, nil
}
