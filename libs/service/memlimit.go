package service

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupFiles hold the container's memory limit: cgroup v2 first, then v1.
var cgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// MemoryLimit chooses the Go runtime's soft memory limit. Without one the
// collector lets the heap grow to twice what is live (GOGC=100) however much
// of that is garbage, so a service holding a bounded working set (its
// batches, bodies and fetch buffers) still shows an RSS of twice that; with
// a limit just above the working set it collects sooner instead, at the cost
// of more frequent GC cycles while the heap is near the limit (the runtime
// caps that cost at about half the CPU, so an under-sized limit slows the
// service rather than stopping it).
//
// In order: GOMEMLIMIT set in the environment wins (the runtime has
// already applied it; the operator chose); then configured, when positive;
// otherwise the smaller of budget (the service's own estimate of its working
// set, 0 for none) and 90 % of the container's cgroup limit, the share the
// field leaves for memory the Go runtime does not manage. When none applies
// the limit stays off. The limit is returned, or 0 for off.
func MemoryLimit(configured, budget int64) (limit int64, source string) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" && v != "off" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	switch {
	case configured > 0:
		limit, source = configured, "configured"
	case budget > 0:
		limit, source = budget, "working-set budget"
	}
	if cg := cgroupLimit(); cg > 0 {
		if c := cg / 10 * 9; limit == 0 || (configured <= 0 && c < limit) {
			limit, source = c, "90% of the cgroup memory limit"
		}
	}
	return limit, source
}

// SetMemoryLimit applies MemoryLimit and logs the choice.
func SetMemoryLimit(log *slog.Logger, configured, budget int64) int64 {
	limit, source := MemoryLimit(configured, budget)
	if limit > 0 && source != "GOMEMLIMIT" {
		debug.SetMemoryLimit(limit)
	}
	if log != nil && limit > 0 && limit != math.MaxInt64 {
		log.Info("Go memory limit", "bytes", limit, "MiB", limit>>20, "from", source)
	}
	return limit
}

// cgroupLimit is the container's memory limit in bytes, or 0 for none.
func cgroupLimit() int64 {
	for _, f := range cgroupFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 writes "no limit" as a page-rounded huge number.
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0
		}
		return n
	}
	return 0
}
