// Package conn dials Sluice admin endpoints: it normalises addresses, builds
// TLS / mTLS transport credentials, and attaches the bearer token to every
// call.
package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-io/sluice/libs/tlsconfig"
)

// DefaultPort is the admin API's default port.
const DefaultPort = "9090"

// MaxFileBytes caps what ReadFile reads: admin messages are at most 4 MiB.
const MaxFileBytes = 4 << 20

// MaxRecvBytes is the largest response accepted.
const MaxRecvBytes = 16 << 20

// Options configure how endpoints are reached.
type Options struct {
	// Token is sent as "authorization: Bearer <token>"; empty sends nothing.
	Token string
	// TLS enables TLS; CAFile (PEM) is trusted in addition to the system
	// roots; CertFile and KeyFile present a client certificate (mTLS).
	TLS                       bool
	CAFile, CertFile, KeyFile string
}

// Normalize turns a user-given address into a gRPC target: a bare host gets
// the default port; targets with a scheme ("unix:", "dns:///") pass as is.
func Normalize(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errors.New("empty address")
	}
	if strings.Contains(addr, "://") || strings.HasPrefix(addr, "unix:") {
		return addr, nil
	}
	if strings.ContainsAny(addr, " \t\r\n/") {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if port == "" {
			return "", fmt.Errorf("%q has no port", addr)
		}
		return addr, nil
	}
	// "host", "::1" or "[::1]" without a port.
	if strings.HasPrefix(addr, "[") != strings.HasSuffix(addr, "]") {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if strings.ContainsAny(host, "[]") {
		return "", fmt.Errorf("%q is not host:port", addr)
	}
	return net.JoinHostPort(host, DefaultPort), nil
}

// Dial builds a client connection to target. It does not connect: the first
// call does.
func Dial(target string, o Options) (*grpc.ClientConn, error) {
	var creds credentials.TransportCredentials
	if o.TLS || o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" {
		tc, err := TLSConfig(o)
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tc)
	} else {
		creds = insecure.NewCredentials()
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxRecvBytes)),
		grpc.WithUserAgent("sluicectl"),
	}
	if o.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(o.Token)))
	}
	return grpc.NewClient(target, opts...)
}

// TLSConfig builds the client TLS configuration from o; errors name the
// flag at fault.
func TLSConfig(o Options) (*tls.Config, error) {
	switch {
	case o.CertFile != "" && o.KeyFile == "":
		return nil, errors.New("--cert needs --key")
	case o.KeyFile != "" && o.CertFile == "":
		return nil, errors.New("--key needs --cert")
	}
	tc, err := tlsconfig.Client{CertFile: o.CertFile, KeyFile: o.KeyFile}.Config()
	if err != nil {
		return nil, fmt.Errorf("--cert/--key: %w", err)
	}
	if o.CAFile != "" {
		if tc.RootCAs, err = tlsconfig.SystemRootsWith(o.CAFile); err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
	}
	return tc, nil
}

// ReadFile reads a file of at most MaxFileBytes ("-" is not special here).
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadLimited(f, path)
}

// ReadLimited reads r up to MaxFileBytes and fails beyond; name is used in
// the error.
func ReadLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, MaxFileBytes>>20)
	}
	return b, nil
}

// ReadToken reads a token file, trimming surrounding white space.
func ReadToken(path string) (string, error) {
	b, err := ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s: the token is empty", path)
	}
	return tok, nil
}

// bearer attaches the token to each call. It does not require transport
// security: admin ports on localhost or inside a pod network are commonly
// plain text, and the server decides what it accepts.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }
