package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/sluicectl/internal/conn"
)

// Limits on test-parse input: each call stays well under the server's 4 MiB
// message limit.
const (
	maxLineBytes  = 1 << 20
	maxLines      = 100_000
	chunkLines    = 1000
	chunkBytes    = 2 << 20
	maxTapRate    = 1000
	docIndent     = "    "
	lineMaxInHead = 120
)

func runTestParse(r *runner, args []string) error {
	name := r.cmd.name
	if (r.o.rule == "") == (r.o.ruleFile == "") {
		return usagef(name, "give --rule NAME or --rule-file F (one of them)")
	}
	if len(args) > 1 {
		return usagef(name, "at most one FILE, got %q", strings.Join(args, " "))
	}
	var ruleYAML string
	if r.o.ruleFile != "" {
		b, err := conn.ReadFile(r.o.ruleFile)
		if err != nil {
			return fmt.Errorf("--rule-file: %w", err)
		}
		ruleYAML = string(b)
	}
	in, src := r.stdin, "stdin"
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, src = f, args[0]
	}
	lines, err := readLines(in, src)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("no lines to parse in %s (give a FILE or pipe lines on stdin)", src)
	}

	all := &adminv1.TestParseResponse{}
	for start := 0; start < len(lines); {
		end, size := start, 0
		for end < len(lines) && end-start < chunkLines && (end == start || size+len(lines[end]) <= chunkBytes) {
			size += len(lines[end])
			end++
		}
		chunk := lines[start:end]
		msg, err := r.call(r.ctx, r.addrs[0], func(ctx context.Context, t *target) (proto.Message, error) {
			return t.parser().TestParse(ctx, &adminv1.TestParseRequest{Rule: r.o.rule, RuleYaml: ruleYAML, Lines: chunk})
		})
		if err != nil {
			return err
		}
		all.Results = append(all.Results, msg.(*adminv1.TestParseResponse).GetResults()...)
		start = end
	}

	if r.g.output == "json" {
		raw, err := protoJSON(all)
		if err != nil {
			return err
		}
		return writeJSON(r.stdout, raw)
	}
	matched := 0
	for i, res := range all.GetResults() {
		if i > 0 {
			fmt.Fprintln(r.stdout)
		}
		verdict := "not matched"
		if res.GetMatched() {
			verdict = "matched"
			matched++
		}
		fmt.Fprintf(r.stdout, "#%d  %s  %s", i+1, verdict, time.Duration(res.GetCostNanos()))
		if e := res.GetError(); e != "" {
			fmt.Fprintf(r.stdout, "  error: %s", cell(e, 0))
		}
		fmt.Fprintf(r.stdout, "\n%sline: %s\n", docIndent, cell(res.GetLine(), lineMaxInHead))
		if doc := res.GetDocumentJson(); doc != "" {
			fmt.Fprintln(r.stdout, prettyJSON(doc, docIndent))
		}
	}
	n := len(all.GetResults())
	fmt.Fprintf(r.stdout, "\n%d %s: %d matched, %d not matched\n", n, plural(n, "line", "lines"), matched, n-matched)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// readLines reads non-empty lines, without their line endings.
func readLines(in io.Reader, src string) ([]string, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var lines []string
	for sc.Scan() {
		l := strings.TrimSuffix(sc.Text(), "\r")
		if l == "" {
			continue
		}
		if len(lines) == maxLines {
			return nil, fmt.Errorf("%s: more than %d lines; split the input", src, maxLines)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than %d MiB", src, maxLineBytes>>20)
		}
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return lines, nil
}

func runTap(r *runner, args []string) error {
	name := r.cmd.name
	if err := noArgs(r, args); err != nil {
		return err
	}
	if r.o.rate < 0 || r.o.rate > maxTapRate {
		return usagef(name, "--rate %d: want 1 to %d (0: the server's default)", r.o.rate, maxTapRate)
	}
	if r.o.limit < 0 {
		return usagef(name, "--limit %d: want 0 or more", r.o.limit)
	}
	// A bounded call first: an unreachable or refusing service fails within
	// --timeout; the streams themselves have no deadline.
	targets := make([]*target, 0, len(r.addrs))
	for _, addr := range r.addrs {
		if _, err := r.call(r.ctx, addr, func(ctx context.Context, t *target) (proto.Message, error) {
			return t.admin().GetStatus(ctx, &adminv1.GetStatusRequest{})
		}); err != nil {
			return err
		}
		t, err := r.target(addr)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	req := &adminv1.TapRequest{Rate: int32(r.o.rate), Limit: int32(r.o.limit),
		Namespace: r.o.namespace, Pod: r.o.pod, Rule: r.o.rule, FailedOnly: r.o.failedOnly}
	type event struct {
		addr string
		ev   *adminv1.TapResponse
	}
	events := make(chan event)
	errs := make(chan error, len(targets))
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			end := func(err error) {
				if ctx.Err() != nil {
					err = nil // the limit was reached, or Ctrl-C
				} else {
					err = r.tapEnd(t, err)
				}
				errs <- err
			}
			stream, err := t.parser().Tap(ctx, req)
			if err != nil {
				end(err)
				return
			}
			for {
				ev, err := stream.Recv()
				if err != nil {
					end(err)
					return
				}
				select {
				case events <- event{t.addr, ev}:
				case <-ctx.Done():
					errs <- nil
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(events)
	}()
	multi := len(targets) > 1
	for n := 0; r.o.limit == 0 || n < r.o.limit; n++ {
		e, ok := <-events
		if !ok {
			break
		}
		if err := r.printTap(e.addr, e.ev, multi); err != nil {
			return err
		}
	}
	cancel()
	for range events {
	}
	close(errs)
	var failed []error
	for err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	// Several parsers failed: say each, one line apiece.
	for _, err := range failed {
		fmt.Fprintf(r.stderr, "sluicectl: %v\n", err)
	}
	return errReported
}

// printTap prints one tap event: "[rule] line" (with the container when
// the parser says, and "failed" or "dead-lettered" when the rule failed),
// then the document or the dead-letter reason; with several parsers each
// event starts with its parser's address.
func (r *runner) printTap(addr string, ev *adminv1.TapResponse, multi bool) error {
	if r.g.output == "json" {
		raw, err := protoJSON(ev)
		if err != nil {
			return err
		}
		if multi {
			b, err := json.Marshal(map[string]any{"addr": addr, "event": raw})
			if err != nil {
				return err
			}
			fmt.Fprintf(r.stdout, "%s\n", b)
			return nil
		}
		fmt.Fprintf(r.stdout, "%s\n", raw)
		return nil
	}
	rule := ev.GetRule()
	if rule == "" {
		rule = "no rule"
	}
	switch {
	case ev.GetDeadLetterReason() != "":
		rule += ", dead-lettered"
	case ev.GetFailed():
		rule += ", failed"
	}
	var b strings.Builder
	if multi {
		b.WriteString(addr + " ")
	}
	fmt.Fprintf(&b, "[%s] ", rule)
	if ev.GetNamespace() != "" || ev.GetPod() != "" || ev.GetContainer() != "" {
		fmt.Fprintf(&b, "%s/%s/%s: ", ev.GetNamespace(), ev.GetPod(), ev.GetContainer())
	}
	b.WriteString(strings.TrimRight(ev.GetRawLine(), "\r\n"))
	fmt.Fprintln(r.stdout, b.String())
	if reason := ev.GetDeadLetterReason(); reason != "" {
		fmt.Fprintf(r.stdout, "  reason: %s\n", reason)
	}
	if doc := ev.GetDocumentJson(); doc != "" {
		fmt.Fprintf(r.stdout, "  %s\n", compactJSON(doc))
	}
	return nil
}

// tapEnd maps the end of a tap stream: the server finishing or Ctrl-C are
// normal ends.
func (r *runner) tapEnd(t *target, err error) error {
	if errors.Is(err, io.EOF) || r.ctx.Err() != nil {
		return nil
	}
	// The stream carries the caller's deadline (if any) to the server, whose
	// timer may fire a moment before ours.
	if _, ok := r.ctx.Deadline(); ok && status.Code(err) == codes.DeadlineExceeded {
		return nil
	}
	return r.explain(r.ctx, t, err)
}
