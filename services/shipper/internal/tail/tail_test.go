package tail

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReadAt checks that each event carries the time its bytes were read,
// one clock reading per read call, and that checkpoints are stamped.
func TestReadAt(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	var data strings.Builder
	for i := 0; i < 200; i++ {
		data.WriteString(criLine(i, "stdout", "F", fmt.Sprintf("line %03d", i)))
	}
	appendFile(t, p, []byte(data.String()))
	before := time.Now()
	r := e.start(true)
	evs := r.waitN(200, 5*time.Second)
	reads := map[time.Time]int{}
	for i, ev := range evs {
		if ev.ReadAt.Before(before) || ev.ReadAt.After(ev.Emitted) {
			t.Fatalf("event %d: ReadAt %v outside [start %v, emit %v]", i, ev.ReadAt, before, ev.Emitted)
		}
		reads[ev.ReadAt]++
	}
	// 200 lines of ~50 bytes arrive in a few reads, not one clock each.
	if len(reads) > 10 {
		t.Fatalf("%d distinct read times for 200 lines written at once, want one per read", len(reads))
	}
	waitUntil(t, 2*time.Second, "checkpoint at end", func() bool {
		c, ok := r.store.Get(evs[0].FP)
		return ok && c.Offset == int64(data.Len()) && !c.Updated.Before(before) && !c.Updated.After(time.Now())
	})
}

func TestSmokeCRI(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	var want []string
	var data strings.Builder
	for i := 0; i < 100; i++ {
		msg := fmt.Sprintf("line %03d", i)
		want = append(want, msg)
		data.WriteString(criLine(i, "stdout", "F", msg))
	}
	appendFile(t, p, []byte(data.String()))
	r := e.start(true)
	evs := r.waitN(100, 5*time.Second)
	for i, ev := range evs {
		if ev.Content != want[i] {
			t.Fatalf("event %d = %q, want %q", i, ev.Content, want[i])
		}
	}
	waitUntil(t, 2*time.Second, "checkpoint at end", func() bool {
		e, ok := r.store.Get(evs[0].FP)
		return ok && e.Offset == int64(data.Len())
	})
	fs := r.t.Files()
	if len(fs) != 1 || fs[0].State != StateActive || fs[0].ReadOffset != int64(data.Len()) || fs[0].AckedOffset != int64(data.Len()) {
		t.Fatalf("Files() = %+v", fs)
	}
}
