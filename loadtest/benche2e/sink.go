package benche2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sink is the bulk endpoint the indexer writes to. Without an upstream it
// discards: it answers the indexer's start-up calls (GET /, template and
// policy installs) and every bulk item with success, after recording the
// documents in the ledger. With an upstream (a real OpenSearch or
// Elasticsearch) it proxies every request and records only the items the
// engine accepted.
type Sink struct {
	ledger   *Ledger
	upstream *url.URL
	proxy    *httputil.ReverseProxy
	client   *http.Client
	srv      *http.Server
	ln       net.Listener

	requests atomic.Int64
	pinged   atomic.Bool
}

// maxBulkBytes bounds a bulk body read into memory, as the engines'
// http.max_content_length does.
const maxBulkBytes = 100 << 20

// NewSink starts a sink on a free loopback port. upstream is "" to discard.
func NewSink(ledger *Ledger, upstream string) (*Sink, error) {
	s := &Sink{ledger: ledger}
	if upstream != "" {
		u, err := url.Parse(upstream)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: %w", upstream, err)
		}
		s.upstream = u
		s.proxy = httputil.NewSingleHostReverseProxy(u)
		s.client = &http.Client{Timeout: 2 * time.Minute}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the sink's base URL.
func (s *Sink) URL() string { return "http://" + s.ln.Addr().String() }

// Requests is the number of bulk requests received.
func (s *Sink) Requests() int64 { return s.requests.Load() }

// Pinged reports whether the indexer has called GET / (it does at start).
func (s *Sink) Pinged() bool { return s.pinged.Load() }

// Close stops the sink.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	if path == "" {
		s.pinged.Store(true)
	}
	if path == "_bulk" || strings.HasSuffix(path, "/_bulk") {
		s.serveBulk(w, r)
		return
	}
	if s.proxy != nil {
		s.proxy.ServeHTTP(w, r)
		return
	}
	switch {
	case path == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		writeJSON(w, http.StatusOK, `{"name":"bench-e2e","cluster_name":"bench-e2e","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}`)
	case r.Method == http.MethodPut || r.Method == http.MethodPost:
		// Template, lifecycle policy and other installs: accepted, ignored.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBulkBytes))
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		writeJSON(w, http.StatusOK, `{"acknowledged":true}`)
	default:
		writeJSON(w, http.StatusNotFound, `{"error":{"type":"resource_not_found_exception","reason":"bench-e2e does not serve `+r.Method+` /`+path+`"},"status":404}`)
	}
}

func (s *Sink) serveBulk(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBulkBytes+1))
	if err != nil || len(raw) > maxBulkBytes {
		writeJSON(w, http.StatusBadRequest, `{"error":{"type":"parse_exception","reason":"cannot read the bulk body"},"status":400}`)
		return
	}
	body := raw
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		if body, err = gunzip(raw); err != nil {
			writeJSON(w, http.StatusBadRequest, `{"error":{"type":"parse_exception","reason":"gzip: `+jsonEscape(err.Error())+`"},"status":400}`)
			return
		}
	}
	at := time.Now()
	ops, docs := splitBulk(body)
	if s.upstream == nil {
		s.ledger.Arrived(docs, at)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		writeJSON(w, http.StatusOK, discardAnswer(ops))
		return
	}
	s.forwardBulk(w, r, raw, docs, at)
}

// forwardBulk sends the body as it came to the upstream engine and records
// the items it accepted.
func (s *Sink) forwardBulk(w http.ResponseWriter, r *http.Request, raw []byte, docs []Arrival, at time.Time) {
	u := *s.upstream
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(raw))
	if err != nil {
		writeJSON(w, http.StatusBadGateway, `{"error":{"type":"bench_proxy","reason":"`+jsonEscape(err.Error())+`"},"status":502}`)
		return
	}
	req.Header = r.Header.Clone()
	// Let the transport negotiate compression, so the answer can be read.
	req.Header.Del("Accept-Encoding")
	resp, err := s.client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, `{"error":{"type":"bench_proxy","reason":"`+jsonEscape(err.Error())+`"},"status":502}`)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, `{"error":{"type":"bench_proxy","reason":"`+jsonEscape(err.Error())+`"},"status":502}`)
		return
	}
	if resp.StatusCode/100 == 2 {
		accepted, conflicts, rejected := acceptedItems(answer, docs)
		s.ledger.Arrived(accepted, at)
		s.ledger.Refused(conflicts, rejected)
	}
	for k, v := range resp.Header {
		if k != "Content-Length" && k != "Content-Encoding" {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// acceptedItems pairs a bulk answer's items with the request's documents
// and returns the accepted ones, and how many were conflicts (409) or
// otherwise refused. An answer that cannot be read accepts nothing: the
// indexer will not be able to read it either and will retry.
func acceptedItems(answer []byte, docs []Arrival) (accepted []Arrival, conflicts, rejected int64) {
	var a struct {
		Items []map[string]struct {
			Status int `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return nil, 0, 0
	}
	for i, item := range a.Items {
		if i >= len(docs) {
			break
		}
		for _, res := range item {
			switch {
			case res.Status/100 == 2:
				accepted = append(accepted, docs[i])
			case res.Status == http.StatusConflict:
				conflicts++
			default:
				rejected++
			}
		}
	}
	return accepted, conflicts, rejected
}

// splitBulk returns each action's operation and each action's document
// (with its sequence number when it carries one), in request order.
// Deletes have no document line; they do not occur in the indexer's
// requests but keep the pairing right if they did.
func splitBulk(body []byte) (ops []string, docs []Arrival) {
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		op := actionName(line)
		ops = append(ops, op)
		if op == "delete" {
			docs = append(docs, Arrival{})
			continue
		}
		src, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		var d Arrival
		d.Src, d.Seq, d.OK = ParseSeq(src)
		docs = append(docs, d)
	}
	return ops, docs
}

// actionName returns the first key of an action line {"create":{...}}.
func actionName(line []byte) string {
	_, after, ok := bytes.Cut(line, []byte{'"'})
	if !ok {
		return "index"
	}
	name, _, ok := bytes.Cut(after, []byte{'"'})
	if !ok {
		return "index"
	}
	switch string(name) {
	case "create":
		return "create"
	case "delete":
		return "delete"
	case "update":
		return "update"
	}
	return "index"
}

// discardAnswer is the bulk answer accepting every action, in the shape
// the indexer asks for with filter_path.
func discardAnswer(ops []string) string {
	var b strings.Builder
	b.Grow(32 + 26*len(ops))
	b.WriteString(`{"errors":false,"items":[`)
	for i, op := range ops {
		if i > 0 {
			b.WriteByte(',')
		}
		status := "201"
		if op == "delete" || op == "update" {
			status = "200"
		}
		b.WriteString(`{"` + op + `":{"status":` + status + `}}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxBulkBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxBulkBytes {
		return nil, errors.New("body inflates beyond 100 MiB")
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
