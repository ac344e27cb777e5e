package tail

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// SkippedBytes were lost to truncation before they could be read.
	SkippedBytes int64
}

// Stats are counters since New.
type Stats struct {
	// SkippedBytes were lost to truncation (copytruncate) or cut from a
	// decompression bomb before they could be read.
	SkippedBytes int64
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

	// Owned by the goroutine in Run.
	groups  map[string]*group
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

type ackPoint struct{ end, commit int64 }

// ackState tracks emitted-but-unacknowledged events of one fingerprint.
type ackState struct {
	target     string
	dev, inode uint64
	q          []ackPoint // q[head:] are unacknowledged, in emit order
	head       int
	acked      int64
	closed     bool
	forget     bool
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

// Ack records that the event of file fingerprint ending at end was
// acknowledged by Kafka. Acks for one file must arrive in emit order; an
// ack may cover earlier unacknowledged events of the file (they count as
// acknowledged too). The checkpoint advances to the largest offset below
// which everything is acknowledged: never past a partial line that is still
// being joined, even when a later line of the other stream was acked.
func (t *Tailer) Ack(fingerprint string, end int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.acks[fingerprint]
	if a == nil {
		return
	}
	idx := -1
	for i := a.head; i < len(a.q); i++ {
		if a.q[i].end == end {
			idx = i
			break
		}
	}
	if idx < 0 {
		return
	}
	commit := a.q[idx].commit
	a.head = idx + 1
	switch {
	case a.head == len(a.q):
		a.q, a.head = a.q[:0], 0 // keep the capacity
	case a.head > 4096 && a.head > len(a.q)/2:
		n := copy(a.q, a.q[a.head:])
		a.q, a.head = a.q[:n], 0
	}
	if commit > a.acked {
		a.acked = commit
		t.store.Set(checkpoint.Entry{Fingerprint: fingerprint, Path: a.target, Dev: a.dev, Inode: a.inode, Offset: commit, Updated: time.Now()})
	}
	t.maybeRetireLocked(fingerprint, a)
}

func (t *Tailer) maybeRetireLocked(fp string, a *ackState) {
	if !a.closed || len(a.q) > a.head {
		return
	}
	delete(t.acks, fp)
	if a.forget {
		t.store.Delete(fp)
	}
}

// Files returns the status of every open file.
func (t *Tailer) Files() []FileStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]FileStatus, 0, len(t.live))
	for _, f := range t.live {
		st := f.status
		if a := t.acks[f.fp]; a != nil {
			st.AckedOffset = a.acked
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
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
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
	start := t.rr % n
	t.rr++
	for i := 0; i < n; i++ {
		g := t.order[(start+i)%n]
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

func (t *Tailer) underRoots(p string) bool {
	for _, r := range t.roots {
		if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) || r == string(filepath.Separator) {
			return true
		}
	}
	return false
}

func (t *Tailer) glob() []string {
	seen := map[string]bool{}
	var out []string
	for _, pat := range t.cfg.Include {
		ms, _ := filepath.Glob(pat) // patterns were validated
	next:
		for _, m := range ms {
			if seen[m] {
				continue
			}
			for _, ex := range t.cfg.Exclude {
				if ok, _ := filepath.Match(ex, m); ok {
					continue next
				}
			}
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

func statIDs(fi os.FileInfo) (dev, ino, nlink uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink)
	}
	return 0, 0, 1
}

// poll re-evaluates the globs and checks every open file for rotation,
// deletion and truncation.
func (t *Tailer) poll(ctx context.Context, emit func(context.Context, Event) error, now time.Time) error {
	startup := !t.started
	seen := map[string]bool{}
	for _, p := range t.glob() {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue // dangling symlink: the target was removed
		}
		if !filepath.IsAbs(real) {
			if abs, err := filepath.Abs(real); err == nil {
				real = abs
			}
		}
		if !t.underRoots(real) {
			if !t.warned[p] {
				t.warned[p] = true
				t.mu.Lock()
				t.stats.RefusedSymlinks++
				t.mu.Unlock()
				t.log.Warn("refusing file outside tail.roots", "path", p, "target", real)
			}
			continue
		}
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		seen[real] = true
		dev, ino, _ := statIDs(fi)
		g := t.groups[real]
		isNew := g == nil
		if isNew {
			g = &group{key: real, path: p}
			t.groups[real] = g
			t.order = append(t.order, g)
		}
		g.path = p
		if cur := g.current; cur != nil && (cur.dev != dev || cur.ino != ino) {
			// The path now names another file: the kubelet renamed the old
			// one (0.log -> 0.log.<ts>). Keep draining it through its
			// descriptor, catch up on any sibling we never saw (several
			// rotations between two polls), then open the new file.
			t.log.Debug("rotation detected", "path", real, "old_inode", cur.ino, "new_inode", ino)
			cur.renamed = true
			t.setState(cur, StateRotated)
			g.current = nil
			g.needScan = true
		}
		if isNew {
			// At start-up, unknown siblings predate us (fresh install) and
			// are skipped; a path that appears while we run is new, and so
			// is every sibling it already has (it rotated before a poll saw
			// it, or reappeared after dangling mid-rotation).
			g.needScan, g.scanAll = true, !startup
		}
		complete := true
		if g.needScan {
			complete = t.scanSiblings(g, real)
			// Siblings skipped by a start-up scan are now marked done;
			// whatever appears after it is new.
			g.scanAll = true
		}
		if g.current == nil {
			t.openCurrent(g, real)
		}
		// Scan again next poll until every sibling could be opened and the
		// file the path named when we looked is the one open: if it was
		// rotated away before we could open it, it is now a sibling.
		if c := g.current; complete && c != nil && c.dev == dev && c.ino == ino {
			g.needScan, g.scanAll = false, false
		}
	}
	for key, g := range t.groups {
		if !seen[key] && g.current != nil {
			// The path vanished (container removed) or dangles mid-rotation;
			// the descriptor check below tells deleted from renamed.
			t.setState(g.current, StateRotated)
			g.current = nil
			g.needScan = true
		}
	}
	for _, g := range t.order {
		for _, f := range g.files {
			if f.closed || f.gz {
				continue
			}
			if err := t.check(ctx, emit, g, f, now); err != nil {
				return err
			}
		}
	}
	t.started = true
	return nil
}

// check looks at one open plain file for deletion and truncation.
func (t *Tailer) check(ctx context.Context, emit func(context.Context, Event) error, g *group, f *file, now time.Time) error {
	fi, err := f.osf.Stat()
	if err != nil {
		return nil
	}
	_, _, nlink := statIDs(fi)
	size := fi.Size()
	if nlink == 0 && f.state != StateDeleted {
		t.setState(f, StateDeleted)
		if g.current == f {
			g.current = nil
			g.needScan = true
		}
	}
	truncated := size < f.readPos
	if !truncated && g.current == f && size != f.checkedSize {
		// Content replaced and regrown past our offset between two polls:
		// the first line changed.
		if head, err := readHead(f.osf, t.cfg.FingerprintBytes); err == nil {
			if fp, ok := fingerprintOf(g.path, head, t.cfg.FingerprintBytes); ok && fp != f.fp {
				truncated = true
			} else if !ok && size < int64(t.cfg.FingerprintBytes) && f.readPos > 0 {
				truncated = true
			}
		}
	}
	f.checkedSize = size
	if !truncated {
		t.setSize(f, size)
		return nil
	}
	// copytruncate: what was written after our last read and before the
	// truncation is gone. Count it, finish the old content, start over.
	skipped := max(0, f.size-f.readPos) + int64(f.bend-f.bstart)
	t.mu.Lock()
	t.stats.Truncations++
	t.stats.SkippedBytes += skipped
	f.status.SkippedBytes += skipped
	t.mu.Unlock()
	t.log.Warn("file truncated; restarting at offset 0", "path", f.target, "read_offset", f.pos, "size", size, "skipped_bytes", skipped)
	t.setState(f, StateTruncated)
	if err := t.closeFile(ctx, emit, f, false); err != nil {
		return err
	}
	if g.current == f {
		g.current = nil
		g.reopenTruncated = true
		t.openCurrent(g, g.key)
	}
	return nil
}

// openCurrent opens the file a group's path names now, resuming from its
// checkpoint.
func (t *Tailer) openCurrent(g *group, real string) {
	if g.current != nil {
		return
	}
	f, err := t.openPlain(g, real, StateActive, g.reopenTruncated, -1)
	if errors.Is(err, errMaxOpen) {
		return // retried next poll
	}
	if err != nil {
		t.log.Warn("cannot open file", "path", real, "err", err)
		return
	}
	if f == nil {
		return // not identifiable yet, or already open
	}
	if g.reopenTruncated {
		f.nextFlags = flagsFileTruncated
		g.reopenTruncated = false
	}
	t.log.Debug("opened", "path", real, "inode", f.ino, "fingerprint", f.fp, "offset", f.pos)
	g.current = f
}

var (
	flagsMalformed     = []string{FlagMalformed}
	flagsUnterminated  = []string{FlagUnterminated}
	flagsFileTruncated = []string{FlagFileTruncated}
	flagsOverlong      = []string{FlagOverlong}
)

// openPlain opens an uncompressed file. start < 0 means "from the
// checkpoint, else 0"; fromZero forces 0. It returns nil, nil when the file
// cannot be identified yet or is already open.
func (t *Tailer) openPlain(g *group, target string, state State, fromZero bool, start int64) (*file, error) {
	if err := t.checkOpenLimit(); err != nil {
		return nil, err
	}
	osf, err := os.Open(target)
	if err != nil {
		return nil, err
	}
	fi, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	head, err := readHead(osf, t.cfg.FingerprintBytes)
	if err != nil {
		osf.Close()
		return nil, err
	}
	fp, ok := fingerprintOf(g.path, head, t.cfg.FingerprintBytes)
	if !ok || t.isOpen(fp) {
		osf.Close()
		return nil, nil
	}
	size := fi.Size()
	var flags []string
	off := int64(0)
	switch {
	case fromZero:
	case start >= 0:
		off = start
	default:
		if e, ok := t.store.Get(fp); ok {
			off = e.Offset
		}
	}
	if off > size {
		// Shrunk while we were not looking: copytruncate before a restart.
		t.mu.Lock()
		t.stats.Truncations++
		t.mu.Unlock()
		t.log.Warn("checkpoint offset beyond file size; file was truncated, reading from 0", "path", target, "offset", off, "size", size)
		off, flags = 0, flagsFileTruncated
	}
	if _, err := osf.Seek(off, io.SeekStart); err != nil {
		osf.Close()
		return nil, err
	}
	dev, ino, _ := statIDs(fi)
	f := &file{g: g, target: target, fp: fp, dev: dev, ino: ino, osf: osf, rd: osf,
		pos: off, readPos: off, size: size, checkedSize: size, state: state, nextFlags: flags,
		merger: decode.NewMerger(t.cfg.MaxEventBytes)}
	t.register(g, f, off)
	return f, nil
}

func (t *Tailer) isOpen(fp string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.live {
		if f.fp == fp {
			return true
		}
	}
	return false
}

func (t *Tailer) register(g *group, f *file, off int64) {
	// A rotated sibling found late still goes before the current file:
	// within a group, files are read oldest first.
	if i := slices.Index(g.files, g.current); f.state == StateCatchUp && g.current != nil && i >= 0 {
		g.files = slices.Insert(g.files, i, f)
	} else {
		g.files = append(g.files, f)
	}
	t.nOpen++
	f.status = FileStatus{Path: g.path, Target: f.target, Fingerprint: f.fp, Dev: f.dev, Inode: f.ino,
		Size: f.size, ReadOffset: off, State: f.state}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live = append(t.live, f)
	a := t.acks[f.fp]
	if a == nil {
		a = &ackState{acked: off}
		t.acks[f.fp] = a
	}
	a.target, a.dev, a.inode, a.closed, a.forget = f.target, f.dev, f.ino, false, false
	if off < a.acked {
		a.acked = off
	}
	// Record the file as known at once, even before anything is acked:
	// after a restart, a rotated file without an entry would count as
	// history from before this shipper and be skipped.
	if e, ok := t.store.Get(f.fp); !ok || e.Offset > off {
		t.store.Set(checkpoint.Entry{Fingerprint: f.fp, Path: f.target, Dev: f.dev, Inode: f.ino, Offset: off, Updated: time.Now()})
	}
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

// scanSiblings opens rotated siblings of a group's file (<base>.<suffix>,
// plain or .gz) that still hold data we have not delivered: those with a
// checkpoint entry below their end, and those never seen (rotations that
// happened while the shipper was down or between two polls). On the first
// scan of a group at start-up, an unknown sibling older than every known
// one is history from before this shipper: it is skipped, and remembered
// as done so later scans skip it too.
//
// It reports false when a sibling could not be opened (typically renamed to
// .gz between listing and opening), so the caller scans again next poll.
func (t *Tailer) scanSiblings(g *group, real string) bool {
	dir, base := filepath.Split(real)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	type sib struct {
		name, key string
		gz        bool
	}
	var sibs []sib
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, base+".") || !e.Type().IsRegular() || strings.HasSuffix(n, ".tmp") {
			continue
		}
		gz := strings.HasSuffix(n, ".gz")
		sibs = append(sibs, sib{name: n, key: strings.TrimSuffix(n, ".gz"), gz: gz})
	}
	sort.Slice(sibs, func(i, j int) bool {
		if sibs[i].key != sibs[j].key {
			return sibs[i].key < sibs[j].key
		}
		return !sibs[i].gz && sibs[j].gz // plain before its .gz
	})
	type cand struct {
		path  string
		gz    bool
		fp    string
		open  bool
		entry checkpoint.Entry
		has   bool
		size  int64
	}
	var cands []cand
	complete := true
	seenFP := map[string]bool{}
	lastKnown := -1
	for _, s := range sibs {
		p := filepath.Join(dir, s.name)
		fp, size, err := t.fingerprintFile(g.path, p, s.gz)
		if err != nil {
			complete = false // gzipped or removed under us: look again
			continue
		}
		if fp == "" || seenFP[fp] {
			continue
		}
		seenFP[fp] = true
		_, done := t.finished[fp]
		c := cand{path: p, gz: s.gz, fp: fp, open: t.isOpen(fp) || done, size: size}
		c.entry, c.has = t.store.Get(fp)
		if c.open || c.has {
			lastKnown = len(cands)
		}
		cands = append(cands, c)
	}
	for i, c := range cands {
		t.log.Debug("rotated sibling", "path", c.path, "fingerprint", c.fp, "open_or_done", c.open, "has_entry", c.has, "entry_offset", c.entry.Offset, "last_known", lastKnown, "index", i, "scan_all", g.scanAll)
		if c.open {
			continue
		}
		var start int64
		switch {
		case c.has:
			start = c.entry.Offset
			if !c.gz && start >= c.size {
				continue // fully delivered
			}
		case g.scanAll || (lastKnown >= 0 && i > lastKnown):
			// Never seen. After the first scan of a group everything
			// seen is open, finished or checkpointed, so an unknown
			// sibling is new data whatever its name (a file can be
			// rotated between our stat and our open).
			start = 0
		default:
			// History from before this shipper: never read it, also not
			// on a later scan of this group.
			t.markFinished(c.fp)
			continue
		}
		t.log.Info("reading rotated file with undelivered data", "path", c.path, "offset", start)
		var err error
		if c.gz {
			_, err = t.openGzip(g, c.path, start)
		} else {
			_, err = t.openPlain(g, c.path, StateCatchUp, false, start)
			if errors.Is(err, fs.ErrNotExist) {
				// Compressed since we listed it (the kubelet writes
				// <name>.gz, then removes <name>).
				_, err = t.openGzip(g, c.path+".gz", start)
			}
		}
		if err != nil {
			complete = false
			t.log.Warn("cannot open rotated file; will retry", "path", c.path, "err", err)
		}
	}
	return complete
}

// fingerprintFile returns the fingerprint of a plain or gzip file and the
// plain file's size.
func (t *Tailer) fingerprintFile(group, p string, gz bool) (string, int64, error) {
	osf, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer osf.Close()
	fi, err := osf.Stat()
	if err != nil {
		return "", 0, err
	}
	var head []byte
	if gz {
		zr, err := gzip.NewReader(osf)
		if err != nil {
			return "", 0, err
		}
		head = make([]byte, t.cfg.FingerprintBytes)
		n, err := io.ReadFull(zr, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return "", 0, err
		}
		head = head[:n]
	} else {
		head, err = readHead(osf, t.cfg.FingerprintBytes)
		if err != nil {
			return "", 0, err
		}
	}
	fp, _ := fingerprintOf(group, head, t.cfg.FingerprintBytes)
	return fp, fi.Size(), nil
}

// openGzip opens a compressed rotated file and skips to start, reading at
// most MaxDecompressedBytes of decompressed data.
func (t *Tailer) openGzip(g *group, target string, start int64) (*file, error) {
	if err := t.checkOpenLimit(); err != nil {
		return nil, err
	}
	osf, err := os.Open(target)
	if err != nil {
		return nil, err
	}
	fi, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	zr, err := gzip.NewReader(osf)
	if err != nil {
		osf.Close()
		return nil, err
	}
	lr := &io.LimitedReader{R: zr, N: t.cfg.MaxDecompressedBytes}
	head := make([]byte, t.cfg.FingerprintBytes)
	n, err := io.ReadFull(lr, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		osf.Close()
		return nil, err
	}
	head = head[:n]
	fp, ok := fingerprintOf(g.path, head, t.cfg.FingerprintBytes)
	if !ok || t.isOpen(fp) {
		osf.Close()
		return nil, nil
	}
	// Replay the head we consumed, then skip what was delivered.
	rd := io.MultiReader(strings.NewReader(string(head)), lr)
	if start > 0 {
		skipped, err := io.CopyN(io.Discard, rd, start)
		if err != nil && err != io.EOF {
			osf.Close()
			return nil, err
		}
		start = skipped
	}
	dev, ino, _ := statIDs(fi)
	f := &file{g: g, target: target, fp: fp, dev: dev, ino: ino, osf: osf, rd: rd, gz: true, limit: lr,
		pos: start, readPos: start, size: fi.Size(), state: StateCatchUp,
		merger: decode.NewMerger(t.cfg.MaxEventBytes)}
	t.register(g, f, start)
	return f, nil
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
