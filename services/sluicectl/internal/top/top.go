// Package top turns successive admin polls of several services into the rows
// of `sluicectl top`: throughput from counter deltas between two polls,
// in-flight bytes, consumer lag and errors, one row per service.
package top

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// Counter names, by role, in the order they are looked up. The shipper
// reads lines and produces them; the parser and the indexer consume records
// and produce or index documents.
var (
	inCounters    = []string{"lines_read", "records_consumed"}
	outCounters   = []string{"lines_produced", "documents_produced", "documents_indexed"}
	bytesCounters = []string{"bytes_read", "bytes_consumed"}
)

// IsError reports whether a counter counts failures: produce errors, parse
// failures, dead letters.
func IsError(name string) bool {
	return strings.Contains(name, "error") || strings.Contains(name, "fail") || strings.Contains(name, "dead_letter")
}

// Sample is one poll of one service. Problem is set (and Status/Stats may be
// nil) when the poll failed, e.g. "unreachable: connection refused".
type Sample struct {
	Addr    string
	At      time.Time
	Status  *adminv1.GetStatusResponse
	Stats   *adminv1.GetStatsResponse
	Problem string
}

// Value is a number that may be unknown (rendered "-" and JSON null).
type Value struct {
	V     float64
	Known bool
}

// MarshalJSON renders an unknown value as null.
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.Known {
		return []byte("null"), nil
	}
	return json.Marshal(v.V)
}

func known(v float64) Value { return Value{V: v, Known: true} }

// Row is one service's line in the view.
type Row struct {
	Addr    string `json:"addr"`
	Service string `json:"service,omitempty"`
	State   string `json:"state"`
	Node    string `json:"node,omitempty"`
	// Per second, over the interval between the two polls.
	InPerSec    Value  `json:"in_per_sec"`
	OutPerSec   Value  `json:"out_per_sec"`
	BytesPerSec Value  `json:"bytes_per_sec"`
	ErrPerSec   Value  `json:"errors_per_sec"`
	InFlight    Value  `json:"in_flight_bytes"`
	Lag         Value  `json:"lag"`
	Errors      Value  `json:"errors_total"`
	Problem     string `json:"problem,omitempty"`
}

// Compute builds cur's row, using prev (the same address's previous poll,
// possibly zero) for rates. Without a usable previous poll the service's own
// rates are used when it reports them.
func Compute(prev, cur Sample) Row {
	r := Row{Addr: cur.Addr}
	if cur.Problem != "" || cur.Stats == nil {
		r.State = cur.Problem
		if r.State == "" {
			r.State = "unknown"
		}
		r.Problem = cur.Problem
		return r
	}
	if cur.Status != nil {
		r.Service, r.State, r.Node = cur.Status.GetService(), cur.Status.GetState(), cur.Status.GetNode()
	}
	if r.State == "" {
		r.State = "unknown"
	}
	counters := cur.Stats.GetCounters()
	var prevCounters map[string]int64
	var secs float64
	if prev.Stats != nil && prev.Problem == "" && cur.At.After(prev.At) && sameProcess(prev, cur) {
		prevCounters = prev.Stats.GetCounters()
		secs = cur.At.Sub(prev.At).Seconds()
	}
	rate := func(names ...string) Value {
		for _, n := range names {
			v, ok := counters[n]
			if !ok {
				continue
			}
			if prevCounters != nil {
				if p, ok := prevCounters[n]; ok && v >= p {
					return known(float64(v-p) / secs)
				}
			}
			if x, ok := cur.Stats.GetRates()[n]; ok {
				return known(x)
			}
			return Value{}
		}
		return Value{}
	}
	r.InPerSec = rate(inCounters...)
	r.OutPerSec = rate(outCounters...)
	r.BytesPerSec = rate(bytesCounters...)

	var errNames []string
	var total int64
	for n, v := range counters {
		if IsError(n) {
			errNames = append(errNames, n)
			total += v
		}
	}
	if len(errNames) > 0 {
		r.Errors = known(float64(total))
		if prevCounters != nil {
			var d int64
			ok := true
			for _, n := range errNames {
				p, has := prevCounters[n]
				if !has || counters[n] < p {
					ok = false
					break
				}
				d += counters[n] - p
			}
			if ok {
				r.ErrPerSec = known(float64(d) / secs)
			}
		}
	}

	switch {
	case cur.Stats.GetInFlightBytes() != 0:
		r.InFlight = known(float64(cur.Stats.GetInFlightBytes()))
	default:
		if v, ok := counters["in_flight_bytes"]; ok {
			r.InFlight = known(float64(v))
		} else {
			r.InFlight = known(0)
		}
	}
	if lag := cur.Stats.GetLag(); len(lag) > 0 {
		var sum int64
		for _, l := range lag {
			sum += l.GetLag()
		}
		r.Lag = known(float64(sum))
	}
	return r
}

// sameProcess reports whether two polls come from the same run of a service:
// a restart (uptime going backwards) resets its counters.
func sameProcess(prev, cur Sample) bool {
	if prev.Status == nil || cur.Status == nil {
		return true
	}
	return prev.Status.GetService() == cur.Status.GetService() &&
		cur.Status.GetUptimeSeconds() >= prev.Status.GetUptimeSeconds()
}

// Frame is one refresh of the view.
type Frame struct {
	Time     time.Time     `json:"time"`
	Interval time.Duration `json:"-"`
	Services []Row         `json:"services"`
}

// Render writes the frame as an aligned table.
func Render(w io.Writer, f Frame) error {
	up := 0
	for _, r := range f.Services {
		if r.Problem == "" {
			up++
		}
	}
	fmt.Fprintf(w, "sluicectl top   %d/%d services up   every %s   %s\n\n",
		up, len(f.Services), f.Interval, f.Time.Format("15:04:05"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDR\tSERVICE\tSTATE\tIN/s\tOUT/s\tBYTES/s\tIN-FLIGHT\tLAG\tERR/s\tERRORS")
	for _, r := range f.Services {
		if r.Problem != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Addr, dash(r.Service), r.Problem)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Addr, dash(r.Service), r.State,
			Count(r.InPerSec), Count(r.OutPerSec), Bytes(r.BytesPerSec),
			Bytes(r.InFlight), Count(r.Lag), Count(r.ErrPerSec), Count(r.Errors))
	}
	return tw.Flush()
}

// SortRows orders rows by pipeline stage (shipper, parser, indexer, others,
// unreachable last), then by address.
func SortRows(rows []Row) {
	stage := func(r Row) int {
		if r.Problem != "" {
			return 9
		}
		switch r.Service {
		case "shipper":
			return 0
		case "parser":
			return 1
		case "indexer":
			return 2
		}
		return 3
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := stage(rows[i]), stage(rows[j])
		if a != b {
			return a < b
		}
		return rows[i].Addr < rows[j].Addr
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Count formats a count or rate compactly: 12, 12.5, 1.2k, 3.4M.
func Count(v Value) string {
	if !v.Known {
		return "-"
	}
	x := v.V
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.1fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1fk", x/1e3)
	case x == float64(int64(x)):
		return fmt.Sprintf("%d", int64(x))
	default:
		return fmt.Sprintf("%.1f", x)
	}
}

// Bytes formats a byte count or rate in binary units: 512 B, 1.5 KiB.
func Bytes(v Value) string {
	if !v.Known {
		return "-"
	}
	return HumanBytes(v.V)
}

// HumanBytes formats n bytes in binary units.
func HumanBytes(n float64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", int64(n))
	}
	div, exp := float64(unit), 0
	for x := n / unit; x >= unit && exp < 4; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", n/div, "KMGTP"[exp])
}
