package tail

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

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
	f.checkedSize, f.checkedAt = size, now
	if !truncated {
		t.setSize(f, size)
		return nil
	}
	return t.truncated(ctx, emit, g, f, size)
}

// truncated handles a file found truncated (smaller than what was read, or
// with another first line) whose current size is size.
func (t *Tailer) truncated(ctx context.Context, emit func(context.Context, Event) error, g *group, f *file, size int64) error {
	// copytruncate: the bytes between our read offset and the old end
	// are gone from this file. If a copy of it sits beside it (same
	// fingerprint, at least as long as what we read), finish reading from
	// the copy, through the same buffer and partial-line state, so that
	// nothing is lost and a line cut by the truncation stays one event.
	t.mu.Lock()
	t.stats.Truncations++
	t.mu.Unlock()
	if g.current == f {
		g.current = nil
		g.reopenTruncated = true
		// Until the truncated file is open again, its content may be
		// copied away by the next copytruncate: look for unknown
		// siblings (read from 0) on every poll until then.
		g.needScan, g.scanAll = true, true
	}
	if cp, cpSize, ok := t.findCopy(g, f); ok {
		recovered := max(cpSize-f.readPos, 0)
		t.log.Warn("file truncated; reading the rest from its copy", "path", g.path, "target", f.target, "copy", cp.Name(),
			"read_offset", f.readPos, "copy_size", cpSize, "recovered_bytes", recovered)
		f.osf.Close()
		f.osf, f.rd, f.target, f.headGone = cp, cp, cp.Name(), false
		f.size, f.checkedSize, f.renamed = cpSize, cpSize, true
		f.eof = false // not before the copy was read to its end
		t.mu.Lock()
		t.stats.RecoveredBytes += recovered
		f.status.RecoveredBytes += recovered
		f.status.Target, f.status.Size = f.target, cpSize
		if a := t.acks[f.fp]; a != nil {
			a.target = f.target
		}
		t.mu.Unlock()
		// Read to its end, then close at once: a copy does not grow.
		t.setState(f, StateCatchUp)
		t.openCurrent(g, g.key)
		return nil
	}
	// No copy: what was written after our last read and before the
	// truncation is lost. Count it (as much as we saw of it), decode what
	// is buffered (a line cut by the truncation is one event, tagged),
	// finish the old content and start over.
	skipped := max(0, f.size-f.readPos)
	t.mu.Lock()
	t.stats.SkippedBytes += skipped
	f.status.SkippedBytes += skipped
	t.mu.Unlock()
	t.log.Warn("file truncated and no copy of it found; bytes written after the last read are lost", "path", g.path, "target", f.target,
		"read_offset", f.readPos, "last_size", f.size, "size", size, "skipped_bytes", skipped)
	if t.onLoss != nil && skipped > 0 {
		t.onLoss(Loss{Path: g.path, Target: f.target, Bytes: skipped, Reason: LossTruncated})
	}
	t.setState(f, StateTruncated)
	if f.bend > f.bstart && !f.skipping {
		line := f.buf[f.bstart:f.bend]
		off := f.pos
		f.pos = f.readPos
		f.bstart = f.bend
		f.nextFlags = flagsFileTruncated
		if err := t.handleLine(ctx, emit, f, line, nil, off, false); err != nil {
			return err
		}
	}
	if err := t.closeFile(ctx, emit, f, false); err != nil {
		return err
	}
	if g.reopenTruncated {
		t.openCurrent(g, g.key)
	}
	return nil
}

// findCopy looks beside a truncated file for a copy of it made by
// copytruncate: a plain sibling <name>.<suffix> with the same fingerprint
// and at least as many bytes as were read, modified no earlier than the
// file's last check (when the copy would not have existed yet). The newest
// such copy wins. It returns the copy opened.
func (t *Tailer) findCopy(g *group, f *file) (*os.File, int64, bool) {
	dir, base := filepath.Split(f.target)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, false
	}
	var best string
	var bestMod time.Time
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, base+".") || strings.HasSuffix(n, ".gz") || strings.HasSuffix(n, ".tmp") || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() < f.readPos || info.ModTime().Before(f.checkedAt.Add(-time.Minute)) {
			continue
		}
		p := filepath.Join(dir, n)
		fp, _, err := t.fingerprintFile(g.path, p, false)
		if err != nil || fp != f.fp {
			continue
		}
		if best == "" || info.ModTime().After(bestMod) {
			best, bestMod = p, info.ModTime()
		}
	}
	if best == "" {
		return nil, 0, false
	}
	cp, err := os.Open(best)
	if err != nil {
		return nil, 0, false
	}
	fi, err := cp.Stat()
	if err == nil {
		_, err = cp.Seek(f.readPos, io.SeekStart)
	}
	if err != nil {
		cp.Close()
		return nil, 0, false
	}
	return cp, fi.Size(), true
}

// LossReason says why bytes of a file could not be read.
type LossReason string

// Loss reasons.
const (
	// LossTruncated: the file was truncated before the bytes were read,
	// and no copy of them was found.
	LossTruncated LossReason = "truncated"
)

// Loss is bytes of a file that could not be read.
type Loss struct {
	// Path is the watched path (for Kubernetes, its name carries the
	// namespace, pod and container); Target the file that lost them.
	Path, Target string
	Bytes        int64
	Reason       LossReason
}

// SetOnLoss installs a function told of every loss, on Run's goroutine;
// call it before Run.
func (t *Tailer) SetOnLoss(fn func(Loss)) { t.onLoss = fn }

// headChanged reports whether a plain file's first line is no longer what
// it was when the file was opened: the file was truncated and written
// again, possibly past our read offset, so the bytes at the read offset are
// not the continuation of what was read. Checked before every read, it
// keeps a copytruncate between two polls from mixing new content into the
// old file's stream.
func (t *Tailer) headChanged(f *file) bool {
	if f.gz || len(f.head) == 0 || f.headGone {
		return false
	}
	if cap(t.headBuf) < len(f.head) {
		t.headBuf = make([]byte, t.cfg.FingerprintBytes)
	}
	b := t.headBuf[:len(f.head)]
	n, _ := f.osf.ReadAt(b, 0)
	return n != len(b) || !bytes.Equal(b, f.head)
}
