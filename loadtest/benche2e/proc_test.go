package benche2e

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{
			name: "plain",
			stat: "4492 (java) S 1 4491 4491 0 -1 4194560 74069 0 0 0 1234 567 0 0 20 0 93 0 2112 3972534272 86017 18446744073709551615",
			want: 18010 * time.Millisecond,
		},
		{
			name: "command with spaces and parentheses",
			stat: "77 (my (odd) cmd) R 1 77 77 0 -1 0 0 0 0 0 5 7 0 0 20 0 1 0 10 100 10",
			want: 120 * time.Millisecond,
		},
		{name: "no parenthesis", stat: "77 cmd R 1", wantErr: true},
		{name: "truncated", stat: "77 (cmd) R 1 77 77 0 -1 0 0 0 0 0 5", wantErr: true},
		{name: "not a number", stat: "77 (cmd) R 1 77 77 0 -1 0 0 0 0 0 x 7 0", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("CPU = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tparser\nVmPeak:\t 2000000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t9\n"
	rss, hwm, err := parseStatusMem([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if rss != 98765<<10 || hwm != 123456<<10 {
		t.Errorf("rss, hwm = %d, %d; want %d, %d", rss, hwm, 98765<<10, 123456<<10)
	}
	for _, bad := range []string{
		"Name:\tx\nVmRSS:\t 10 kB\n",        // no VmHWM
		"VmHWM:\t 10 kB\nVmRSS:\t ten kB\n", // not a number
		"VmHWM:\t 10 MB\nVmRSS:\t 10 kB\n",  // unexpected unit
		"",                                  // empty (a kernel thread's status has neither)
	} {
		if _, _, err := parseStatusMem([]byte(bad)); err == nil {
			t.Errorf("parseStatusMem(%q) succeeded, want an error", bad)
		}
	}
}

// TestReadProcSelf reads this test process: its peak is at least its
// current resident set, and it has used some CPU.
func TestReadProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system: the benchmark needs Linux")
	}
	ps, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ps.RSS <= 0 || ps.HWM < ps.RSS {
		t.Errorf("RSS %d, HWM %d: want 0 < RSS ≤ HWM", ps.RSS, ps.HWM)
	}
	if ps.CPU < 0 {
		t.Errorf("CPU %v < 0", ps.CPU)
	}
}
