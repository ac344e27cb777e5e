package weblog

import (
	"strconv"
	"strings"
)

// URL is the result of Elasticsearch's uri_parts processor on a request
// target: the path and query are percent-decoded, the original is kept.
type URL struct {
	Scheme, Domain, Path, Query, Fragment, Extension string
	Username, Password                               string
	Port                                             int64
	HasPort                                          bool
}

// ParseURL splits a request target the way uri_parts does (java.net.URI):
// "/a%20b.mp4?x=%7B" gives path "/a b.mp4", extension "mp4", query "x={".
// It reports false for targets java.net.URI refuses (spaces, quotes,
// braces, a bad %-escape, ...); uri_parts then sets nothing but the original.
//
// One deliberate difference: the extension is taken from the last path
// segment only. Older uri_parts took it from the last dot anywhere in the
// path ("/a.b/c" → "b/c"); newer Elasticsearch versions fixed that.
func ParseURL(s string) (URL, bool) {
	var u URL
	if s == "" || !validURIChars(s) {
		return u, false
	}
	rest := s
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		if strings.IndexByte(rest[i+1:], '#') >= 0 {
			return u, false
		}
		u.Fragment = decodePct(rest[i+1:])
		rest = rest[:i]
	}
	if i := schemeEnd(rest); i > 0 {
		u.Scheme = rest[:i]
		rest = rest[i+1:]
		if !strings.HasPrefix(rest, "//") {
			// Opaque URI (mailto:x): java.net.URI has no path or query.
			return u, true
		}
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?")
		auth := rest
		if end >= 0 {
			auth, rest = rest[:end], rest[end:]
		} else {
			rest = ""
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			info := decodePct(auth[:at])
			auth = auth[at+1:]
			u.Username, u.Password, _ = strings.Cut(info, ":")
		}
		host := auth
		if c := strings.LastIndexByte(auth, ':'); c >= 0 && !strings.HasSuffix(auth, "]") {
			host = auth[:c]
			if p, err := strconv.ParseInt(auth[c+1:], 10, 32); err == nil {
				u.Port, u.HasPort = p, true
			} else if auth[c+1:] != "" {
				return u, false
			}
		}
		u.Domain = host
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.Query = decodePct(rest[i+1:])
		rest = rest[:i]
	}
	if strings.ContainsAny(rest, "[]") {
		return URL{}, false
	}
	u.Path = decodePct(rest)
	seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	if dot := strings.LastIndexByte(seg, '.'); dot >= 0 && dot+1 < len(seg) {
		u.Extension = seg[dot+1:]
	}
	return u, true
}

// schemeEnd returns the index of the ':' ending a URI scheme, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return i
		default:
			return -1
		}
	}
	return -1
}

// validURIChars rejects what java.net.URI rejects: ASCII controls, space,
// the "unwise" characters and malformed %-escapes. Non-ASCII is allowed.
func validURIChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return false
		case c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}':
			return false
		case c == '%':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return false
			}
		}
	}
	return true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodePct decodes %XX escapes ('+' stays '+', as in java.net.URI). It
// returns s itself when there is nothing to decode.
func decodePct(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0 {
			b = append(b, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
