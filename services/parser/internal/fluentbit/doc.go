// Package fluentbit reads Fluent Bit parsers.conf files and runs the
// parsers they define, so clusters moving from Fluent Bit keep their parser
// definitions unchanged.
//
// ParseFile reads the classic configuration format: [PARSER] sections with
// Name, Format (regex, json, logfmt, ltsv), Regex, Time_Key, Time_Format,
// Time_Keep, Time_Offset, Time_System_Timezone, Time_Strict,
// Skip_Empty_Values, Types, Decode_Field and Decode_Field_As, plus
// Logfmt_No_Bare_Keys. [MULTILINE_PARSER] sections are recorded (name, type,
// rules) but Compile reports them as unsupported: multiline assembly belongs
// to the shipper, not to a per-line parser.
//
// Fluent Bit regexes are Onigmo (Ruby syntax). TranslateRegex rewrites them
// for Go's RE2: (?<name>…) becomes (?P<name>…), /…/ delimiters and their i/m
// flags become inline flags, Ruby's always-multiline ^ and $ become (?m),
// \h, \uHHHH and \e are spelled out, and constructs RE2 cannot run
// (look-ahead, look-behind, back-references, atomic groups, possessive
// quantifiers, subexpression calls, class intersections) are rejected with
// an error naming the parser and the byte offset.
//
// A Compiled parser follows Fluent Bit's record semantics: only named groups
// that took part in the match become fields, empty values are skipped unless
// Skip_Empty_Values is off, Types converts values, and when Time_Format is
// set the Time_Key field (default "time") is parsed with package timefmt and
// removed unless Time_Keep is on. Time formats are strftime layouts read the
// way Fluent Bit reads them: %L is a fraction of a second, input left after
// the layout is ignored, a year-less layout takes an inferred year (Fluent
// Bit uses the current year), and layouts without a zone are UTC unless
// Time_Offset or Time_System_Timezone says otherwise.
//
// Deliberate differences from Fluent Bit, each safer for the data:
//   - a Time_Key value that does not parse is kept as a field and reported
//     as a *TimeError alongside the fields (Fluent Bit drops it);
//   - Types values that do not convert stay strings (Fluent Bit stores 0);
//     Types entries may be separated by commas as well as spaces;
//   - logfmt input is decoded strictly (package logfmt) rather than
//     skipping malformed bytes.
package fluentbit
