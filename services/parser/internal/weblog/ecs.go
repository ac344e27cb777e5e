package weblog

import (
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// The constant lists, shared by every document (capacity = length, so that
// appending to one copies it).
var (
	listWeb    = []string{"web"}[:1:1]
	listAccess = []string{"access"}[:1:1]
	listError  = []string{"error"}[:1:1]
	listInfo   = []string{"info"}[:1:1]
)

// Flavor says whose integration a document follows.
type Flavor uint8

// Flavors.
const (
	Nginx Flavor = iota
	Apache
)

// SetAccess writes the ECS fields of an access line into d, as the
// flavor's integration does.
//
// nginx: related.ip is [source.ip] (plus destination.ip), related.user is
// [user.name], "-" referrers and agents are dropped. The method is kept as
// written; pipelines of the ECS 1.x era lower-cased it.
//
// Apache: user.name, referrer and agent keep "-", and no related.* fields
// are set, as in the integration.
func SetAccess(f Flavor, a *Access, d *document.Doc) {
	if a.DestinationIP != "" {
		d.Set("destination.ip", document.S(a.DestinationIP))
	}
	if a.DestinationDomain != "" {
		d.Set("destination.domain", document.S(a.DestinationDomain))
	}
	if a.HasDestinationPort {
		d.Set("destination.port", document.I(a.DestinationPort))
	}
	if a.Address != "" {
		d.Set("source.address", document.S(a.Address))
	}
	if a.SourceIP != "" {
		d.Set("source.ip", document.S(a.SourceIP))
	}
	if a.SourceDomain != "" {
		d.Set("source.domain", document.S(a.SourceDomain))
	}
	// One array backs every list of the entry (each cut with capacity =
	// length, so that appending to one copies it).
	var lists []string
	if f == Nginx {
		lists = make([]string, 0, len(a.RemoteList)+3)
	}
	if f == Nginx && len(a.RemoteList) > 0 {
		lists = append(lists, a.RemoteList...)
		d.Set("nginx.access.remote_ip_list", document.L(lists[:len(lists):len(lists)]...))
	}
	if a.User != "" {
		d.Set("user.name", document.S(a.User))
	}
	d.Set("@timestamp", document.T(a.Time))
	urlDomain := false
	if a.Method != "" {
		d.Set("http.request.method", document.S(a.Method))
		d.Set("url.original", document.S(a.Target))
		if u, ok := ParseURL(a.Target); ok {
			setURL(&u, d)
			urlDomain = u.Domain != ""
		}
		d.Set("http.version", document.S(a.Version))
	}
	if !urlDomain && a.DestinationDomain != "" {
		d.Set("url.domain", document.S(a.DestinationDomain))
	}
	if a.HasStatus {
		d.Set("http.response.status_code", document.I(a.Status))
	}
	if a.HasBytes {
		d.Set("http.response.body.bytes", document.I(a.Bytes))
	}
	if a.HasReferrer {
		d.Set("http.request.referrer", document.S(a.Referrer))
	}
	if a.HasAgent {
		d.Set("user_agent.original", document.S(a.Agent))
	}
	if a.SSLProtocol != "" {
		d.Set("apache.access.ssl.protocol", document.S(a.SSLProtocol))
		d.Set("apache.access.ssl.cipher", document.S(a.SSLCipher))
		d.Set("tls.cipher", document.S(a.SSLCipher))
		if a.TLSVersion != "" {
			d.Set("tls.version", document.S(a.TLSVersion))
			d.Set("tls.version_protocol", document.S(a.TLSVersionProtocol))
		}
	}
	d.Set("event.kind", document.S("event"))
	d.Set("event.category", document.L(listWeb...))
	d.Set("event.type", document.L(listAccess...))
	if a.HasStatus {
		if a.Status >= 400 {
			d.Set("event.outcome", document.S("failure"))
		} else {
			d.Set("event.outcome", document.S("success"))
		}
	}
	if f == Nginx {
		n := len(lists)
		if a.SourceIP != "" {
			lists = append(lists, a.SourceIP)
		}
		if a.DestinationIP != "" {
			lists = append(lists, a.DestinationIP)
		}
		if len(lists) > n {
			d.Set("related.ip", document.L(lists[n:len(lists):len(lists)]...))
		}
		if a.User != "" {
			lists = append(lists, a.User)
			d.Set("related.user", document.L(lists[len(lists)-1:len(lists):len(lists)]...))
		}
	}
}

func setURL(u *URL, d *document.Doc) {
	if u.Scheme != "" {
		d.Set("url.scheme", document.S(u.Scheme))
	}
	if u.Domain != "" {
		d.Set("url.domain", document.S(u.Domain))
	}
	if u.HasPort {
		d.Set("url.port", document.I(u.Port))
	}
	if u.Username != "" {
		d.Set("url.username", document.S(u.Username))
	}
	if u.Password != "" {
		d.Set("url.password", document.S(u.Password))
	}
	d.Set("url.path", document.S(u.Path))
	if u.Query != "" {
		d.Set("url.query", document.S(u.Query))
	}
	if u.Fragment != "" {
		d.Set("url.fragment", document.S(u.Fragment))
	}
	if u.Extension != "" {
		d.Set("url.extension", document.S(u.Extension))
	}
}

// SetError writes the ECS fields of an error log event into d. The event's
// text after the header replaces message (the rule engine keeps the whole
// event in event.original when the rule asks for it).
func SetError(f Flavor, e *ErrorEntry, d *document.Doc) {
	d.Set("@timestamp", document.T(e.Time))
	d.Set("message", document.S(e.Message))
	if e.Level != "" {
		d.Set("log.level", document.S(e.Level))
	}
	if e.HasPID {
		d.Set("process.pid", document.I(e.PID))
	}
	if e.HasTID {
		d.Set("process.thread.id", document.I(e.TID))
	}
	if e.HasConnection {
		d.Set("nginx.error.connection_id", document.I(e.ConnectionID))
	}
	if e.Module != "" {
		d.Set("apache.error.module", document.S(e.Module))
	}
	if e.Address != "" {
		d.Set("source.address", document.S(e.Address))
	}
	if e.SourceIP != "" {
		d.Set("source.ip", document.S(e.SourceIP))
	}
	if e.SourceDomain != "" {
		d.Set("source.domain", document.S(e.SourceDomain))
	}
	if e.HasPort {
		d.Set("source.port", document.I(e.Port))
	}
	if e.FilePath != "" {
		d.Set("file.path", document.S(e.FilePath))
	}
	if e.Referrer != "" {
		d.Set("http.request.referrer", document.S(e.Referrer))
	}
	d.Set("event.kind", document.S("event"))
	d.Set("event.category", document.L(listWeb...))
	if e.EventType(f == Apache) == "error" {
		d.Set("event.type", document.L(listError...))
	} else {
		d.Set("event.type", document.L(listInfo...))
	}
}
