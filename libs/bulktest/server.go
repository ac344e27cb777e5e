package bulktest

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a test's bulk-API server. Its methods are safe for concurrent
// use, including while requests are being served.
type Server struct {
	tb  testing.TB
	srv *httptest.Server

	// Fixed at New.
	version    string
	openSearch bool
	auth       string // expected Authorization header; "" for none
	maxBody    int64
	useTLS     bool

	mu        sync.Mutex
	indices   map[string]map[string]json.RawMessage
	templates map[string]json.RawMessage
	policies  map[string]json.RawMessage // "ilm/<name>" or "ism/<name>"
	autoID    int64
	seqNo     int64
	caFile    string

	// Faults, under mu.
	failStatus int
	failLeft   int
	failUntil  time.Time
	itemStatus int
	itemLeft   int
	rejectFrac float64
	latency    time.Duration
	resetLeft  int
	resetStore bool
	discard    bool
	hook       Hook
	itemHook   ItemHook

	stats struct {
		requests, items, created, conflicts, rejected, mappingErrors, failed, resets atomic.Int64
	}
}

// Hook sees every bulk request after its body was read and the latency
// waited (body is the decompressed NDJSON, valid only during the call).
// Returning true means it wrote the response itself and the server does
// nothing more. It runs on the request's goroutine, concurrently with others.
type Hook func(w http.ResponseWriter, r *http.Request, body []byte) bool

// Item is one bulk action given to an ItemHook.
type Item struct {
	Action string // create, index or delete
	Index  string
	ID     string
	Source json.RawMessage
}

// ItemHook may answer an item itself: a non-zero status is returned for the
// item with the given error type and reason (for 2xx the document is not
// stored). Status 0 lets the server handle the item. It runs with the
// server's lock held (it must not call the Server's methods), and
// Item.Source is valid only during the call.
type ItemHook func(it Item) (status int, errType, reason string)

// Option configures a Server.
type Option func(*Server)

// WithDiscard starts the server in Discard mode (see SetDiscard).
func WithDiscard() Option { return func(s *Server) { s.discard = true } }

// WithLatency delays every bulk answer by d (see SetLatency).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithVersion sets the version number GET / reports. Default "8.15.0".
// Before 8.0 mapping errors are mapper_parsing_exception, from 8.0 on
// document_parsing_exception.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithOpenSearch makes the server answer like OpenSearch 2.x: no
// X-Elastic-Product header, distribution "opensearch", mapper_parsing_exception.
func WithOpenSearch() Option {
	return func(s *Server) { s.openSearch = true; s.version = "2.17.0" }
}

// WithBasicAuth requires HTTP basic authentication; others get 401.
func WithBasicAuth(user, password string) Option {
	return func(s *Server) {
		s.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
}

// WithAPIKey requires "Authorization: ApiKey <key>"; others get 401.
func WithAPIKey(key string) Option { return func(s *Server) { s.auth = "ApiKey " + key } }

// WithTLS serves https with a self-signed certificate; CACertFile returns it.
func WithTLS() Option { return func(s *Server) { s.useTLS = true } }

// WithMaxBodyBytes answers 413 to bulk bodies larger than n bytes
// (decompressed). Default 100 MiB, Elasticsearch's http.max_content_length.
func WithMaxBodyBytes(n int64) Option { return func(s *Server) { s.maxBody = n } }

// WithHook installs h (see SetHook).
func WithHook(h Hook) Option { return func(s *Server) { s.hook = h } }

// New starts a server, closed when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		version:   "8.15.0",
		maxBody:   100 << 20,
		indices:   map[string]map[string]json.RawMessage{},
		templates: map[string]json.RawMessage{},
		policies:  map[string]json.RawMessage{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if s.useTLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	tb.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server; requests in flight are cut off. Later requests
// fail to connect.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Client returns an http.Client that trusts the server (for WithTLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CACertFile writes the server's certificate as PEM into a temporary file
// and returns its path; "" without WithTLS.
func (s *Server) CACertFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.useTLS {
		return ""
	}
	if s.caFile == "" {
		p := filepath.Join(s.tb.TempDir(), "bulktest-ca.pem")
		cert := s.srv.Certificate()
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
			s.tb.Fatalf("bulktest: writing CA file: %v", err)
		}
		s.caFile = p
	}
	return s.caFile
}

// Stats counts what the server saw.
type Stats struct {
	// Requests is bulk requests received, including failed ones.
	Requests int
	// Items is bulk items answered (requests failed as a whole or reset
	// before being processed do not count).
	Items int
	// Created is documents stored (or, in Discard mode, accepted).
	Created int
	// Conflicts is 409 answers to create.
	Conflicts int
	// Rejected is items answered by the per-item fault (RejectItems).
	Rejected int
	// MappingErrors is items answered with a mapping error (RejectFraction
	// or a source that is not a JSON object).
	MappingErrors int
	// Failed is bulk requests failed as a whole (FailRequests,
	// FailRequestsFor, 413, validation errors).
	Failed int
	// Resets is connections reset (ResetConnections).
	Resets int
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:      int(s.stats.requests.Load()),
		Items:         int(s.stats.items.Load()),
		Created:       int(s.stats.created.Load()),
		Conflicts:     int(s.stats.conflicts.Load()),
		Rejected:      int(s.stats.rejected.Load()),
		MappingErrors: int(s.stats.mappingErrors.Load()),
		Failed:        int(s.stats.failed.Load()),
		Resets:        int(s.stats.resets.Load()),
	}
}

// Requests returns the number of bulk requests received.
func (s *Server) Requests() int { return int(s.stats.requests.Load()) }

// Items returns the number of bulk items answered.
func (s *Server) Items() int { return int(s.stats.items.Load()) }

// Count returns the number of documents stored in all indices; in Discard
// mode, the number accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discard {
		return int(s.stats.created.Load())
	}
	n := 0
	for _, idx := range s.indices {
		n += len(idx)
	}
	return n
}

// Docs returns a copy of every stored document by _id (an _id present in
// several indices appears once).
func (s *Server) Docs() map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]json.RawMessage{}
	for _, idx := range s.indices {
		for id, src := range idx {
			out[id] = src
		}
	}
	return out
}

// Index returns a copy of the documents of one index by _id.
func (s *Server) Index(name string) map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]json.RawMessage, len(s.indices[name]))
	for id, src := range s.indices[name] {
		out[id] = src
	}
	return out
}

// Indices returns the names of the indices holding documents.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, idx := range s.indices {
		if len(idx) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// Seed stores a document as if it had been indexed, so a create of the same
// (index, id) is answered 409.
func (s *Server) Seed(index, id string, src []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(index, id, src)
}

func (s *Server) store(index, id string, src []byte) bool {
	idx := s.indices[index]
	if idx == nil {
		idx = map[string]json.RawMessage{}
		s.indices[index] = idx
	}
	_, existed := idx[id]
	idx[id] = append(json.RawMessage(nil), src...)
	return existed
}

// Template returns the body of an installed index template, nil if none.
func (s *Server) Template(name string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.templates[name]
}

// FailRequests answers the next n bulk requests with status as a whole
// (429: es_rejected_execution_exception; other statuses a matching error).
func (s *Server) FailRequests(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failLeft = status, n
}

// FailRequestsFor answers every bulk request with status for d from now.
func (s *Server) FailRequestsFor(status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failUntil = status, time.Now().Add(d)
}

// RejectItems answers the next n bulk items with status
// (429: es_rejected_execution_exception, 503: unavailable_shards_exception,
// others a matching error); those documents are not stored.
func (s *Server) RejectItems(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemStatus, s.itemLeft = status, n
}

// RejectFraction answers create and index items whose _id hashes below
// fraction (see Rejects) with a 400 mapping error. 0 turns it off.
func (s *Server) RejectFraction(fraction float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectFrac = fraction
}

// Rejects reports whether RejectFraction(fraction) rejects id: whether the
// 64-bit FNV-1a hash of id, mixed by the MurmurHash3 finalizer, as a
// fraction of 2^64, is below fraction.
func Rejects(id string, fraction float64) bool {
	if fraction <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, id)
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return float64(x)/math.Exp2(64) < fraction
}

// SetLatency delays every bulk answer by d (after reading the body; the wait
// ends early if the client goes away).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ResetConnections makes the next n bulk requests end with a TCP reset after
// their body was read. With store the documents are processed (stored) first,
// as when Elasticsearch indexed a batch whose answer was lost.
func (s *Server) ResetConnections(n int, store bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLeft, s.resetStore = n, store
}

// SetDiscard switches Discard mode: items are parsed, counted and answered
// 201 but not stored, their sources not validated and no 409 given.
func (s *Server) SetDiscard(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = on
}

// SetHook installs a request hook (nil removes it).
func (s *Server) SetHook(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// SetItemHook installs an item hook (nil removes it).
func (s *Server) SetItemHook(h ItemHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemHook = h
}

// ClearFaults removes every fault, latency and hook; Discard mode stays.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failLeft, s.failUntil = 0, 0, time.Time{}
	s.itemStatus, s.itemLeft = 0, 0
	s.rejectFrac, s.latency = 0, 0
	s.resetLeft, s.resetStore = 0, false
	s.hook, s.itemHook = nil, nil
}

func (s *Server) major() int {
	n, _ := strconv.Atoi(strings.SplitN(s.version, ".", 2)[0])
	return n
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.openSearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	if s.auth != "" && r.Header.Get("Authorization") != s.auth {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, "security_exception", "missing authentication credentials for REST request ["+r.URL.Path+"]")
		return
	}
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	switch {
	case path == "":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" / is not allowed")
			return
		}
		s.serveInfo(w, r)
	case parts[0] == "_index_template" && len(parts) == 2:
		s.serveTemplate(w, r, parts[1])
	case !s.openSearch && len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		s.servePolicy(w, r, "ilm/"+parts[2], true)
	case s.openSearch && len(parts) == 4 && parts[0] == "_plugins" && parts[1] == "_ism" && parts[2] == "policies":
		s.servePolicy(w, r, "ism/"+parts[3], false)
	case parts[len(parts)-1] == "_bulk" && len(parts) <= 2:
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" /_bulk is not allowed")
			return
		}
		index := ""
		if len(parts) == 2 {
			index = parts[0]
		}
		s.serveBulk(w, r, index)
	case parts[len(parts)-1] == "_refresh" && len(parts) <= 2:
		writeJSON(w, http.StatusOK, `{"_shards":{"total":1,"successful":1,"failed":0}}`)
	case len(parts) == 2 && parts[1] == "_count":
		n := len(s.Index(parts[0]))
		writeJSON(w, http.StatusOK, `{"count":`+strconv.Itoa(n)+`,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}`)
	default:
		writeError(w, http.StatusNotFound, "bulktest_unsupported", "bulktest does not serve "+r.Method+" "+r.URL.Path)
	}
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	dist := ""
	if s.openSearch {
		dist = `"distribution":"opensearch",`
	}
	body := `{"name":"bulktest","cluster_name":"bulktest","cluster_uuid":"bulktest-cluster-uuid",` +
		`"version":{` + dist + `"number":"` + s.version + `","build_flavor":"default","build_type":"docker",` +
		`"build_hash":"0000000","build_date":"2024-01-01T00:00:00.000Z","build_snapshot":false,` +
		`"lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0",` +
		`"minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// Policy returns the lifecycle policy stored under name: "ilm/<name>" for
// an Elasticsearch ILM policy, "ism/<name>" for an OpenSearch ISM policy;
// nil when none was installed.
func (s *Server) Policy(name string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policies[name]
}

// servePolicy stores ILM (PUT replaces) and ISM (PUT of an existing
// policy without its sequence number is a 409, as in OpenSearch) policies.
func (s *Server) servePolicy(w http.ResponseWriter, r *http.Request, key string, replace bool) {
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody))
		if err != nil || !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "failed to parse policy")
			return
		}
		s.mu.Lock()
		_, exists := s.policies[key]
		if exists && !replace {
			s.mu.Unlock()
			writeError(w, http.StatusConflict, "version_conflict_engine_exception", "policy exists; seq_no and primary_term required")
			return
		}
		s.policies[key] = body
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, `{"acknowledged":true}`)
	case http.MethodGet:
		p := s.Policy(key)
		if p == nil {
			writeError(w, http.StatusNotFound, "resource_not_found_exception", "policy not found")
			return
		}
		writeJSON(w, http.StatusOK, string(p))
	default:
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed")
	}
}

func (s *Server) serveTemplate(w http.ResponseWriter, r *http.Request, name string) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", err.Error())
			return
		}
		var t map[string]json.RawMessage
		if err := json.Unmarshal(body, &t); err != nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "failed to parse index template: "+err.Error())
			return
		}
		if _, ok := t["index_patterns"]; !ok {
			writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
			return
		}
		s.mu.Lock()
		s.templates[name] = body
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, `{"acknowledged":true}`)
	case http.MethodGet, http.MethodHead:
		t := s.Template(name)
		if t == nil {
			writeError(w, http.StatusNotFound, "resource_not_found_exception", "index template matching ["+name+"] not found")
			return
		}
		nb, _ := json.Marshal(name)
		writeJSON(w, http.StatusOK, `{"index_templates":[{"name":`+string(nb)+`,"index_template":`+string(t)+`}]}`)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.templates, name)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, `{"acknowledged":true}`)
	default:
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed")
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// errorBody is Elasticsearch's whole-request error shape.
func errorBody(status int, typ, reason string) []byte {
	tb, _ := json.Marshal(typ)
	rb, _ := json.Marshal(reason)
	return []byte(`{"error":{"root_cause":[{"type":` + string(tb) + `,"reason":` + string(rb) + `}],"type":` +
		string(tb) + `,"reason":` + string(rb) + `},"status":` + strconv.Itoa(status) + `}`)
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(status, typ, reason))
}

// errorFor picks a realistic error type and reason for an injected status.
func errorFor(status int) (typ, reason string) {
	switch {
	case status == http.StatusTooManyRequests:
		return "es_rejected_execution_exception", "rejected execution of coordinating operation [bulktest injected]"
	case status == http.StatusServiceUnavailable:
		return "unavailable_shards_exception", "primary shard is not active (bulktest injected)"
	case status >= 500:
		return "bulktest_injected_exception", "injected failure " + strconv.Itoa(status)
	case status == http.StatusBadRequest:
		return "illegal_argument_exception", "injected bad request"
	}
	return "bulktest_injected_exception", "injected failure " + strconv.Itoa(status)
}

// reset ends the connection with a TCP RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	nc := conn
	if tc, ok := conn.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = nc.Close()
}

// sleepCtx waits d or until r's client goes away.
func sleepCtx(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func readBody(r *http.Request, limit int64) (*bytes.Buffer, error) {
	var rd io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(rd, limit+1))
	if err != nil {
		bodyPool.Put(buf)
		return nil, err
	}
	return buf, nil
}
