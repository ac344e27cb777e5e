// Package tlsconfig builds the TLS configuration of every connection Sluice
// makes or accepts, so a configured CA means the same thing everywhere.
//
// A client's CA file is added to the system roots, not substituted for
// them: pointing Sluice at a private CA for one endpoint (a Kafka cluster
// behind an internal CA) must not break another that presents a publicly
// trusted certificate (a hosted Elasticsearch). A server's client CA file
// is the opposite case and is used alone: trusting the system roots there
// would let anyone holding a certificate from a public CA authenticate.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Client describes the TLS side of a connection Sluice makes.
type Client struct {
	// CAFile is a PEM file of CA certificates trusted in addition to the
	// system roots. Empty: the system roots alone.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that authenticate clients (mTLS). Both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify turns off verification of the server's
	// certificate: tests, or an operator's explicit choice.
	InsecureSkipVerify bool
}

// Config builds the client configuration: TLS 1.2 or later, the system
// roots plus CAFile, and the client certificate when one is set.
func (c Client) Config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
	if c.CAFile != "" {
		pool, err := SystemRootsWith(c.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	case c.CertFile != "":
		return nil, errors.New("a client certificate needs its key file")
	case c.KeyFile != "":
		return nil, errors.New("a client key needs its certificate file")
	}
	return tc, nil
}

// Server describes the TLS side of a listener.
type Server struct {
	// CertFile and KeyFile are the server's PEM certificate and key.
	CertFile, KeyFile string
	// ClientCAFile, when set, requires every client to present a
	// certificate issued by one of its CAs (mTLS); only these CAs are
	// trusted for that, not the system roots.
	ClientCAFile string
}

// Config builds the server configuration: TLS 1.2 or later, and client
// certificates required and verified when ClientCAFile is set.
func (s Server) Config() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if s.ClientCAFile != "" {
		pool := x509.NewCertPool()
		if err := appendFile(pool, s.ClientCAFile); err != nil {
			return nil, err
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// SystemRootsWith returns the system roots with the CA certificates of the
// PEM file caFile added. Where the system has no roots (a minimal image),
// the pool holds the file's certificates alone.
func SystemRootsWith(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if err := appendFile(pool, caFile); err != nil {
		return nil, err
	}
	return pool, nil
}

func appendFile(pool *x509.CertPool, file string) error {
	pem, err := os.ReadFile(file)
	if err != nil {
		return err // names the file
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return nil
}
