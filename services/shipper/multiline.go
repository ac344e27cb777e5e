package shipper

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/telemetry"

	"github.com/sluice-io/sluice/services/shipper/internal/multiline"
	"github.com/sluice-io/sluice/services/shipper/internal/tail"
)

// Flags and header of joined events.
const (
	// flagMultiline marks an event joined from more than one line.
	flagMultiline = "multiline"
	// flagMultilineCut marks an event ended by its rule's max_lines or
	// max_bytes; the lines after it continue in the next event.
	flagMultilineCut = "multiline_cut"
	// headerLines carries the number of lines of a joined event.
	headerLines = "sluice.lines"
)

// joiner applies multiline rules between the tailer and publish: per
// container stream, in order, after the tailer's partial-line merging.
//
// Lines of a file whose container has a rule, and every line of a file
// while some of its lines are held, go through a multiline.Window so that
// the file's checkpoint never passes the first line of an event that is not
// acknowledged and never stops inside one: a restart mid-event reads the
// whole event again and produces it with the same first-line offset, hence
// the same _id.
type joiner struct {
	s   *Shipper
	reg *multiline.Registry
	win *multiline.Window
	log *slog.Logger

	// joinedEvents counts events of more than one line, joinedLines their
	// lines; cutEvents the events ended by max_lines or max_bytes and
	// timedOut those ended by the rule's timeout.
	joinedEvents, joinedLines, cutEvents, timedOut *telemetry.Counter

	mu    sync.Mutex // serialises the set and the publishing of its events
	set   *multiline.Set[mlLine]
	ctx   context.Context // for publishing from the timer
	specs map[*fileInfo]specChoice
}

type specChoice struct {
	spec *multiline.Spec
}

// mlLine is a line held in a joiner: its window slot and its metadata
// (Content not kept: the joiner copies the text).
type mlLine struct {
	slot multiline.Slot
	ev   tail.Event
}

// joined is what publish needs to know of a joined event.
type joined struct {
	done  func()
	lines int
}

func newJoiner(s *Shipper, reg *multiline.Registry) *joiner {
	j := &joiner{s: s, reg: reg, log: s.log, specs: map[*fileInfo]specChoice{},
		joinedEvents: s.tel.Counter("multiline_events", "Events joined from more than one line."),
		joinedLines:  s.tel.Counter("multiline_lines", "Lines that went into events of more than one line."),
		cutEvents:    s.tel.Counter("multiline_cut_events", "Joined events ended by max_lines or max_bytes (the rest continues in the next event)."),
		timedOut:     s.tel.Counter("multiline_timeouts", "Joined events emitted by their rule's timeout."),
	}
	j.win = multiline.NewWindow(func(fp string, end int64) { s.tailer.Ack(fp, end) })
	j.set = multiline.NewSet(j.publishJoined)
	return j
}

// spec returns the rule of the file's container, nil for none.
func (j *joiner) spec(fi *fileInfo) *multiline.Spec {
	if c, ok := j.specs[fi]; ok {
		return c.spec
	}
	k := fi.k
	sp, err := j.reg.Select(multiline.Container{
		Namespace: k.GetNamespace(), Pod: k.GetPod(), Container: k.GetContainer(),
		Labels: k.GetLabels(), Annotations: k.GetAnnotations(),
	})
	if err != nil {
		j.log.Warn("multiline: not joining lines of this container", "namespace", k.GetNamespace(), "pod", k.GetPod(), "container", k.GetContainer(), "err", err)
	}
	if len(j.specs) > 10_000 {
		clear(j.specs)
	}
	j.specs[fi] = specChoice{spec: sp}
	return sp
}

// emit is the tailer's emit callback.
func (j *joiner) emit(ectx context.Context, ev tail.Event) error {
	fi := j.s.fileInfoAt(ev.Path, readTime(&ev))
	j.mu.Lock()
	defer j.mu.Unlock()
	sp := j.spec(fi)
	if sp == nil || fi.exclude {
		if !j.win.Tracks(ev.Fingerprint) {
			return j.s.publishWith(ectx, ev, fi, nil)
		}
		// Lines of this file are still held (its rule was just removed):
		// the stream's pending event goes first, and this line is
		// acknowledged through the window in its turn.
		slot := j.win.Open(ev.Fingerprint, ev.End)
		j.set.Flush(streamKey(ev))
		return j.s.publishWith(ectx, ev, fi, &joined{done: func() { j.win.Done([]multiline.Slot{slot}) }, lines: 1})
	}
	key := streamKey(ev)
	tok := mlLine{slot: j.win.Open(ev.Fingerprint, ev.End), ev: ev}
	tok.ev.Content = nil
	tok.ev.Flags = slices.Clone(ev.Flags)
	j.ctx = ectx
	j.set.Add(key, sp, ev.Content, tok, readTime(&ev))
	if e := j.s.fatal.Load(); e != nil {
		return *e
	}
	return nil
}

func streamKey(ev tail.Event) string {
	return ev.Path + "\x00" + strconv.Itoa(int(ev.Stream))
}

// publishJoined publishes one finished event; called with j.mu held.
func (j *joiner) publishJoined(_ string, ev multiline.Event[mlLine]) {
	first, last := ev.Tokens[0].ev, ev.Tokens[len(ev.Tokens)-1].ev
	out := first
	out.Content = ev.Text
	if last.Fingerprint == first.Fingerprint {
		out.End = last.End
	}
	var flags []string
	for _, t := range ev.Tokens {
		for _, f := range t.ev.Flags {
			if !slices.Contains(flags, f) {
				flags = append(flags, f)
			}
		}
		out.Truncated = out.Truncated || t.ev.Truncated
	}
	if ev.Lines > 1 {
		flags = append(flags, flagMultiline)
		j.joinedEvents.Add(1)
		j.joinedLines.Add(int64(ev.Lines))
	}
	if ev.Cut {
		flags = append(flags, flagMultilineCut)
		j.cutEvents.Add(1)
	}
	if ev.TimedOut {
		j.timedOut.Add(1)
	}
	out.Truncated = out.Truncated || ev.Truncated
	out.Flags = flags
	slots := make([]multiline.Slot, len(ev.Tokens))
	for i, t := range ev.Tokens {
		slots[i] = t.slot
	}
	j.win.Close(slots)
	ctx := j.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	// An error here is the shipper's fatal refusal; it is reported by Run.
	_ = j.s.publishWith(ctx, out, nil, &joined{done: func() { j.win.Done(slots) }, lines: ev.Lines})
}

// run emits events whose timeout passed until ctx ends.
func (j *joiner) run(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			j.mu.Lock()
			if j.ctx == nil {
				j.ctx = ctx
			}
			j.set.Tick(now)
			if now.Sub(lastPrune) > time.Minute {
				j.set.Prune(now.Add(-10 * time.Minute))
				clear(j.specs)
				lastPrune = now
			}
			j.mu.Unlock()
		}
	}
}

// drain emits every pending event (graceful shutdown: what was read is
// shipped, as for single lines).
func (j *joiner) drain(ctx context.Context) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ctx = ctx
	j.set.FlushAll()
}

// addLinesHeader records a joined event's line count on its record.
func addLinesHeader(rec *kgo.Record, jd *joined) {
	if jd != nil && jd.lines > 1 {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: headerLines, Value: []byte(strconv.Itoa(jd.lines))})
	}
}

// newMultiline builds the joiner from the configuration; run starts its
// timer. The built-in languages are always available to annotations, so
// there always is one.
func (s *Shipper) newMultiline() (*joiner, error) {
	reg, err := multiline.NewRegistry(s.cfg.Multiline, int(s.cfg.Tail.MaxEventBytes))
	if err != nil {
		return nil, err
	}
	return newJoiner(s, reg), nil
}
