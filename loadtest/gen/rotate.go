package gen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// KubeletTimeFormat is the suffix the kubelet gives a rotated log file
// (0.log → 0.log.20240102-150405).
const KubeletTimeFormat = "20060102-150405"

// PodOptions describe one container whose log a RotatingPod writes.
type PodOptions struct {
	// Namespace, Name and Container name the pod and its container.
	Namespace, Name, Container string
	// PodsDir is the /var/log/pods equivalent: the file is written as
	// PodsDir/<ns>_<pod>_<uid>/<container>/0.log.
	PodsDir string
	// ContainersDir is the /var/log/containers equivalent: it gets the
	// symlink <pod>_<ns>_<container>-<id>.log pointing at the file.
	ContainersDir string
	// RotateBytes rotates the file once it reaches this size, as the
	// kubelet's containerLogMaxSize does; 0 never rotates.
	RotateBytes int64
	// MaxFiles is how many files the kubelet keeps, the current one
	// included (containerLogMaxFiles); default 5, minimum 2.
	MaxFiles int
	// LineBytes pads every CRI line to about this many bytes (the
	// padding goes into the referrer); 0 leaves lines at their natural
	// length of roughly 190 bytes.
	LineBytes int
	// Seed makes the generated client addresses and statuses repeatable.
	Seed uint64
}

// SeqRange is an inclusive range of sequence numbers.
type SeqRange struct{ From, To int64 }

// RotatingPod writes a container's CRI log the way the container runtime
// and kubelet lay it out on a node: the real file under the pods directory,
// a symlink under the containers directory, and rotation by rename
// (0.log → 0.log.<timestamp>), gzip of older rotated files and deletion
// beyond MaxFiles. Every line carries the pod's next sequence number (see
// SeqFromURL). It resumes the sequence from an existing file, so a
// restarted generator does not repeat numbers.
//
// Methods are safe for concurrent use; Write and Rotate serialise.
type RotatingPod struct {
	opts PodOptions
	pod  *Pod // the message format and the symlink name

	mu        sync.Mutex
	f         *os.File
	size      int64
	firstSeq  int64 // first sequence number in the current file
	files     []rotated
	deleted   []SeqRange
	rotations int
	buf       []byte
	lf        *lineFormat
	lastName  string // the last rotated name, which the next must follow
}

// rotated is a rotated file the pod still keeps, oldest first.
type rotated struct {
	path     string // without .gz
	gz       bool
	from, to int64
}

// NewRotatingPod creates the directories, the log file and its symlink.
func NewRotatingPod(o PodOptions) (*RotatingPod, error) {
	if o.Container == "" {
		o.Container = "app"
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = 5
	}
	if o.MaxFiles < 2 {
		o.MaxFiles = 2
	}
	p := &RotatingPod{opts: o, pod: &Pod{
		Namespace: o.Namespace, Name: o.Name, Container: o.Container, Dir: o.ContainersDir,
		rnd: rand.New(rand.NewPCG(o.Seed, uint64(len(o.Name)))),
	}}
	if err := os.MkdirAll(p.dir(), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.ContainersDir, 0o755); err != nil {
		return nil, err
	}
	p.pod.seq = resumeSeq(p.dir())
	p.firstSeq = p.pod.seq + 1
	if err := p.open(); err != nil {
		return nil, err
	}
	link := p.pod.Path()
	if target, err := os.Readlink(link); err != nil || target != p.LogPath() {
		_ = os.Remove(link)
		if err := os.Symlink(p.LogPath(), link); err != nil {
			p.f.Close()
			return nil, fmt.Errorf("linking %s: %w", link, err)
		}
	}
	p.lf = newLineFormat(o.Namespace, o.Name, p.pod.rnd, o.LineBytes)
	return p, nil
}

// UID is the pod's fake uid, stable for a namespace and name.
func (p *RotatingPod) UID() string {
	id := p.pod.ContainerID()
	return id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
}

func (p *RotatingPod) dir() string {
	return filepath.Join(p.opts.PodsDir, p.opts.Namespace+"_"+p.opts.Name+"_"+p.UID(), p.opts.Container)
}

// LogPath is the real file: <pods>/<ns>_<pod>_<uid>/<container>/0.log.
func (p *RotatingPod) LogPath() string { return filepath.Join(p.dir(), "0.log") }

// LinkPath is the kubelet-style symlink the shipper tails.
func (p *RotatingPod) LinkPath() string { return p.pod.Path() }

// Key is "<namespace>/<pod>", as SeqFromURL returns it.
func (p *RotatingPod) Key() string { return p.opts.Namespace + "/" + p.opts.Name }

// Namespace, Name and Container of the pod.
func (p *RotatingPod) Namespace() string { return p.opts.Namespace }
func (p *RotatingPod) Name() string      { return p.opts.Name }
func (p *RotatingPod) Container() string { return p.opts.Container }

// ContainerID is the fake container id in the symlink's name.
func (p *RotatingPod) ContainerID() string { return p.pod.ContainerID() }

// Seq is the last sequence number written.
func (p *RotatingPod) Seq() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pod.seq
}

// Rotations is the number of rotations so far.
func (p *RotatingPod) Rotations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rotations
}

// Deleted returns the sequence ranges of rotated files removed beyond
// MaxFiles. Their lines may legitimately never be shipped if the shipper
// had not read them yet (shared/DESIGN.md: a line counts once its file
// still exists when the shipper reaches it).
func (p *RotatingPod) Deleted() []SeqRange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]SeqRange(nil), p.deleted...)
}

func (p *RotatingPod) open() error {
	f, err := os.OpenFile(p.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	p.f, p.size = f, st.Size()
	return nil
}

// appendLine appends one CRI line with sequence seq.
func (p *RotatingPod) appendLine(b []byte, seq int64, now time.Time) []byte {
	return p.lf.appendLine(b, seq, now)
}

// Write appends n lines, rotating whenever the file reaches RotateBytes,
// and returns the bytes written.
func (p *RotatingPod) Write(n int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UTC()
	total := 0
	for n > 0 {
		p.buf = p.buf[:0]
		for ; n > 0; n-- {
			p.pod.seq++
			p.buf = p.appendLine(p.buf, p.pod.seq, now)
			if p.opts.RotateBytes > 0 && p.size+int64(len(p.buf)) >= p.opts.RotateBytes {
				n--
				break
			}
		}
		w, err := p.f.Write(p.buf)
		total += w
		p.size += int64(w)
		if err != nil {
			return total, err
		}
		if p.opts.RotateBytes > 0 && p.size >= p.opts.RotateBytes {
			if err := p.rotateLocked(now); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// Rotate rotates the file now, whatever its size.
func (p *RotatingPod) Rotate() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rotateLocked(time.Now().UTC())
}

// rotateLocked follows the kubelet's rotateLog: remove rotated files
// beyond MaxFiles-2 (the current file and the one about to be rotated
// make up the rest), compress every rotated file still plain, rename the
// current file to <name>.<timestamp>, and have the "runtime" reopen a new
// file at the old name.
func (p *RotatingPod) rotateLocked(now time.Time) error {
	if p.size == 0 {
		return nil
	}
	for len(p.files) > p.opts.MaxFiles-2 {
		old := p.files[0]
		name := old.path
		if old.gz {
			name += ".gz"
		}
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		p.deleted = append(p.deleted, SeqRange{old.from, old.to})
		p.files = p.files[1:]
	}
	for i := range p.files {
		if !p.files[i].gz {
			if err := compress(p.files[i].path); err != nil {
				return err
			}
			p.files[i].gz = true
		}
	}
	name := p.LogPath() + "." + now.Format(KubeletTimeFormat)
	if name <= p.lastName {
		// Rotating more than once a second (the kubelet checks every
		// 10 s and never does): a fraction keeps names unique and in
		// lexical order after the plain name, which is how the shipper
		// orders rotated files.
		name = p.LogPath() + "." + now.Format(KubeletTimeFormat+".000000000")
	}
	if err := os.Rename(p.LogPath(), name); err != nil {
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	p.lastName = name
	p.files = append(p.files, rotated{path: name, from: p.firstSeq, to: p.pod.seq})
	p.firstSeq = p.pod.seq + 1
	p.rotations++
	return p.open()
}

// compress gzips path the kubelet's way: into path.tmp, renamed to
// path.gz, then the original removed.
func compress(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path+".gz"); err != nil {
		return err
	}
	return os.Remove(path)
}

// Close closes the current file; the files and symlink stay.
func (p *RotatingPod) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f.Close()
}

// resumeSeq returns the last sequence number in the newest file of a pod's
// container directory (the current file, else the newest rotated one), or
// 0 when there is none.
func resumeSeq(dir string) int64 {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if n := e.Name(); n == "0.log" || strings.HasPrefix(n, "0.log.") && !strings.HasSuffix(n, ".tmp") {
			names = append(names, n)
		}
	}
	// "0.log" sorts before its rotated names; newest rotated last.
	sort.Strings(names)
	if len(names) > 0 && names[0] == "0.log" {
		names = append(names[1:], "0.log")
	}
	for i := len(names) - 1; i >= 0; i-- {
		if seq, ok := lastSeq(filepath.Join(dir, names[i])); ok {
			return seq
		}
	}
	return 0
}

func lastSeq(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, false
		}
		r = zr
	} else if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		if _, err := f.Seek(-64<<10, io.SeekEnd); err != nil {
			return 0, false
		}
	}
	var last int64
	found := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if seq, ok := SeqFromLine(sc.Bytes()); ok {
			last, found = seq, true
		}
	}
	return last, found
}

// SeqFromLine extracts the pod and sequence number from a generated CRI
// line or message (the request path "/<ns>/<pod>/seq/<n>").
func SeqFromLine(line []byte) (int64, bool) {
	_, seq, ok := PodSeqFromLine(line)
	return seq, ok
}

// PodSeqFromLine is SeqFromLine that also returns "<ns>/<pod>".
func PodSeqFromLine(line []byte) (string, int64, bool) {
	// The request is the first quoted field: "<METHOD> <path> HTTP/1.1".
	q := bytes.IndexByte(line, '"')
	if q < 0 {
		return "", 0, false
	}
	req := line[q+1:]
	sp := bytes.IndexByte(req, ' ')
	if sp < 0 {
		return "", 0, false
	}
	path := req[sp+1:]
	if end := bytes.IndexByte(path, ' '); end >= 0 {
		path = path[:end]
	}
	return SeqFromURL(string(path))
}
