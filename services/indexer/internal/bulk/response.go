package bulk

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Outcome classifies one document's answer.
type Outcome uint8

// Outcomes. The zero value is not an outcome, so an unset Result never reads
// as a success.
const (
	// Created: the document was indexed (2xx).
	Created Outcome = iota + 1
	// Exists: 409 on create; a document with this _id is already indexed,
	// which with deterministic ids means this one was written before.
	Exists
	// Retryable: 429, 5xx, es_rejected_execution_exception,
	// circuit_breaking_exception, cluster_block_exception, or a
	// whole-request failure; sending the document again may succeed.
	Retryable
	// Permanent: a mapping conflict, a malformed document, any other 4xx;
	// sending it again will fail the same way.
	Permanent
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Exists:
		return "exists"
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is the answer for one document.
type Result struct {
	Outcome Outcome
	// Status is the item's HTTP status; for a whole-request failure, the
	// request's status (0 when no response arrived).
	Status int
	// ErrorType and Reason are the item's error.type and error.reason
	// (with caused_by appended when present); empty on success.
	ErrorType string
	Reason    string
}

// OK reports whether the document is in the index (Created or Exists).
func (r Result) OK() bool { return r.Outcome == Created || r.Outcome == Exists }

// Classify maps an item's status and error type to an Outcome.
func Classify(status int, errType string) Outcome {
	switch errType {
	case "es_rejected_execution_exception", "circuit_breaking_exception",
		// A read-only or write block (flood-stage disk watermark, a
		// maintenance block) is lifted by the cluster or an operator; the
		// document is not at fault. Older versions answer it 403.
		"cluster_block_exception":
		return Retryable
	}
	switch {
	case status >= 200 && status < 300:
		return Created
	case status == 409:
		return Exists
	case status == 429 || status >= 500:
		return Retryable
	case status >= 400:
		return Permanent
	}
	// No status or a nonsensical one: the answer is unusable, and sending
	// again is safe.
	return Retryable
}

var (
	errSyntax        = errors.New("malformed bulk response")
	errTooManyItems  = errors.New("bulk response has more items than documents sent")
	errTooFewItems   = errors.New("bulk response has fewer items than documents sent")
	errNoItems       = errors.New("bulk response has no items")
	errMaxStatus     = 999
	maxReasonBytes   = 4 << 10
	truncatedSuffix  = "…(truncated)"
	missingStatusMsg = "bulk item has no status"
)

// parseResponse fills out (one Result per document sent, in order) from a
// 2xx bulk response body. It reads only items[].*.status and
// items[].*.error and skips everything else, so it works with and without
// filter_path.
func parseResponse(data []byte, out []Result) error {
	s := scanner{data: data}
	if !s.consume('{') {
		return errSyntax
	}
	n := -1
	if s.consume('}') {
		goto end
	}
	for {
		key, _, ok := s.str()
		if !ok || !s.consume(':') {
			return errSyntax
		}
		if string(key) == "items" {
			var err error
			if n, err = s.items(out); err != nil {
				return err
			}
		} else if !s.skip() {
			return errSyntax
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			break
		}
		return errSyntax
	}
end:
	s.ws()
	if s.pos != len(s.data) {
		return errSyntax
	}
	switch {
	case n < 0 && len(out) > 0:
		return errNoItems
	case n < len(out):
		return errTooFewItems
	}
	return nil
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// str reads a string and returns its raw contents (without the quotes) and
// whether they hold escapes.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, false
	}
	start := s.pos + 1
	i := start
	for {
		q := bytes.IndexByte(s.data[i:], '"')
		if q < 0 {
			return nil, false, false
		}
		end := i + q
		if bytes.IndexByte(s.data[i:end], '\\') < 0 {
			s.pos = end + 1
			return s.data[start:end], escaped, true
		}
		// An escape precedes the quote: walk the rest byte by byte.
		escaped = true
		for ; i < len(s.data); i++ {
			switch s.data[i] {
			case '\\':
				i++
			case '"':
				s.pos = i + 1
				return s.data[start:i], true, true
			}
		}
		return nil, false, false
	}
}

// skip skips one value of any kind.
func (s *scanner) skip() bool {
	s.ws()
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				if _, _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return true
				}
			}
			s.pos++
		}
		return false
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'E' {
			s.pos++
			continue
		}
		break
	}
	return s.pos > start
}

// int reads a number and returns its integer part, clamped to errMaxStatus+1.
func (s *scanner) int() (int, bool) {
	s.ws()
	start, n := s.pos, 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		if n <= errMaxStatus {
			n = n*10 + int(s.data[s.pos]-'0')
		}
		s.pos++
	}
	if s.pos == start {
		return 0, false
	}
	// A fraction or exponent is not expected; skip it.
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '.', 'e', 'E', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			s.pos++
			continue
		}
		break
	}
	return n, true
}

// items parses the items array into out and returns how many it read.
func (s *scanner) items(out []Result) (int, error) {
	if !s.consume('[') {
		return 0, errSyntax
	}
	if s.consume(']') {
		return 0, nil
	}
	n := 0
	for {
		if n >= len(out) {
			return n, errTooManyItems
		}
		// Fast path for the common filtered answer.
		if rest := s.data[s.pos:]; len(rest) >= len(createdItem) && string(rest[:len(createdItem)]) == createdItem {
			out[n] = Result{Outcome: Created, Status: 201}
			s.pos += len(createdItem)
		} else if err := s.item(&out[n]); err != nil {
			return n, err
		}
		n++
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return n, nil
		}
		return n, errSyntax
	}
}

// createdItem is a successful create as answered with FilterPath.
const createdItem = `{"create":{"status":201}}`

// item parses {"<action>":{"status":N,"error":{...},...}}.
func (s *scanner) item(r *Result) error {
	*r = Result{}
	if !s.consume('{') {
		return errSyntax
	}
	if !s.consume('}') {
		for {
			if _, _, ok := s.str(); !ok || !s.consume(':') {
				return errSyntax
			}
			if err := s.itemBody(r); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				break
			}
			return errSyntax
		}
	}
	r.Outcome = Classify(r.Status, r.ErrorType)
	if r.Status == 0 && r.Reason == "" {
		r.Reason = missingStatusMsg
	}
	if r.Outcome == Created {
		// A success carries no error, whatever the body said.
		r.ErrorType, r.Reason = "", ""
	}
	return nil
}

func (s *scanner) itemBody(r *Result) error {
	if !s.consume('{') {
		return errSyntax
	}
	if s.consume('}') {
		return nil
	}
	for {
		key, _, ok := s.str()
		if !ok || !s.consume(':') {
			return errSyntax
		}
		switch string(key) {
		case "status":
			st, ok := s.int()
			if !ok {
				return errSyntax
			}
			r.Status = st
		case "error":
			typ, reason, ok := s.errorValue()
			if !ok {
				return errSyntax
			}
			r.ErrorType, r.Reason = typ, reason
		default:
			if !s.skip() {
				return errSyntax
			}
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return nil
		}
		return errSyntax
	}
}

// errorValue reads an error: an object with type, reason and caused_by, or
// a plain string.
func (s *scanner) errorValue() (typ, reason string, ok bool) {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '"' {
		raw, esc, ok := s.str()
		return "", decodeString(raw, esc), ok
	}
	if !s.consume('{') {
		return "", "", false
	}
	if s.consume('}') {
		return "", "", true
	}
	var causeType, causeReason string
	for {
		key, _, ok := s.str()
		if !ok || !s.consume(':') {
			return "", "", false
		}
		switch string(key) {
		case "type":
			raw, esc, ok := s.str()
			if !ok {
				return "", "", false
			}
			typ = internType(raw, esc)
		case "reason":
			s.ws()
			if s.pos < len(s.data) && s.data[s.pos] == 'n' { // null
				if !s.skip() {
					return "", "", false
				}
				break
			}
			raw, esc, ok := s.str()
			if !ok {
				return "", "", false
			}
			reason = decodeString(raw, esc)
		case "caused_by":
			s.ws()
			if s.pos < len(s.data) && s.data[s.pos] == '{' {
				t, r, ok := s.errorValue()
				if !ok {
					return "", "", false
				}
				causeType, causeReason = t, r
			} else if !s.skip() {
				return "", "", false
			}
		default:
			if !s.skip() {
				return "", "", false
			}
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			break
		}
		return "", "", false
	}
	if causeType != "" || causeReason != "" {
		reason += " (caused by " + causeType + ": " + causeReason + ")"
	}
	if len(reason) > maxReasonBytes {
		reason = truncate(reason, maxReasonBytes)
	}
	return typ, reason, true
}

// internType returns common error types without allocating.
func internType(raw []byte, escaped bool) string {
	if escaped {
		return decodeString(raw, true)
	}
	switch string(raw) {
	case "version_conflict_engine_exception":
		return "version_conflict_engine_exception"
	case "es_rejected_execution_exception":
		return "es_rejected_execution_exception"
	case "circuit_breaking_exception":
		return "circuit_breaking_exception"
	case "mapper_parsing_exception":
		return "mapper_parsing_exception"
	case "document_parsing_exception":
		return "document_parsing_exception"
	case "illegal_argument_exception":
		return "illegal_argument_exception"
	case "index_not_found_exception":
		return "index_not_found_exception"
	case "cluster_block_exception":
		return "cluster_block_exception"
	case "unavailable_shards_exception":
		return "unavailable_shards_exception"
	case "json_parse_exception", "x_content_parse_exception", "parse_exception":
		return string(raw)
	}
	return string(raw)
}

// decodeString unescapes a JSON string's raw contents; invalid escapes are
// kept as they are.
func decodeString(raw []byte, escaped bool) string {
	if !escaped {
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	q = append(q, '"')
	var out string
	if err := json.Unmarshal(q, &out); err != nil {
		return string(raw)
	}
	return out
}

// parseErrorBody extracts error.type and error.reason from a non-2xx body;
// a body that is not an Elasticsearch error is returned (shortened) as the
// reason.
func parseErrorBody(data []byte) (typ, reason string) {
	s := scanner{data: data}
	if s.consume('{') && !s.consume('}') {
		for {
			key, _, ok := s.str()
			if !ok || !s.consume(':') {
				break
			}
			if string(key) == "error" {
				if t, r, ok := s.errorValue(); ok {
					return t, r
				}
				break
			}
			if !s.skip() || !s.consume(',') {
				break
			}
		}
	}
	return "", strings.ToValidUTF8(truncate(string(data), 256), "\uFFFD")
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + truncatedSuffix
}
