package parser

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

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
		e, err := compile(cfg)
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
		_, err := engine.Apply(rule, raw, &doc)
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

func hasTag(d *document.Doc, tag string) bool {
	v, ok := d.Get("tags")
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

var _ = fmt.Sprint
