package bulk

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestInfo: the version and build come from GET /, or from the local
// node's info where GET / is not served; a refusal or an answer without a
// version is permanent, an overloaded node is not.
func TestInfo(t *testing.T) {
	const (
		esRoot = `{"name":"n1","version":{"number":"8.19.21","build_flavor":"default","build_type":"docker"},"tagline":"You Know, for Search"}`
		osRoot = `{"name":"n1","version":{"distribution":"opensearch","number":"2.19.1","build_type":"tar"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`
		ossES  = `{"version":{"number":"7.10.2","build_flavor":"oss","build_type":"tar"}}`
		nodes  = `{"nodes":{"Yz5OHjSaTvONLKMoVguSxw":{"version":"8.19.21","build_flavor":"default","build_type":"zip"}}}`
		no405  = `{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`
	)
	type answer struct {
		status int
		body   string
	}
	tests := []struct {
		name      string
		root      answer
		nodes     answer
		want      Info
		permanent bool
		retryable bool
	}{
		{name: "elasticsearch", root: answer{200, esRoot}, want: Info{Version: "8.19.21", BuildFlavor: "default", BuildType: "docker"}},
		{name: "opensearch", root: answer{200, osRoot}, want: Info{Distribution: "opensearch", Version: "2.19.1", BuildType: "tar"}},
		{name: "elasticsearch oss", root: answer{200, ossES}, want: Info{Version: "7.10.2", BuildFlavor: "oss", BuildType: "tar"}},
		{name: "no root endpoint", root: answer{405, no405}, nodes: answer{200, nodes}, want: Info{Version: "8.19.21", BuildFlavor: "default", BuildType: "zip"}},
		{name: "no root endpoint, nodes refused", root: answer{405, no405}, nodes: answer{403, `{"error":{"type":"security_exception","reason":"action [cluster:monitor/nodes/info] is unauthorized"},"status":403}`}, permanent: true},
		{name: "no root endpoint, no node", root: answer{405, no405}, nodes: answer{200, `{}`}, permanent: true},
		{name: "refused", root: answer{403, `{"error":{"type":"security_exception","reason":"action [cluster:monitor/main] is unauthorized"},"status":403}`}, permanent: true},
		{name: "not json", root: answer{200, `<html>proxy</html>`}, permanent: true},
		{name: "no version", root: answer{200, `{"name":"n1"}`}, permanent: true},
		{name: "overloaded", root: answer{503, `{"error":"unavailable"}`}, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := answer{404, `{}`}
				switch {
				case r.Method != http.MethodGet:
					a = answer{405, `{}`}
				case r.URL.Path == "/":
					a = tt.root
				case r.URL.Path == "/_nodes/_local" && r.URL.Query().Get("filter_path") != "":
					a = tt.nodes
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(a.status)
				w.Write([]byte(a.body)) //nolint:errcheck
			}))
			defer srv.Close()
			c, err := New(testConfig(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Info(context.Background())
			if tt.permanent || tt.retryable {
				if err == nil {
					t.Fatalf("info %+v, want an error", got)
				}
				if errors.Is(err, ErrPermanent) != tt.permanent || errors.Is(err, ErrRetryable) != tt.retryable {
					t.Fatalf("info: %v; permanent %v, retryable %v, want %v, %v",
						err, errors.Is(err, ErrPermanent), errors.Is(err, ErrRetryable), tt.permanent, tt.retryable)
				}
				return
			}
			if err != nil {
				t.Fatalf("info: %v", err)
			}
			if got != tt.want {
				t.Fatalf("info %+v, want %+v", got, tt.want)
			}
		})
	}
}
