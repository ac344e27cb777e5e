// Package grok is a Logstash-compatible grok engine: Logstash's pattern
// names and capture semantics, in legacy and ecs-v1 modes, compiled to a
// matcher that decides typical log lines without running a regexp engine.
//
// # Usage
//
//	lib := grok.NewLibrary(grok.ModeECS)
//	_ = lib.Add("MYID", `[A-Z]{2}-\d+`)          // custom patterns, RE2 syntax
//	m, err := lib.Compile(`%{COMBINEDAPACHELOG}`)
//	ok := m.Match(line, func(path []string, v grok.Value) { ... })
//	fields, ok := m.MatchMap(string(line))     // nested map[string]any
//
// Expressions use %{NAME}, %{NAME:field}, %{NAME:field:int|float},
// %{NAME:field=definition}, [nested][field] targets and inline (?<field>...)
// groups. Paths are reported as []string segments: "[http][version]" is
// ["http","version"], a plain "clientip" is ["clientip"]; dots are not
// separators (as in Logstash). Values are strings (aliasing the input) or,
// for :int/:float, int64/float64 converted like Ruby's to_i/to_f.
//
// # Design
//
// Go's regexp extracts submatches with a Pike VM whose cost grows with the
// size of the program, and expanded grok patterns are large (IPV6 alone is
// hundreds of instructions): %{COMBINEDAPACHELOG} runs at a few thousand
// lines per second per core. Yet almost every real line is matched by the
// first path a backtracking engine would try: each field scanned greedily up
// to the separator that follows it.
//
// So Compile parses the expanded expression (regexp/syntax, the parser
// package regexp itself uses) and the matcher walks that tree along the
// priority order a leftmost-first backtracker uses, without backtracking.
// Every step answers "matched (this is the first successful path)", "proven
// not to match" or "don't know". The only search is local and bounded: a
// repetition of one character class tries its lengths in priority order
// while the bytes that must follow it (a literal, or the first bytes of the
// following elements, computed at compile time) are absent, and alternation
// branches are skipped when a summary of their first bytes rules them out.
// A concat may also step a greedy class repetition back to its next shorter
// length when a later element is proven to fail (so `"GET /"`, a request
// without HTTP version, is decided without RE2). Hot capture-free built-ins
// (IPORHOST, HTTPDATE, NUMBER, INT, QS, and HTTPDUSER in each mode's
// spelling) run hand-written scanners (scan.go), attached only to subtrees
// structurally equal to the pinned definitions they implement (scandefs.go),
// so redefined patterns never use them; a scanner that cannot decide hands
// back to the tree walk. Class runs use a byte table, and a lazy run of any
// character that must be followed by a literal (%{DATA} before a quote)
// jumps between occurrences of the literal's first byte with IndexByte.
//
// Lines of other formats must not cost a regexp run each. Compile records
// the literals every match contains, in order (along concatenations,
// captures and repetitions that occur at least once; alternations and
// case-folded literals add none). A line whose walk fails at its first
// start position, or cannot decide, and lacks them in order (a bytes.Index
// chain) is proven not to match without RE2.
// Skipped options are proven failures, so a "matched" answer is exactly the
// submatch RE2 reports, because RE2 returns the match a Perl-order
// backtracker finds first. "Don't know" (the first path failed after a choice
// that has other options, or a step budget ran out) hands the line to RE2,
// which stays linear-time. Differential tests and fuzzing (FuzzMatch,
// FuzzCompile) compare the two paths on the same expression.
//
// Pattern expansion is capped (MaxExpandedSize, MaxDepth, MaxReferences)
// and recursion is detected, so hostile patterns fail fast with an error
// that names the pattern.
//
// # Differences from Logstash
//
// The pattern definitions (patterns/*.grok) are this package's own, written
// for RE2. Where Logstash's Onigmo regexes use constructs RE2 lacks they are
// approximated, which only matters at the edges:
//
//   - no lookbehind/lookahead: NUMBER, INT, IPV4, TIME etc. lose their
//     "not preceded/followed by a digit" guards, so %{IPV4} can match a
//     prefix of "1.2.3.456" where Logstash would refuse. IPV4 octets are
//     ordered longest-first to keep the common results the same. The one
//     Logstash idiom (?=%{GREEDYDATA:field}) (SYSLOGPAMSESSION) is supported
//     specially; other lookaround in custom patterns is a compile error.
//   - atomic groups (?>...) are treated as plain groups.
//   - \s is RE2's [\t\n\f\r ] (no \v); [[:alnum:]] is ASCII, so UNIXPATH
//     spells out Unicode letters and digits instead.
//   - ecs-v1 IPTABLES4_FRAG: Logstash's (?:(?<= )(?:CE|DF|MF))* can take
//     at most one flag; it is (?:CE|DF|MF)? without the "preceded by a
//     space" guard (differs only after a tab or newline). Legacy SHOREWALL's
//     ".?*" is written ".*" (Onigmo reduces it the same way).
//   - ecs-v1 EMAILLOCALPART splits its 62-character label repeat into parts
//     to stay within RE2's repeat limit (same language).
//   - custom definitions are RE2 syntax; like Logstash, the whole expression
//     is matched with "dot matches newline" and line-anchored ^ and $
//     (Ruby's MULTILINE), i.e. (?ms).
//   - Match skips captures that did not participate or are empty, and a
//     field captured twice becomes an array (SetField), as the Logstash grok
//     filter does; an empty :int/:float capture gives 0 like Ruby.
package grok
