package tail

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
	"github.com/sluice-io/sluice/services/shipper/internal/decode"
)

// Flags that can appear in Event.Flags.
const (
	// FlagMalformed: the line could not be decoded; Content is the raw
	// line (without its newline), Stream is unknown and Time is 0.
	FlagMalformed = "malformed"
	// FlagUnterminated: the file ended (rotated, deleted or truncated)
	// while partial fragments were waiting for their final part.
	FlagUnterminated = "unterminated"
	// FlagFileTruncated: the file was truncated (copytruncate) before this
	// event; bytes that were never read are counted in Stats.SkippedBytes.
	FlagFileTruncated = "file_truncated"
	// FlagOverlong: a single physical line was longer than the line
	// buffer; only its beginning was decoded (Truncated is also set).
	FlagOverlong = "overlong"
)

// Event is one decoded log event of one file.
type Event struct {
	// Path is the path that matched Include (for Kubernetes, the
	// /var/log/containers symlink whose name carries pod, namespace and
	// container). Target is the file actually read, after resolving
	// symlinks; for a rotated file it is its rotated name.
	Path, Target string
	// Fingerprint is the file's identity; pass it to Ack.
	Fingerprint string
	Dev, Inode  uint64
	Format      decode.Format
	// Event holds Time, Stream, Content, Offset, End and Truncated.
	// Content (and Flags) are only valid during the emit call: they alias
	// the tailer's buffers. Copy what must outlive it.
	decode.Event
	// Flags lists conditions such as FlagMalformed; nil in the common
	// case. Do not modify it.
	Flags []string
	// ReadAt is when the tailer read the line's last bytes: one clock
	// reading per read call, shared by every line that read brought.
	ReadAt time.Time
}

// State of a file in FileStatus.
type State string

const (
	StateActive    State = "active"
	StateRotated   State = "rotated"
	StateDeleted   State = "deleted"
	StateTruncated State = "truncated"
	// StateCatchUp is a rotated sibling (possibly .gz) being read because
	// it still held unread data after a restart or a missed rotation.
	StateCatchUp State = "catchup"
)

// FileStatus describes one open file for the admin API.
type FileStatus struct {
	Path, Target string
	Fingerprint  string
	Dev, Inode   uint64
	Format       decode.Format
	// Size is the file's size at the last check (for .gz, the compressed
	// size).
	Size int64
	// ReadOffset is where decoding got to; AckedOffset is what the
	// checkpoint may hold (everything before it was acknowledged).
	ReadOffset, AckedOffset int64
	State                   State
	// SkippedBytes were lost to truncation before they could be read;
	// RecoveredBytes were read back from a copytruncate copy instead.
	SkippedBytes, RecoveredBytes int64
	// InFlightBytes is the on-disk size of the events emitted and not yet
	// acknowledged; OldestUnacked is when the oldest of them was read
	// (zero when none is in flight).
	InFlightBytes int64
	OldestUnacked time.Time
}

// Backlog sums what every file has in flight.
type Backlog struct {
	// Events and Bytes emitted and not yet acknowledged.
	Events int
	Bytes  int64
	// Oldest is when the oldest of them was read; zero when none is.
	Oldest time.Time
}

// Backlog returns what is emitted and not yet acknowledged, over all files
// (including files already closed whose last acks are outstanding).
func (t *Tailer) Backlog() Backlog {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b Backlog
	for _, a := range t.acks {
		b.Events += a.win.pending
		b.Bytes += a.win.pendingBytes
		if o, ok := a.win.oldest(); ok && (b.Oldest.IsZero() || o.Before(b.Oldest)) {
			b.Oldest = o
		}
	}
	return b
}

// A Budget shares reading among watched paths when the consumer of events
// is slower than the files grow. Before each read the tailer asks Allow; a
// path refused is skipped this round (its data waits on disk), and when
// nothing else can be read the tailer sleeps until Changed fires or the
// next poll. Allow is called from Run's goroutine; Changed must return the
// same channel every time, and its sends must not block (a buffered
// channel of one, sent to with select/default, is the usual shape).
type Budget interface {
	Allow(path string) bool
	Changed() <-chan struct{}
}

// SetBudget installs a read budget; call it before Run. nil (the default)
// reads every path in turn without limit.
func (t *Tailer) SetBudget(b Budget) { t.budget = b }

// Stats are counters since New.
type Stats struct {
	// SkippedBytes were lost to truncation (copytruncate) or cut from a
	// decompression bomb before they could be read; RecoveredBytes were
	// read back from a copytruncate copy after their file was truncated.
	SkippedBytes, RecoveredBytes int64
	// Malformed counts lines emitted with FlagMalformed.
	Malformed int64
	// Truncations counts detected truncations.
	Truncations int64
	// SaveErrors counts failed checkpoint saves; LastSaveError is the most
	// recent one (nil after a successful save).
	SaveErrors    int64
	LastSaveError error
	// RefusedSymlinks counts files refused because they resolve outside
	// Roots.
	RefusedSymlinks int64
	// DecompressionLimitHits counts rotated .gz files cut at
	// MaxDecompressedBytes (their size past the cut is not measured: that
	// would mean decompressing the bomb).
	DecompressionLimitHits int64
}

// Tailer discovers container log files and reads them. Run reads; Ack,
// Files and Stats may be called from other goroutines.
type Tailer struct {
	cfg     Config
	store   *checkpoint.Store
	log     *slog.Logger
	roots   []string
	maxLine int

	running atomic.Bool
	budget  Budget
	onLoss  func(Loss)
	headBuf []byte // scratch for headChanged

	// Owned by the goroutine in Run.
	groups  map[string]*group
	held    bool // the last round skipped a path refused by the budget
	order   []*group
	rr      int
	started bool
	warned  map[string]bool
	nOpen   int

	// finished holds fingerprints of files read to their end and closed,
	// so that a drained rotated file showing up again as .gz is not read
	// twice while its last acks are still in flight. Bounded by
	// maxFinished (oldest dropped first).
	finished      map[string]struct{}
	finishedOrder []string

	// bufs recycles ReadBufferBytes read buffers, so that idle files hold
	// none.
	bufs sync.Pool

	// clock is the Run loop's last clock reading (Unix nanoseconds), for
	// checkpoint timestamps, which need no finer time than a round.
	clock atomic.Int64

	mu    sync.Mutex // guards everything below and each file's status
	acks  map[string]*ackState
	live  []*file
	stats Stats
}

// group is one watched path: the file it currently names plus rotated
// predecessors still being drained, oldest first.
type group struct {
	key     string // resolved target path
	path    string // matched path
	files   []*file
	current *file
	// reopenTruncated: the current file was truncated; the next open
	// starts at 0 and flags its first event.
	reopenTruncated bool
	// needScan: the current file went away; look for siblings we missed
	// before opening the next one.
	needScan bool
	// scanAll: read every sibling not known yet, not only those newer
	// than the newest known one.
	scanAll bool
}

// New returns a Tailer reading the files cfg selects, resuming from and
// recording into store. A nil logger discards logs.
func New(cfg Config, store *checkpoint.Store, logger *slog.Logger) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("tail: nil checkpoint store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Tailer{
		cfg:     cfg,
		store:   store,
		log:     logger,
		maxLine: cfg.MaxEventBytes + 64<<10,
		groups:  map[string]*group{},
		warned:  map[string]bool{},
		acks:    map[string]*ackState{},

		finished: map[string]struct{}{},
	}
	for _, r := range cfg.Roots {
		r = filepath.Clean(r)
		if rr, err := filepath.EvalSymlinks(r); err == nil {
			r = rr
		}
		t.roots = append(t.roots, r)
	}
	return t, nil
}

// Files returns the status of every open file.
func (t *Tailer) Files() []FileStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]FileStatus, 0, len(t.live))
	for _, f := range t.live {
		st := f.status
		if a := t.acks[f.fp]; a != nil {
			st.AckedOffset = a.win.acked
			st.InFlightBytes = a.win.pendingBytes
			st.OldestUnacked, _ = a.win.oldest()
		}
		out = append(out, st)
	}
	return out
}

// Stats returns the counters.
func (t *Tailer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Run reads until ctx is done or emit fails. emit is called for each event
// in file order, from this goroutine only; while it blocks, reading pauses
// (backpressure). Run returns nil once ctx is done (even if emit returned
// ctx's error because of it) and emit's error otherwise. On return it
// closes every file and saves the checkpoint store; acks arriving later
// still update the store, so a caller that drains its producer after Run
// returns should call the store's Save once more.
func (t *Tailer) Run(ctx context.Context, emit func(context.Context, Event) error) (err error) {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("tail: Run already running")
	}
	defer t.running.Store(false)
	defer func() {
		t.closeAll()
		t.save()
		if ctx.Err() != nil {
			err = nil
		}
	}()
	now := time.Now()
	nextPoll, nextSave := now, now.Add(t.cfg.CheckpointInterval)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		now = time.Now()
		t.clock.Store(now.UnixNano())
		if !now.Before(nextPoll) {
			if err := t.poll(ctx, emit, now); err != nil {
				return err
			}
			nextPoll = now.Add(t.cfg.PollInterval)
		}
		if !now.Before(nextSave) {
			t.save()
			nextSave = now.Add(t.cfg.CheckpointInterval)
		}
		progressed, err := t.readRound(ctx, emit)
		if err != nil {
			return err
		}
		if err := t.reap(ctx, emit, time.Now()); err != nil {
			return err
		}
		if progressed {
			continue
		}
		wait := time.Until(nextPoll)
		if s := time.Until(nextSave); s < wait {
			wait = s
		}
		if wait <= 0 {
			continue
		}
		var budgetC <-chan struct{}
		if t.held {
			budgetC = t.budget.Changed()
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-budgetC:
			timer.Stop() // Go ≥1.23: no stale tick survives Stop
		}
	}
}

func (t *Tailer) save() {
	t.gc()
	err := t.store.Save()
	t.mu.Lock()
	if err != nil {
		t.stats.SaveErrors++
	}
	t.stats.LastSaveError = err
	t.mu.Unlock()
	if err != nil {
		t.log.Error("checkpoint save failed; offsets stay in memory and will be retried", "err", err)
	}
}

// gc forgets checkpoint entries of files no longer read and not updated for
// ForgetAfter: their files are gone or fully read.
func (t *Tailer) gc() {
	if !t.started || t.cfg.ForgetAfter <= 0 {
		return
	}
	cutoff := time.Now().Add(-t.cfg.ForgetAfter)
	for _, e := range t.store.Entries() {
		if !e.Updated.Before(cutoff) {
			continue
		}
		t.mu.Lock()
		_, tracked := t.acks[e.Fingerprint]
		t.mu.Unlock()
		if !tracked {
			t.store.Delete(e.Fingerprint)
		}
	}
}

// readRound gives every group one chunk: within a group the oldest file
// with data goes first, so a rotated file is read to its end before its
// successor and per-file order is kept.
func (t *Tailer) readRound(ctx context.Context, emit func(context.Context, Event) error) (bool, error) {
	n := len(t.order)
	if n == 0 {
		return false, nil
	}
	progressed := false
	t.held = false
	start := t.rr % n
	t.rr++
	for i := 0; i < n; i++ {
		g := t.order[(start+i)%n]
		if t.budget != nil && !t.budget.Allow(g.path) {
			t.held = true
			continue
		}
		for _, f := range g.files {
			if f.closed {
				continue
			}
			got, err := t.readChunk(ctx, f, emit)
			if err != nil {
				return progressed, err
			}
			if got > 0 {
				progressed = true
				break
			}
		}
	}
	return progressed, nil
}

func (t *Tailer) setState(f *file, s State) {
	t.mu.Lock()
	f.state = s
	f.status.State = s
	t.mu.Unlock()
}

func (t *Tailer) setSize(f *file, size int64) {
	if f.size == size {
		return
	}
	t.mu.Lock()
	f.size = size
	f.status.Size = size
	t.mu.Unlock()
}

// reap closes files that are finished: catch-up files at their end, and
// rotated, deleted or truncated files once they have been at their end for
// DeletedGrace. Groups left without files and without a path are dropped.
func (t *Tailer) reap(ctx context.Context, emit func(context.Context, Event) error, now time.Time) error {
	for _, g := range t.order {
		for _, f := range g.files {
			if f.closed || !f.eof || f == g.current {
				continue
			}
			done := f.state == StateCatchUp || now.Sub(f.eofAt) >= t.cfg.DeletedGrace
			if !done {
				continue
			}
			if err := t.closeFile(ctx, emit, f, true); err != nil {
				return err
			}
		}
	}
	// Compact.
	order := t.order[:0]
	for _, g := range t.order {
		files := g.files[:0]
		for _, f := range g.files {
			if !f.closed {
				files = append(files, f)
			}
		}
		g.files = files
		if len(g.files) == 0 && g.current == nil && !g.reopenTruncated {
			if _, err := os.Stat(g.path); err != nil {
				delete(t.groups, g.key)
				continue
			}
		}
		order = append(order, g)
	}
	clear(t.order[len(order):])
	t.order = order
	return nil
}

// closeFile flushes pending partial lines (when flush is set: no more data
// can arrive) and closes the descriptor.
func (t *Tailer) closeFile(ctx context.Context, emit func(context.Context, Event) error, f *file, flush bool) error {
	if f.closed {
		return nil
	}
	if flush || f.state == StateTruncated {
		for _, ev := range f.merger.Flush() {
			if err := t.emitEvent(ctx, emit, f, ev, flagsUnterminated); err != nil {
				return err
			}
		}
	}
	f.closed = true
	f.osf.Close()
	f.buf = nil
	t.nOpen--
	if flush && f.eof && !f.skipping {
		t.markFinished(f.fp)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, lf := range t.live {
		if lf == f {
			t.live = append(t.live[:i], t.live[i+1:]...)
			break
		}
	}
	if a := t.acks[f.fp]; a != nil {
		a.closed = true
		// A file deleted with its container needs no checkpoint any more;
		// a rotated one that was then gzipped keeps it, so the .gz is not
		// mistaken for unread data after a restart.
		a.forget = f.state == StateDeleted && !f.renamed
		t.maybeRetireLocked(f.fp, a)
	}
	return nil
}

// closeAll closes every file without flushing: pending partial lines stay
// below the checkpoint and are read again after a restart.
func (t *Tailer) closeAll() {
	for _, g := range t.order {
		for _, f := range g.files {
			if !f.closed {
				f.closed = true
				f.osf.Close()
				t.nOpen--
			}
		}
		g.files, g.current = nil, nil
	}
	t.order, t.groups = nil, map[string]*group{}
	t.mu.Lock()
	t.live = nil
	for fp, a := range t.acks {
		a.closed = true
		t.maybeRetireLocked(fp, a)
	}
	t.mu.Unlock()
	t.started = false
}

const maxFinished = 1 << 16

func (t *Tailer) markFinished(fp string) {
	if _, ok := t.finished[fp]; ok {
		return
	}
	t.finished[fp] = struct{}{}
	t.finishedOrder = append(t.finishedOrder, fp)
	if len(t.finishedOrder) > maxFinished {
		delete(t.finished, t.finishedOrder[0])
		t.finishedOrder = t.finishedOrder[1:]
	}
}

// errMaxOpen: MaxOpenFiles descriptors are open; the caller retries later.
var errMaxOpen = errors.New("tail: max_open_files reached")

func (t *Tailer) checkOpenLimit() error {
	if t.cfg.MaxOpenFiles > 0 && t.nOpen >= t.cfg.MaxOpenFiles {
		if !t.warned["\x00maxopen"] {
			t.warned["\x00maxopen"] = true
			t.log.Warn("tail.max_open_files reached; new files wait until others close", "max_open_files", t.cfg.MaxOpenFiles)
		}
		return errMaxOpen
	}
	return nil
}
