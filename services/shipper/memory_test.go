package shipper

import (
	"testing"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/shipper/config"
)

// TestMemoryBudget: the default Go memory limit follows the producer
// buffer and the event size.
func TestMemoryBudget(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		buffered int64 // kafka.max_buffered_bytes; the default for "defaults"
		event    int64 // tail.max_event_bytes; the default for "defaults"
		want     int64
		records  int
	}{
		{"defaults", 0, 0, 56*mib + mib/2, 16384},
		{"large buffer", 32 * mib, 1 * mib, 140*mib + mib/2, 65536},
		{"large events", 8 * mib, 4 * mib, 68*mib + mib/2, 16384},
		{"minimum buffer", 64 << 10, 1 * mib, 28*mib + 736<<10, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.NewDefault()
			if tt.name != "defaults" {
				cfg.Kafka.MaxBufferedBytes = libconfig.ByteSize(tt.buffered)
				cfg.Tail.MaxEventBytes = libconfig.ByteSize(tt.event)
			}
			if got := MemoryBudget(cfg); got != tt.want {
				t.Errorf("MemoryBudget = %d (%.2f MiB), want %.2f MiB", got, float64(got)/mib, float64(tt.want)/mib)
			}
			if got := maxBufferedRecords(cfg); got != tt.records {
				t.Errorf("maxBufferedRecords = %d, want %d", got, tt.records)
			}
		})
	}
}
