package indexer

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/telemetry"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// TestLetter checks that a listed letter of either stage carries its class,
// container, full reason, every header and the start of its original line.
func TestLetter(t *testing.T) {
	raw, err := proto.Marshal(&logsv1.RawRecord{Line: []byte("garbage: no rule matches this"), Stream: logsv1.Stream_STREAM_STDERR})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("r", 300)
	in := &kgo.Record{Topic: "logs.raw", Partition: 2, Offset: 41, Key: record.Key("shop", "web-1", "nginx"), Value: raw,
		Headers: []kgo.RecordHeader{{Key: record.HeaderID, Value: []byte("id-1")}}}
	parserLetter := record.NewDeadLetter(record.StageParser, "permanent", "rule nginx: "+long, in).Record("logs.dlq", in)
	parserLetter.Partition, parserLetter.Offset = 0, 5

	doc := `{"@timestamp":"2026-01-02T03:04:05Z","message":"` + strings.Repeat("m", maxLetterLine+10) + `","status":"abc"}`
	in2 := &kgo.Record{Topic: "logs.parsed", Key: record.Key("db", "pg-0", "pg"), Value: []byte(doc),
		Headers: []kgo.RecordHeader{{Key: record.HeaderIndex, Value: []byte("logs-x")}}}
	d := record.NewDeadLetter(record.StageIndexer, "permanent", "mapper_parsing_exception", in2)
	d.Status = 400
	indexerLetter := d.Record("logs.dlq", in2)
	indexerLetter.Partition, indexerLetter.Offset = 1, 9

	t.Run("parser", func(t *testing.T) {
		l := letter(parserLetter)
		if l.GetStage() != "parser" || l.GetClass() != "permanent" || l.GetReason() != "rule nginx: "+long {
			t.Errorf("stage %q class %q reason %q", l.GetStage(), l.GetClass(), l.GetReason())
		}
		if l.GetNamespace() != "shop" || l.GetPod() != "web-1" || l.GetContainer() != "nginx" {
			t.Errorf("container %s/%s/%s", l.GetNamespace(), l.GetPod(), l.GetContainer())
		}
		if l.GetLine() != "garbage: no rule matches this" {
			t.Errorf("line %q", l.GetLine())
		}
		if !strings.Contains(l.GetValueJson(), `"stream":"STREAM_STDERR"`) && !strings.Contains(l.GetValueJson(), `"stream": "STREAM_STDERR"`) {
			t.Errorf("value json %q", l.GetValueJson())
		}
		if l.GetDocumentJson() != "" || l.GetId() != "id-1" {
			t.Errorf("document %q id %q", l.GetDocumentJson(), l.GetId())
		}
		keys := map[string]string{}
		for _, h := range l.GetHeaders() {
			keys[h.GetKey()] = h.GetValue()
		}
		if keys[record.HeaderStage] != "parser" || keys[record.HeaderID] != "id-1" || keys[record.HeaderOffset] != "41" {
			t.Errorf("headers %v", keys)
		}
	})
	t.Run("indexer", func(t *testing.T) {
		l := letter(indexerLetter)
		if l.GetStage() != "indexer" || l.GetStatus() != 400 || l.GetIndex() != "logs-x" || l.GetPod() != "pg-0" {
			t.Errorf("letter %v", l)
		}
		if l.GetLine() != strings.Repeat("m", maxLetterLine) {
			t.Errorf("line of %d bytes, want the message cut at %d", len(l.GetLine()), maxLetterLine)
		}
		if l.GetValueJson() != doc || l.GetDocumentJson() != doc {
			t.Errorf("value %q", l.GetValueJson())
		}
	})
}

func TestDocumentLine(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"original first", `{"message":"m","event":{"original":"the line"}}`, "the line"},
		{"message", `{"message":"GET / 200","event":{"dataset":"nginx.access"}}`, "GET / 200"},
		{"message not a string", `{"message":{"text":"x"}}`, `{"text":"x"}`},
		{"neither: the document", `{"http":{"request":{"method":"GET"}},"url":{"path":"/poison"}}`, `{"http":{"request":{"method":"GET"}},"url":{"path":"/poison"}}`},
		{"not JSON", `not json`, `not json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := documentLine([]byte(tc.doc)); got != tc.want {
				t.Errorf("documentLine(%s) = %q, want %q", tc.doc, got, tc.want)
			}
		})
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abcdef", 3, "abc"}, {"aé", 2, "a"}, {"日本", 4, "日"}, {"", 0, ""},
	} {
		if got := truncateUTF8(tc.in, tc.n); got != tc.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestAdminListAccounts(t *testing.T) {
	e := newEnv(t)
	ix, err := New(e.cfg, "test", nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	client := adminClient(t, ix)
	web := &kgo.Record{Key: record.Key("shop", "web-1", "nginx")}
	ix.account(web, telemetry.LinesIndexed)
	ix.account(web, telemetry.LinesIndexed)
	ix.account(&kgo.Record{Key: record.Key("shop", "db-0", "pg")}, telemetry.LinesDeadLettered)
	resp, err := client.ListAccounts(context.Background(), &adminv1.IndexerAdminServiceListAccountsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]int64{}
	for _, a := range resp.GetAccounts() {
		got[a.GetNamespace()+"/"+a.GetPod()+"/"+a.GetContainer()] = a.GetCounts()
	}
	want := map[string]map[string]int64{
		"shop/web-1/nginx": {"lines_indexed": 2},
		"shop/db-0/pg":     {"lines_dead_lettered": 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("accounts %v, want %v", got, want)
	}
}
