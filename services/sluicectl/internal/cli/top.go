package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/sluicectl/internal/top"
)

// clearHome moves the cursor home and clears the screen.
const clearHome = "\x1b[H\x1b[2J"

func runTop(r *runner, args []string) error {
	if err := noArgs(r, args); err != nil {
		return err
	}
	if r.o.interval < 10*time.Millisecond {
		return usagef(r.cmd.name, "--interval %s is too short (at least 10ms)", r.o.interval)
	}
	if r.o.once {
		first := r.poll()
		if !r.sleep(r.o.interval) {
			return nil
		}
		second := r.poll()
		if r.ctx.Err() != nil {
			return nil
		}
		return r.writeFrame(r.frame(first, second), false)
	}
	var prev []top.Sample
	for {
		cur := r.poll()
		if r.ctx.Err() != nil {
			// Interrupted mid-poll: the samples hold only the interruption.
			return nil
		}
		if err := r.writeFrame(r.frame(prev, cur), true); err != nil {
			return err
		}
		prev = cur
		if !r.sleep(r.o.interval) {
			return nil
		}
	}
}

// sleep waits d; false when interrupted.
func (r *runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// poll samples every address concurrently.
func (r *runner) poll() []top.Sample {
	out := make([]top.Sample, len(r.addrs))
	timeout := r.timeoutFor(r.o.interval)
	var wg sync.WaitGroup
	for i, addr := range r.addrs {
		wg.Go(func() {
			out[i] = r.sample(addr, timeout)
		})
	}
	wg.Wait()
	return out
}

func (r *runner) sample(addr string, timeout time.Duration) top.Sample {
	s := top.Sample{Addr: addr}
	if err := r.ctx.Err(); err != nil {
		s.At, s.Problem = time.Now(), "interrupted"
		return s
	}
	t, err := r.target(addr)
	if err != nil {
		s.At, s.Problem = time.Now(), "error: "+err.Error()
		return s
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	st, err := t.admin().GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err == nil {
		s.Status = st
		s.Stats, err = t.admin().GetStats(ctx, &adminv1.GetStatsRequest{})
	}
	s.At = time.Now()
	if err != nil {
		s.Problem = shortError(r.explain(r.ctx, t, err))
	}
	return s
}

func (r *runner) frame(prev, cur []top.Sample) top.Frame {
	byAddr := map[string]top.Sample{}
	for _, p := range prev {
		byAddr[p.Addr] = p
	}
	f := top.Frame{Time: time.Now(), Interval: r.o.interval}
	for _, c := range cur {
		f.Services = append(f.Services, top.Compute(byAddr[c.Addr], c))
	}
	top.SortRows(f.Services)
	return f
}

func (r *runner) writeFrame(f top.Frame, live bool) error {
	var buf bytes.Buffer
	switch {
	case r.g.output == "json" && live:
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	case r.g.output == "json":
		if err := writeJSON(&buf, f); err != nil {
			return err
		}
	default:
		if live {
			buf.WriteString(clearHome)
		}
		if err := top.Render(&buf, f); err != nil {
			return err
		}
	}
	_, err := r.stdout.Write(buf.Bytes())
	if err != nil {
		return fmt.Errorf("writing the frame: %w", err)
	}
	return nil
}
