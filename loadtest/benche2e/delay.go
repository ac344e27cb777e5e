package benche2e

import (
	"sort"
	"time"
)

// Delays is a histogram of end-to-end delays with 1 ms buckets up to
// maxDelay and one overflow bucket: exact to the millisecond, a fixed
// 480 KB however many lines pass. Not safe for concurrent use.
type Delays struct {
	buckets [maxDelayMs + 1]int64
	n       int64
	max     time.Duration
}

// maxDelayMs is the last bucket with its own millisecond; longer delays
// share the overflow bucket and report as at least this long.
const maxDelayMs = 60_000

// Add records one delay; negative delays (clock steps) count as 0.
func (d *Delays) Add(v time.Duration) {
	v = max(v, 0)
	d.buckets[min(int64(v/time.Millisecond), maxDelayMs)]++
	d.n++
	d.max = max(d.max, v)
}

// Count is the number of delays recorded.
func (d *Delays) Count() int64 { return d.n }

// Max is the longest delay recorded.
func (d *Delays) Max() time.Duration { return d.max }

// Quantile returns the q-quantile (0 < q ≤ 1) as the upper edge of its
// millisecond bucket (the nearest-rank method), 0 when empty.
func (d *Delays) Quantile(q float64) time.Duration {
	if d.n == 0 {
		return 0
	}
	rank := int64(q*float64(d.n) + 0.999999999)
	rank = min(max(rank, 1), d.n)
	var cum int64
	for i, c := range d.buckets {
		cum += c
		if cum >= rank {
			if i == maxDelayMs {
				return d.max
			}
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return d.max
}

// WriteLog remembers when each run of a source's sequence numbers was
// written: one entry per write call, found again by binary search. Not safe
// for concurrent use.
type WriteLog struct {
	runs [][]writeRun
}

type writeRun struct {
	last int64 // last sequence number of the run
	at   int64 // unix nanoseconds
}

// NewWriteLog returns a log for sources 0..sources-1.
func NewWriteLog(sources int) *WriteLog {
	return &WriteLog{runs: make([][]writeRun, sources)}
}

// Wrote records that the sequence numbers up to last of src were written
// at t. Calls for one source come with increasing last.
func (w *WriteLog) Wrote(src int, last int64, t time.Time) {
	w.runs[src] = append(w.runs[src], writeRun{last: last, at: t.UnixNano()})
}

// When returns the time seq of src was written, false if it never was.
func (w *WriteLog) When(src int, seq int64) (time.Time, bool) {
	if src < 0 || src >= len(w.runs) {
		return time.Time{}, false
	}
	r := w.runs[src]
	i := sort.Search(len(r), func(i int) bool { return r[i].last >= seq })
	if i == len(r) || seq < 1 {
		return time.Time{}, false
	}
	return time.Unix(0, r[i].at), true
}
