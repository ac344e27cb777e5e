package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrNoISM says the cluster has no Index State Management API (an
// OpenSearch built without the index-management plugin).
var ErrNoISM = errors.New("the search engine has no ISM API (index-management plugin)")

// noHandler reports an answer for a path the engine does not serve at all,
// as opposed to a policy it does not have.
func noHandler(status int, data []byte) bool {
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
		return bytes.Contains(data, []byte("no handler found"))
	}
	return false
}

// EnsureISMPolicy installs the OpenSearch Index State Management policy
// name with PUT _plugins/_ism/policies/<name> when it does not exist yet.
// An existing policy is left as it is: ISM refuses a blind overwrite (it
// wants the policy's sequence number), and an operator may have tuned it;
// delete it to have the indexer install the current one. The error says
// what to fix.
func (c *Client) EnsureISMPolicy(ctx context.Context, name string, body []byte) error {
	if name == "" {
		return errors.New("ISM policy: empty name")
	}
	path := "/_plugins/_ism/policies/" + url.PathEscape(name)
	resp, data, h, err := c.roundTrip(ctx, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("ISM policy %q: %w", name, err)
	}
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case noHandler(resp.StatusCode, data):
		return fmt.Errorf("ISM policy %q: %w", name, ErrNoISM)
	case resp.StatusCode != http.StatusNotFound:
		return fmt.Errorf("ISM policy %q: %w", name, c.httpError(h, "GET "+path, resp.StatusCode, data, ""))
	}
	resp, data, h, err = c.roundTrip(ctx, http.MethodPut, path, body)
	if err != nil {
		return fmt.Errorf("ISM policy %q: %w", name, err)
	}
	if resp.StatusCode == http.StatusConflict {
		return nil // another replica installed it first
	}
	if noHandler(resp.StatusCode, data) {
		return fmt.Errorf("ISM policy %q: %w", name, ErrNoISM)
	}
	if resp.StatusCode/100 != 2 {
		hint := ""
		switch resp.StatusCode {
		case http.StatusBadRequest:
			hint = "the policy was rejected; fix indexer.elasticsearch.ilm or leave ilm.policy empty and manage retention yourself"
		case http.StatusForbidden:
			hint = "the user lacks the ISM permissions (cluster:admin/opendistro/ism/*)"
		}
		return fmt.Errorf("ISM policy %q: %w", name, c.httpError(h, "PUT "+path, resp.StatusCode, data, hint))
	}
	return nil
}
