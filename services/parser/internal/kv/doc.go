// Package kv extracts key/value pairs from free-form text the way the
// Logstash kv filter does ("user=alice action=login src=10.0.0.1", or
// "a:1&b:2" with other separators).
//
// Pipelines migrated from Logstash keep their kv settings; this package
// implements the commonly used subset with the same results, as a single
// forward scan rather than a regular expression:
//
//   - FieldSplit and ValueSplit are sets of single-byte separators
//     (defaults " " and "=");
//   - values may be quoted with "…" or '…', and, unless ExcludeBrackets is
//     set, bracketed with (…), […] or <…>; the quotes are removed;
//   - text that is not a pair is skipped; a key is a run of bytes that are
//     neither separator, and "\ " (backslash space) is kept inside keys
//     and values;
//   - in the default lenient whitespace mode, spaces are allowed around the
//     value separator ("key = value"), as in Logstash;
//   - keys are trimmed, stripped of RemoveCharKey, transformed, and then
//     checked against IncludeKeys/ExcludeKeys before Prefix is added;
//     values are trimmed, stripped and transformed likewise;
//   - empty values are dropped unless AllowEmptyValues is set.
//
// Not implemented: field_split_pattern/value_split_pattern regular
// expressions, recursive parsing, default_keys, and per-event %{} prefixes.
package kv
