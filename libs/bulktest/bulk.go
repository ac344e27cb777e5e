package bulktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxIDBytes is Elasticsearch's _id limit; longer ids fail the whole request.
const maxIDBytes = 512

type action struct {
	op     string // create, index, delete, update
	index  string
	id     string
	source []byte // aliases the request body
	// answer
	status  int
	result  string // created, updated, deleted, not_found
	errType string
	reason  string
	cause   [2]string // caused_by type and reason
	seqNo   int64
}

func (s *Server) serveBulk(w http.ResponseWriter, r *http.Request, defaultIndex string) {
	start := time.Now()
	s.stats.requests.Add(1)
	buf, err := readBody(r, s.maxBody)
	if err != nil {
		s.stats.failed.Add(1)
		writeError(w, http.StatusBadRequest, "parse_exception", "reading the request body: "+err.Error())
		return
	}
	defer bodyPool.Put(buf)
	body := buf.Bytes()
	if int64(len(body)) > s.maxBody {
		s.stats.failed.Add(1)
		writeError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception",
			"request body is too large; the limit is "+strconv.FormatInt(s.maxBody, 10)+" bytes")
		return
	}

	s.mu.Lock()
	latency, hook := s.latency, s.hook
	failStatus := 0
	if s.failLeft > 0 {
		s.failLeft--
		failStatus = s.failStatus
	} else if !s.failUntil.IsZero() && time.Now().Before(s.failUntil) {
		failStatus = s.failStatus
	}
	resetting, resetStore := false, false
	if failStatus == 0 && s.resetLeft > 0 {
		s.resetLeft--
		resetting, resetStore = true, s.resetStore
	}
	s.mu.Unlock()

	sleepCtx(r, latency)
	if hook != nil && hook(w, r, body) {
		return
	}
	if failStatus != 0 {
		s.stats.failed.Add(1)
		typ, reason := errorFor(failStatus)
		writeError(w, failStatus, typ, reason)
		return
	}
	if resetting && !resetStore {
		s.stats.resets.Add(1)
		reset(w)
		return
	}

	actions, status, typ, reason := parseBulk(body, defaultIndex)
	if status != 0 {
		s.stats.failed.Add(1)
		writeError(w, status, typ, reason)
		return
	}
	s.apply(actions)
	if resetting {
		s.stats.resets.Add(1)
		reset(w)
		return
	}
	out := s.respond(actions, r.URL.Query().Get("filter_path"), time.Since(start))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out.b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.b)
	respPool.Put(out)
}

// parseBulk splits the NDJSON body into actions; a request Elasticsearch
// would refuse as a whole returns its status, type and reason.
func parseBulk(body []byte, defaultIndex string) (acts []action, status int, typ, reason string) {
	if len(body) == 0 {
		return nil, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;"
	}
	if body[len(body)-1] != '\n' {
		return nil, http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]"
	}
	acts = make([]action, 0, bytes.Count(body, []byte{'\n'})/2+1)
	line := 0
	for len(body) > 0 {
		nl := bytes.IndexByte(body, '\n')
		meta := bytes.TrimSpace(body[:nl])
		body = body[nl+1:]
		line++
		if len(meta) == 0 {
			continue
		}
		var a action
		if !parseAction(meta, &a) {
			return nil, http.StatusBadRequest, "illegal_argument_exception",
				"Malformed action/metadata line [" + strconv.Itoa(line) + "], expected one of [create, delete, index, update]"
		}
		if a.index == "" {
			a.index = defaultIndex
		}
		if a.index == "" {
			return nil, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index is missing;"
		}
		if len(a.id) > maxIDBytes {
			return nil, http.StatusBadRequest, "action_request_validation_exception",
				"Validation Failed: 1: id [" + a.id + "] is too long, must be no longer than 512 bytes but was: " + strconv.Itoa(len(a.id)) + ";"
		}
		if a.op != "delete" {
			if len(body) == 0 {
				return nil, http.StatusBadRequest, "action_request_validation_exception",
					"Validation Failed: 1: source is missing for the action on line [" + strconv.Itoa(line) + "];"
			}
			nl = bytes.IndexByte(body, '\n')
			a.source = body[:nl]
			body = body[nl+1:]
			line++
		}
		acts = append(acts, a)
	}
	if len(acts) == 0 {
		return nil, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;"
	}
	return acts, 0, "", ""
}

// parseAction reads {"<op>":{"_index":"..","_id":"..",...}}, with a fast
// path for unescaped strings and encoding/json for anything else.
func parseAction(line []byte, a *action) bool {
	if fastAction(line, a) {
		return true
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(line, &m); err != nil || len(m) != 1 {
		return false
	}
	for op, meta := range m {
		a.op = op
		if v, ok := meta["_index"].(string); ok {
			a.index = v
		}
		if v, ok := meta["_id"].(string); ok {
			a.id = v
		}
	}
	return validOp(a.op)
}

func validOp(op string) bool {
	switch op {
	case "create", "index", "delete", "update":
		return true
	}
	return false
}

func fastAction(b []byte, a *action) bool {
	i := 0
	str := func() (string, bool) {
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return "", false
		}
		v := b[i+1 : i+1+j]
		if bytes.IndexByte(v, '\\') >= 0 {
			return "", false
		}
		i += j + 2
		return string(v), true
	}
	lit := func(c byte) bool {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i < len(b) && b[i] == c {
			i++
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
			return true
		}
		return false
	}
	if !lit('{') {
		return false
	}
	op, ok := str()
	if !ok || !validOp(op) || !lit(':') || !lit('{') {
		return false
	}
	a.op = op
	if !lit('}') {
		for {
			k, ok := str()
			if !ok || !lit(':') {
				return false
			}
			v, ok := str()
			if !ok {
				return false
			}
			switch k {
			case "_index":
				a.index = v
			case "_id":
				a.id = v
			}
			if lit(',') {
				continue
			}
			if lit('}') {
				break
			}
			return false
		}
	}
	return lit('}') && i == len(b)
}

// apply answers and stores every action under one lock.
func (s *Server) apply(acts []action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mappingType := "document_parsing_exception"
	if s.openSearch || s.major() < 8 {
		mappingType = "mapper_parsing_exception"
	}
	for i := range acts {
		a := &acts[i]
		s.stats.items.Add(1)
		if a.op != "delete" && a.id == "" {
			s.autoID++
			a.id = "bulktest-" + strconv.FormatInt(s.autoID, 10)
		}
		if s.itemHook != nil {
			if st, typ, reason := s.itemHook(Item{Action: a.op, Index: a.index, ID: a.id, Source: a.source}); st != 0 {
				a.status, a.errType, a.reason = st, typ, reason
				if st >= 300 && typ == "" {
					a.errType = "bulktest_hook_error"
				}
				if st/100 == 2 {
					a.result = "created"
					s.seqNo++
					a.seqNo = s.seqNo
				}
				continue
			}
		}
		if s.itemLeft > 0 && a.op != "delete" {
			s.itemLeft--
			s.stats.rejected.Add(1)
			a.status = s.itemStatus
			a.errType, a.reason = errorFor(s.itemStatus)
			continue
		}
		switch a.op {
		case "update":
			a.status, a.errType, a.reason = http.StatusBadRequest, "illegal_argument_exception", "bulktest does not support update"
			continue
		case "delete":
			idx := s.indices[a.index]
			if _, ok := idx[a.id]; ok && !s.discard {
				delete(idx, a.id)
				a.status, a.result = http.StatusOK, "deleted"
			} else {
				a.status, a.result = http.StatusNotFound, "not_found"
			}
			s.seqNo++
			a.seqNo = s.seqNo
			continue
		}
		if Rejects(a.id, s.rejectFrac) {
			s.stats.mappingErrors.Add(1)
			a.status, a.errType = http.StatusBadRequest, mappingType
			a.reason = "[1:2] failed to parse field [bulktest_rejected] of type [long] in document with id '" + a.id + "'. Preview of field's value: 'injected'"
			a.cause = [2]string{"illegal_argument_exception", `For input string: "injected"`}
			continue
		}
		if s.discard {
			s.stats.created.Add(1)
			a.status, a.result = http.StatusCreated, "created"
			s.seqNo++
			a.seqNo = s.seqNo
			continue
		}
		src := bytes.TrimSpace(a.source)
		if len(src) == 0 || src[0] != '{' || !json.Valid(src) {
			s.stats.mappingErrors.Add(1)
			a.status, a.errType = http.StatusBadRequest, mappingType
			a.reason = "failed to parse"
			a.cause = [2]string{"x_content_parse_exception", "[1:1] the source is not a JSON object"}
			continue
		}
		idx := s.indices[a.index]
		if _, exists := idx[a.id]; exists && a.op == "create" {
			s.stats.conflicts.Add(1)
			a.status, a.errType = http.StatusConflict, "version_conflict_engine_exception"
			a.reason = "[" + a.id + "]: version conflict, document already exists (current version [1])"
			continue
		}
		existed := s.store(a.index, a.id, src)
		s.stats.created.Add(1)
		s.seqNo++
		a.seqNo = s.seqNo
		if existed {
			a.status, a.result = http.StatusOK, "updated"
		} else {
			a.status, a.result = http.StatusCreated, "created"
		}
	}
}

// Response fields that filter_path can select, as paths under
// items.<action>.
var itemFields = [...]string{
	"_index", "_id", "_version", "result", "_shards.total", "_shards.successful", "_shards.failed",
	"_seq_no", "_primary_term", "status", "error.type", "error.reason", "error.index_uuid",
	"error.shard", "error.index", "error.caused_by.type", "error.caused_by.reason",
}

const (
	fIndex = iota
	fID
	fVersion
	fResult
	fShardsTotal
	fShardsSuccessful
	fShardsFailed
	fSeqNo
	fPrimaryTerm
	fStatus
	fErrType
	fErrReason
	fErrIndexUUID
	fErrShard
	fErrIndex
	fCauseType
	fCauseReason
	nFields
)

type fieldMask struct {
	took, errors bool
	item         [nFields]bool
}

var maskCache sync.Map // filter_path + "\x00" + action → *fieldMask

func maskFor(filter, op string) *fieldMask {
	key := filter + "\x00" + op
	if m, ok := maskCache.Load(key); ok {
		return m.(*fieldMask)
	}
	m := &fieldMask{}
	var pats [][]string
	for _, p := range strings.Split(filter, ",") {
		if p = strings.TrimSpace(p); p != "" {
			pats = append(pats, strings.Split(p, "."))
		}
	}
	inc := func(path []string) bool {
		if len(pats) == 0 {
			return true
		}
		for _, p := range pats {
			if matchPath(p, path) {
				return true
			}
		}
		return false
	}
	m.took = inc([]string{"took"})
	m.errors = inc([]string{"errors"})
	for i, f := range itemFields {
		m.item[i] = inc(append([]string{"items", op}, strings.Split(f, ".")...))
	}
	maskCache.Store(key, m)
	return m
}

// matchPath reports whether pattern selects path: it matches path or one of
// its prefixes (selecting the whole subtree). "*" matches one segment, other
// segments match as simple globs, "**" any number of segments.
func matchPath(pat, path []string) bool {
	if len(pat) == 0 {
		return true
	}
	if pat[0] == "**" {
		for i := 0; i <= len(path); i++ {
			if matchPath(pat[1:], path[i:]) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 || !globMatch(pat[0], path[0]) {
		return false
	}
	return matchPath(pat[1:], path[1:])
}

func globMatch(pat, s string) bool {
	star := strings.IndexByte(pat, '*')
	if star < 0 {
		return pat == s
	}
	if !strings.HasPrefix(s, pat[:star]) {
		return false
	}
	rest := pat[star+1:]
	for i := star; i <= len(s); i++ {
		if globMatch(rest, s[i:]) {
			return true
		}
	}
	return false
}

type respBuf struct{ b []byte }

var respPool = sync.Pool{New: func() any { return &respBuf{b: make([]byte, 0, 16<<10)} }}

// respond writes the bulk response, keeping only what filter_path selects
// (and, like Elasticsearch, dropping objects and arrays left empty).
func (s *Server) respond(acts []action, filter string, took time.Duration) *respBuf {
	out := respPool.Get().(*respBuf)
	b := out.b[:0]
	errs := false
	for i := range acts {
		if acts[i].errType != "" {
			errs = true
			break
		}
	}
	top := maskFor(filter, "create")
	b = append(b, '{')
	n := 0
	if top.took {
		b = append(b, `"took":`...)
		b = strconv.AppendInt(b, took.Milliseconds(), 10)
		n++
	}
	if top.errors {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"errors":`...)
		b = strconv.AppendBool(b, errs)
		n++
	}
	itemsStart := len(b)
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, `"items":[`...)
	items := 0
	for i := range acts {
		a := &acts[i]
		m := top
		if a.op != "create" {
			m = maskFor(filter, a.op)
		}
		mark := len(b)
		if items > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"`...)
		b = append(b, a.op...)
		b = append(b, `":{`...)
		bodyStart := len(b)
		b = appendItem(b, a, m)
		if len(b) == bodyStart {
			b = b[:mark]
			continue
		}
		b = append(b, "}}"...)
		items++
	}
	if items == 0 {
		b = b[:itemsStart]
	} else {
		b = append(b, ']')
	}
	b = append(b, '}')
	out.b = b
	return out
}

type objWriter struct {
	b []byte
	n int
}

func (w *objWriter) key(k string) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *objWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func appendItem(b []byte, a *action, m *fieldMask) []byte {
	w := objWriter{b: b}
	f := &m.item
	if f[fIndex] {
		w.str("_index", a.index)
	}
	if f[fID] && a.id != "" {
		w.str("_id", a.id)
	}
	if a.errType == "" {
		if f[fVersion] {
			w.int("_version", 1)
		}
		if f[fResult] && a.result != "" {
			w.str("result", a.result)
		}
		if f[fShardsTotal] || f[fShardsSuccessful] || f[fShardsFailed] {
			w.key("_shards")
			sw := objWriter{b: append(w.b, '{')}
			if f[fShardsTotal] {
				sw.int("total", 2)
			}
			if f[fShardsSuccessful] {
				sw.int("successful", 1)
			}
			if f[fShardsFailed] {
				sw.int("failed", 0)
			}
			w.b = append(sw.b, '}')
		}
		if f[fSeqNo] {
			w.int("_seq_no", a.seqNo)
		}
		if f[fPrimaryTerm] {
			w.int("_primary_term", 1)
		}
	}
	if f[fStatus] {
		w.int("status", int64(a.status))
	}
	hasCause := a.cause[0] != ""
	if a.errType != "" && (f[fErrType] || f[fErrReason] || f[fErrIndexUUID] || f[fErrShard] || f[fErrIndex] ||
		hasCause && (f[fCauseType] || f[fCauseReason])) {
		w.key("error")
		ew := objWriter{b: append(w.b, '{')}
		if f[fErrType] {
			ew.str("type", a.errType)
		}
		if f[fErrReason] {
			ew.str("reason", a.reason)
		}
		if hasCause && (f[fCauseType] || f[fCauseReason]) {
			ew.key("caused_by")
			cw := objWriter{b: append(ew.b, '{')}
			if f[fCauseType] {
				cw.str("type", a.cause[0])
			}
			if f[fCauseReason] {
				cw.str("reason", a.cause[1])
			}
			ew.b = append(cw.b, '}')
		}
		if f[fErrIndexUUID] {
			ew.str("index_uuid", "bulktest-index-uuid")
		}
		if f[fErrShard] {
			ew.str("shard", "0")
		}
		if f[fErrIndex] {
			ew.str("index", a.index)
		}
		w.b = append(ew.b, '}')
	}
	return w.b
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
