package tail

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
)

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
