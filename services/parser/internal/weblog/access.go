package weblog

import (
	"errors"
	"net/netip"
	"strings"
	"time"
)

// Access is one parsed access log line. Strings alias the input.
type Access struct {
	// Destination is the virtual host some formats put first: an IP
	// (DestinationIP) or a name (DestinationDomain), with an optional port.
	DestinationIP, DestinationDomain string
	DestinationPort                  int64
	HasDestinationPort               bool

	// Address is source.address as the integration derives it; SourceIP is
	// set when it is an IP address, SourceDomain (Apache only) when it is a
	// host name.
	Address, SourceIP, SourceDomain string
	// RemoteList is nginx.access.remote_ip_list: the proxy chain nginx
	// logged in place of one address.
	RemoteList []string

	User string
	Time time.Time

	// Method, Target and Version are set when the request line has the
	// "METHOD target HTTP/version" shape the integrations accept.
	Method, Target, Version string

	Status, Bytes                  int64
	HasStatus, HasBytes            bool
	Referrer, Agent                string
	HasReferrer, HasAgent          bool
	SSLProtocol, SSLCipher         string
	TLSVersion, TLSVersionProtocol string
}

// Parse errors name the part of the line that did not fit.
var (
	ErrAddress = errors.New("weblog: missing client address")
	ErrTime    = errors.New("weblog: bad or missing [time]")
	ErrRequest = errors.New("weblog: bad or missing quoted request")
	ErrStatus  = errors.New("weblog: bad or missing status code")
	ErrBytes   = errors.New("weblog: bad or missing body size")
	ErrQuoted  = errors.New("weblog: unterminated quoted field")
	ErrFormat  = errors.New("weblog: line has none of the known layouts")
)

// ParseNginx parses an nginx access line (combined format, optionally
// preceded by a host and with a proxy chain in place of the client address)
// the way the nginx integration's pipeline does:
//
//	(%{NGINX_HOST} )?"?(?:%{NGINX_ADDRESS_LIST:nginx.access.remote_ip_list}|%{NOTSPACE:source.address})
//	  - (-|%{DATA:user.name}) \[%{HTTPDATE}\] "%{DATA:nginx.access.info}" ...
//
// followed by the script that picks source.address from the proxy chain.
// Unlike the pipeline it also accepts the common format (no referrer and
// user agent) and "-" for the body size.
func ParseNginx(line string, a *Access) error {
	*a = Access{RemoteList: a.RemoteList[:0]}
	line = firstLine(line)
	// The optional host group is tried first, as the regular expression does.
	if sp := strings.IndexByte(line, ' '); sp > 0 {
		if ip, domain, port, hasPort, ok := nginxHost(line[:sp]); ok {
			save := a.RemoteList
			if err := nginxAfterHost(line[sp+1:], a); err == nil {
				a.DestinationIP, a.DestinationDomain, a.DestinationPort, a.HasDestinationPort = ip, domain, port, hasPort
				return nil
			}
			*a = Access{RemoteList: save[:0]}
		}
	}
	return nginxAfterHost(line, a)
}

func nginxAfterHost(s string, a *Access) error {
	if strings.HasPrefix(s, `"`) {
		if err := nginxAddress(s[1:], a); err == nil {
			return nil
		}
		a.RemoteList = a.RemoteList[:0]
	}
	return nginxAddress(s, a)
}

func nginxAddress(s string, a *Access) error {
	i := indexSpaceDash(s)
	if i <= 0 {
		return ErrAddress
	}
	span, rest := s[:i], s[i+3:]
	if !splitAddressList(span, a) {
		if strings.ContainsAny(span, " \t") {
			return ErrAddress
		}
		a.Address = span
	}
	// (-|%{DATA:user.name}) \[
	br := indexSpaceBracket(rest)
	if br < 0 {
		return ErrTime
	}
	if user := rest[:br]; user != "-" {
		a.User = user
	}
	rest = rest[br+2:]
	rest, err := timeAndRequest(rest, a, true)
	if err != nil {
		return err
	}
	if rest, err = statusAndBytes(rest, a); err != nil {
		return err
	}
	if err := referrerAndAgent(rest, a, true); err != nil {
		return err
	}
	pickNginxSource(a)
	return nil
}

// splitAddressList matches span against NGINX_ADDRESS_LIST,
// (?:%{IP}|%{WORD})("?,?\s*(?:%{IP}|%{WORD}))*, and on success splits it
// the way the pipeline's split processor does, on "?,?\s+ (so "a,b"
// without a space stays one element, as it does in the pipeline).
func splitAddressList(span string, a *Access) bool {
	// Validate: elements are IPs or words, separators "?,?\s*.
	for s := span; ; {
		end := 0
		for end < len(s) && s[end] != '"' && s[end] != ',' && s[end] != ' ' && s[end] != '\t' {
			end++
		}
		if end == 0 || !(isWord(s[:end]) || isIP(s[:end])) {
			return false
		}
		s = s[end:]
		if s == "" {
			break
		}
		if s[0] == '"' {
			s = s[1:]
		}
		if s != "" && s[0] == ',' {
			s = s[1:]
		}
		for s != "" && (s[0] == ' ' || s[0] == '\t') {
			s = s[1:]
		}
		if s == "" {
			return false
		}
	}
	a.RemoteList = a.RemoteList[:0]
	start := 0
	for i := 0; i < len(span); i++ {
		j := i
		if span[j] == '"' {
			j++
		}
		if j < len(span) && span[j] == ',' {
			j++
		}
		k := j
		for k < len(span) && (span[k] == ' ' || span[k] == '\t') {
			k++
		}
		if k > j {
			a.RemoteList = append(a.RemoteList, span[start:i])
			start = k
			i = k - 1
		}
	}
	a.RemoteList = append(a.RemoteList, span[start:])
	return true
}

// pickNginxSource is the integration's script: source.address is the first
// address of the chain that is not private, else the first. Its notion of
// private is the dotted-quad check below, so IPv6 literals and names count
// as public.
func pickNginxSource(a *Access) {
	if len(a.RemoteList) > 0 {
		a.Address = a.RemoteList[0]
		for _, ip := range a.RemoteList {
			if !painlessPrivate(ip) {
				a.Address = ip
				break
			}
		}
	}
	if isIP(a.Address) {
		a.SourceIP = a.Address
	}
}

func painlessPrivate(ip string) bool {
	first, rest, ok := strings.Cut(ip, ".")
	if !ok {
		return false
	}
	second, _, _ := strings.Cut(rest, ".")
	b1, ok1 := atoi(first)
	b2, ok2 := atoi(second)
	if !ok1 || !ok2 {
		return false
	}
	return b1 == 10 || b1 == 192 && b2 == 168 || b1 == 172 && b2 >= 16 && b2 <= 31 || b1 == 127
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// nginxHost matches NGINX_HOST: (?:%{IP}|[^\t ,:]+)(:%{NUMBER})?.
func nginxHost(tok string) (ip, domain string, port int64, hasPort, ok bool) {
	if isIP(tok) {
		return tok, "", 0, false, true
	}
	host := tok
	if c := strings.LastIndexByte(tok, ':'); c >= 0 {
		n, i := number(tok[c+1:])
		if i == 0 || i != len(tok)-c-1 {
			return "", "", 0, false, false
		}
		host, port, hasPort = tok[:c], n, true
	}
	if isIP(host) {
		return host, "", port, hasPort, true
	}
	if host == "" || strings.ContainsAny(host, "\t ,:") {
		return "", "", 0, false, false
	}
	return "", host, port, hasPort, true
}

// timeAndRequest reads `[HTTPDATE] "request"` (the '[' already consumed)
// and splits the request line.
func timeAndRequest(s string, a *Access, nginx bool) (string, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", ErrTime
	}
	t, ok := parseTime(s[:end])
	if !ok {
		return "", ErrTime
	}
	a.Time = t
	s = s[end+1:]
	if len(s) < 2 || s[0] != ' ' || s[1] != '"' {
		return "", ErrRequest
	}
	req, rest, ok := quoted(s[1:])
	if !ok {
		return "", ErrQuoted
	}
	splitRequest(req, a, nginx)
	return rest, nil
}

// splitRequest applies `%{WORD:method} %{DATA:url} HTTP/%{NUMBER:version}`.
// nginx's pipeline searches anywhere in the request (the expression is not
// anchored); Apache's must match the whole request or be "-".
func splitRequest(r string, a *Access, nginx bool) {
	sp := strings.IndexByte(r, ' ')
	for sp >= 0 {
		m := r[:sp]
		// The method is the word ending right before the space.
		w := len(m)
		for w > 0 && isWordByte(m[w-1]) {
			w--
		}
		if w < len(m) && (w == 0 || nginx) {
			rest := r[sp+1:]
			if i := strings.Index(rest, " HTTP/"); i >= 0 {
				v, n := versionNumber(rest[i+6:])
				if n > 0 && (nginx || i+6+n == len(rest)) {
					a.Method, a.Target, a.Version = m[w:], rest[:i], v
					return
				}
			}
		}
		if !nginx {
			return
		}
		next := strings.IndexByte(r[sp+1:], ' ')
		if next < 0 {
			return
		}
		sp += 1 + next
	}
}

// versionNumber reads a grok NUMBER at the start of s.
func versionNumber(s string) (string, int) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+1 {
			i = j
		}
	}
	if i == 0 {
		return "", 0
	}
	return s[:i], i
}

func statusAndBytes(s string, a *Access) (string, error) {
	if len(s) == 0 || s[0] != ' ' {
		return "", ErrStatus
	}
	s = s[1:]
	n, i := number(s)
	if i == 0 || i > 3 {
		return "", ErrStatus
	}
	a.Status, a.HasStatus = n, true
	s = s[i:]
	if len(s) == 0 || s[0] != ' ' {
		return "", ErrBytes
	}
	s = s[1:]
	if len(s) > 0 && s[0] == '-' {
		return s[1:], nil
	}
	n, i = number(s)
	if i == 0 {
		return "", ErrBytes
	}
	a.Bytes, a.HasBytes = n, true
	return s[i:], nil
}

// referrerAndAgent reads the optional ` "referrer" "agent"`. nginx drops a
// "-" value; Apache's pipeline keeps it.
func referrerAndAgent(s string, a *Access, dropDash bool) error {
	if len(s) < 2 || s[0] != ' ' || s[1] != '"' {
		return nil
	}
	ref, rest, ok := quoted(s[1:])
	if !ok {
		return ErrQuoted
	}
	if !dropDash || ref != "-" {
		a.Referrer, a.HasReferrer = ref, true
	}
	s = rest
	if len(s) < 2 || s[0] != ' ' || s[1] != '"' {
		return nil
	}
	ua, _, ok := quoted(s[1:])
	if !ok {
		return ErrQuoted
	}
	if !dropDash || ua != "-" {
		a.Agent, a.HasAgent = ua, true
	}
	return nil
}

// ParseApache parses an Apache access line in one of the layouts the
// Apache integration's pipeline accepts:
//
//	vhost 1.2.3.4 - user [time] "GET / HTTP/1.1" 200 12 "ref" "agent"
//	1.2.3.4 - user [time] "GET / HTTP/1.1" 200 12 "ref" "agent"   (referrer and agent optional)
//	[time] 1.2.3.4 TLSv1.2 CIPHER "GET / HTTP/1.1" 1234           (mod_ssl request log)
//
// As in the pipeline, user.name, referrer and agent keep a "-" value, and
// the vhost layout yields source.ip (or source.domain) without
// source.address. It is more lenient than the pipeline about the ident
// field and unusual request lines, which leave the request fields unset
// instead of failing the line.
func ParseApache(line string, a *Access) error {
	*a = Access{RemoteList: a.RemoteList[:0]}
	line = firstLine(line)
	if strings.HasPrefix(line, "[") {
		return apacheSSL(line[1:], a)
	}
	sp1 := strings.IndexByte(line, ' ')
	if sp1 <= 0 {
		return ErrAddress
	}
	t1, rest := line[:sp1], line[sp1+1:]
	if sp2 := strings.IndexByte(rest, ' '); sp2 > 0 && strings.HasPrefix(rest[sp2:], " - ") &&
		isIPOrHost(t1) && isIPOrHost(rest[:sp2]) {
		// vhost layout: %{IPORHOST:destination.domain} %{IPORHOST:source.ip}
		a.DestinationDomain = t1
		if src := rest[:sp2]; isIP(src) {
			a.SourceIP = src
		} else {
			a.SourceDomain = src
		}
		return apacheRest(rest[sp2+3:], a)
	}
	a.Address = t1
	if isIP(t1) {
		a.SourceIP = t1
	} else if isHostname(t1) {
		a.SourceDomain = t1
	}
	// ident
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return ErrTime
	}
	return apacheRest(rest[sp+1:], a)
}

func apacheRest(s string, a *Access) error {
	br := indexSpaceBracket(s)
	if br < 0 {
		return ErrTime
	}
	a.User = s[:br]
	rest, err := timeAndRequest(s[br+2:], a, false)
	if err != nil {
		return err
	}
	if rest, err = statusAndBytes(rest, a); err != nil {
		return err
	}
	return referrerAndAgent(rest, a, false)
}

func apacheSSL(s string, a *Access) error {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return ErrTime
	}
	t, ok := parseTime(s[:end])
	if !ok {
		return ErrTime
	}
	a.Time = t
	s = strings.TrimPrefix(s[end+1:], " ")
	f := strings.SplitN(s, " ", 4)
	if len(f) < 4 {
		return ErrFormat
	}
	a.Address, a.SSLProtocol, a.SSLCipher = f[0], f[1], f[2]
	if isIP(a.Address) {
		a.SourceIP = a.Address
	} else if isHostname(a.Address) {
		a.SourceDomain = a.Address
	}
	// tls.version and tls.version_protocol from "TLSv1.2" / "SSLv3".
	if p, v, ok := strings.Cut(strings.ToLower(a.SSLProtocol), "v"); ok && !strings.Contains(v, "v") {
		if !strings.Contains(v, ".") {
			v += ".0"
		}
		a.TLSVersionProtocol, a.TLSVersion = p, v
	}
	rest := f[3]
	if !strings.HasPrefix(rest, `"`) {
		return ErrRequest
	}
	req, rest, ok := quoted(rest)
	if !ok {
		return ErrQuoted
	}
	splitRequest(req, a, false)
	if a.Method == "" {
		return ErrRequest
	}
	rest = strings.TrimPrefix(rest, " ")
	if n, i := number(rest); i > 0 {
		a.Bytes, a.HasBytes = n, true
	}
	return nil
}

// indexSpaceDash is strings.Index(s, " - "), looking for the rarer '-'
// rather than for the spaces a log line is full of.
func indexSpaceDash(s string) int {
	for off := 1; off < len(s); {
		q := strings.IndexByte(s[off:], '-')
		if q < 0 {
			return -1
		}
		q += off
		if q+1 < len(s) && s[q-1] == ' ' && s[q+1] == ' ' {
			return q - 1
		}
		off = q + 1
	}
	return -1
}

// indexSpaceBracket is strings.Index(s, " ["), looking for the '['.
func indexSpaceBracket(s string) int {
	for off := 1; off < len(s); {
		q := strings.IndexByte(s[off:], '[')
		if q < 0 {
			return -1
		}
		q += off
		if s[q-1] == ' ' {
			return q - 1
		}
		off = q + 1
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isWord matches grok's WORD, \b\w+\b, as a whole string.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// isIP matches grok's IP (IPv4 or IPv6, with an optional zone).
func isIP(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':') {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isHostname matches grok's HOSTNAME as a whole string.
func isHostname(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	s = strings.TrimSuffix(s, ".")
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isIPOrHost(s string) bool { return isIP(s) || isHostname(s) }

// firstLine cuts an event at its first newline: no part of the access log
// expressions matches across lines, so what follows (lines a multiline
// setting appended) is ignored, as the pipelines ignore it.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
