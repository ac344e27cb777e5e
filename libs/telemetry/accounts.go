package telemetry

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Field is one count kept per container.
type Field int

// The fields. Each service adds the ones it sees; comparing them across
// services per container says where a container's lines went missing.
const (
	LinesTailed            Field = iota // lines read from the container's log files (shipper)
	BytesTailed                         // bytes of those lines (shipper)
	LinesProduced                       // lines Kafka acknowledged (shipper)
	LinesParsed                         // documents produced to the parsed topic (parser)
	LinesIndexed                        // documents the search engine holds, created or already there (indexer)
	LinesDeadLettered                   // lines sent to the dead-letter topic (parser, indexer)
	BytesSkippedRotation                // bytes rotated away before they were read (shipper)
	BytesSkippedTruncation              // bytes lost to a file truncated under the reader (shipper)
	LinesOversized                      // lines cut at the maximum event size (shipper)
	LinesFailed                         // lines no rule parsed, sent on with a failure tag (parser; also in lines_parsed)
	numFields
)

var fieldNames = [numFields]string{
	"lines_tailed", "bytes_tailed", "lines_produced", "lines_parsed", "lines_indexed",
	"lines_dead_lettered", "bytes_skipped_rotation", "bytes_skipped_truncation", "lines_oversized",
	"lines_failed",
}

// String returns the field's snake_case name, as in the metric name.
func (f Field) String() string {
	if f < 0 || f >= numFields {
		return "unknown"
	}
	return fieldNames[f]
}

// Fields lists every field in order.
func Fields() []Field {
	out := make([]Field, numFields)
	for i := range out {
		out[i] = Field(i)
	}
	return out
}

// Other is the namespace, pod and container of the bucket that counts every
// container beyond an Accounts' key limit.
const Other = "_other"

// Attribute keys of the per-container metrics (OpenTelemetry's Kubernetes
// semantic conventions; Prometheus shows them with underscores).
const (
	AttrNamespace = "k8s.namespace.name"
	AttrPod       = "k8s.pod.name"
	AttrContainer = "k8s.container.name"
)

type accountKey struct{ namespace, pod, container string }

type accountRow struct {
	key   accountKey
	attrs metric.MeasurementOption
	v     [numFields]atomic.Int64
}

// Accounts counts lines and bytes per container (namespace, pod, container)
// for loss accounting, exported as one OpenTelemetry counter per field,
// <name>.<field> (Prometheus: sluice_<service>_<name>_<field>_total), with
// the attributes k8s.namespace.name, k8s.pod.name and k8s.container.name.
//
// Cardinality is bounded: at most maxKeys containers are counted on their
// own, and every container first seen after that is counted in one bucket
// whose namespace, pod and container are all "_other". A growing _other
// series means the limit is too low for the node or cluster, or containers
// that are gone were not forgotten (see Forget). Only fields a container
// has counted are exported for it, so a shipper's containers export no
// indexer fields.
//
// Add is safe for concurrent use and takes a read lock only, except the
// first time a container is seen.
type Accounts struct {
	name    string
	maxKeys int

	mu    sync.RWMutex
	rows  map[accountKey]*accountRow
	other *accountRow
}

// Accounts returns the per-container accounts named name (a snake_case
// prefix such as "container"), creating and exporting them on first use with
// room for maxKeys containers (at least 1). Asking again for a name returns
// the same Accounts, with its original limit.
func (t *Telemetry) Accounts(name string, maxKeys int) *Accounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.accounts[name]; ok {
		return a
	}
	if maxKeys < 1 {
		maxKeys = 1
	}
	a := &Accounts{name: name, maxKeys: maxKeys, rows: map[accountKey]*accountRow{}}
	a.other = newAccountRow(accountKey{Other, Other, Other})
	t.accounts[name] = a
	var instruments [numFields]metric.Int64ObservableCounter
	var observables []metric.Observable
	for f := range numFields {
		c, err := t.meter.Int64ObservableCounter(name+"."+f.String(),
			metric.WithDescription(f.String()+" per container; containers beyond the key limit count under "+Other+"."))
		if err != nil {
			continue
		}
		instruments[f] = c
		observables = append(observables, c)
	}
	_, _ = t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, row := range a.all() {
			for f := range numFields {
				if v := row.v[f].Load(); v != 0 && instruments[f] != nil {
					o.ObserveInt64(instruments[f], v, row.attrs)
				}
			}
		}
		return nil
	}, observables...)
	return a
}

func newAccountRow(k accountKey) *accountRow {
	return &accountRow{key: k, attrs: metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrNamespace, k.namespace),
		attribute.String(AttrPod, k.pod),
		attribute.String(AttrContainer, k.container),
	))}
}

// Add adds n (≥ 0; anything else is ignored, the values are counters) to
// field for the container.
func (a *Accounts) Add(namespace, pod, container string, field Field, n int64) {
	if n <= 0 || field < 0 || field >= numFields {
		return
	}
	a.row(accountKey{namespace, pod, container}).v[field].Add(n)
}

func (a *Accounts) row(k accountKey) *accountRow {
	a.mu.RLock()
	r, ok := a.rows[k]
	full := len(a.rows) >= a.maxKeys
	a.mu.RUnlock()
	if ok {
		return r
	}
	if full {
		return a.other
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.rows[k]; ok {
		return r
	}
	if len(a.rows) >= a.maxKeys {
		return a.other
	}
	r = newAccountRow(k)
	a.rows[k] = r
	return r
}

// Forget drops a container's counts and frees its key for another
// container; call it when the container is gone for good (its files removed
// and read to the end), so that a node's pod churn does not fill the limit
// with dead containers. Its series stop being exported; counts added for it
// afterwards start from zero.
func (a *Accounts) Forget(namespace, pod, container string) {
	a.mu.Lock()
	delete(a.rows, accountKey{namespace, pod, container})
	a.mu.Unlock()
}

func (a *Accounts) all() []*accountRow {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*accountRow, 0, len(a.rows)+1)
	for _, r := range a.rows {
		out = append(out, r)
	}
	return append(out, a.other)
}

// AccountRow is one container's counts.
type AccountRow struct {
	Namespace, Pod, Container string
	// Counts holds the fields the container counted (non-zero ones only).
	Counts map[Field]int64
}

// Snapshot returns every container's counts, sorted by namespace, pod and
// container, with the _other bucket last when it counted anything.
func (a *Accounts) Snapshot() []AccountRow {
	rows := a.all()
	out := make([]AccountRow, 0, len(rows))
	var other *AccountRow
	for _, r := range rows {
		row := AccountRow{Namespace: r.key.namespace, Pod: r.key.pod, Container: r.key.container, Counts: map[Field]int64{}}
		for f := range numFields {
			if v := r.v[f].Load(); v != 0 {
				row.Counts[f] = v
			}
		}
		if r == a.other {
			if len(row.Counts) > 0 {
				other = &row
			}
			continue
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		if x.Pod != y.Pod {
			return x.Pod < y.Pod
		}
		return x.Container < y.Container
	})
	if other != nil {
		out = append(out, *other)
	}
	return out
}
