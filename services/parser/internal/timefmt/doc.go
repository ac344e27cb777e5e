// Package timefmt parses log timestamps into time.Time.
//
// Log pipelines are configured with the timestamp formats of the tools they
// replace: Logstash/Joda patterns ("dd/MMM/yyyy:HH:mm:ss Z"), Fluent Bit
// strftime layouts ("%d/%b/%Y:%H:%M:%S %z") and the Logstash keywords
// (ISO8601, UNIX, UNIX_MS, TAI64N, ...). Rather than translate those into Go
// reference layouts and call time.Parse for every record, Compile turns a
// layout into a short list of operations once and Parse runs them directly
// over the input: no allocation on success, and errors that name the byte
// where the input stopped matching.
//
// Semantics worth knowing:
//
//   - Joda patterns are strict about literals (compared ASCII
//     case-insensitively, as Joda does); strftime layouts treat a run of
//     whitespace as "zero or more whitespace", as strptime(3) does, so
//     "%b %d" matches both "Oct  1" and "Oct 10".
//   - Month and weekday names are English; either the short or the full name
//     is accepted wherever a name is expected. Weekdays are checked for
//     spelling but not against the date.
//   - Inputs without a zone use the location given by WithLocation (UTC by
//     default). Numeric offsets produce a fixed zone; "Z", "UTC" and "GMT"
//     produce UTC.
//   - Layouts without a year (syslog's "MMM dd HH:mm:ss") take the year
//     that puts the result nearest before the reference clock (WithNow),
//     allowing it to be at most FutureTolerance ahead, so a December line
//     read on January 1st lands in the previous year.
//   - TAI64N follows Logstash: the label minus 2^62, with no correction for
//     the 10 s TAI-UTC offset that daemontools applies.
package timefmt
