// Package fluentbitconf reads Fluent Bit's classic configuration format
// (the INI-like parsers.conf / fluent-bit.conf syntax) into sections, so
// every service that accepts a Fluent Bit file shares one reading of it and
// only interprets the sections it cares about.
//
// The reader handles the syntax, not the meaning: blank lines and # comments
// are skipped, @SET name=value defines a variable that later values refer to
// as ${name}, [NAME] opens a section and "key value" adds a property to it.
// @INCLUDE is refused because a single reader has no file system to follow it
// in; callers that need includes inline the included sections instead.
// Properties keep the order and line numbers of the file so callers can report
// errors against the line the user wrote.
package fluentbitconf
