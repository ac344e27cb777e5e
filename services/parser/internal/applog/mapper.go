package applog

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// DefaultTarget is the object a Mapper puts an application's own fields
// under unless told otherwise: "app.user", "app.status". It is a namespace
// of its own, as Filebeat keeps decoded JSON under "json", so that fields
// named like ECS objects (user, event, service, host) cannot clash with the
// ECS fields other documents of the same index carry.
const DefaultTarget = "app"

// TargetRoot is the target that puts the application's fields at the
// document root, as the json processor without a target does.
const TargetRoot = "root"

// Mapper maps application JSON log lines into documents. It is immutable
// and safe for concurrent use.
type Mapper struct {
	prefix string
	loc    *time.Location
	paths  pathCache
}

// The ECS paths the mapper writes, prepared once.
var (
	pathLogLevel        = document.P("log.level")
	pathMessage         = document.P("message")
	pathTimestamp       = document.P("@timestamp")
	pathLogLogger       = document.P("log.logger")
	pathOriginFunction  = document.P("log.origin.function")
	pathOriginFileName  = document.P("log.origin.file.name")
	pathOriginFileLine  = document.P("log.origin.file.line")
	pathTraceID         = document.P("trace.id")
	pathSpanID          = document.P("span.id")
	pathErrorType       = document.P("error.type")
	pathErrorMessage    = document.P("error.message")
	pathErrorStackTrace = document.P("error.stack_trace")
	pathProcessPID      = document.P("process.pid")
	pathThreadName      = document.P("process.thread.name")
)

// pathCache remembers prefix+key for the keys seen recently, so that the
// fields of a line under the target ("app.status") do not each cost an
// allocation: an application writes the same few dozen keys on every
// line. It is a lossy, lock-free table indexed by a hash of the key; a
// collision only means building the path again.
type pathCache [256]atomic.Pointer[pathEntry]

type pathEntry struct {
	key, path string
	p         document.Path // path prepared for Doc.SetPath
}

// get returns prefix+key and that path prepared for Doc.SetPath.
func (c *pathCache) get(prefix, key string) (string, document.Path) {
	if prefix == "" {
		return key, document.P(key)
	}
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	slot := &c[h&uint32(len(c)-1)]
	if e := slot.Load(); e != nil && e.key == key {
		return e.path, e.p
	}
	path := prefix + key
	p := document.P(path)
	if len(key) <= 64 {
		// The entry keeps its own copy of the key: key may be a substring
		// of a long line the cache must not pin.
		slot.Store(&pathEntry{key: path[len(prefix):], path: path, p: p})
	}
	return path, p
}

// New returns a Mapper that puts unmapped fields under target (a dotted
// path; "" means DefaultTarget and TargetRoot the document root) and reads
// times written without an offset in loc (nil means UTC).
func New(target string, loc *time.Location) *Mapper {
	m := &Mapper{loc: loc}
	switch target {
	case "":
		m.prefix = DefaultTarget + "."
	case TargetRoot:
	default:
		m.prefix = strings.Trim(target, ".") + "."
	}
	if m.loc == nil {
		m.loc = time.UTC
	}
	return m
}

// role is what a top-level field means to the mapping.
type role uint8

const (
	roleNone role = iota
	roleLevel
	roleMessage
	roleEvent // structlog's message key; a message only when there is no other
	roleTime
	roleTimeMillis // log4j2 JsonLayout's timeMillis
	roleInstant    // log4j2 JsonLayout's instant {epochSecond, nanoOfSecond}
	roleLogger
	roleCaller // "file:line"
	roleSource // slog's and log4j2's source object
	roleFunction
	roleFileName
	roleLine
	roleTraceID
	roleSpanID
	roleError // a string (the message) or an object (pino, bunyan, log4j2 thrown)
	roleErrorType
	roleErrorMessage
	roleStack
	rolePID
	roleThread
	roleECS // ecs.version: the line is ECS already
	roleCount
)

// roleOf classifies a top-level key. Keys are compared exactly: the
// libraries write them in one spelling each.
func roleOf(k string) role {
	switch k {
	case "level", "lvl", "severity", "levelname", "loglevel", "log.level":
		return roleLevel
	case "msg", "message":
		return roleMessage
	case "event":
		return roleEvent
	case "time", "ts", "timestamp", "@timestamp", "asctime":
		return roleTime
	case "timeMillis":
		return roleTimeMillis
	case "instant":
		return roleInstant
	case "logger", "logger_name", "loggerName", "name", "log.logger":
		return roleLogger
	case "caller", "file":
		return roleCaller
	case "source":
		return roleSource
	case "func", "function", "funcName", "caller_method_name", "log.origin.function":
		return roleFunction
	case "filename", "pathname", "caller_file_name", "log.origin.file.name":
		return roleFileName
	case "lineno", "caller_line_number", "log.origin.file.line":
		return roleLine
	case "trace_id", "traceId", "traceid", "trace.id":
		return roleTraceID
	case "span_id", "spanId", "spanid", "span.id":
		return roleSpanID
	case "error", "err", "exception", "thrown":
		return roleError
	case "error.type":
		return roleErrorType
	case "error.message":
		return roleErrorMessage
	case "stack", "stack_trace", "stacktrace", "exc_info", "errorVerbose", "error.stack_trace":
		return roleStack
	case "pid", "process.pid":
		return rolePID
	case "thread", "thread_name", "threadName", "process.thread.name":
		return roleThread
	case "ecs.version", "ecs":
		return roleECS
	}
	return roleNone
}

// member is one top-level field.
type member struct {
	key  string
	k, v span
	role role
}

// Map decodes the JSON object s into d: the fields the logging libraries
// share become ECS fields, the others go under the Mapper's target. The
// first field of each meaning wins ("msg" before a later "message"); a
// second one, or one whose value does not fit (a "level" object, a "time"
// in no known format), is kept under the target with its own name. A syntax
// error leaves d as it was.
func (m *Mapper) Map(d *document.Doc, s string) error {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return ErrSyntax
	}
	end, ok := skipObject(s, i, 1)
	if !ok || skipSpace(s, end) != len(s) {
		return ErrSyntax
	}
	var buf [48]member
	ms := buf[:0]
	var has [roleCount]bool
	members(s, i, func(k, v span) {
		key := k.str(s)
		r := roleOf(key)
		if r == roleECS && key == "ecs" && v.kind != kindObject {
			r = roleNone // {"ecs": "..."} is an application field, not ECS's
		}
		has[r] = true
		ms = append(ms, member{key: key, k: k, v: v, role: r})
	})
	prefix := m.prefix
	if has[roleECS] {
		prefix = ""
	}
	var done [roleCount]bool
	for j := range ms {
		mb := &ms[j]
		r := mb.role
		if r == roleEvent && has[roleMessage] {
			r = roleNone
		}
		if r != roleNone && r != roleECS && !done[r] && m.mapField(d, s, r, mb, prefix) {
			done[r] = true
			continue
		}
		if prefix == m.prefix {
			path, p := m.paths.get(prefix, mb.key)
			writeValueAt(d, s, path, p, mb.v)
		} else {
			writeValue(d, s, join(prefix, mb.key), mb.v)
		}
	}
	return nil
}

// mapField writes one recognised field and reports whether its value fit.
func (m *Mapper) mapField(d *document.Doc, s string, r role, mb *member, prefix string) bool {
	v := mb.v
	switch r {
	case roleLevel:
		switch v.kind {
		case kindString:
			d.SetPath(pathLogLevel, document.S(v.str(s)))
		case kindNumber:
			d.SetPath(pathLogLevel, document.S(numericLevel(s[v.start:v.end])))
		default:
			return false
		}
	case roleMessage, roleEvent:
		if v.kind != kindString {
			return false
		}
		d.SetPath(pathMessage, document.S(v.str(s)))
	case roleTime:
		var t time.Time
		var ok bool
		switch v.kind {
		case kindString:
			t, ok = parseTime(v.str(s), m.loc)
		case kindNumber:
			t, ok = parseEpoch(s[v.start:v.end])
		}
		if !ok {
			return false
		}
		d.SetPath(pathTimestamp, document.T(t))
	case roleTimeMillis:
		if v.kind != kindNumber {
			return false
		}
		ms, err := strconv.ParseInt(s[v.start:v.end], 10, 64)
		if err != nil {
			return false
		}
		d.SetPath(pathTimestamp, document.T(time.UnixMilli(ms).UTC()))
	case roleInstant:
		return m.mapInstant(d, s, v)
	case roleLogger:
		return setString(d, s, pathLogLogger, v)
	case roleCaller:
		if v.kind != kindString {
			return false
		}
		setFileLine(d, v.str(s))
	case roleSource:
		switch v.kind {
		case kindString:
			setFileLine(d, v.str(s))
		case kindObject:
			m.mapSource(d, s, v, join(prefix, mb.key))
		default:
			return false
		}
	case roleFunction:
		return setString(d, s, pathOriginFunction, v)
	case roleFileName:
		return setString(d, s, pathOriginFileName, v)
	case roleLine:
		return setLine(d, s, v)
	case roleTraceID:
		return setString(d, s, pathTraceID, v)
	case roleSpanID:
		return setString(d, s, pathSpanID, v)
	case roleError:
		switch v.kind {
		case kindString:
			// structlog's format_exc_info writes the traceback as "exception".
			path := pathErrorMessage
			if mb.key == "exception" {
				path = pathErrorStackTrace
			}
			d.SetPath(path, document.S(v.str(s)))
		case kindObject:
			m.mapError(d, s, v, join(prefix, mb.key))
		default:
			return false
		}
	case roleErrorType:
		return setString(d, s, pathErrorType, v)
	case roleErrorMessage:
		return setString(d, s, pathErrorMessage, v)
	case roleStack:
		return setString(d, s, pathErrorStackTrace, v)
	case rolePID:
		if v.kind != kindNumber {
			return false
		}
		n, err := strconv.ParseInt(s[v.start:v.end], 10, 64)
		if err != nil {
			return false
		}
		d.SetPath(pathProcessPID, document.I(n))
	case roleThread:
		return setString(d, s, pathThreadName, v)
	default:
		return false
	}
	return true
}

func setString(d *document.Doc, s string, path document.Path, v span) bool {
	if v.kind != kindString {
		return false
	}
	d.SetPath(path, document.S(v.str(s)))
	return true
}

func setLine(d *document.Doc, s string, v span) bool {
	var t string
	switch v.kind {
	case kindNumber:
		t = s[v.start:v.end]
	case kindString:
		t = v.str(s)
	default:
		return false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	d.SetPath(pathOriginFileLine, document.I(n))
	return true
}

// setFileLine splits zap's, zerolog's and logrus' "path/file.go:142".
func setFileLine(d *document.Doc, c string) {
	if i := strings.LastIndexByte(c, ':'); i > 0 && i < len(c)-1 {
		if n, err := strconv.ParseInt(c[i+1:], 10, 64); err == nil && n >= 0 {
			d.SetPath(pathOriginFileName, document.S(c[:i]))
			d.SetPath(pathOriginFileLine, document.I(n))
			return
		}
	}
	d.SetPath(pathOriginFileName, document.S(c))
}

// mapSource maps slog's source {function, file, line} and log4j2's
// {class, method, file, line}; other members stay under path.
func (m *Mapper) mapSource(d *document.Doc, s string, v span, path string) {
	members(s, v.start, func(k, sv span) {
		key := k.str(s)
		ok := false
		switch key {
		case "function", "method":
			ok = setString(d, s, pathOriginFunction, sv)
		case "file":
			ok = setString(d, s, pathOriginFileName, sv)
		case "line":
			ok = setLine(d, s, sv)
		}
		if !ok {
			writeValue(d, s, path+"."+key, sv)
		}
	})
}

// mapError maps the error objects of pino and bunyan ({type|name, message,
// stack}) and log4j2's thrown ({name, message, extendedStackTrace}); other
// members stay under path.
func (m *Mapper) mapError(d *document.Doc, s string, v span, path string) {
	members(s, v.start, func(k, ev span) {
		key := k.str(s)
		ok := false
		switch key {
		case "type", "name", "class", "kind":
			ok = setString(d, s, pathErrorType, ev)
		case "message", "msg":
			ok = setString(d, s, pathErrorMessage, ev)
		case "stack", "stack_trace", "stacktrace", "extendedStackTrace":
			ok = setString(d, s, pathErrorStackTrace, ev)
		}
		if !ok {
			writeValue(d, s, path+"."+key, ev)
		}
	})
}

// mapInstant maps log4j2's instant {epochSecond, nanoOfSecond}.
func (m *Mapper) mapInstant(d *document.Doc, s string, v span) bool {
	if v.kind != kindObject {
		return false
	}
	var sec, nsec int64
	haveSec, bad := false, false
	members(s, v.start, func(k, ev span) {
		n, err := strconv.ParseInt(s[ev.start:ev.end], 10, 64)
		if ev.kind != kindNumber || err != nil {
			bad = true
			return
		}
		switch k.str(s) {
		case "epochSecond":
			sec, haveSec = n, true
		case "nanoOfSecond":
			nsec = n
		default:
			bad = true
		}
	})
	if bad || !haveSec {
		return false
	}
	d.SetPath(pathTimestamp, document.T(time.Unix(sec, nsec).UTC()))
	return true
}

// numericLevel names pino's and bunyan's numeric levels.
func numericLevel(t string) string {
	switch t {
	case "10":
		return "trace"
	case "20":
		return "debug"
	case "30":
		return "info"
	case "40":
		return "warn"
	case "50":
		return "error"
	case "60":
		return "fatal"
	}
	return t
}
