package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/sluicectl/internal/conn"
)

// runner holds one invocation's state.
type runner struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	g        globals
	o        options
	cmd      *command
	addrs    []string
	connOpts conn.Options

	mu      sync.Mutex
	targets map[string]*target
}

// target is one admin endpoint; its connection is made on first use.
type target struct {
	addr string
	cc   *grpc.ClientConn
}

func (t *target) admin() adminv1.AdminServiceClient { return adminv1.NewAdminServiceClient(t.cc) }
func (t *target) shipper() adminv1.ShipperAdminServiceClient {
	return adminv1.NewShipperAdminServiceClient(t.cc)
}
func (t *target) parser() adminv1.ParserAdminServiceClient {
	return adminv1.NewParserAdminServiceClient(t.cc)
}
func (t *target) indexer() adminv1.IndexerAdminServiceClient {
	return adminv1.NewIndexerAdminServiceClient(t.cc)
}

func (r *runner) target(addr string) (*target, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.targets[addr]; ok {
		return t, nil
	}
	cc, err := conn.Dial(addr, r.connOpts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	if r.targets == nil {
		r.targets = map[string]*target{}
	}
	t := &target{addr: addr, cc: cc}
	r.targets[addr] = t
	return t, nil
}

func (r *runner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.targets {
		_ = t.cc.Close()
	}
	r.targets = nil
}

// result is one address's answer to a fanned-out call.
type result struct {
	addr string
	msg  proto.Message
	err  error // explained, see explain
}

// call runs fn against addr with the call deadline and explains a failure.
func (r *runner) call(ctx context.Context, addr string, fn func(ctx context.Context, t *target) (proto.Message, error)) (proto.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	t, err := r.target(addr)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, r.g.timeout)
	defer cancel()
	msg, err := fn(cctx, t)
	if err != nil {
		return nil, r.explain(ctx, t, err)
	}
	return msg, nil
}

// each runs fn against every address concurrently; results keep the order
// of the addresses.
func (r *runner) each(fn func(ctx context.Context, t *target) (proto.Message, error)) []result {
	out := make([]result, len(r.addrs))
	var wg sync.WaitGroup
	for i, a := range r.addrs {
		wg.Go(func() {
			msg, err := r.call(r.ctx, a, fn)
			out[i] = result{addr: a, msg: msg, err: err}
		})
	}
	wg.Wait()
	return out
}

// reportErrors prints each failed result and says whether any failed.
func (r *runner) reportErrors(res []result) error {
	failed := false
	for _, x := range res {
		if x.err != nil {
			fmt.Fprintf(r.stderr, "sluicectl: %v\n", x.err)
			failed = true
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// addrError is a failed call, phrased for an operator.
type addrError struct {
	addr        string
	unreachable bool
	msg         string // without the address
	full        string // overrides Error when set
}

func (e *addrError) Error() string {
	switch {
	case e.full != "":
		return e.full
	case e.unreachable:
		return e.addr + " unreachable: " + e.msg
	default:
		return e.addr + ": " + e.msg
	}
}

// short is the message without the address, for a row of `top`.
func (e *addrError) short() string {
	if e.unreachable {
		return "unreachable: " + e.msg
	}
	return e.msg
}

func shortError(err error) string {
	var ae *addrError
	if errors.As(err, &ae) {
		return ae.short()
	}
	return "error: " + err.Error()
}

// explain turns a gRPC error into one that says what to do.
func (r *runner) explain(ctx context.Context, t *target, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &addrError{addr: t.addr, msg: err.Error()}
	}
	e := &addrError{addr: t.addr}
	msg := st.Message()
	switch st.Code() {
	case codes.Unavailable:
		if isTransportError(msg) || t.cc.GetState() != connectivity.Ready {
			e.unreachable = true
			o := r.connOpts
			e.msg = dialReason(msg, o.TLS || o.CAFile != "" || o.CertFile != "", o.CertFile != "")
		} else {
			e.msg = "unavailable: " + msg
		}
	case codes.DeadlineExceeded:
		if t.cc.GetState() != connectivity.Ready {
			e.unreachable = true
			e.msg = fmt.Sprintf("no connection within %s", r.g.timeout)
		} else {
			e.msg = fmt.Sprintf("no answer within %s (raise --timeout)", r.g.timeout)
		}
	case codes.Canceled:
		e.msg = "cancelled"
	case codes.Unauthenticated:
		if r.connOpts.Token != "" {
			e.msg = "unauthenticated: " + msg
		} else {
			e.msg = "unauthenticated: pass --token or --token-file"
		}
	case codes.PermissionDenied:
		e.msg = "permission denied: the token was refused; check --token or --token-file"
		if !strings.Contains(msg, "token") {
			e.msg = "permission denied: " + msg
		}
	case codes.Unimplemented:
		e.full = r.unimplemented(ctx, t, msg)
	case codes.InvalidArgument, codes.FailedPrecondition:
		e.msg = msg
	default:
		e.msg = strings.ToLower(splitCamel(st.Code().String())) + ": " + msg
	}
	return e
}

// unimplemented says which service serves the command and what addr is.
func (r *runner) unimplemented(ctx context.Context, t *target, msg string) string {
	if r.cmd == nil || r.cmd.servedBy == "" {
		return fmt.Sprintf("%s: not a Sluice admin endpoint (%s)", t.addr, msg)
	}
	what := fmt.Sprintf("%s is served by the %s", r.cmd.name, r.cmd.servedBy)
	cctx, cancel := context.WithTimeout(ctx, r.g.timeout)
	defer cancel()
	st, err := t.admin().GetStatus(cctx, &adminv1.GetStatusRequest{})
	if err != nil || st.GetService() == "" {
		return fmt.Sprintf("%s; %s does not serve it", what, t.addr)
	}
	return fmt.Sprintf("%s; %s is the %s", what, t.addr, st.GetService())
}

func isTransportError(msg string) bool {
	for _, s := range []string{"connection error", "transport", "dial", "connection closed", "EOF", "handshake"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// dialReason reduces gRPC's connection error to its cause:
// `connection error: desc = "transport: Error while dialing: dial tcp
// 127.0.0.1:9090: connect: connection refused"` → "connection refused".
func dialReason(msg string, usingTLS, clientCert bool) string {
	if i := strings.Index(msg, `desc = "`); i >= 0 {
		msg = strings.TrimSuffix(msg[i+len(`desc = "`):], `"`)
	}
	msg = strings.TrimPrefix(msg, "transport: ")
	msg = strings.TrimPrefix(msg, "Error while dialing: ")
	msg = strings.TrimPrefix(msg, "error while dialing: ")
	if strings.HasPrefix(msg, "dial ") {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	msg = strings.TrimPrefix(msg, "connect: ")
	switch {
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		msg += " (the server does not speak TLS; drop --tls)"
	case !usingTLS && (strings.Contains(msg, "server preface") || strings.Contains(msg, "EOF")):
		msg += " (does the server require TLS? try --tls)"
	case usingTLS && !clientCert && (strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF")):
		// A server requiring mTLS drops the connection after the handshake.
		msg += " (does the server require a client certificate? pass --cert and --key)"
	}
	return msg
}

// splitCamel turns "ResourceExhausted" into "Resource Exhausted".
func splitCamel(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// timeoutFor bounds one poll of top: a slow service must not stall frames.
func (r *runner) timeoutFor(interval time.Duration) time.Duration {
	return min(r.g.timeout, max(interval, time.Second))
}
