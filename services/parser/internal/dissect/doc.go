// Package dissect splits lines by the literal delimiters of a pattern, with
// the semantics of Elastic's dissect (Elasticsearch ingest, Logstash and
// Beats share one specification).
//
// Many log formats are fixed sequences of fields and separators, for which a
// regular expression is both slower and harder to read. A pattern such as
//
//	%{clientip} %{?ident} %{auth} [%{ts}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}
//
// is compiled once into a list of (field, delimiter) steps; Dissect then finds
// each delimiter with strings.Index and hands out substrings of the input, so
// a pattern without append or reference keys does not allocate.
//
// Supported key modifiers: %{} and %{?name} skip, %{+name} append (with
// %{+name/N} ordering and a configurable separator), %{*name}/%{&name}
// reference pairs (the & value may also reference a plain or ?-named key, as
// in the specification's tests), and a trailing -> to skip repeated
// delimiters. Matching rules follow the specification: the leading
// delimiter must be at the start of the line, consecutive delimiters yield
// empty values, the last key takes the rest of the line, and text after a
// trailing delimiter is ignored. Values can optionally be trimmed.
package dissect
