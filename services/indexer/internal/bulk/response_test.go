package bulk

import (
	"errors"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []Result
		err  error
	}{
		{
			name: "all created, filtered",
			body: `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}`,
			want: []Result{{Outcome: Created, Status: 201}, {Outcome: Created, Status: 201}},
		},
		{
			name: "full response",
			body: `{"took":30,"errors":false,"items":[{"create":{"_index":"logs","_id":"1","_version":1,"result":"created",
				"_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}]}`,
			want: []Result{{Outcome: Created, Status: 201}},
		},
		{
			name: "index action 200",
			body: `{"errors":false,"items":[{"index":{"status":200,"result":"updated"}}]}`,
			want: []Result{{Outcome: Created, Status: 200}},
		},
		{
			name: "409 conflict",
			body: `{"errors":true,"items":[{"create":{"_index":"logs","_id":"1","status":409,"error":{"type":"version_conflict_engine_exception",
				"reason":"[1]: version conflict, document already exists (current version [1])","index_uuid":"u","shard":"0","index":"logs"}}}]}`,
			want: []Result{{Outcome: Exists, Status: 409, ErrorType: "version_conflict_engine_exception",
				Reason: "[1]: version conflict, document already exists (current version [1])"}},
		},
		{
			name: "429 per item",
			body: `{"errors":true,"items":[{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}}]}`,
			want: []Result{{Outcome: Retryable, Status: 429, ErrorType: "es_rejected_execution_exception", Reason: "rejected execution"}},
		},
		{
			name: "es_rejected_execution_exception with another status",
			body: `{"items":[{"create":{"status":500,"error":{"type":"es_rejected_execution_exception","reason":"r"}}}]}`,
			want: []Result{{Outcome: Retryable, Status: 500, ErrorType: "es_rejected_execution_exception", Reason: "r"}},
		},
		{
			name: "circuit breaker",
			body: `{"items":[{"create":{"status":429,"error":{"type":"circuit_breaking_exception","reason":"[parent] Data too large"}}}]}`,
			want: []Result{{Outcome: Retryable, Status: 429, ErrorType: "circuit_breaking_exception", Reason: "[parent] Data too large"}},
		},
		{
			name: "503 unavailable shards",
			body: `{"items":[{"create":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}}]}`,
			want: []Result{{Outcome: Retryable, Status: 503, ErrorType: "unavailable_shards_exception", Reason: "primary shard is not active"}},
		},
		{
			name: "mapping error with cause",
			body: `{"errors":true,"items":[{"create":{"status":400,"error":{"type":"document_parsing_exception",
				"reason":"[1:9] failed to parse field [n] of type [long]","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"x\""}}}}]}`,
			want: []Result{{Outcome: Permanent, Status: 400, ErrorType: "document_parsing_exception",
				Reason: `[1:9] failed to parse field [n] of type [long] (caused by illegal_argument_exception: For input string: "x")`}},
		},
		{
			name: "mapper_parsing_exception (7.x, OpenSearch)",
			body: `{"items":[{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}`,
			want: []Result{{Outcome: Permanent, Status: 400, ErrorType: "mapper_parsing_exception", Reason: "failed to parse"}},
		},
		{
			name: "index not found",
			body: `{"items":[{"create":{"status":404,"error":{"type":"index_not_found_exception","reason":"no such index [x]"}}}]}`,
			want: []Result{{Outcome: Permanent, Status: 404, ErrorType: "index_not_found_exception", Reason: "no such index [x]"}},
		},
		{
			name: "mixed, whitespace, unicode escapes",
			body: " {\n \"errors\" : true ,\n \"items\" : [ {\"create\":{\"status\":201}} ,\n {\"create\" : {\"error\":{\"type\":\"x\\u005fy\",\"reason\":\"caf\\u00e9 \\\"q\\\"\"},\"status\":400}} ] } \n",
			want: []Result{{Outcome: Created, Status: 201}, {Outcome: Permanent, Status: 400, ErrorType: "x_y", Reason: `café "q"`}},
		},
		{
			name: "error as a string, null reason",
			body: `{"items":[{"create":{"status":400,"error":"bad thing"}},{"create":{"status":400,"error":{"type":"t","reason":null}}}]}`,
			want: []Result{{Outcome: Permanent, Status: 400, Reason: "bad thing"}, {Outcome: Permanent, Status: 400, ErrorType: "t"}},
		},
		{
			name: "missing status",
			body: `{"items":[{"create":{}}]}`,
			want: []Result{{Outcome: Retryable, Reason: missingStatusMsg}},
		},
		{
			name: "empty request",
			body: `{"errors":false,"items":[]}`,
			want: []Result{},
		},
		{name: "too few items", body: `{"items":[{"create":{"status":201}}]}`, want: make([]Result, 2), err: errTooFewItems},
		{name: "too many items", body: `{"items":[{"create":{"status":201}},{"create":{"status":201}}]}`, want: make([]Result, 1), err: errTooManyItems},
		{name: "no items", body: `{"errors":false}`, want: make([]Result, 1), err: errNoItems},
		{name: "not json", body: `<html>bad gateway</html>`, want: make([]Result, 1), err: errSyntax},
		{name: "truncated", body: `{"errors":false,"items":[{"create":{"status":20`, want: make([]Result, 1), err: errSyntax},
		{name: "trailing garbage", body: `{"items":[{"create":{"status":201}}]}x`, want: make([]Result, 1), err: errSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]Result, len(tc.want))
			err := parseResponse([]byte(tc.body), out)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range out {
				if out[i] != tc.want[i] {
					t.Errorf("item %d: %+v\n want %+v", i, out[i], tc.want[i])
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		status int
		typ    string
		want   Outcome
	}{
		{200, "", Created}, {201, "", Created}, {409, "version_conflict_engine_exception", Exists},
		{429, "es_rejected_execution_exception", Retryable}, {400, "es_rejected_execution_exception", Retryable},
		{500, "", Retryable}, {503, "", Retryable}, {400, "mapper_parsing_exception", Permanent},
		{403, "cluster_block_exception", Retryable}, {403, "security_exception", Permanent}, {404, "index_not_found_exception", Permanent},
		{413, "", Permanent}, {0, "", Retryable}, {100, "", Retryable},
	}
	for _, tc := range cases {
		if got := Classify(tc.status, tc.typ); got != tc.want {
			t.Errorf("Classify(%d, %q) = %v, want %v", tc.status, tc.typ, got, tc.want)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	typ, reason := parseErrorBody([]byte(`{"error":{"root_cause":[{"type":"a","reason":"b"}],"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`))
	if typ != "es_rejected_execution_exception" || reason != "queue full" {
		t.Errorf("%q %q", typ, reason)
	}
	typ, reason = parseErrorBody([]byte(`{"status":401,"error":{"type":"security_exception","reason":"no"}}`))
	if typ != "security_exception" || reason != "no" {
		t.Errorf("%q %q", typ, reason)
	}
	typ, reason = parseErrorBody([]byte(strings.Repeat("<html>", 100)))
	if typ != "" || !strings.HasSuffix(reason, truncatedSuffix) || len(reason) > 300 {
		t.Errorf("%q %q", typ, reason)
	}
}

func TestAppendQuoted(t *testing.T) {
	for in, want := range map[string]string{
		"plain": `"plain"`, `q"b\`: `"q\"b\\"`, "nl\n\t\r\x01": `"nl\n\t\r\u0001"`, "é✓": `"é✓"`,
	} {
		if got := string(appendQuoted(nil, in)); got != want {
			t.Errorf("appendQuoted(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendDocBody(t *testing.T) {
	b, why := appendDoc(nil, &Doc{Index: "logs-2024", ID: "n1:f2:42", Source: []byte(`{"m":"x"}`)})
	if why != "" {
		t.Fatal(why)
	}
	want := "{\"create\":{\"_index\":\"logs-2024\",\"_id\":\"n1:f2:42\"}}\n{\"m\":\"x\"}\n"
	if string(b) != want {
		t.Fatalf("got %q\nwant %q", b, want)
	}
	b, _ = appendDoc(nil, &Doc{Index: "logs", Source: []byte(`{}`)})
	if string(b) != "{\"create\":{\"_index\":\"logs\"}}\n{}\n" {
		t.Fatalf("auto id: %q", b)
	}
}
