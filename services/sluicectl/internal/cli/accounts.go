package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// accountRow is one container's counts merged across services.
type accountRow struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
	// Shipper.
	Tailed    int64 `json:"lines_tailed"`
	Written   int64 `json:"lines_written"`
	Cut       int64 `json:"lines_oversized"`
	Truncated int64 `json:"bytes_skipped_truncation"`
	Rotated   int64 `json:"bytes_skipped_rotation"`
	// Parser.
	Parsed       int64 `json:"lines_parsed"`
	Failed       int64 `json:"lines_failed"`
	ParserLetter int64 `json:"lines_dead_lettered_parser"`
	// Indexer.
	Indexed       int64 `json:"lines_indexed"`
	IndexerLetter int64 `json:"lines_dead_lettered_indexer"`
	// Difference is written − indexed − dead-lettered: lines neither in the
	// search engine nor in the dead-letter topic. RawPending and
	// ParsedPending say where they are: written and not yet parsed (the raw
	// topic), parsed and not yet indexed (the parsed topic). Each is
	// meaningful only when every replica of the stages was asked.
	Difference    int64  `json:"difference"`
	RawPending    int64  `json:"raw_pending"`
	ParsedPending int64  `json:"parsed_pending"`
	Where         string `json:"where"`
}

func (a *accountRow) add(service string, counts map[string]int64) {
	switch service {
	case "shipper":
		a.Tailed += counts["lines_tailed"]
		a.Written += counts["lines_produced"]
		a.Cut += counts["lines_oversized"]
		a.Truncated += counts["bytes_skipped_truncation"]
		a.Rotated += counts["bytes_skipped_rotation"]
	case "parser":
		a.Parsed += counts["lines_parsed"]
		a.Failed += counts["lines_failed"]
		a.ParserLetter += counts["lines_dead_lettered"]
	case "indexer":
		a.Indexed += counts["lines_indexed"]
		a.IndexerLetter += counts["lines_dead_lettered"]
	}
}

// settle computes the difference and where it sits.
// complete says whether a shipper, a parser and an indexer were all asked.
func (a *accountRow) settle(complete bool) {
	a.Difference = a.Written - a.Indexed - a.ParserLetter - a.IndexerLetter
	a.RawPending = a.Written - a.Parsed - a.ParserLetter
	a.ParsedPending = a.Parsed - a.Indexed - a.IndexerLetter
	switch {
	case !complete:
		a.Where = "-"
	case a.Difference == 0 && a.RawPending == 0:
		a.Where = "none"
	case a.RawPending < 0 || a.ParsedPending < 0:
		// A later stage counted more than an earlier one wrote: a restart
		// reset a count, a replay, or a replica not asked.
		a.Where = "counts disagree (restart, replay or a replica not asked)"
	default:
		a.Where = fmt.Sprintf("raw topic %d, parsed topic %d", a.RawPending, a.ParsedPending)
	}
}

func runAccounts(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	type answer struct {
		service  string
		accounts []*adminv1.ContainerAccount
	}
	answers := make([]answer, len(r.addrs))
	res := make([]result, len(r.addrs))
	var wg sync.WaitGroup
	for i, addr := range r.addrs {
		wg.Go(func() {
			msg, err := r.call(r.ctx, addr, func(ctx context.Context, t *target) (proto.Message, error) {
				st, err := t.admin().GetStatus(ctx, &adminv1.GetStatusRequest{})
				if err != nil {
					return nil, err
				}
				a := answer{service: st.GetService()}
				switch a.service {
				case "shipper":
					resp, err := t.shipper().ListAccounts(ctx, &adminv1.ListAccountsRequest{})
					if err != nil {
						return nil, err
					}
					a.accounts = resp.GetAccounts()
				case "parser":
					resp, err := t.parser().ListAccounts(ctx, &adminv1.ParserAdminServiceListAccountsRequest{})
					if err != nil {
						return nil, err
					}
					a.accounts = resp.GetAccounts()
				case "indexer":
					resp, err := t.indexer().ListAccounts(ctx, &adminv1.IndexerAdminServiceListAccountsRequest{})
					if err != nil {
						return nil, err
					}
					a.accounts = resp.GetAccounts()
				default:
					return nil, fmt.Errorf("%s: the %s keeps no per-container accounts", addr, a.service)
				}
				answers[i] = a
				return st, nil
			})
			res[i] = result{addr: addr, msg: msg, err: err}
		})
	}
	wg.Wait()

	rows := map[[3]string]*accountRow{}
	have := map[string]bool{}
	for i, a := range answers {
		if res[i].err != nil {
			continue
		}
		have[a.service] = true
		for _, acc := range a.accounts {
			if (r.o.namespace != "" && acc.GetNamespace() != r.o.namespace) || (r.o.pod != "" && acc.GetPod() != r.o.pod) {
				continue
			}
			k := [3]string{acc.GetNamespace(), acc.GetPod(), acc.GetContainer()}
			row := rows[k]
			if row == nil {
				row = &accountRow{Namespace: k[0], Pod: k[1], Container: k[2]}
				rows[k] = row
			}
			row.add(a.service, acc.GetCounts())
		}
	}
	out := make([]*accountRow, 0, len(rows))
	for _, row := range rows {
		row.settle(have["shipper"] && have["parser"] && have["indexer"])
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		if x.Pod != y.Pod {
			return x.Pod < y.Pod
		}
		return x.Container < y.Container
	})
	if r.g.output == "json" {
		if err := writeJSON(r.stdout, map[string]any{"accounts": out}); err != nil {
			return err
		}
		return r.reportErrors(res)
	}
	writeAccounts(r.stdout, out, have)
	return r.reportErrors(res)
}

// writeAccounts prints the merged table: the columns of the services
// asked, then the difference and where it sits when all three were.
func writeAccounts(w io.Writer, rows []*accountRow, have map[string]bool) {
	if len(have) == 0 {
		return
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no containers counted yet")
		return
	}
	settled := have["shipper"] && have["parser"] && have["indexer"]
	head := []any{"NAMESPACE", "POD", "CONTAINER"}
	if have["shipper"] {
		head = append(head, "TAILED", "WRITTEN", "CUT", "SKIPPED_BYTES")
	}
	if have["parser"] {
		head = append(head, "PARSED", "FAILED", "PARSER_DLQ")
	}
	if have["indexer"] {
		head = append(head, "INDEXED", "INDEXER_DLQ")
	}
	if settled {
		head = append(head, "DIFFERENCE", "WHERE")
	}
	tw := newTable(w)
	row(tw, head...)
	for _, a := range rows {
		cells := []any{cell(a.Namespace, 0), cell(a.Pod, 0), cell(a.Container, 0)}
		if have["shipper"] {
			cells = append(cells, a.Tailed, a.Written, a.Cut, a.Truncated+a.Rotated)
		}
		if have["parser"] {
			cells = append(cells, a.Parsed, a.Failed, a.ParserLetter)
		}
		if have["indexer"] {
			cells = append(cells, a.Indexed, a.IndexerLetter)
		}
		if settled {
			cells = append(cells, a.Difference, a.Where)
		}
		row(tw, cells...)
	}
	tw.Flush()
}
