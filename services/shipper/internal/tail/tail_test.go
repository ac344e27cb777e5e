package tail

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

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
