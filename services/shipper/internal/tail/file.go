package tail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/decode"
)

// tailWindow is how much of an overlong line's end is kept: enough for a
// docker line's "stream" and "time" members.
const tailWindow = 4 << 10

// file is one open file. Fields are owned by the goroutine in Run, except
// status, which is guarded by Tailer.mu.
type file struct {
	g          *group
	target, fp string
	dev, ino   uint64
	osf        *os.File
	rd         io.Reader
	gz         bool
	limit      *io.LimitedReader // gz only

	// readAt is when the chunk being decoded was read: the emit time of
	// its events in the ack window (one clock read per chunk).
	readAt time.Time

	format decode.Format
	merger *decode.Merger

	buf          []byte
	bstart, bend int   // unconsumed bytes are buf[bstart:bend]
	scanned      int   // buf[bstart:scanned] holds no newline
	pos          int64 // offset of buf[bstart]: everything before is decoded
	readPos      int64 // offset of buf[bend]: everything before was read
	size         int64
	checkedSize  int64
	checkedAt    time.Time // when checkedSize was taken
	// head is the file's first line (at most FingerprintBytes), whose
	// hash is fp; headGone is set once a mismatch was handled.
	head        []byte
	headGone    bool
	state       State
	eof         bool
	eofAt       time.Time
	closed      bool
	nextFlags   []string
	renamed     bool    // the watched path was seen naming another file
	overlong    [3]bool // per stream: the pending event holds an overlong line
	limitWarned bool

	// Overlong line in progress: its head is buf[0:headLen]; the rest is
	// read into buf[headLen:] and discarded except the last tailWindow
	// bytes.
	skipping  bool
	skipStart int64
	headLen   int
	tail      []byte

	status FileStatus
}

// readChunk reads at most one ReadBufferBytes chunk from f and emits the
// events it completes. It returns the number of bytes read.
func (t *Tailer) readChunk(ctx context.Context, f *file, emit func(context.Context, Event) error) (int, error) {
	chunk := t.cfg.ReadBufferBytes
	if f.skipping {
		return t.readSkip(ctx, f, emit)
	}
	if f.bstart == f.bend {
		f.bstart, f.bend, f.scanned = 0, 0, 0
		if cap(f.buf) > chunk {
			f.buf = nil // release the memory of a past long line
		}
	}
	if f.buf == nil {
		if b, ok := t.bufs.Get().(*[]byte); ok {
			f.buf = *b
		} else {
			f.buf = make([]byte, chunk)
		}
	}
	defer t.releaseBuf(f)
	if len(f.buf)-f.bend < chunk/2 {
		if f.bstart > 0 {
			n := copy(f.buf, f.buf[f.bstart:f.bend])
			f.scanned -= f.bstart
			f.bstart, f.bend = 0, n
		}
		if len(f.buf)-f.bend < chunk/2 {
			nb := make([]byte, min(max(2*len(f.buf), f.bend+chunk), t.maxLine+chunk))
			copy(nb, f.buf[:f.bend])
			f.buf = nb
		}
	}
	if t.headChanged(f) {
		f.headGone = true
		return 0, t.truncated(ctx, emit, f.g, f, -1)
	}
	n, err := f.rd.Read(f.buf[f.bend:min(len(f.buf), f.bend+chunk)])
	f.readAt = time.Now()
	f.bend += n
	f.readPos += int64(n)
	if n == 0 {
		if err != nil && err != io.EOF {
			t.log.Warn("read error; will retry", "path", f.target, "err", err)
			if f.gz {
				// A corrupt .gz does not heal: finish it.
				f.state = StateCatchUp
			}
		}
		if f.gz && f.limit != nil && f.limit.N <= 0 && !f.limitWarned {
			f.limitWarned = true
			t.log.Warn("decompressed size limit reached; rest of the file skipped", "path", f.target, "limit", t.cfg.MaxDecompressedBytes)
			t.mu.Lock()
			t.stats.DecompressionLimitHits++
			t.mu.Unlock()
		}
		if !f.eof {
			f.eof, f.eofAt = true, time.Now()
		}
		return 0, nil
	}
	f.eof = false
	if err := t.consumeLines(ctx, f, emit); err != nil {
		return n, err
	}
	if f.bend-f.bstart >= t.maxLine {
		t.startSkip(f)
	}
	t.mu.Lock()
	f.status.ReadOffset = f.pos
	if f.readPos > f.status.Size && !f.gz {
		f.status.Size = f.readPos
	}
	t.mu.Unlock()
	return n, nil
}

// consumeLines decodes every complete line in the buffer.
func (t *Tailer) consumeLines(ctx context.Context, f *file, emit func(context.Context, Event) error) error {
	for {
		i := bytes.IndexByte(f.buf[f.scanned:f.bend], '\n')
		if i < 0 {
			f.scanned = f.bend
			return nil
		}
		nl := f.scanned + i
		line := f.buf[f.bstart:nl]
		off := f.pos
		f.pos += int64(nl + 1 - f.bstart)
		f.bstart = nl + 1
		f.scanned = f.bstart
		if err := t.handleLine(ctx, emit, f, line, nil, off, false); err != nil {
			return err
		}
	}
}

// startSkip switches to overlong mode: the buffer holds maxLine bytes
// without a newline.
func (t *Tailer) startSkip(f *file) {
	if f.bstart > 0 {
		n := copy(f.buf, f.buf[f.bstart:f.bend])
		f.bstart, f.bend = 0, n
	}
	f.skipping = true
	f.skipStart = f.pos
	f.headLen = t.maxLine
	// Bytes past the head are the start of the discarded middle.
	f.tail = appendTail(f.tail[:0], f.buf[f.headLen:f.bend])
	f.bend = f.headLen
	f.scanned = f.bend
}

func appendTail(tail, p []byte) []byte {
	if len(p) >= tailWindow {
		return append(tail[:0], p[len(p)-tailWindow:]...)
	}
	if over := len(tail) + len(p) - tailWindow; over > 0 {
		copy(tail, tail[over:])
		tail = tail[:len(tail)-over]
	}
	return append(tail, p...)
}

// readSkip reads the discarded middle of an overlong line until its
// newline, then decodes head and tail as one line.
func (t *Tailer) readSkip(ctx context.Context, f *file, emit func(context.Context, Event) error) (int, error) {
	chunk := t.cfg.ReadBufferBytes
	if len(f.buf) < f.headLen+chunk {
		nb := make([]byte, f.headLen+chunk)
		copy(nb, f.buf[:f.headLen])
		f.buf = nb
	}
	scratch := f.buf[f.headLen : f.headLen+chunk]
	n, err := f.rd.Read(scratch)
	f.readAt = time.Now()
	f.readPos += int64(n)
	if n == 0 {
		if err != nil && err != io.EOF {
			t.log.Warn("read error; will retry", "path", f.target, "err", err)
		}
		if !f.eof {
			f.eof, f.eofAt = true, time.Now()
		}
		return 0, nil
	}
	f.eof = false
	got := scratch[:n]
	i := bytes.IndexByte(got, '\n')
	if i < 0 {
		f.tail = appendTail(f.tail, got)
		return n, nil
	}
	f.tail = appendTail(f.tail, got[:i])
	rest := len(got) - i - 1
	// The line spans [skipStart, readPos-rest).
	end := f.readPos - int64(rest)
	f.skipping = false
	head := f.buf[:f.headLen]
	f.pos = end
	if err := t.handleLine(ctx, emit, f, head, f.tail, f.skipStart, true); err != nil {
		return n, err
	}
	// Move what followed the newline to the front and go on as usual.
	m := copy(f.buf, got[i+1:])
	f.bstart, f.bend, f.scanned = 0, m, 0
	f.tail = f.tail[:0]
	if cap(f.tail) > 2*tailWindow {
		f.tail = nil
	}
	if err := t.consumeLines(ctx, f, emit); err != nil {
		return n, err
	}
	if f.bend-f.bstart >= t.maxLine {
		t.startSkip(f)
	}
	t.mu.Lock()
	f.status.ReadOffset = f.pos
	t.mu.Unlock()
	return n, nil
}

// handleLine decodes one physical line occupying [off, f.pos) and emits
// the event it completes, if any. For an overlong line, line is its head
// and tail its last bytes.
func (t *Tailer) handleLine(ctx context.Context, emit func(context.Context, Event) error, f *file, line, tail []byte, off int64, overlong bool) error {
	if f.format == decode.FormatUnknown {
		f.format = decode.Detect(line)
	}
	var l decode.Line
	var err error
	if overlong {
		l, err = decode.ParseOverlong(f.format, line, tail)
	} else {
		l, err = decode.Parse(f.format, line)
		if err != nil {
			// Files do not mix formats, but be lenient with one that does.
			if other := decode.Detect(line); other != decode.FormatUnknown && other != f.format {
				l, err = decode.Parse(other, line)
			}
		}
	}
	end := f.pos
	if err != nil {
		t.mu.Lock()
		t.stats.Malformed++
		t.mu.Unlock()
		// The runtime's time if the line still has one; 0 otherwise, and
		// the parser dates the event by when it was read.
		ev := decode.Event{Time: decode.MalformedTime(f.format, line), Content: line, Offset: off, End: end, Truncated: overlong}
		if len(ev.Content) > t.cfg.MaxEventBytes {
			ev.Content, ev.Truncated = ev.Content[:t.cfg.MaxEventBytes], true
		}
		return t.emitEvent(ctx, emit, f, ev, flagsMalformed)
	}
	si := streamSlot(l.Stream)
	if overlong {
		f.overlong[si] = true
	}
	ev, ok := f.merger.Add(l, off, end)
	if !ok {
		return nil
	}
	var flags []string
	if f.overlong[si] {
		f.overlong[si] = false
		ev.Truncated = true
		flags = flagsOverlong
	}
	return t.emitEvent(ctx, emit, f, ev, flags)
}

func streamSlot(s decode.Stream) int {
	if s == decode.StreamStdout || s == decode.StreamStderr {
		return int(s)
	}
	return 0
}

// emitEvent records the checkpoint this event allows once acknowledged,
// then hands it to emit.
func (t *Tailer) emitEvent(ctx context.Context, emit func(context.Context, Event) error, f *file, ev decode.Event, flags []string) error {
	// Everything before f.pos is decoded; a partial line still being
	// joined pins the checkpoint to its start.
	commit := f.pos
	if p, ok := f.merger.Pending(); ok && p < commit {
		commit = p
	}
	if f.nextFlags != nil {
		flags = append(append([]string(nil), f.nextFlags...), flags...)
		f.nextFlags = nil
	}
	if ev.Unterminated && len(flags) == 0 {
		flags = flagsUnterminated
	}
	at := f.readAt
	if at.IsZero() {
		at = time.Now()
	}
	t.mu.Lock()
	if a := t.acks[f.fp]; a != nil {
		a.win.add(ev.End, commit, ev.End-ev.Offset, at)
	}
	t.mu.Unlock()
	err := emit(ctx, Event{
		Path: f.g.path, Target: f.target, Fingerprint: f.fp, Dev: f.dev, Inode: f.ino,
		Format: f.format, Event: ev, Flags: flags, ReadAt: at,
	})
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// releaseBuf returns an empty standard-size buffer to the pool.
func (t *Tailer) releaseBuf(f *file) {
	if f.bstart == f.bend && !f.skipping && f.buf != nil && len(f.buf) == t.cfg.ReadBufferBytes {
		b := f.buf
		f.buf = nil
		f.bstart, f.bend, f.scanned = 0, 0, 0
		t.bufs.Put(&b)
	}
}
