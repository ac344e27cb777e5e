package bulk

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/tlsconfig"
)

// Doc is one document to index. Source is its final JSON _source, sent as
// it is (a source holding newlines is compacted onto one line). ID should be
// deterministic so a replay is answered Exists; an empty ID lets the server
// pick one, which forfeits that protection.
type Doc struct {
	Index  string
	ID     string
	Source []byte
}

// FilterPath is the filter_path the client asks for when Config.FilterPath
// is set: the errors flag and each item's status and error.
const FilterPath = "errors,items.*.status,items.*.error.type,items.*.error.reason," +
	"items.*.error.caused_by.type,items.*.error.caused_by.reason"

// maxResponseBytes bounds a response body read into memory.
const maxResponseBytes = 64 << 20

// Host failover: a node whose connection failed is skipped for
// deadMin·2^(failures-1), at most deadMax.
const (
	deadMin = time.Second
	deadMax = time.Minute
)

// Client sends bulk requests. It is safe for concurrent use.
type Client struct {
	cfg          Config
	hc           *http.Client
	hosts        []*host
	next         atomic.Uint32
	auth         string
	checkProduct bool
	limiter      *Limiter
	observer     func(RequestInfo)
}

type host struct {
	base      string // URL without a trailing slash
	bulk      string // bulk endpoint with query
	deadUntil atomic.Int64
	fails     atomic.Int32
}

// RequestInfo describes one bulk request, for metrics and logs.
type RequestInfo struct {
	Host string
	// Docs is the number of documents sent; Bytes the body size on the wire.
	Docs, Bytes int
	// Status is the HTTP status, 0 when no response arrived.
	Status  int
	Latency time.Duration
	// Err is the whole-request failure, nil when items were answered.
	Err error
	// Item outcomes, when Err is nil.
	Created, Exists, Retryable, Permanent int
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of the client New builds
// from the TLS settings of Config. Config.Timeout still bounds each request.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLimiter makes each Send hold a slot of l while its request is in
// flight and report latency and overload (429s) to it. Default: no limit.
func WithLimiter(l *Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithObserver calls f after every bulk request, on the sending goroutine.
func WithObserver(f func(RequestInfo)) Option { return func(c *Client) { c.observer = f } }

// New returns a client for cfg (start from DefaultConfig; zero durations
// take their defaults). It does not contact the server; call Ping.
func New(cfg Config, opts ...Option) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, checkProduct: cfg.Flavor == FlavorElasticsearch}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		tr, err := newTransport(cfg)
		if err != nil {
			return nil, err
		}
		c.hc = &http.Client{Transport: tr}
	}
	switch {
	case cfg.Username != "":
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	case cfg.APIKey != "":
		c.auth = "ApiKey " + cfg.APIKey
	case cfg.BearerToken != "":
		c.auth = "Bearer " + cfg.BearerToken
	}
	query := ""
	if cfg.FilterPath {
		query = "?filter_path=" + FilterPath
	}
	for _, u := range cfg.URLs {
		base := strings.TrimRight(u, "/")
		c.hosts = append(c.hosts, &host{base: base, bulk: base + "/_bulk" + query})
	}
	return c, nil
}

func newTransport(cfg Config) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	tr.IdleConnTimeout = 90 * time.Second
	dial := (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return bodyConn{conn}, nil
	}
	tr.TLSHandshakeTimeout = 10 * time.Second
	// Elasticsearch speaks HTTP/1.1; a connection per in-flight request.
	tr.ForceAttemptHTTP2 = false
	if cfg.CACertFile != "" || cfg.InsecureSkipVerify {
		tc, err := tlsconfig.Client{CAFile: cfg.CACertFile, InsecureSkipVerify: cfg.InsecureSkipVerify}.Config()
		if err != nil {
			return nil, config.Errorf(keyPrefix+"ca_file", "%v", err)
		}
		tr.TLSClientConfig = tc
	}
	return tr, nil
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// pickHost returns the next node in turn that is not marked dead, or the
// one that will recover soonest when all are.
func (c *Client) pickHost() *host {
	n := len(c.hosts)
	if n == 1 {
		return c.hosts[0]
	}
	start := int(c.next.Add(1) - 1)
	now := time.Now().UnixNano()
	var best *host
	var bestUntil int64
	for i := range n {
		h := c.hosts[(start+i)%n]
		du := h.deadUntil.Load()
		if du <= now {
			return h
		}
		if best == nil || du < bestUntil {
			best, bestUntil = h, du
		}
	}
	return best
}

func (h *host) markDead() {
	f := h.fails.Add(1)
	d := deadMax
	if f <= 7 {
		d = min(deadMin<<(f-1), deadMax)
	}
	h.deadUntil.Store(time.Now().Add(d).UnixNano())
}

func (h *host) markAlive() {
	if h.fails.Load() != 0 {
		h.fails.Store(0)
		h.deadUntil.Store(0)
	}
}

func (c *Client) setHeaders(req *http.Request, contentType string) {
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sluice-indexer")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
}

// Send sends docs as exactly one bulk request (none when every document is
// refused locally) and returns one Result per document, in order. Documents
// that cannot be sent (see ErrorTypeInvalidDocument) are answered Permanent
// without reaching the server. A whole-request failure returns nil results
// and a *RequestError matching ErrRetryable or ErrPermanent.
func (c *Client) Send(ctx context.Context, docs []Doc) ([]Result, error) {
	results := make([]Result, len(docs))
	if c.limiter != nil && len(docs) > 0 {
		// Take the slot before building the body, so requests waiting for
		// a slot hold no body: memory follows the limit, not the queue.
		if err := c.limiter.Acquire(ctx); err != nil {
			return nil, &RequestError{Host: c.hosts[0].base, Reason: "waiting for a request slot", Err: err, kind: ErrRetryable}
		}
	}
	size := bodySize(docs)
	buf := getBuffer(size)
	// Grown once to the body's size: appending into the 64 KiB a new pooled
	// buffer starts with would copy a 5 MiB body seven times over and leave
	// each smaller array as garbage.
	buf.b = slices.Grow(buf.b, size)
	var idx []int // positions of the documents sent, when some were refused
	for i := range docs {
		var why string
		buf.b, why = appendDoc(buf.b, &docs[i])
		if why != "" {
			results[i] = Result{Outcome: Permanent, ErrorType: ErrorTypeInvalidDocument, Reason: why}
			if idx == nil {
				idx = make([]int, i, len(docs))
				for j := range idx {
					idx[j] = j
				}
			}
			continue
		}
		if idx != nil {
			idx = append(idx, i)
		}
	}
	if idx != nil && len(idx) == 0 || len(docs) == 0 {
		putBuffer(buf)
		if c.limiter != nil && len(docs) > 0 {
			c.limiter.giveBack()
		}
		return results, nil
	}
	sub := results
	if idx != nil {
		sub = make([]Result, len(idx))
	}
	if err := c.do(ctx, buf, sub); err != nil {
		return nil, err
	}
	for k, i := range idx {
		results[i] = sub[k]
	}
	return results, nil
}

// do sends the body in buf (and takes it over) and parses the answer into
// out. The caller holds a limiter slot, which do releases.
func (c *Client) do(ctx context.Context, buf *buffer, out []Result) (err error) {
	payload := buf
	if c.cfg.Gzip {
		payload = gzipBuffer(buf.b)
		putBuffer(buf)
	}
	h := c.pickHost()
	info := RequestInfo{Host: h.base, Docs: len(out), Bytes: len(payload.b)}
	start := time.Now()
	defer func() {
		info.Latency = time.Since(start)
		info.Err = err
		if c.limiter != nil {
			c.limiter.Release(info.Latency, info.Status == http.StatusTooManyRequests || info.Retryable > 0)
		}
		if c.observer != nil {
			c.observer(info)
		}
	}()

	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body := newReqBody(payload)
	defer body.release()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, h.bulk, nil)
	if err != nil {
		return &RequestError{Host: h.base, Err: err, kind: ErrPermanent}
	}
	req.Body = body
	req.ContentLength = int64(len(payload.b))
	c.setHeaders(req, "application/x-ndjson")
	if c.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			h.markDead()
		}
		return &RequestError{Host: h.base, Err: err, kind: ErrRetryable}
	}
	defer resp.Body.Close()
	info.Status = resp.StatusCode
	rbuf := getBuffer(0)
	defer putBuffer(rbuf)
	rbuf.b, err = readBody(resp.Body, rbuf.b, maxResponseBytes)
	if err != nil {
		return &RequestError{Host: h.base, Status: resp.StatusCode, Reason: "reading the response", Err: err, kind: ErrRetryable}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		typ, reason := parseErrorBody(rbuf.b)
		re := &RequestError{Host: h.base, Status: resp.StatusCode, Type: typ, Reason: reason, kind: statusKind(resp.StatusCode)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			re.RetryAfter = time.Duration(s) * time.Second
		}
		return re
	}
	if c.checkProduct && resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return &RequestError{Host: h.base, Status: resp.StatusCode, kind: ErrProduct,
			Reason: "the answer has no X-Elastic-Product: Elasticsearch header; for OpenSearch set indexer.elasticsearch.flavor: opensearch"}
	}
	if err := parseResponse(rbuf.b, out); err != nil {
		return &RequestError{Host: h.base, Status: resp.StatusCode, Err: err, kind: ErrRetryable}
	}
	h.markAlive()
	for i := range out {
		switch out[i].Outcome {
		case Created:
			info.Created++
		case Exists:
			info.Exists++
		case Retryable:
			info.Retryable++
		default:
			info.Permanent++
		}
	}
	return nil
}

// statusKind classifies a whole-request HTTP status.
func statusKind(status int) error {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return ErrRetryable
	case status == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	}
	return ErrPermanent
}

var errResponseTooLarge = fmt.Errorf("response larger than %d bytes", maxResponseBytes)

// readBody appends r to b, failing past limit bytes.
func readBody(r io.Reader, b []byte, limit int) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > limit {
			return b, errResponseTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// roundTrip sends a small request to each node in turn until one answers.
// When none does, the error says so; when every node failed the TLS
// certificate check, it matches ErrPermanent, since asking again cannot help.
func (c *Client) roundTrip(ctx context.Context, method, path string, body []byte) (*http.Response, []byte, *host, error) {
	var lastErr error
	certOnly := true // every node refused by the TLS certificate check
	for range c.hosts {
		h := c.pickHost()
		rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(rctx, method, h.base+path, rd)
		if err != nil {
			cancel()
			return nil, nil, h, err
		}
		c.setHeaders(req, "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return nil, nil, h, unreachable(fmt.Errorf("%s %s: %w", method, h.base+path, err))
			}
			h.markDead()
			certOnly = certOnly && certProblem(err)
			lastErr = fmt.Errorf("%s %s: %w", method, h.base+path, err)
			continue
		}
		data, err := readBody(resp.Body, nil, maxResponseBytes)
		resp.Body.Close()
		cancel()
		if err != nil {
			certOnly = false
			lastErr = fmt.Errorf("%s %s: reading the response: %w", method, h.base+path, err)
			continue
		}
		h.markAlive()
		return resp, data, h, nil
	}
	if certOnly {
		return nil, nil, nil, fmt.Errorf("the search engine's TLS certificate is not accepted "+
			"(set indexer.elasticsearch.ca_file to the CA that signed it, or use the host name it was issued for): %w: %w", lastErr, ErrPermanent)
	}
	return nil, nil, nil, unreachable(lastErr)
}

func unreachable(err error) error {
	return fmt.Errorf("search engine unreachable (check indexer.elasticsearch.urls): %w", err)
}

// certProblem reports whether err is a failed check of the server's TLS
// certificate: the node answered, but it cannot be trusted as configured.
// Waiting does not change that; the CA file or the URL's host name does.
func certProblem(err error) bool {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		name    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &name) || errors.As(err, &invalid)
}

// Ping checks that a node answers GET / and, for Elasticsearch, that it is
// Elasticsearch. The error says what to fix.
func (c *Client) Ping(ctx context.Context) error {
	resp, data, h, err := c.roundTrip(ctx, http.MethodGet, "/", nil)
	what := "GET /"
	if err == nil && resp.StatusCode == http.StatusMethodNotAllowed {
		// A node built without the rest-root module (Elasticsearch's minimal
		// integ-test distribution) serves no GET /; the cluster health
		// endpoint is core and answers with the same product header.
		what = "GET /_cluster/health"
		resp, data, h, err = c.roundTrip(ctx, http.MethodGet, "/_cluster/health", nil)
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return c.httpError(h, what, resp.StatusCode, data, "")
	}
	if c.checkProduct && resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		return fmt.Errorf("%s is not Elasticsearch (no X-Elastic-Product header); for OpenSearch set indexer.elasticsearch.flavor: opensearch: %w: %w", h.base, ErrProduct, ErrPermanent)
	}
	return nil
}

// EnsureTemplate installs (or replaces) the composable index template name
// with PUT _index_template/<name>. The error says what to fix.
func (c *Client) EnsureTemplate(ctx context.Context, name string, body []byte) error {
	if name == "" {
		return errors.New("index template: empty name")
	}
	path := "/_index_template/" + url.PathEscape(name)
	resp, data, h, err := c.roundTrip(ctx, http.MethodPut, path, body)
	if err != nil {
		return fmt.Errorf("index template %q: %w", name, err)
	}
	if resp.StatusCode/100 != 2 {
		hint := ""
		if resp.StatusCode == http.StatusBadRequest {
			hint = "the template body was rejected; fix the template or set indexer.elasticsearch.template: false and install one yourself"
		}
		return fmt.Errorf("index template %q: %w", name, c.httpError(h, "PUT "+path, resp.StatusCode, data, hint))
	}
	return nil
}

// EnsureILMPolicy installs (or replaces) the index lifecycle policy name
// with PUT _ilm/policy/<name> (Elasticsearch only). The error says what to
// fix.
func (c *Client) EnsureILMPolicy(ctx context.Context, name string, body []byte) error {
	if name == "" {
		return errors.New("ILM policy: empty name")
	}
	path := "/_ilm/policy/" + url.PathEscape(name)
	resp, data, h, err := c.roundTrip(ctx, http.MethodPut, path, body)
	if err != nil {
		return fmt.Errorf("ILM policy %q: %w", name, err)
	}
	if resp.StatusCode/100 != 2 {
		hint := ""
		switch resp.StatusCode {
		case http.StatusBadRequest:
			hint = "the policy was rejected; fix indexer.elasticsearch.ilm or leave ilm.policy empty and manage lifecycles yourself"
		case http.StatusNotFound:
			hint = "this cluster has no ILM API (OpenSearch uses ISM); leave indexer.elasticsearch.ilm.policy empty"
		case http.StatusForbidden:
			hint = "the user lacks the manage_ilm cluster privilege"
		}
		return fmt.Errorf("ILM policy %q: %w", name, c.httpError(h, "PUT "+path, resp.StatusCode, data, hint))
	}
	return nil
}

func (c *Client) httpError(h *host, what string, status int, data []byte, hint string) error {
	typ, reason := parseErrorBody(data)
	if hint == "" {
		switch status {
		case http.StatusUnauthorized:
			hint = "check indexer.elasticsearch.username/password, api_key or bearer_token"
		case http.StatusForbidden:
			hint = "the user lacks a privilege (indexing needs create_doc on the indices, templates need manage_index_templates)"
		case http.StatusNotFound:
			hint = "check the path in indexer.elasticsearch.urls"
		}
	}
	msg := fmt.Sprintf("%s%s: HTTP %d", h.base, what[strings.IndexByte(what, ' ')+1:], status)
	if typ != "" {
		msg += " " + typ
	}
	if reason != "" {
		msg += ": " + reason
	}
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return fmt.Errorf("%s: %w", msg, statusKind(status))
}
