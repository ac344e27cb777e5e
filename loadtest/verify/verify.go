package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

// Doc is what the verifier needs from one indexed document.
type Doc struct {
	ID string
	// Pod is "<namespace>/<pod>" and Seq the line's sequence number, from
	// the request path of the generated nginx line.
	Pod string
	Seq int64
	// Created is event.created (the runtime timestamp: when the line was
	// written); Ingested is event.ingested (when the shipper read it).
	Created, Ingested time.Time
	// Indexed is when the search engine accepted the document; zero when
	// the source cannot say.
	Indexed time.Time
	// Order is the document's position in indexing order (1-based); 0
	// when unknown, which turns off the reordering check.
	Order int64
	// DeadLetter marks a record read from the dead-letter topic rather
	// than the index: the line is accounted for, not lost.
	DeadLetter bool
}

// source is the part of a document's _source the verifier reads.
type source struct {
	URL struct {
		Original string `json:"original"`
	} `json:"url"`
	Message string `json:"message"`
	Event   struct {
		Created  string `json:"created"`
		Ingested string `json:"ingested"`
	} `json:"event"`
}

// ParseSource extracts a Doc from a document's _source. A document whose
// line carries no sequence number (a line the generator did not write, or
// one that failed to parse and kept only its message) is still read from
// its message when possible; otherwise ok is false.
func ParseSource(id string, src []byte) (d Doc, ok bool, err error) {
	var s source
	if err := json.Unmarshal(src, &s); err != nil {
		return Doc{}, false, fmt.Errorf("document %s: %w", id, err)
	}
	d.ID = id
	d.Pod, d.Seq, ok = gen.SeqFromURL(s.URL.Original)
	if !ok {
		d.Pod, d.Seq, ok = gen.PodSeqFromLine([]byte(s.Message))
	}
	d.Created, _ = time.Parse(time.RFC3339Nano, s.Event.Created)
	d.Ingested, _ = time.Parse(time.RFC3339Nano, s.Event.Ingested)
	return d, ok, nil
}

// Expect is what the generator wrote.
type Expect struct {
	// Written is the last sequence number written per pod ("<ns>/<pod>");
	// sequences run from 1.
	Written map[string]int64
	// MayMiss lists, per pod, sequence ranges whose files were deleted by
	// rotation; a line missing from them is counted as RotatedAway, not
	// Lost.
	MayMiss map[string][]gen.SeqRange
}

// Total is the number of lines written.
func (e Expect) Total() int64 {
	var n int64
	for _, s := range e.Written {
		n += s
	}
	return n
}

// Result is the verdict on one run.
type Result struct {
	// Written is lines written; Documents is documents read back;
	// Unparsed is documents without a pod and sequence.
	Written   int64 `json:"written"`
	Documents int64 `json:"documents"`
	Unparsed  int64 `json:"unparsed"`
	// Indexed is distinct lines found.
	Indexed int64 `json:"indexed"`
	// Lost is lines written but neither indexed nor dead-lettered
	// (outside MayMiss).
	Lost int64 `json:"lost"`
	// DeadLettered is lines in the dead-letter topic and not indexed.
	DeadLettered int64 `json:"dead_lettered"`
	// RotatedAway is lines missing from files the kubelet deleted.
	RotatedAway int64 `json:"rotated_away"`
	// Duplicates is extra documents for lines already indexed.
	Duplicates int64 `json:"duplicates"`
	// Unexpected is documents for lines never written (or for pods the
	// generator does not know).
	Unexpected int64 `json:"unexpected"`
	// Reordered is documents indexed after a higher sequence of the same
	// pod; -1 when indexing order is unknown. Informational: the pipeline
	// keeps order through Kafka, but concurrent bulk requests and replays
	// after a crash may index out of order.
	Reordered int64 `json:"reordered"`
	// Pods has one entry per pod with anything wrong.
	Pods []PodResult `json:"pods,omitempty"`
	// LostSamples and DuplicateSamples name the first few ("ns/pod#seq").
	LostSamples      []string `json:"lost_samples,omitempty"`
	DuplicateSamples []string `json:"duplicate_samples,omitempty"`
	// Latency is written → indexed; ShipLatency is shipper read → indexed.
	Latency     Latency `json:"latency"`
	ShipLatency Latency `json:"ship_latency"`
	// Throughput is documents indexed per second, by second since the
	// first line was written.
	Throughput []Point `json:"throughput,omitempty"`
	// LatencyP50 and LatencyP99 are written → indexed latency (ms) of the
	// documents indexed in each second, on Throughput's time axis.
	LatencyP50 []Point `json:"latency_p50,omitempty"`
	LatencyP99 []Point `json:"latency_p99,omitempty"`
}

// PodResult counts what is wrong for one pod.
type PodResult struct {
	Pod        string `json:"pod"`
	Written    int64  `json:"written"`
	Indexed    int64  `json:"indexed"`
	Lost       int64  `json:"lost"`
	Duplicates int64  `json:"duplicates"`
	Reordered  int64  `json:"reordered"`
}

// Latency summarises a latency distribution in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Point is one sample of a time series: T seconds from the start.
type Point struct {
	T float64 `json:"t"`
	V float64 `json:"v"`
}

// OK reports whether nothing was lost, duplicated or invented.
func (r Result) OK() bool { return r.Lost == 0 && r.Duplicates == 0 && r.Unexpected == 0 }

// String is a one-line summary.
func (r Result) String() string {
	s := fmt.Sprintf("written %d, indexed %d, lost %d, duplicates %d, unexpected %d", r.Written, r.Indexed, r.Lost, r.Duplicates, r.Unexpected)
	if r.DeadLettered > 0 {
		s += fmt.Sprintf(", dead-lettered %d", r.DeadLettered)
	}
	if r.RotatedAway > 0 {
		s += fmt.Sprintf(", rotated away %d", r.RotatedAway)
	}
	if r.Reordered >= 0 {
		s += fmt.Sprintf(", reordered %d", r.Reordered)
	}
	if r.Latency.Count > 0 {
		s += fmt.Sprintf(", latency p50 %.0fms p99 %.0fms", r.Latency.P50, r.Latency.P99)
	}
	return s
}

const maxSamples = 20

// Check compares the documents with what was written. unparsed is the
// number of documents ParseSource could not place, counted as unexpected.
func Check(exp Expect, docs []Doc, unparsed int64) Result {
	r := Result{Written: exp.Total(), Unparsed: unparsed, Unexpected: unparsed}
	for _, d := range docs {
		if !d.DeadLetter {
			r.Documents++
		}
	}
	r.Documents += unparsed
	ordered := len(docs) > 0
	for i := range docs {
		if docs[i].Order == 0 && !docs[i].DeadLetter {
			ordered = false
			break
		}
	}
	if ordered {
		docs = slices.Clone(docs)
		sort.Slice(docs, func(i, j int) bool { return docs[i].Order < docs[j].Order })
	} else {
		r.Reordered = -1
	}
	type podState struct {
		seen   map[int64]int
		dlq    map[int64]bool
		maxSeq int64
		res    PodResult
	}
	pods := map[string]*podState{}
	for pod, n := range exp.Written {
		pods[pod] = &podState{seen: make(map[int64]int, n), dlq: map[int64]bool{}, res: PodResult{Pod: pod, Written: n}}
	}
	var lat, ship []float64
	for _, d := range docs {
		ps := pods[d.Pod]
		if ps == nil || d.Seq < 1 || d.Seq > ps.res.Written {
			r.Unexpected++
			continue
		}
		if d.DeadLetter {
			ps.dlq[d.Seq] = true
			continue
		}
		ps.seen[d.Seq]++
		if ps.seen[d.Seq] > 1 {
			r.Duplicates++
			ps.res.Duplicates++
			if len(r.DuplicateSamples) < maxSamples {
				r.DuplicateSamples = append(r.DuplicateSamples, fmt.Sprintf("%s#%d", d.Pod, d.Seq))
			}
			continue
		}
		if ordered {
			if d.Seq < ps.maxSeq {
				r.Reordered++
				ps.res.Reordered++
			} else {
				ps.maxSeq = d.Seq
			}
		}
		if !d.Indexed.IsZero() {
			if !d.Created.IsZero() {
				lat = append(lat, ms(d.Indexed.Sub(d.Created)))
			}
			if !d.Ingested.IsZero() {
				ship = append(ship, ms(d.Indexed.Sub(d.Ingested)))
			}
		}
	}
	podNames := make([]string, 0, len(pods))
	for name := range pods {
		podNames = append(podNames, name)
	}
	sort.Strings(podNames)
	for _, name := range podNames {
		ps := pods[name]
		ps.res.Indexed = int64(len(ps.seen))
		r.Indexed += ps.res.Indexed
		for s := int64(1); s <= ps.res.Written; s++ {
			if ps.seen[s] > 0 {
				continue
			}
			if ps.dlq[s] {
				r.DeadLettered++
				continue
			}
			if inRanges(exp.MayMiss[name], s) {
				r.RotatedAway++
				continue
			}
			ps.res.Lost++
			r.Lost++
			if len(r.LostSamples) < maxSamples {
				r.LostSamples = append(r.LostSamples, fmt.Sprintf("%s#%d", name, s))
			}
		}
		if ps.res.Lost > 0 || ps.res.Duplicates > 0 || ps.res.Reordered > 0 {
			r.Pods = append(r.Pods, ps.res)
		}
	}
	r.Latency, r.ShipLatency = summarize(lat), summarize(ship)
	r.Throughput = Throughput(docs, time.Second)
	r.LatencyP50, r.LatencyP99 = latencyOverTime(docs, time.Second)
	return r
}

func inRanges(rs []gen.SeqRange, s int64) bool {
	for _, r := range rs {
		if s >= r.From && s <= r.To {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarize(v []float64) Latency {
	if len(v) == 0 {
		return Latency{}
	}
	sort.Float64s(v)
	q := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	return Latency{Count: int64(len(v)), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: v[len(v)-1]}
}

// Throughput buckets documents by their indexing time into steps from the
// earliest Created (or Indexed) time, as documents per second. Documents
// without an indexing time are skipped.
func Throughput(docs []Doc, step time.Duration) []Point {
	t0 := start(docs)
	var end time.Time
	for _, d := range docs {
		if d.Indexed.After(end) {
			end = d.Indexed
		}
	}
	if t0.IsZero() {
		return nil
	}
	counts := make([]float64, int(end.Sub(t0)/step)+1)
	for _, d := range docs {
		if !d.Indexed.IsZero() {
			counts[int(d.Indexed.Sub(t0)/step)]++
		}
	}
	out := make([]Point, len(counts))
	for i, c := range counts {
		out[i] = Point{T: float64(i) * step.Seconds(), V: c / step.Seconds()}
	}
	return out
}

// start is the time axis origin Throughput uses.
func start(docs []Doc) time.Time {
	var t0 time.Time
	for _, d := range docs {
		if d.Indexed.IsZero() {
			continue
		}
		first := d.Indexed
		if !d.Created.IsZero() && d.Created.Before(first) {
			first = d.Created
		}
		if t0.IsZero() || first.Before(t0) {
			t0 = first
		}
	}
	return t0
}

// latencyOverTime returns, per step of indexing time, the median and 99th
// percentile of written → indexed latency.
func latencyOverTime(docs []Doc, step time.Duration) (p50, p99 []Point) {
	t0 := start(docs)
	if t0.IsZero() {
		return nil, nil
	}
	buckets := map[int][]float64{}
	last := 0
	for _, d := range docs {
		if d.Indexed.IsZero() || d.Created.IsZero() {
			continue
		}
		i := int(d.Indexed.Sub(t0) / step)
		buckets[i] = append(buckets[i], ms(d.Indexed.Sub(d.Created)))
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		v := buckets[i]
		if len(v) == 0 {
			continue
		}
		l := summarize(v)
		t := float64(i) * step.Seconds()
		p50 = append(p50, Point{T: t, V: l.P50})
		p99 = append(p99, Point{T: t, V: l.P99})
	}
	return p50, p99
}
