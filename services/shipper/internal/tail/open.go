package tail

import (
	"compress/gzip"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
	"github.com/sluice-io/sluice/services/shipper/internal/decode"
)

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
	f := &file{g: g, target: target, fp: fp, dev: dev, ino: ino, osf: osf, rd: osf, head: firstLine(head),
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
		a = &ackState{win: newAckWindow(off)}
		t.acks[f.fp] = a
	}
	a.target, a.dev, a.inode, a.closed, a.forget = f.target, f.dev, f.ino, false, false
	if off < a.win.acked {
		a.win.acked = off
	}
	// Record the file as known at once, even before anything is acked:
	// after a restart, a rotated file without an entry would count as
	// history from before this shipper and be skipped.
	if e, ok := t.store.Get(f.fp); !ok || e.Offset > off {
		t.store.Set(checkpoint.Entry{Fingerprint: f.fp, Path: f.target, Dev: f.dev, Inode: f.ino, Offset: off, Updated: time.Now()})
	}
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
