// Package multiline joins the lines of one container stream into events:
// stack traces (Java, Python, Go, Ruby, .NET, JavaScript) and whatever
// custom rules users bring from Fluent Bit, Filebeat, Vector or the
// OpenTelemetry Collector, each with the semantics of the collector its
// settings come from.
//
// The shipper applies it per container stream, in order, after the
// tailer has merged CRI and docker partial lines and before anything is
// published, so the parser sees whole events. A Joiner holds one stream's
// pending event; a Set holds many; a Window keeps the file checkpoints
// honest while lines are held (see Window). Every event carries the tokens
// of all its lines: the first gives the event its identity (the offset of
// its first line, hence its document _id), and all of them are
// acknowledged together.
//
// Patterns are Go regular expressions (RE2, linear time). Patterns written
// for Onigmo or PCRE are translated where RE2 has an equivalent
// (CompileForeign); README.md lists where Sluice deliberately differs from
// each peer.
package multiline
