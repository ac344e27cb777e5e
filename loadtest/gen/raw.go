package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/record"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// RawStream generates a container's lines as the shipper would publish
// them to the raw topic (sluice.logs.v1.RawRecord values keyed
// <namespace>/<pod>/<container>), for loading the parser and indexer
// without files or a shipper. Offsets advance by each line's length, so
// every record gets its own document _id. Not safe for concurrent use.
type RawStream struct {
	Namespace, Name, Container, Node string

	seq, offset int64
	fp          string
	key         []byte
	lf          *lineFormat
	k           *logsv1.Kubernetes
	buf         []byte
}

// NewRawStream returns a stream for one container. run distinguishes
// streams of different generator runs (it goes into the fingerprint), so
// a second run indexes new documents instead of conflicting with the first.
func NewRawStream(namespace, name, container, node, run string, lineBytes int, seed uint64) *RawStream {
	sum := sha256.Sum256([]byte(node + "/" + namespace + "/" + name + "/" + container + "/" + run))
	p := &Pod{Namespace: namespace, Name: name, Container: container}
	s := &RawStream{
		Namespace: namespace, Name: name, Container: container, Node: node,
		fp:  hex.EncodeToString(sum[:16]),
		key: record.Key(namespace, name, container),
		lf:  newLineFormat(namespace, name, rand.New(rand.NewPCG(seed, uint64(len(name)))), lineBytes),
		k: &logsv1.Kubernetes{
			Namespace: namespace, Pod: name, Container: container, Node: node,
			ContainerId: "containerd://" + p.ContainerID(), Image: "nginx:1.27",
			Labels: map[string]string{"app": name},
		},
	}
	return s
}

// Key is "<namespace>/<pod>", as SeqFromURL returns it.
func (s *RawStream) Key() string { return s.Namespace + "/" + s.Name }

// Seq is the last sequence number generated.
func (s *RawStream) Seq() int64 { return s.seq }

// Next returns the record key and the marshalled RawRecord of the next line.
func (s *RawStream) Next(now time.Time) (key, value []byte, err error) {
	s.seq++
	s.buf = s.lf.appendMessage(s.buf[:0], s.seq, now)
	n := int64(len(s.buf)) + int64(len(time.RFC3339Nano)+len(criPrefix)+1)
	rec := &logsv1.RawRecord{
		Line:               s.buf,
		TimeUnixNano:       now.UnixNano(),
		Stream:             logsv1.Stream_STREAM_STDOUT,
		IngestTimeUnixNano: time.Now().UnixNano(),
		Kubernetes:         s.k,
		Source: &logsv1.Source{
			Node: s.Node, Path: "/var/log/containers/" + s.Name + "_" + s.Namespace + "_" + s.Container + ".log",
			Fingerprint: s.fp, Offset: s.offset, EndOffset: s.offset + n,
		},
	}
	s.offset += n
	value, err = proto.Marshal(rec)
	return s.key, value, err
}
