package verify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/loadtest/gen"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// Recorder notes when each _id was first accepted by a bulk-API test
// server, and in which order, because the server itself keeps no time.
// Feed it from an item hook (libs/bulktest ItemHook) for the items the
// server is about to store. Safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	first map[string]stamp
	n     int64
}

type stamp struct {
	t     time.Time
	order int64
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{first: map[string]stamp{}} }

// Accepted records that id was accepted at t, unless it was before (a
// replay answered 409 keeps its first time).
func (r *Recorder) Accepted(id string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.first[id]; ok {
		return
	}
	r.n++
	r.first[id] = stamp{t, r.n}
}

// Len is the number of ids recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first)
}

// FromDocs reads documents by _id, as libs/bulktest's Server.Docs returns
// them, taking indexing times and order from rec (nil: unknown).
func FromDocs(docs map[string]json.RawMessage, rec *Recorder) (out []Doc, unparsed int64, err error) {
	out = make([]Doc, 0, len(docs))
	if rec != nil {
		rec.mu.Lock()
		defer rec.mu.Unlock()
	}
	for id, src := range docs {
		d, ok, err := ParseSource(id, src)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			unparsed++
			continue
		}
		if rec != nil {
			if st, ok := rec.first[id]; ok {
				d.Indexed, d.Order = st.t, st.order
			}
		}
		out = append(out, d)
	}
	return out, unparsed, nil
}

// ReadNDJSON reads the indexer's file sink, one
// {"_index":..,"_id":..,"_source":{..}} per line. Line order is indexing
// order; the file keeps no time, so every document gets indexed as its
// Indexed time (pass the zero time to leave latencies out).
func ReadNDJSON(r io.Reader, indexed time.Time) (out []Doc, unparsed int64, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var n int64
	for sc.Scan() {
		var line struct {
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, 0, fmt.Errorf("sink line %d: %w", n+1, err)
		}
		n++
		d, ok, err := ParseSource(line.ID, line.Source)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			unparsed++
			continue
		}
		d.Order, d.Indexed = n, indexed
		out = append(out, d)
	}
	return out, unparsed, sc.Err()
}

// FromDeadLetter reads a dead-letter record's value: the parsed JSON
// document the indexer gave up on, or the raw record the parser could not
// turn into one.
func FromDeadLetter(value []byte) (Doc, bool) {
	if len(value) > 0 && value[0] == '{' {
		if d, ok, err := ParseSource("", value); err == nil && ok {
			d.DeadLetter = true
			return d, true
		}
	}
	var raw logsv1.RawRecord
	if proto.Unmarshal(value, &raw) != nil {
		return Doc{}, false
	}
	pod, seq, ok := gen.PodSeqFromLine(raw.GetLine())
	return Doc{Pod: pod, Seq: seq, DeadLetter: true}, ok
}
