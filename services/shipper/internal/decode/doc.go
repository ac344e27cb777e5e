// Package decode turns one physical line of a container log file into a
// Line, and joins the runtime's partial lines back into whole Events.
//
// Two on-disk formats exist on Kubernetes nodes:
//
//   - CRI (containerd, CRI-O): "<RFC3339Nano> <stdout|stderr> <tag> <content>\n".
//     The tag is "F" (full) or "P" (partial: the runtime split a long line,
//     the following records of the same stream continue it until an "F").
//     Tags may carry more flags after colons ("P:TAG1:TAG2"); only the first
//     one matters, as in the kubelet. A legacy three-field form without a tag
//     (very old CRI-O, accepted by Filebeat) is recognised when the third
//     field is not a tag (anything other than "F", "P", "F:…" or "P:…").
//     The time may end in "Z"/"z" (containerd) or a numeric offset (CRI-O).
//   - docker json-file: {"log":"…\n","stream":"stdout","time":"…"} with an
//     optional "attrs" object. A "log" value without a trailing "\n" is a
//     partial line continued by the next record of the same stream.
//
// # Content, newlines and bytes
//
// Line.Content never includes the line terminator: the trailing "\n" of the
// physical line and, for docker, the trailing "\n" of the "log" value are
// removed (the kubelet keeps the "\n" of a CRI "F" line; we drop it so both
// formats produce the same event text, and Partial carries the information).
//
// Everything else is kept byte for byte, so decoding is a pure function of
// the input and never splits or alters an event:
//
//   - CRLF: a trailing "\r" is NOT stripped. The runtime splits on "\n"
//     only, so a "\r" is what the application wrote (Windows-style output).
//     Dropping it here would be lossy and would make CRI and docker differ;
//     the parser stage decides how to present it.
//   - Invalid UTF-8, NUL bytes and ANSI escapes in CRI content and in docker
//     "log" strings are passed through unchanged; docker \u escapes are
//     decoded exactly as encoding/json does (a broken surrogate becomes
//     U+FFFD). Docker itself writes \ufffd for invalid UTF-8, so raw invalid
//     bytes in a json-file only come from corruption. The one exception is
//     a line whose keys contain escapes (never written by docker): it is
//     decoded by encoding/json, which replaces raw invalid UTF-8 with
//     U+FFFD. Either way the result is a pure function of the line.
//   - Raw control characters inside docker JSON strings (invalid JSON, but
//     seen in Fluent Bit's test data) are accepted as literal bytes.
//
// # Aliasing
//
// Parse functions never modify their input. Line.Content aliases the input
// whenever the content needs no unescaping (every CRI line, and docker lines
// whose only escape is the final "\n"); otherwise it is a new slice.
// Merger events alias either the Line passed to Add or the Merger's own
// buffer, valid until the next call to Add or Flush.
//
// # Malformed lines
//
// A line neither format accepts is an error (ErrMalformed); the tailer ships
// its bytes as they are, flagged "malformed". MalformedTime still reads the
// runtime's time from such a line when it has one (a CRI line with an
// unknown stream, a docker line with a bad "log"), so the line keeps its
// place in time; without one the parser dates it by when it was read.
//
// # Bounded memory
//
// The Merger buffers at most maxBytes of content per stream; fragments past
// the limit are consumed (their offsets still advance) but their bytes are
// dropped and the event is marked Truncated. A 1 GiB line therefore costs
// maxBytes, not 1 GiB.
package decode
