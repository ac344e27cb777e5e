package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

// File appends each new document as one line
//
//	{"_index":"logs-2026.11.24","_id":"X4HGK9y6eLhGy_hRYWtezA","_source":{...}}
//
// and answers Exists for an _id it already holds. It keeps the ids in memory
// (about 40 bytes each): it is meant for local runs and tests, not for
// unbounded production volume.
type File struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	ids  map[string]struct{}
	path string
}

// OpenFile opens (or creates) path and loads the ids already in it.
func OpenFile(path string) (*File, error) {
	s := &File{ids: map[string]struct{}{}, path: path}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var head struct {
				ID string `json:"_id"`
			}
			if json.Unmarshal(sc.Bytes(), &head) == nil && head.ID != "" {
				s.ids[head.ID] = struct{}{}
			}
		}
		f.Close()
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 1<<20)
	return s, nil
}

// Path returns the file's path.
func (s *File) Path() string { return s.path }

// Count returns the number of documents in the file.
func (s *File) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Index writes docs and syncs the file before it reports them created, so an
// acknowledged document survives a crash.
func (s *File) Index(_ context.Context, docs []bulk.Doc) []bulk.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := make([]bulk.Result, len(docs))
	for i, d := range docs {
		if _, ok := s.ids[d.ID]; ok {
			res[i] = bulk.Result{Outcome: bulk.Exists, Status: 409}
			continue
		}
		idx, _ := json.Marshal(d.Index)
		id, _ := json.Marshal(d.ID)
		s.w.WriteString(`{"_index":`)
		s.w.Write(idx)
		s.w.WriteString(`,"_id":`)
		s.w.Write(id)
		s.w.WriteString(`,"_source":`)
		s.w.Write(d.Source)
		s.w.WriteString("}\n")
		res[i] = bulk.Result{Outcome: bulk.Created, Status: 201}
	}
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		for i := range res {
			if res[i].Outcome == bulk.Created {
				res[i] = bulk.Result{Outcome: bulk.Retryable, Status: 503, ErrorType: "file_sink_error", Reason: err.Error()}
			}
		}
		return res
	}
	for i, d := range docs {
		if res[i].Outcome == bulk.Created {
			s.ids[d.ID] = struct{}{}
		}
	}
	return res
}

// Close flushes and closes the file.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Close()
}
