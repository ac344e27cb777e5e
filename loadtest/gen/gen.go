// Package gen writes container log files the way a kubelet and container
// runtime do: CRI-format lines ("<RFC3339Nano> stdout F <message>") under
// kubelet-style names, each message an nginx access line that carries a
// unique sequence number, so a verifier can tell exactly which lines arrived,
// which are missing and which came twice.
package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Pod is one generated container's log file.
type Pod struct {
	Namespace, Name, Container string
	Dir                        string
	seq                        int64
	f                          *os.File
	buf                        []byte
	rnd                        *rand.Rand
}

// ContainerID is the fake container id in the file name (64 hex digits).
func (p *Pod) ContainerID() string {
	sum := sha256.Sum256([]byte(p.Namespace + "/" + p.Name + "/" + p.Container))
	return hex.EncodeToString(sum[:])
}

// Path is the kubelet-style file name: <pod>_<ns>_<container>-<id>.log.
func (p *Pod) Path() string {
	return filepath.Join(p.Dir, fmt.Sprintf("%s_%s_%s-%s.log", p.Name, p.Namespace, p.Container, p.ContainerID()))
}

// NewPod creates (or appends to) the pod's log file.
func NewPod(dir, namespace, name, container string) (*Pod, error) {
	p := &Pod{Namespace: namespace, Name: name, Container: container, Dir: dir, rnd: rand.New(rand.NewPCG(uint64(len(name)), 7))}
	f, err := os.OpenFile(p.Path(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p.f = f
	return p, nil
}

// Seq is the number of lines written so far.
func (p *Pod) Seq() int64 { return p.seq }

var (
	agents  = []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "curl/8.5.0", "kube-probe/1.30"}
	methods = []string{"GET", "GET", "GET", "POST", "PUT"}
	status  = []int{200, 200, 200, 201, 304, 404, 500}
)

// Message returns the nginx access line with sequence number seq.
func (p *Pod) Message(seq int64, t time.Time) string {
	return fmt.Sprintf(`10.0.%d.%d - - [%s] "%s /%s/%s/seq/%d HTTP/1.1" %d %d "-" "%s"`,
		p.rnd.IntN(255), p.rnd.IntN(255), t.Format("02/Jan/2006:15:04:05 -0700"),
		methods[p.rnd.IntN(len(methods))], p.Namespace, p.Name, seq,
		status[p.rnd.IntN(len(status))], p.rnd.IntN(50000), agents[p.rnd.IntN(len(agents))])
}

// Write appends n lines in CRI format and returns the bytes written.
func (p *Pod) Write(n int) (int, error) {
	p.buf = p.buf[:0]
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		p.seq++
		p.buf = now.AppendFormat(p.buf, time.RFC3339Nano)
		p.buf = append(p.buf, " stdout F "...)
		p.buf = append(p.buf, p.Message(p.seq, now)...)
		p.buf = append(p.buf, '\n')
	}
	return p.f.Write(p.buf)
}

// Close closes the file.
func (p *Pod) Close() error { return p.f.Close() }

// SeqFromURL extracts the pod and sequence number from a generated line's
// URL path "/<ns>/<pod>/seq/<n>".
func SeqFromURL(url string) (pod string, seq int64, ok bool) {
	parts := strings.Split(strings.TrimPrefix(url, "/"), "/")
	if len(parts) != 4 || parts[2] != "seq" {
		return "", 0, false
	}
	n, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return parts[0] + "/" + parts[1], n, true
}
