package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var marshalOpts = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// protoJSON renders m as compact, stable JSON (protojson's own spacing is
// deliberately unstable).
func protoJSON(m proto.Message) (json.RawMessage, error) {
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON writes v indented, with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

type jsonResult struct {
	Addr     string          `json:"addr"`
	Response json.RawMessage `json:"response,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// printResultsJSON prints one address's response as itself, several as an
// array of {"addr", "response"|"error"}.
func (r *runner) printResultsJSON(res []result) error {
	if len(res) == 1 && res[0].err == nil {
		raw, err := protoJSON(res[0].msg)
		if err != nil {
			return err
		}
		return writeJSON(r.stdout, raw)
	}
	if len(res) == 1 {
		return nil // only an error: stderr says it
	}
	out := make([]jsonResult, 0, len(res))
	for _, x := range res {
		jr := jsonResult{Addr: x.addr}
		if x.err != nil {
			jr.Error = x.err.Error()
		} else {
			raw, err := protoJSON(x.msg)
			if err != nil {
				return err
			}
			jr.Response = raw
		}
		out = append(out, jr)
	}
	return writeJSON(r.stdout, out)
}

// finish prints res as JSON (-o json) or through table, then the errors.
func (r *runner) finish(res []result, table func(w io.Writer, ok []result)) error {
	if r.g.output == "json" {
		if err := r.printResultsJSON(res); err != nil {
			return err
		}
	} else {
		var ok []result
		for _, x := range res {
			if x.err == nil {
				ok = append(ok, x)
			}
		}
		if len(ok) > 0 {
			table(r.stdout, ok)
		}
	}
	return r.reportErrors(res)
}

// newTable returns an aligned table writer; call Flush.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// row writes tab-separated cells and a newline.
func row(w io.Writer, cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(w, "\t")
		}
		fmt.Fprint(w, c)
	}
	io.WriteString(w, "\n")
}

// cell makes s safe for one table cell: no tabs or newlines, at most max
// runes (0: no limit), "-" when empty.
func cell(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	if max > 0 {
		if rs := []rune(s); len(rs) > max {
			return string(rs[:max-1]) + "…"
		}
	}
	return s
}

// uptime formats seconds as 3d4h, 2h5m, 4m10s or 12s.
func uptime(secs int64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case secs < 0:
		return "-"
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, (d%time.Minute)/time.Second)
	default:
		return fmt.Sprintf("%ds", secs)
	}
}

// prettyJSON indents a JSON document with prefix on every line; text that
// is not JSON comes back as is.
func prettyJSON(s, prefix string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), prefix, "  "); err != nil {
		return prefix + s
	}
	return prefix + buf.String()
}

// compactJSON removes insignificant space; text that is not JSON comes back
// as is.
func compactJSON(s string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return s
	}
	return buf.String()
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return cell(d, 0)
}
