package bulk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPingWithoutRootEndpoint: a node built without the rest-root module
// (Elasticsearch's minimal integ-test distribution) answers GET / with 405;
// the ping then asks /_cluster/health, and still checks the product header
// and the status there.
func TestPingWithoutRootEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		product    string
		health     int
		wantErr    string
		wantHealth bool
	}{
		{name: "elasticsearch", product: "Elasticsearch", health: http.StatusOK, wantHealth: true},
		{name: "not elasticsearch", product: "", health: http.StatusOK, wantErr: "X-Elastic-Product", wantHealth: true},
		{name: "health refused", product: "Elasticsearch", health: http.StatusUnauthorized, wantErr: "/_cluster/health: HTTP 401", wantHealth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := false
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.product != "" {
					w.Header().Set("X-Elastic-Product", tt.product)
				}
				switch r.URL.Path {
				case "/":
					w.Header().Set("Allow", "DELETE")
					w.WriteHeader(http.StatusMethodNotAllowed)
					w.Write([]byte(`{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`)) //nolint:errcheck
				case "/_cluster/health":
					w.WriteHeader(tt.health)
					w.Write([]byte(`{"status":"yellow"}`)) //nolint:errcheck
					asked = true
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			}))
			defer srv.Close()
			c, err := New(testConfig(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Ping(context.Background())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("ping: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ping: %v, want an error naming %q", err, tt.wantErr)
			}
			if asked != tt.wantHealth {
				t.Fatalf("asked /_cluster/health: %v, want %v", asked, tt.wantHealth)
			}
		})
	}
}
