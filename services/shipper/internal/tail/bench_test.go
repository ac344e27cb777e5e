package tail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
)

// BenchmarkTailerCRI measures reading, decoding and emitting a CRI file of
// 100k ~130-byte lines, from a warm page cache.
func BenchmarkTailerCRI(b *testing.B) {
	benchTailer(b, func(i int) string {
		return criLine(i, "stdout", "F", fmt.Sprintf("10.0.0.%d - - [13/Apr/2024:07:59:37 +0000] \"GET /api/v1/items?id=%d HTTP/1.1\" 200 512", i%250, i))
	})
}

// BenchmarkTailerDocker is the same with docker json-file lines.
func BenchmarkTailerDocker(b *testing.B) {
	benchTailer(b, func(i int) string {
		return dockerLine(i, "stdout", fmt.Sprintf("10.0.0.%d - - [13/Apr/2024:07:59:37 +0000] GET /api/v1/items?id=%d HTTP/1.1 200 512\n", i%250, i))
	})
}

func benchTailer(b *testing.B, line func(int) string) {
	const lines = 100000
	e := newEnv(b)
	e.cfg.ReadBufferBytes = 64 << 10
	e.cfg.MaxEventBytes = 1 << 20
	p := e.container("bench")
	var sb strings.Builder
	for i := 0; i < lines; i++ {
		sb.WriteString(line(i))
	}
	appendFile(b, p, []byte(sb.String()))
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		os.RemoveAll(filepath.Dir(e.statePath))
		store, err := checkpoint.Open(e.statePath)
		if err != nil {
			b.Fatal(err)
		}
		tl, err := New(e.cfg, store, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err = tl.Run(ctx, func(ctx context.Context, ev Event) error {
			tl.Ack(ev.Fingerprint, ev.End)
			if n++; n == lines {
				return errDone
			}
			return nil
		})
		cancel()
		if !errors.Is(err, errDone) {
			b.Fatal(err)
		}
	}
}

var errDone = errors.New("done")

// TestAckAfterRun: acks for events emitted before Run returned still move
// the checkpoint; the caller saves the store once more.
func TestAckAfterRun(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	writeSeq(t, p, 0, 10)
	r := e.start(false)
	evs := r.waitN(10, 5*time.Second)
	r.stop()
	for _, ev := range evs {
		r.t.Ack(ev.FP, ev.End)
	}
	if err := r.store.Save(); err != nil {
		t.Fatal(err)
	}
	disk := e.openStore()
	if ent, _ := disk.Get(evs[9].FP); ent.Offset != evs[9].End {
		t.Fatalf("offset %d, want %d", ent.Offset, evs[9].End)
	}
}
