package decode

import (
	"bytes"
	"encoding/json"
)

// MalformedTime returns the runtime's time of a line that could not be
// decoded, when the line still has a readable one: a CRI line whose stream
// or tag is wrong but whose first field is a time, or a docker line whose
// "time" is valid while another field is not. It returns 0 when the line
// has no readable time (not CRI, a bad time); the line is then dated by
// when it was read, never by time 0, which would file it under 1970-01-01,
// outside every time filter and retention policy.
//
// Only malformed lines come here, so this favours robustness over speed.
func MalformedTime(f Format, line []byte) int64 {
	if f == FormatDocker || Detect(line) == FormatDocker {
		var m struct {
			Time string `json:"time"`
		}
		if json.Unmarshal(line, &m) == nil && m.Time != "" {
			if ts, ok := parseTime([]byte(m.Time)); ok {
				return ts
			}
		}
		return 0
	}
	// CRI, or a file whose format is not known yet: a leading time field.
	if sp := bytes.IndexByte(line, ' '); sp > 0 {
		if ts, ok := parseTime(line[:sp]); ok {
			return ts
		}
	}
	return 0
}
