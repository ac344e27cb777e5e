package service

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		cgroup     string // memory.max content; "" for no file
		configured int64
		budget     int64
		want       int64
		source     string
	}{
		{"nothing", "", 0, 0, 0, ""},
		{"budget", "", 0, 78 * mib, 78 * mib, "working-set budget"},
		{"configured over budget", "", 96 * mib, 78 * mib, 96 * mib, "configured"},
		{"cgroup unlimited", "max\n", 0, 78 * mib, 78 * mib, "working-set budget"},
		{"cgroup lower than budget", "67108864\n", 0, 78 * mib, 64 * mib / 10 * 9, "90% of the cgroup memory limit"},
		{"cgroup higher than budget", "536870912\n", 0, 78 * mib, 78 * mib, "working-set budget"},
		{"cgroup alone", "536870912\n", 0, 0, 512 * mib / 10 * 9, "90% of the cgroup memory limit"},
		{"configured beats cgroup", "67108864\n", 96 * mib, 0, 96 * mib, "configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", "")
			dir := t.TempDir()
			f := filepath.Join(dir, "memory.max")
			if tt.cgroup != "" {
				if err := os.WriteFile(f, []byte(tt.cgroup), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			old := cgroupFiles
			cgroupFiles = []string{f}
			t.Cleanup(func() { cgroupFiles = old })
			got, source := MemoryLimit(tt.configured, tt.budget)
			if got != tt.want || source != tt.source {
				t.Errorf("MemoryLimit(%d, %d) = %d (%q), want %d (%q)", tt.configured, tt.budget, got, source, tt.want, tt.source)
			}
		})
	}
}
