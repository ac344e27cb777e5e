// Package logfmt decodes logfmt lines: key=value key2="quoted \" value" flag.
//
// logfmt is the native output of many Go and Heroku-style services, and
// decoding it is on the hot path of the parser. The decoder walks the line
// once and hands the callback sub-slices of the input; only quoted values
// that contain escapes are copied (into a buffer the Decoder reuses), so a
// steady stream of lines decodes without allocating.
//
// The grammar and error cases follow github.com/go-logfmt/logfmt:
//
//   - a key is a run of bytes above ' ' other than '=' and '"'; it must be
//     valid UTF-8;
//   - "key" alone is a bare key (val == nil); "key=" has an empty value
//     (val is empty but not nil);
//   - an unquoted value runs to the next byte <= ' ' and may not contain
//     '=' or '"';
//   - a quoted value uses JSON string escapes (\" \\ \/ \b \f \n \r \t
//     \uXXXX);
//   - bytes <= ' ' (including newlines) separate pairs.
//
// Errors are *SyntaxError values carrying the byte offset of the problem.
package logfmt
