package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/sluicectl/internal/conn"
	"github.com/sluice-io/sluice/services/sluicectl/internal/top"
)

func noArgs(r *runner, args []string) error {
	if len(args) > 0 {
		return usagef(r.cmd.name, "%s takes no arguments, got %q", r.cmd.name, strings.Join(args, " "))
	}
	return nil
}

func runStatus(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().GetStatus(ctx, &adminv1.GetStatusRequest{})
	})
	return r.finish(res, func(w io.Writer, ok []result) {
		tw := newTable(w)
		row(tw, "ADDR", "SERVICE", "STATE", "VERSION", "NODE", "UPTIME", "CONFIG")
		for _, x := range ok {
			s := x.msg.(*adminv1.GetStatusResponse)
			row(tw, x.addr, cell(s.GetService(), 0), cell(s.GetState(), 0), cell(s.GetVersion(), 0),
				cell(s.GetNode(), 0), uptime(s.GetUptimeSeconds()), shortDigest(s.GetConfigDigest()))
		}
		tw.Flush()
	})
}

func runStats(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().GetStats(ctx, &adminv1.GetStatsRequest{})
	})
	return r.finish(res, func(w io.Writer, ok []result) {
		for i, x := range ok {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if len(r.addrs) > 1 {
				fmt.Fprintf(w, "== %s ==\n", x.addr)
			}
			writeStats(w, x.msg.(*adminv1.GetStatsResponse))
		}
	})
}

func writeStats(w io.Writer, s *adminv1.GetStatsResponse) {
	counters := s.GetCounters()
	rates := s.GetRates()
	names := make([]string, 0, len(counters))
	for n := range counters {
		names = append(names, n)
	}
	if _, ok := counters["in_flight_bytes"]; !ok {
		names = append(names, "in_flight_bytes")
	}
	sort.Strings(names)
	tw := newTable(w)
	if len(rates) > 0 {
		row(tw, "COUNTER", "VALUE", "RATE/s")
	} else {
		row(tw, "COUNTER", "VALUE")
	}
	for _, n := range names {
		v, ok := counters[n]
		if !ok {
			v = s.GetInFlightBytes()
		}
		if len(rates) > 0 {
			rate := "-"
			if x, ok := rates[n]; ok {
				rate = fmt.Sprintf("%.1f", x)
			}
			row(tw, n, v, rate)
		} else {
			row(tw, n, v)
		}
	}
	tw.Flush()
	if lag := s.GetLag(); len(lag) > 0 {
		fmt.Fprintln(w)
		tw = newTable(w)
		row(tw, "TOPIC", "PARTITION", "COMMITTED", "END", "LAG")
		var total int64
		for _, l := range lag {
			row(tw, cell(l.GetTopic(), 0), l.GetPartition(), l.GetCommittedOffset(), l.GetEndOffset(), l.GetLag())
			total += l.GetLag()
		}
		if len(lag) > 1 {
			row(tw, "total", "", "", "", total)
		}
		tw.Flush()
	}
}

func runFiles(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.shipper().ListFiles(ctx, &adminv1.ListFilesRequest{})
	})
	multi := len(r.addrs) > 1
	return r.finish(res, func(w io.Writer, ok []result) {
		tw := newTable(w)
		head := []any{"PATH", "NAMESPACE", "POD", "CONTAINER", "SIZE", "READ", "ACKED", "BEHIND", "SKIPPED", "STATE"}
		if multi {
			head = append([]any{"ADDR"}, head...)
		}
		row(tw, head...)
		n := 0
		for _, x := range ok {
			for _, f := range x.msg.(*adminv1.ListFilesResponse).GetFiles() {
				cells := []any{cell(f.GetPath(), 0), cell(f.GetNamespace(), 0), cell(f.GetPod(), 0), cell(f.GetContainer(), 0),
					top.HumanBytes(float64(f.GetSize())), f.GetOffsetRead(), f.GetOffsetAcked(),
					top.HumanBytes(float64(f.GetBytesBehind())), top.HumanBytes(float64(f.GetSkippedBytes())), cell(f.GetState(), 0)}
				if multi {
					cells = append([]any{x.addr}, cells...)
				}
				row(tw, cells...)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintln(w, "no tracked files")
			return
		}
		tw.Flush()
	})
}

func runPause(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().Pause(ctx, &adminv1.PauseRequest{})
	})
	return r.finish(res, stateTable)
}

func runResume(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().Resume(ctx, &adminv1.ResumeRequest{})
	})
	return r.finish(res, stateTable)
}

func stateTable(w io.Writer, ok []result) {
	tw := newTable(w)
	row(tw, "ADDR", "STATE")
	for _, x := range ok {
		var st string
		switch m := x.msg.(type) {
		case *adminv1.PauseResponse:
			st = m.GetState()
		case *adminv1.ResumeResponse:
			st = m.GetState()
		}
		row(tw, x.addr, cell(st, 0))
	}
	tw.Flush()
}

func runReload(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	var doc []byte
	switch r.o.file {
	case "":
	case "-":
		b, err := conn.ReadLimited(r.stdin, "stdin")
		if err != nil {
			return err
		}
		doc = b
	default:
		b, err := conn.ReadFile(r.o.file)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		doc = b
	}
	if r.o.file != "" && strings.TrimSpace(string(doc)) == "" {
		// An empty document asks the service to re-read its own file,
		// which is not what "apply this file" means.
		return usagef(r.cmd.name, "--file %s is empty", r.o.file)
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().ReloadConfig(ctx, &adminv1.ReloadConfigRequest{ConfigYaml: string(doc)})
	})
	return r.finish(res, func(w io.Writer, ok []result) {
		tw := newTable(w)
		row(tw, "ADDR", "RESULT", "CONFIG DIGEST")
		for _, x := range ok {
			row(tw, x.addr, "applied", cell(x.msg.(*adminv1.ReloadConfigResponse).GetConfigDigest(), 0))
		}
		tw.Flush()
	})
}

func runRules(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.parser().ListRules(ctx, &adminv1.ListRulesRequest{})
	})
	multi := len(r.addrs) > 1
	return r.finish(res, func(w io.Writer, ok []result) {
		tw := newTable(w)
		head := []any{"#", "NAME", "MATCH", "PROCESSORS", "RECORDS", "FAILURES"}
		if multi {
			head = append([]any{"ADDR"}, head...)
		}
		row(tw, head...)
		for _, x := range ok {
			for i, rule := range x.msg.(*adminv1.ListRulesResponse).GetRules() {
				match := rule.GetMatch()
				if match == "" {
					match = "*"
				}
				cells := []any{i + 1, cell(rule.GetName(), 0), cell(match, 60),
					cell(strings.Join(rule.GetProcessors(), ","), 60), rule.GetRecords(), rule.GetFailures()}
				if multi {
					cells = append([]any{x.addr}, cells...)
				}
				row(tw, cells...)
			}
		}
		tw.Flush()
	})
}

// runConfig prints each service's running configuration, secrets
// redacted by the service (GetConfig).
func runConfig(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	res := r.each(func(ctx context.Context, t *target) (proto.Message, error) {
		return t.admin().GetConfig(ctx, &adminv1.GetConfigRequest{})
	})
	multi := len(r.addrs) > 1
	return r.finish(res, func(w io.Writer, ok []result) {
		for i, x := range ok {
			if multi {
				if i > 0 {
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "# %s\n", x.addr)
			}
			doc := x.msg.(*adminv1.GetConfigResponse).GetConfigYaml()
			fmt.Fprint(w, doc)
			if !strings.HasSuffix(doc, "\n") {
				fmt.Fprintln(w)
			}
		}
	})
}
