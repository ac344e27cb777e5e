package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/libs/tlsconfig/tlsconfigtest"
)

// TestClientAppendsToSystemRoots pins the one rule every TLS client of
// Sluice follows: the configured CA is added to the system roots.
func TestClientAppendsToSystemRoots(t *testing.T) {
	p := tlsconfigtest.New(t)
	tc, err := Client{CAFile: p.CAFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	want, err := x509.SystemCertPool()
	if err != nil || want == nil {
		want = x509.NewCertPool()
	}
	onlyOurs := x509.NewCertPool()
	onlyOurs.AddCert(p.CA)
	systemEmpty := want.Equal(x509.NewCertPool())
	want.AddCert(p.CA)
	if !tc.RootCAs.Equal(want) {
		t.Fatal("RootCAs is not the system roots plus the configured CA")
	}
	if !systemEmpty && tc.RootCAs.Equal(onlyOurs) {
		t.Fatal("RootCAs replaced the system roots with the configured CA")
	}
	if tc.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x", tc.MinVersion)
	}
	// No CA file: nil RootCAs, which crypto/tls reads as the system roots.
	if tc, err := (Client{}).Config(); err != nil || tc.RootCAs != nil {
		t.Fatalf("no CA file: %v, RootCAs %v", err, tc.RootCAs)
	}
}

// TestHandshake connects a Client to a Server, with and without a client
// certificate the server requires.
func TestHandshake(t *testing.T) {
	p := tlsconfigtest.New(t)
	stc, err := Server{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: p.CAFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", stc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Write([]byte("x"))
			}()
		}
	}()
	dial := func(c Client) error {
		tc, err := c.Config()
		if err != nil {
			return err
		}
		conn, err := tls.Dial("tcp", ln.Addr().String(), tc)
		if err != nil {
			return err
		}
		defer conn.Close()
		// With TLS 1.3 a refused client certificate shows on the first read.
		_, err = conn.Read(make([]byte, 1))
		return err
	}
	if err := dial(Client{CAFile: p.CAFile, CertFile: p.ClientCert, KeyFile: p.ClientKey}); err != nil {
		t.Fatalf("mTLS: %v", err)
	}
	if err := dial(Client{CAFile: p.CAFile}); err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
	if err := dial(Client{CertFile: p.ClientCert, KeyFile: p.ClientKey}); err == nil {
		t.Fatal("the server's private CA was trusted without the CA file")
	}
}

func TestErrors(t *testing.T) {
	p := tlsconfigtest.New(t)
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"missing CA", func() error { _, err := Client{CAFile: "/nonexistent.pem"}.Config(); return err }, "open /nonexistent.pem"},
		{"CA not PEM", func() error { _, err := Client{CAFile: notPEM}.Config(); return err }, "holds no PEM certificate"},
		{"cert without key", func() error { _, err := Client{CertFile: p.ClientCert}.Config(); return err }, "needs its key"},
		{"key without cert", func() error { _, err := Client{KeyFile: p.ClientKey}.Config(); return err }, "needs its certificate"},
		{"server without key", func() error { _, err := Server{CertFile: p.ServerCert}.Config(); return err }, "server certificate"},
		{"server client CA not PEM", func() error {
			_, err := Server{CertFile: p.ServerCert, KeyFile: p.ServerKey, ClientCAFile: notPEM}.Config()
			return err
		}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
