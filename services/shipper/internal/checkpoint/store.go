package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Entry is the durable state of one file.
type Entry struct {
	// Fingerprint identifies the file's content (see package tail).
	Fingerprint string `json:"fingerprint"`
	// Path, Dev and Inode are where the file was last seen; informational
	// and a fast path for recognising an open file, not its identity.
	Path  string `json:"path"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	// Offset is the byte offset below which every byte was acknowledged.
	Offset  int64     `json:"offset"`
	Updated time.Time `json:"updated"`
}

const (
	magic       = "sluice-checkpoint v1"
	prevSuffix  = ".prev"
	tempPattern = ".sluice-checkpoint-*.tmp"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by Warning when a state file failed its checks.
var ErrCorrupt = errors.New("checkpoint: corrupt state file")

// Option configures Open.
type Option func(*Store)

// WithFS makes the Store read and write through fsys instead of OSFS.
func WithFS(fsys FS) Option { return func(s *Store) { s.fs = fsys } }

// WithLogger sets the logger for fallback warnings; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Store is an in-memory map of entries with a durable copy on disk. It is
// safe for concurrent use.
type Store struct {
	path string
	fs   FS
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]Entry
	dirty   bool
	warning error

	saveMu sync.Mutex // serialises Save
}

// Open loads the state file at path. A missing file is an empty state. A
// torn or corrupt file falls back to the previous generation or to empty;
// Warning reports what happened. Open fails only for an empty path or a
// directory it cannot create.
func Open(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("checkpoint: empty state path")
	}
	s := &Store{path: path, fs: OSFS{}, log: slog.Default(), entries: map[string]Entry{}}
	for _, o := range opts {
		o(s)
	}
	if err := s.fs.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint: creating state directory: %w", err)
	}
	var warns []error
	for _, p := range []string{path, path + prevSuffix} {
		entries, err := s.load(p)
		if err == nil {
			s.entries = entries
			if len(warns) > 0 {
				s.dirty = true // rewrite a good current file soon
			}
			break
		}
		if errors.Is(err, fs.ErrNotExist) {
			if p == path {
				// No current file: either never saved, or a crash between the
				// two renames of Save left only the previous generation.
				continue
			}
			break
		}
		warns = append(warns, fmt.Errorf("%s: %w", p, err))
	}
	if len(warns) > 0 {
		s.warning = errors.Join(warns...)
		s.log.Warn("checkpoint state file unusable; fell back to an older state (lines after it will be re-sent)",
			"path", path, "err", s.warning, "entries", len(s.entries))
	}
	return s, nil
}

// Warning returns why Open fell back to an older or empty state, or nil.
func (s *Store) Warning() error { return s.warning }

// Path returns the state file's path.
func (s *Store) Path() string { return s.path }

func (s *Store) load(p string) (map[string]Entry, error) {
	data, err := s.fs.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return decodeState(data)
}

func decodeState(data []byte) (map[string]Entry, error) {
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	hdr := bytes.Fields(data[:nl])
	body := data[nl+1:]
	if len(hdr) != 4 || string(hdr[0])+" "+string(hdr[1]) != magic {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	sum, err1 := strconv.ParseUint(string(hdr[2]), 16, 32)
	n, err2 := strconv.Atoi(string(hdr[3]))
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	if n != len(body) {
		return nil, fmt.Errorf("%w: body is %d bytes, header says %d (torn write?)", ErrCorrupt, len(body), n)
	}
	if crc32.Checksum(body, castagnoli) != uint32(sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	var st struct {
		Entries []Entry `json:"entries"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	m := make(map[string]Entry, len(st.Entries))
	for _, e := range st.Entries {
		if e.Fingerprint == "" || e.Offset < 0 {
			return nil, fmt.Errorf("%w: invalid entry %q", ErrCorrupt, e.Fingerprint)
		}
		m[e.Fingerprint] = e
	}
	return m, nil
}

func encodeState(entries []Entry) []byte {
	body, _ := json.Marshal(struct {
		Entries []Entry `json:"entries"`
	}{entries}) // cannot fail: plain types
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %08x %d\n", magic, crc32.Checksum(body, castagnoli), len(body))
	b.Write(body)
	return b.Bytes()
}

// Get returns the entry for fingerprint fp.
func (s *Store) Get(fp string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[fp]
	return e, ok
}

// Set stores e under e.Fingerprint; a zero Updated is set to now.
func (s *Store) Set(e Entry) {
	if e.Updated.IsZero() {
		e.Updated = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[e.Fingerprint] = e
	s.dirty = true
}

// Delete removes the entry for fp.
func (s *Store) Delete(fp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[fp]; ok {
		delete(s.entries, fp)
		s.dirty = true
	}
}

// Entries returns a copy of all entries, sorted by fingerprint.
func (s *Store) Entries() []Entry {
	s.mu.Lock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out
}

// Save writes the state durably if it changed since the last successful
// Save. On error the in-memory state is kept (and still dirty) and the
// files on disk are the last good generations.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	s.dirty = false
	s.mu.Unlock()
	data := encodeState(s.Entries())
	if err := s.write(data); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("checkpoint: saving %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) write(data []byte) (err error) {
	dir := filepath.Dir(s.path)
	f, err := s.fs.CreateTemp(dir, tempPattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = s.fs.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// Keep the previous generation: a current file that later turns out
	// corrupt (bad disk, torn by a crash inside the kernel) still has a
	// fallback. A crash between the two renames leaves only .prev, which
	// Open reads.
	if err = s.fs.Rename(s.path, s.path+prevSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err = s.fs.Rename(tmp, s.path); err != nil {
		return err
	}
	return s.fs.SyncDir(dir)
}
