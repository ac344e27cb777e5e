package benche2e

import (
	"bytes"
	"strconv"
	"sync"
	"time"
)

// Ledger is the harness's account of every generated line: when it was
// written, whether it arrived at the bulk endpoint, how often, and how long
// it took. The writer and the bulk endpoint share it; its methods are safe
// for concurrent use.
type Ledger struct {
	mu      sync.Mutex
	written []int64 // last sequence number written, per source
	writes  *WriteLog
	seen    *SeqSet
	delays  Delays
	counts  Counts
	first   time.Time // first write
	last    time.Time // last arrival
}

// Counts are the ledger's totals.
type Counts struct {
	// Written is lines written to the pods' files.
	Written int64 `json:"written"`
	// Delivered is distinct lines that reached the bulk endpoint (with a
	// real engine: that it accepted).
	Delivered int64 `json:"delivered"`
	// Duplicated is arrivals of a line already delivered. It is strict:
	// a replay the engine would answer 409 to counts too, which a run
	// without crashes should never produce.
	Duplicated int64 `json:"duplicated"`
	// Foreign is documents that carry no generated sequence number.
	Foreign int64 `json:"foreign"`
	// Conflicts is items a real engine answered 409 (already indexed).
	Conflicts int64 `json:"conflicts"`
	// Rejected is items a real engine refused (retried by the indexer).
	Rejected int64 `json:"rejected"`
}

// NewLedger returns a ledger for sources 0..sources-1.
func NewLedger(sources int) *Ledger {
	return &Ledger{written: make([]int64, sources), writes: NewWriteLog(sources), seen: NewSeqSet(sources)}
}

// Wrote records that src's lines up to sequence number last were written at t.
func (l *Ledger) Wrote(src int, last int64, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first.IsZero() {
		l.first = t
	}
	l.counts.Written += last - l.written[src]
	l.written[src] = last
	l.writes.Wrote(src, last, t)
}

// Arrival is one document as the bulk endpoint saw it.
type Arrival struct {
	Src int
	Seq int64
	OK  bool // carries a sequence number
}

// Arrived records documents that reached the bulk endpoint at t.
func (l *Ledger) Arrived(docs []Arrival, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range docs {
		if !d.OK {
			l.counts.Foreign++
			continue
		}
		dup, ok := l.seen.Add(d.Src, d.Seq)
		switch {
		case !ok:
			l.counts.Foreign++
			continue
		case dup:
			l.counts.Duplicated++
			continue
		}
		l.counts.Delivered++
		if w, ok := l.writes.When(d.Src, d.Seq); ok {
			l.delays.Add(t.Sub(w))
		}
	}
	if len(docs) > 0 {
		l.last = t
	}
}

// Refused counts items a real engine answered with an error: conflicts
// (409) or other refusals.
func (l *Ledger) Refused(conflicts, rejected int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts.Conflicts += conflicts
	l.counts.Rejected += rejected
}

// Counts returns the totals so far.
func (l *Ledger) Counts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts
}

// Span returns the first write and the last arrival.
func (l *Ledger) Span() (first, last time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first, l.last
}

// Lost returns how many written lines have not arrived.
func (l *Ledger) Lost() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for src, last := range l.written {
		n += l.seen.Missing(src, last)
	}
	return n
}

// DelayQuantiles returns the p50 and p99 end-to-end delays and the maximum.
func (l *Ledger) DelayQuantiles() (p50, p99, maxDelay time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delays.Quantile(0.5), l.delays.Quantile(0.99), l.delays.Max()
}

// PodName is the name of generated pod i; ParseSeq reads i back.
func PodName(i int) string { return "web-" + strconv.Itoa(i) }

// ParseSeq finds the generated request path ".../<pod>-<i>/seq/<n>" (see
// loadtest/gen) in a document and returns the pod index i and sequence
// number n. It looks at the first occurrence, which is where the parser's
// documents have it (message, url fields).
func ParseSeq(doc []byte) (src int, seq int64, ok bool) {
	const marker = "/seq/"
	at := bytes.Index(doc, []byte(marker))
	if at < 0 {
		return 0, 0, false
	}
	rest := doc[at+len(marker):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		seq = seq*10 + int64(rest[n]-'0')
		n++
	}
	if n == 0 || n > 18 {
		return 0, 0, false
	}
	i := at
	for i > 0 && doc[i-1] >= '0' && doc[i-1] <= '9' {
		i--
	}
	if i == at || at-i > 9 || i == 0 || doc[i-1] != '-' {
		return 0, 0, false
	}
	for _, c := range doc[i:at] {
		src = src*10 + int(c-'0')
	}
	return src, seq, true
}
