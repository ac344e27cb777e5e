package bulk

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// MaxIDBytes is Elasticsearch's limit on an _id; a longer one fails the whole
// bulk request with a validation error, so it is rejected locally instead.
const MaxIDBytes = 512

// ErrorTypeInvalidDocument is Result.ErrorType of a document refused before
// sending (no index, an over-long or non-UTF-8 _id, an empty or unreadable
// source).
const ErrorTypeInvalidDocument = "invalid_document"

// maxPooledBuffer is the largest buffer kept for reuse (bytes); larger ones
// are left to the garbage collector so one huge batch does not pin memory.
const maxPooledBuffer = 32 << 20

// largeBuffer is the capacity from which a buffer is kept in spares rather
// than in bufferPool: request bodies, not response buffers.
const largeBuffer = 256 << 10

// spareBuffers is how many large buffers outlive garbage collections: the
// bodies of the default batch.concurrency (4) in flight, which the
// indexer's memory budget already counts.
const spareBuffers = 4

type buffer struct{ b []byte }

var bufferPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 64<<10)} }}

// spares keeps request bodies across garbage collections. A sync.Pool is
// emptied within two collections, and under its memory limit the indexer
// collects several times a second at full rate, so each multi-megabyte body
// was allocated and zeroed afresh: a tenth of the indexer's CPU in profiles
// of make bench-e2e.
var spares = make(chan *buffer, spareBuffers)

// getBuffer returns an empty buffer for about size bytes (0 when unknown).
func getBuffer(size int) *buffer {
	if size >= largeBuffer {
		select {
		case b := <-spares:
			return b
		default:
		}
	}
	return bufferPool.Get().(*buffer)
}

func putBuffer(b *buffer) {
	if cap(b.b) > maxPooledBuffer {
		return
	}
	b.b = b.b[:0]
	if cap(b.b) >= largeBuffer {
		select {
		case spares <- b:
			return
		default:
		}
	}
	bufferPool.Put(b)
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// gzipBuffer compresses src into a pooled buffer.
func gzipBuffer(src []byte) *buffer {
	out := getBuffer(len(src) / 4)
	w := gzipPool.Get().(*gzip.Writer)
	bw := (*bufWriter)(out)
	w.Reset(bw)
	_, _ = w.Write(src)
	_ = w.Close()
	w.Reset(nil)
	gzipPool.Put(w)
	return out
}

type bufWriter buffer

func (w *bufWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// checkDoc reports why d cannot be sent, or "" when it can.
func checkDoc(d *Doc) string {
	switch {
	case d.Index == "":
		return "document has no index"
	case !utf8.ValidString(d.Index):
		return "index name is not valid UTF-8"
	case len(d.ID) > MaxIDBytes:
		return "_id is " + strconv.Itoa(len(d.ID)) + " bytes, longer than the " + strconv.Itoa(MaxIDBytes) + "-byte limit"
	case !utf8.ValidString(d.ID):
		return "_id is not valid UTF-8"
	case len(bytes.TrimSpace(d.Source)) == 0:
		return "document source is empty"
	}
	return ""
}

// bodySize is a little over the NDJSON size of docs: each source and its
// action line (`{"create":{"_index":"…","_id":"…"}}` and two newlines,
// 35 bytes besides the names, rounded up to 40). Over, not under: a body
// that outgrows its buffer by one byte is copied into one twice the size.
func bodySize(docs []Doc) int {
	n := 0
	for i := range docs {
		n += len(docs[i].Source) + len(docs[i].Index) + len(docs[i].ID) + 40
	}
	return n
}

// appendDoc appends d's action and source lines to b. A source holding a
// newline (pretty-printed JSON) is compacted, since each NDJSON line must be
// one document; if it does not compact, b is returned unchanged with the
// reason.
func appendDoc(b []byte, d *Doc) ([]byte, string) {
	if why := checkDoc(d); why != "" {
		return b, why
	}
	start := len(b)
	b = append(b, `{"create":{"_index":`...)
	b = appendQuoted(b, d.Index)
	if d.ID != "" {
		b = append(b, `,"_id":`...)
		b = appendQuoted(b, d.ID)
	}
	b = append(b, "}}\n"...)
	src := d.Source
	if bytes.IndexByte(src, '\n') < 0 && bytes.IndexByte(src, '\r') < 0 {
		b = append(b, src...)
	} else {
		bb := bytes.NewBuffer(b)
		if err := json.Compact(bb, src); err != nil {
			return b[:start], "document source is not valid JSON: " + err.Error()
		}
		b = bb.Bytes()
	}
	return append(b, '\n'), ""
}

// appendQuoted appends s as a JSON string. s must be valid UTF-8.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// reqBody is a pooled request body. The transport may read and close it
// after the round trip returns, so the buffer goes back to the pool only
// when both the transport (Close) and Send (release) are done with it.
type reqBody struct {
	buf    *buffer
	r      bytes.Reader
	refs   atomic.Int32
	closed atomic.Bool
}

func newReqBody(buf *buffer) *reqBody {
	rb := &reqBody{buf: buf}
	rb.r.Reset(buf.b)
	rb.refs.Store(2)
	return rb
}

func (rb *reqBody) Read(p []byte) (int, error) { return rb.r.Read(p) }

// bodyConn is a plain-TCP connection of the bulk transport that writes a
// request body of ours in one call. net/http copies a body of known length
// through an io.LimitedReader into the connection's ReadFrom, which moves it
// 32 KiB per write system call: 160 calls for a 5 MiB bulk body, a fifth of
// the client's CPU in profiles. Under TLS the transport wraps this
// connection and writes whole TLS records instead; any other reader takes
// the usual copy.
type bodyConn struct{ net.Conn }

func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if rb, ok := lr.R.(*reqBody); ok {
			b := rb.buf.b[len(rb.buf.b)-rb.r.Len():]
			b = b[:min(int64(len(b)), lr.N)]
			n, err := c.Conn.Write(b)
			_, _ = rb.r.Seek(int64(n), io.SeekCurrent)
			lr.N -= int64(n)
			return int64(n), err
		}
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides the connection's own ReadFrom, which would call
// bodyConn.ReadFrom again.
type writerOnly struct{ io.Writer }

func (rb *reqBody) Close() error {
	if rb.closed.CompareAndSwap(false, true) {
		rb.release()
	}
	return nil
}

func (rb *reqBody) release() {
	if rb.refs.Add(-1) == 0 {
		putBuffer(rb.buf)
	}
}
