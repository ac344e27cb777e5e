package gen

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// lineFormat builds the generated nginx access lines in CRI framing,
// without fmt, so that the generator is not the bottleneck of a load test.
type lineFormat struct {
	ns, name string
	rnd      *rand.Rand
	pad      string
}

// criPrefix is the framing after the timestamp.
const criPrefix = " stdout F "

func newLineFormat(ns, name string, rnd *rand.Rand, lineBytes int) *lineFormat {
	f := &lineFormat{ns: ns, name: name, rnd: rnd}
	if lineBytes > 0 {
		// Measure lines (their user agents vary) with a 6-digit sequence
		// and the padded referrer's fixed part to know how much to pad.
		const samples = 64
		total := 0
		now := time.Now().UTC()
		for range samples {
			total += len(f.appendLine(nil, 100000, now))
		}
		natural := total/samples + len(`https://example.com/`) - 1
		if n := lineBytes - natural; n > 0 {
			f.pad = strings.Repeat("x", n)
		}
	}
	return f
}

// appendLine appends one CRI line (with its newline) carrying seq.
func (f *lineFormat) appendLine(b []byte, seq int64, now time.Time) []byte {
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, criPrefix...)
	return append(f.appendMessage(b, seq, now), '\n')
}

// appendMessage appends the nginx access line itself.
func (f *lineFormat) appendMessage(b []byte, seq int64, now time.Time) []byte {
	r := f.rnd
	b = append(b, "10.0."...)
	b = strconv.AppendInt(b, int64(r.IntN(255)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(r.IntN(255)), 10)
	b = append(b, " - - ["...)
	b = now.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `] "`...)
	b = append(b, methods[r.IntN(len(methods))]...)
	b = append(b, " /"...)
	b = append(b, f.ns...)
	b = append(b, '/')
	b = append(b, f.name...)
	b = append(b, "/seq/"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ` HTTP/1.1" `...)
	b = strconv.AppendInt(b, int64(status[r.IntN(len(status))]), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.IntN(50000)), 10)
	if f.pad != "" {
		b = append(b, ` "https://example.com/`...)
		b = append(b, f.pad...)
		b = append(b, `" "`...)
	} else {
		b = append(b, ` "-" "`...)
	}
	b = append(b, agents[r.IntN(len(agents))]...)
	return append(b, '"')
}
