package parser

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/sluice-io/sluice/libs/admin"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

// MaxTestLines bounds one TestParse call.
const MaxTestLines = 1000

// AdminService serves sluice.admin.v1.ParserAdminService.
type AdminService struct {
	adminv1.UnimplementedParserAdminServiceServer
	p *Parser
}

// AdminService returns the parser's admin API implementation.
func (p *Parser) AdminService() *AdminService { return &AdminService{p: p} }

// TestParse parses sample lines with a loaded rule or a rule given as YAML.
// It never moves the rules' live record and failure counts.
func (a *AdminService) TestParse(_ context.Context, req *adminv1.TestParseRequest) (*adminv1.TestParseResponse, error) {
	if len(req.GetLines()) > MaxTestLines {
		return nil, status.Errorf(codes.InvalidArgument, "at most %d lines per call", MaxTestLines)
	}
	engine := a.p.engine.Load()
	var rule *rules.Rule
	if req.GetRuleYaml() != "" {
		var rc config.Rule
		if err := yaml.Unmarshal([]byte(req.GetRuleYaml()), &rc); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "rule_yaml: %v", err)
		}
		if rc.Name == "" {
			rc.Name = "test"
		}
		a.p.mu.Lock()
		cfg := a.p.cfg
		a.p.mu.Unlock()
		cfg.Rules = []config.Rule{rc}
		if err := cfg.Validate(); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "rule_yaml: %v", err)
		}
		e, err := a.p.compile(cfg)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "rule_yaml: %v", err)
		}
		engine, rule = e, e.Rules()[0]
	} else {
		rule = engine.Rule(req.GetRule())
		if rule == nil {
			return nil, status.Errorf(codes.NotFound, "no rule named %q", req.GetRule())
		}
	}
	resp := &adminv1.TestParseResponse{}
	var doc document.Doc
	for _, line := range req.GetLines() {
		raw := &logsv1.RawRecord{Line: []byte(line), TimeUnixNano: time.Now().UnixNano(), Stream: logsv1.Stream_STREAM_STDOUT}
		start := time.Now()
		_, err := engine.Try(rule, raw, &doc)
		res := &adminv1.ParseResult{Line: line, CostNanos: time.Since(start).Nanoseconds()}
		if err != nil {
			res.Error = err.Error()
		} else {
			res.DocumentJson = string(doc.AppendJSON(nil))
			res.Matched = !hasTag(&doc, rules.FailureTag)
			if v, ok := doc.Get("error.message"); ok {
				res.Error = v.Str
			}
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

// pathTags is the tags list, for hasTag, which runs for every document.
var pathTags = document.P("tags")

func hasTag(d *document.Doc, tag string) bool {
	v, ok := d.GetPath(pathTags)
	if !ok {
		return false
	}
	for _, t := range v.Strings {
		if t == tag {
			return true
		}
	}
	return false
}

// ListRules lists the loaded rules in match order.
func (a *AdminService) ListRules(context.Context, *adminv1.ListRulesRequest) (*adminv1.ListRulesResponse, error) {
	resp := &adminv1.ListRulesResponse{}
	for _, r := range a.p.engine.Load().Rules() {
		m, procs := r.Describe()
		resp.Rules = append(resp.Rules, &adminv1.RuleInfo{
			Name: r.Name, Match: m, Processors: procs,
			Records: r.Records.Load(), Failures: r.Failures.Load(),
		})
	}
	return resp, nil
}

// MaxTapRate bounds the samples per second one Tap stream may ask for.
const MaxTapRate = 1000

// Tap streams a sample of the records the workers parse or dead-letter —
// the raw line, the rule, the container and the document or the
// dead-letter reason — that match the request's namespace, pod, rule and
// failed-only filters, at most req.rate per second (default 10). The
// sample is taken from a bounded buffer: a slow client loses samples
// (counted in tap_dropped), it never slows the pipeline.
func (a *AdminService) Tap(req *adminv1.TapRequest, stream adminv1.ParserAdminService_TapServer) error {
	rate := int(req.GetRate())
	switch {
	case rate == 0:
		rate = 10
	case rate < 0 || rate > MaxTapRate:
		return status.Errorf(codes.InvalidArgument, "rate: %d is outside 1..%d", rate, MaxTapRate)
	}
	if req.GetLimit() < 0 {
		return status.Errorf(codes.InvalidArgument, "limit: must not be negative")
	}
	sub := a.p.tap.subscribe(rate, tapFilter{namespace: req.GetNamespace(), pod: req.GetPod(), rule: req.GetRule(), failedOnly: req.GetFailedOnly()})
	defer a.p.tap.unsubscribe(sub)
	ctx := stream.Context()
	for sent := int32(0); req.GetLimit() == 0 || sent < req.GetLimit(); sent++ {
		select {
		case <-ctx.Done():
			return nil
		case r := <-sub.ch:
			if err := stream.Send(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListAccounts returns the per-container counts of lines parsed (documents
// acknowledged by Kafka), failed (sent on with a failure tag; also
// counted as parsed) and dead-lettered.
func (a *AdminService) ListAccounts(context.Context, *adminv1.ParserAdminServiceListAccountsRequest) (*adminv1.ParserAdminServiceListAccountsResponse, error) {
	return &adminv1.ParserAdminServiceListAccountsResponse{Accounts: admin.ContainerAccounts(a.p.accounts)}, nil
}
