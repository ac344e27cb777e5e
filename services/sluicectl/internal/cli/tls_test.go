package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// pki is a throw-away CA with a server certificate for 127.0.0.1 and a
// client certificate, as PEM files.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return write(cn+".pem", "CERTIFICATE", der), write(cn+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p := pki{ca: write("ca.pem", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = leaf(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = leaf(3, "operator", x509.ExtKeyUsageClientAuth, nil)
	return p
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	tlsOnly, _ := startShipper(t, svcOpts{token: testToken, cfg: config.Admin{TLS: config.TLS{CertFile: p.serverCert, KeyFile: p.serverKey}}})
	mtls, _ := startShipper(t, svcOpts{cfg: config.Admin{
		TLS: config.TLS{CertFile: p.serverCert, KeyFile: p.serverKey}, ClientCAFile: p.ca,
	}})
	plain, _ := startShipper(t, svcOpts{})

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // stderr substring; "" means success
	}{
		{"tls with ca and token", []string{"--addr", tlsOnly, "--ca", p.ca, "--token", testToken}, 0, ""},
		{"tls without token", []string{"--addr", tlsOnly, "--ca", p.ca}, 1, tlsOnly + ": unauthenticated: pass --token or --token-file"},
		{"tls with system roots", []string{"--addr", tlsOnly, "--tls", "--token", testToken}, 1, tlsOnly + " unreachable: "},
		{"plain text to a tls server", []string{"--addr", tlsOnly, "--token", testToken}, 1, tlsOnly + " unreachable: "},
		{"tls to a plain text server", []string{"--addr", plain, "--tls"}, 1, "drop --tls"},
		{"mtls", []string{"--addr", mtls, "--ca", p.ca, "--cert", p.clientCert, "--key", p.clientKey}, 0, ""},
		{"mtls without a client certificate", []string{"--addr", mtls, "--ca", p.ca}, 1, "(does the server require a client certificate? pass --cert and --key)"},
		{"bad key pair", []string{"--addr", mtls, "--ca", p.ca, "--cert", p.clientCert, "--key", p.serverKey}, 1, "--cert/--key: "},
		{"ca not pem", []string{"--addr", mtls, "--ca", writeFile(t, "x.pem", "nope")}, 1, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := mustRun(t, tc.code, "", append(tc.args, "status")...)
			if tc.want == "" {
				if rows := cells(o.stdout); len(rows) != 2 || rows[1][1] != "shipper" {
					t.Errorf("stdout:\n%s", o.stdout)
				}
				return
			}
			if !strings.Contains(o.stderr, tc.want) {
				t.Errorf("stderr %q, want it to contain %q", o.stderr, tc.want)
			}
			t.Logf("stderr: %s", strings.TrimSpace(o.stderr))
		})
	}
}
