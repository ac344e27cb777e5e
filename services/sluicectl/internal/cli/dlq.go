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
	tw := newTable(r.stdout)
	row(tw, "PARTITION", "OFFSET", "TIME", "STAGE", "STATUS", "ERROR", "INDEX", "ID", "REASON")
	for _, l := range resp.GetLetters() {
		ts := "-"
		if ns := l.GetTimestampUnixNano(); ns > 0 {
			ts = time.Unix(0, ns).UTC().Format(time.RFC3339)
		}
		st := "-"
		if l.GetStatus() != 0 {
			st = fmt.Sprint(l.GetStatus())
		}
		row(tw, l.GetPartition(), l.GetOffset(), ts, cell(l.GetStage(), 0), st, cell(l.GetErrorType(), 40),
			cell(l.GetIndex(), 40), cell(l.GetId(), 40), cell(l.GetReason(), 80))
	}
	return tw.Flush()
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
