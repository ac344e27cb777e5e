package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Info is what the engine says of itself: enough to choose the mapping
// types it supports.
type Info struct {
	// Distribution is "opensearch" for OpenSearch, empty for Elasticsearch
	// (which does not name itself there).
	Distribution string
	// Version is the version number, e.g. "8.19.1" or "2.19.1".
	Version string
	// BuildFlavor is Elasticsearch's "default" or "oss" (7.x), empty when
	// the engine does not report it (OpenSearch).
	BuildFlavor string
	// BuildType is how it was packaged: "docker", "tar", "zip" (the
	// minimal integ-test distribution), ...
	BuildType string
}

// nodesInfoPath asks one node for its version, with only the fields Info
// reads; used when GET / is not served.
const nodesInfoPath = "/_nodes/_local?filter_path=nodes.*.version,nodes.*.build_flavor,nodes.*.build_type"

// Info asks the engine its version and build with GET /. A node built
// without the rest-root module (Elasticsearch's minimal integ-test
// distribution) answers GET / with 405; the local node's info, a core API
// that reports the same fields, is asked instead. Both need the cluster
// monitor privilege, which a tightly scoped indexer user may lack: callers
// should treat an error as "unknown engine", not as fatal. An answer that
// is refused (4xx) or says no version matches ErrPermanent; asking again
// will not change it.
func (c *Client) Info(ctx context.Context) (Info, error) {
	resp, data, h, err := c.roundTrip(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return Info{}, err
	}
	if resp.StatusCode == http.StatusMethodNotAllowed {
		return c.nodeInfo(ctx)
	}
	if resp.StatusCode != http.StatusOK {
		return Info{}, c.httpError(h, "GET /", resp.StatusCode, data, "")
	}
	var root struct {
		Version struct {
			Distribution string `json:"distribution"`
			Number       string `json:"number"`
			BuildFlavor  string `json:"build_flavor"`
			BuildType    string `json:"build_type"`
		} `json:"version"`
	}
	if err := json.Unmarshal(data, &root); err != nil {
		return Info{}, fmt.Errorf("GET / on %s: decoding the answer: %w: %w", h.base, err, ErrPermanent)
	}
	v := root.Version
	if v.Number == "" {
		return Info{}, fmt.Errorf("GET / on %s: no version.number in the answer: %w", h.base, ErrPermanent)
	}
	return Info{Distribution: v.Distribution, Version: v.Number, BuildFlavor: v.BuildFlavor, BuildType: v.BuildType}, nil
}

func (c *Client) nodeInfo(ctx context.Context) (Info, error) {
	what := "GET " + nodesInfoPath
	resp, data, h, err := c.roundTrip(ctx, http.MethodGet, nodesInfoPath, nil)
	if err != nil {
		return Info{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Info{}, c.httpError(h, what, resp.StatusCode, data, "")
	}
	var nodes struct {
		Nodes map[string]struct {
			Version     string `json:"version"`
			BuildFlavor string `json:"build_flavor"`
			BuildType   string `json:"build_type"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(data, &nodes); err != nil {
		return Info{}, fmt.Errorf("%s on %s: decoding the answer: %w: %w", what, h.base, err, ErrPermanent)
	}
	for _, n := range nodes.Nodes { // _local: one node
		if n.Version == "" {
			break
		}
		return Info{Version: n.Version, BuildFlavor: n.BuildFlavor, BuildType: n.BuildType}, nil
	}
	return Info{}, fmt.Errorf("%s on %s: no node version in the answer: %w", what, h.base, ErrPermanent)
}
