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

// The paths SetAccess writes, prepared once.
var (
	pDestinationIP           = document.P("destination.ip")
	pDestinationDomain       = document.P("destination.domain")
	pDestinationPort         = document.P("destination.port")
	pSourceAddress           = document.P("source.address")
	pSourceIP                = document.P("source.ip")
	pSourceDomain            = document.P("source.domain")
	pNginxAccessRemoteIPList = document.P("nginx.access.remote_ip_list")
	pUserName                = document.P("user.name")
	pTimestamp               = document.P("@timestamp")
	pHTTPRequestMethod       = document.P("http.request.method")
	pURLOriginal             = document.P("url.original")
	pHTTPVersion             = document.P("http.version")
	pURLDomain               = document.P("url.domain")
	pHTTPResponseStatusCode  = document.P("http.response.status_code")
	pHTTPResponseBodyBytes   = document.P("http.response.body.bytes")
	pHTTPRequestReferrer     = document.P("http.request.referrer")
	pUserAgentOriginal       = document.P("user_agent.original")
	pApacheAccessSSLProtocol = document.P("apache.access.ssl.protocol")
	pApacheAccessSSLCipher   = document.P("apache.access.ssl.cipher")
	pTLSCipher               = document.P("tls.cipher")
	pTLSVersion              = document.P("tls.version")
	pTLSVersionProtocol      = document.P("tls.version_protocol")
	pEventKind               = document.P("event.kind")
	pEventCategory           = document.P("event.category")
	pEventType               = document.P("event.type")
	pEventOutcome            = document.P("event.outcome")
	pRelatedIP               = document.P("related.ip")
	pRelatedUser             = document.P("related.user")
	pURLScheme               = document.P("url.scheme")
	pURLPort                 = document.P("url.port")
	pURLUsername             = document.P("url.username")
	pURLPassword             = document.P("url.password")
	pURLPath                 = document.P("url.path")
	pURLQuery                = document.P("url.query")
	pURLFragment             = document.P("url.fragment")
	pURLExtension            = document.P("url.extension")
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
		d.SetPath(pDestinationIP, document.S(a.DestinationIP))
	}
	if a.DestinationDomain != "" {
		d.SetPath(pDestinationDomain, document.S(a.DestinationDomain))
	}
	if a.HasDestinationPort {
		d.SetPath(pDestinationPort, document.I(a.DestinationPort))
	}
	if a.Address != "" {
		d.SetPath(pSourceAddress, document.S(a.Address))
	}
	if a.SourceIP != "" {
		d.SetPath(pSourceIP, document.S(a.SourceIP))
	}
	if a.SourceDomain != "" {
		d.SetPath(pSourceDomain, document.S(a.SourceDomain))
	}
	// One array backs every list of the entry (each cut with capacity =
	// length, so that appending to one copies it).
	var lists []string
	if f == Nginx {
		lists = make([]string, 0, len(a.RemoteList)+3)
	}
	if f == Nginx && len(a.RemoteList) > 0 {
		lists = append(lists, a.RemoteList...)
		d.SetPath(pNginxAccessRemoteIPList, document.L(lists[:len(lists):len(lists)]...))
	}
	if a.User != "" {
		d.SetPath(pUserName, document.S(a.User))
	}
	d.SetPath(pTimestamp, document.T(a.Time))
	urlDomain := false
	if a.Method != "" {
		d.SetPath(pHTTPRequestMethod, document.S(a.Method))
		d.SetPath(pURLOriginal, document.S(a.Target))
		if u, ok := ParseURL(a.Target); ok {
			setURL(&u, d)
			urlDomain = u.Domain != ""
		}
		d.SetPath(pHTTPVersion, document.S(a.Version))
	}
	if !urlDomain && a.DestinationDomain != "" {
		d.SetPath(pURLDomain, document.S(a.DestinationDomain))
	}
	if a.HasStatus {
		d.SetPath(pHTTPResponseStatusCode, document.I(a.Status))
	}
	if a.HasBytes {
		d.SetPath(pHTTPResponseBodyBytes, document.I(a.Bytes))
	}
	if a.HasReferrer {
		d.SetPath(pHTTPRequestReferrer, document.S(a.Referrer))
	}
	if a.HasAgent {
		d.SetPath(pUserAgentOriginal, document.S(a.Agent))
	}
	if a.SSLProtocol != "" {
		d.SetPath(pApacheAccessSSLProtocol, document.S(a.SSLProtocol))
		d.SetPath(pApacheAccessSSLCipher, document.S(a.SSLCipher))
		d.SetPath(pTLSCipher, document.S(a.SSLCipher))
		if a.TLSVersion != "" {
			d.SetPath(pTLSVersion, document.S(a.TLSVersion))
			d.SetPath(pTLSVersionProtocol, document.S(a.TLSVersionProtocol))
		}
	}
	d.SetPath(pEventKind, document.S("event"))
	d.SetPath(pEventCategory, document.L(listWeb...))
	d.SetPath(pEventType, document.L(listAccess...))
	if a.HasStatus {
		if a.Status >= 400 {
			d.SetPath(pEventOutcome, document.S("failure"))
		} else {
			d.SetPath(pEventOutcome, document.S("success"))
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
			d.SetPath(pRelatedIP, document.L(lists[n:len(lists):len(lists)]...))
		}
		if a.User != "" {
			lists = append(lists, a.User)
			d.SetPath(pRelatedUser, document.L(lists[len(lists)-1:len(lists):len(lists)]...))
		}
	}
}

func setURL(u *URL, d *document.Doc) {
	if u.Scheme != "" {
		d.SetPath(pURLScheme, document.S(u.Scheme))
	}
	if u.Domain != "" {
		d.SetPath(pURLDomain, document.S(u.Domain))
	}
	if u.HasPort {
		d.SetPath(pURLPort, document.I(u.Port))
	}
	if u.Username != "" {
		d.SetPath(pURLUsername, document.S(u.Username))
	}
	if u.Password != "" {
		d.SetPath(pURLPassword, document.S(u.Password))
	}
	d.SetPath(pURLPath, document.S(u.Path))
	if u.Query != "" {
		d.SetPath(pURLQuery, document.S(u.Query))
	}
	if u.Fragment != "" {
		d.SetPath(pURLFragment, document.S(u.Fragment))
	}
	if u.Extension != "" {
		d.SetPath(pURLExtension, document.S(u.Extension))
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
