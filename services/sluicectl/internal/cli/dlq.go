package cli

import (
	"context"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

func runDLQList(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	if r.o.limit < 0 || r.o.limit > math.MaxInt32 {
		return usagef(r.cmd.name, "--limit %d: want 0 or more", r.o.limit)
	}
	msg, err := r.call(r.ctx, r.addrs[0], func(ctx context.Context, t *target) (proto.Message, error) {
		return t.indexer().ListDeadLetters(ctx, &adminv1.ListDeadLettersRequest{
			Limit:       int32(r.o.limit),
			FromOffsets: map[int32]int64(r.o.fromOffsets),
		})
	})
	if err != nil {
		return err
	}
	resp := msg.(*adminv1.ListDeadLettersResponse)
	if r.g.output == "json" {
		raw, err := protoJSON(resp)
		if err != nil {
			return err
		}
		return writeJSON(r.stdout, raw)
	}
	if len(resp.GetLetters()) == 0 {
		fmt.Fprintln(r.stdout, "no dead letters")
		return nil
	}
	// The reason comes last and whole: it is what the operator came for,
	// and a column after it would be pushed off by a long one.
	tw := newTable(r.stdout)
	row(tw, "LETTER", "TIME", "STAGE", "CLASS", "STATUS", "POD", "LINE", "REASON")
	for _, l := range resp.GetLetters() {
		row(tw, fmt.Sprintf("%d:%d", l.GetPartition(), l.GetOffset()), letterTime(l), cell(l.GetStage(), 0), cell(l.GetClass(), 0),
			letterStatus(l), letterPod(l), cell(l.GetLine(), dlqLineWidth), cell(l.GetReason(), 0))
	}
	return tw.Flush()
}

// dlqLineWidth is how much of the original line dlq list shows: enough to
// recognise it; dlq show prints the whole letter.
const dlqLineWidth = 60

func letterTime(l *adminv1.DeadLetter) string {
	if ns := l.GetTimestampUnixNano(); ns > 0 {
		return time.Unix(0, ns).UTC().Format(time.RFC3339)
	}
	return "-"
}

func letterStatus(l *adminv1.DeadLetter) string {
	if l.GetStatus() != 0 {
		return fmt.Sprint(l.GetStatus())
	}
	return "-"
}

// letterPod names the letter's container as namespace/pod/container.
func letterPod(l *adminv1.DeadLetter) string {
	if l.GetNamespace() == "" && l.GetPod() == "" && l.GetContainer() == "" {
		return "-"
	}
	return cell(l.GetNamespace()+"/"+l.GetPod()+"/"+l.GetContainer(), 0)
}

// runDLQShow prints one dead letter whole: its location, every header and
// its value, pretty-printed when it is JSON.
func runDLQShow(r *runner, args []string) error {
	if len(args) != 1 {
		return usagef(r.cmd.name, "dlq show needs one PARTITION:OFFSET")
	}
	var loc offsetList
	if err := loc.Set(args[0]); err != nil || len(loc) != 1 {
		return usagef(r.cmd.name, "%q is not one PARTITION:OFFSET", args[0])
	}
	var part int32
	var off int64
	for p, o := range loc {
		part, off = p, o
	}
	msg, err := r.call(r.ctx, r.addrs[0], func(ctx context.Context, t *target) (proto.Message, error) {
		return t.indexer().ListDeadLetters(ctx, &adminv1.ListDeadLettersRequest{
			Limit: 1, FromOffsets: map[int32]int64{part: off}, Partition: proto.Int32(part),
		})
	})
	if err != nil {
		return err
	}
	letters := msg.(*adminv1.ListDeadLettersResponse).GetLetters()
	if len(letters) == 0 || letters[0].GetOffset() != off {
		return fmt.Errorf("no dead letter at %d:%d", part, off)
	}
	l := letters[0]
	if r.g.output == "json" {
		raw, err := protoJSON(l)
		if err != nil {
			return err
		}
		return writeJSON(r.stdout, raw)
	}
	w := r.stdout
	fmt.Fprintf(w, "letter:     %d:%d\n", l.GetPartition(), l.GetOffset())
	fmt.Fprintf(w, "time:       %s\n", letterTime(l))
	fmt.Fprintf(w, "stage:      %s\n", cell(l.GetStage(), 0))
	fmt.Fprintf(w, "class:      %s\n", cell(l.GetClass(), 0))
	fmt.Fprintf(w, "status:     %s\n", letterStatus(l))
	fmt.Fprintf(w, "error type: %s\n", cell(l.GetErrorType(), 0))
	fmt.Fprintf(w, "pod:        %s\n", letterPod(l))
	fmt.Fprintf(w, "reason:     %s\n", l.GetReason())
	fmt.Fprintf(w, "line:       %s\n", l.GetLine())
	fmt.Fprintln(w, "headers:")
	tw := newTable(w)
	for _, h := range l.GetHeaders() {
		row(tw, "  "+h.GetKey(), h.GetValue())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "value:")
	switch v := l.GetValueJson(); v {
	case "":
		fmt.Fprintln(w, "  (not shown: larger than the server's limit, or not decodable)")
	default:
		fmt.Fprintln(w, prettyJSON(v, "  "))
	}
	return nil
}

func runDLQReplay(r *runner, args []string) error {
	name := r.cmd.name
	if err := noArgs(r, args); err != nil {
		return err
	}
	o := r.o
	switch {
	case o.partition < 0:
		return usagef(name, "--partition P is required")
	case o.partition > math.MaxInt32:
		return usagef(name, "--partition %d is out of range", o.partition)
	case o.from < 0:
		return usagef(name, "--from N is required")
	case o.to < 0 || (o.to != 0 && o.to <= o.from):
		return usagef(name, "--to %d must be after --from %d (or 0 for the end)", o.to, o.from)
	}
	msg, err := r.call(r.ctx, r.addrs[0], func(ctx context.Context, t *target) (proto.Message, error) {
		return t.indexer().ReplayDeadLetters(ctx, &adminv1.ReplayDeadLettersRequest{
			Partition: int32(o.partition), FromOffset: o.from, ToOffset: o.to, DryRun: o.dryRun,
		})
	})
	if err != nil {
		return err
	}
	resp := msg.(*adminv1.ReplayDeadLettersResponse)
	if r.g.output == "json" {
		raw, err := protoJSON(resp)
		if err != nil {
			return err
		}
		return writeJSON(r.stdout, raw)
	}
	span := fmt.Sprintf("offsets %d to the end", o.from)
	if o.to != 0 {
		span = fmt.Sprintf("offsets %d to %d (exclusive)", o.from, o.to)
	}
	n := resp.GetReplayed()
	if o.dryRun {
		fmt.Fprintf(r.stdout, "would replay %d dead %s from partition %d, %s\n", n, plural(int(min(n, 2)), "letter", "letters"), o.partition, span)
		tw := newTable(r.stdout)
		row(tw, "OFFSET", "STAGE", "TO", "REASON")
		for _, l := range resp.GetLetters() {
			row(tw, l.GetLetter().GetOffset(), cell(l.GetLetter().GetStage(), 0), l.GetTargetTopic(), cell(l.GetLetter().GetReason(), 80))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(r.stdout, "replayed %d dead %s from partition %d, %s\n", n, plural(int(min(n, 2)), "letter", "letters"), o.partition, span)
	}
	if s := resp.GetSkipped(); s > 0 {
		fmt.Fprintf(r.stdout, "left %d dead %s of a stage with no known topic\n", s, plural(int(min(s, 2)), "letter", "letters"))
	}
	return nil
}
