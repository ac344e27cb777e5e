package tail

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestRandomRestarts stops the tailer at random points while a writer keeps
// writing and rotating, and acks lag behind emits. Across all runs every
// line is delivered, and no line acknowledged in one run is sent again in a
// later one: duplicates only come from past the acknowledged point.
func TestRandomRestarts(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	const total, perFile, batch = 20000, 2000, 50
	writeSeq(t, p, 0, batch)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the container and the kubelet
		defer wg.Done()
		rot := &rotator{path: p}
		for i := batch; i < total; i += batch {
			writeSeq(t, p, i, i+batch)
			if (i+batch)%perFile == 0 && i+batch < total {
				rot.rotate(t)
			}
			time.Sleep(time.Millisecond)
		}
	}()

	rng := rand.New(rand.NewPCG(7, 11))
	delivered := make([]int, total)
	acked := make([]bool, total)
	for run := 0; ; run++ {
		r := e.start(false)
		stopAck := make(chan struct{})
		ackDone := make(chan int)
		ackRng := rand.New(rand.NewPCG(uint64(run), 3)) // not shared across goroutines
		go func() {                                     // Kafka acknowledging, in order, with lag
			rng := ackRng
			n := 0
			for {
				select {
				case <-stopAck:
					ackDone <- n
					return
				case <-time.After(time.Duration(rng.IntN(3)) * time.Millisecond):
				}
				evs := r.snapshot()
				// Each record is acknowledged on its own, in emit order; an
				// ack covers earlier events of the same file only.
				for lag := rng.IntN(200); n < len(evs)-lag; n++ {
					r.t.Ack(evs[n].FP, evs[n].End)
				}
			}
		}()
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		close(stopAck)
		nAcked := <-ackDone
		r.stop()
		evs := r.snapshot()
		for _, ev := range evs {
			s := seqOf(t, ev.Content)
			if acked[s] {
				t.Fatalf("run %d re-sent seq %d, which an earlier run had acknowledged", run, s)
			}
			delivered[s]++
		}
		for i := 0; i < nAcked; i++ {
			acked[seqOf(t, evs[i].Content)] = true
		}
		missing := 0
		for _, n := range delivered {
			if n == 0 {
				missing++
			}
		}
		t.Logf("run %d: %d events, %d acked, %d lines not yet delivered", run, len(evs), nAcked, missing)
		if missing == 0 {
			break
		}
		if run > 200 {
			t.Fatalf("%d lines never delivered", missing)
		}
	}
	wg.Wait()
	dups := 0
	for _, n := range delivered {
		dups += n - 1
	}
	t.Logf("%d duplicates (all past an acknowledged point)", dups)
}
