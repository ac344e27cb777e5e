package cli_test

import (
	"strings"
	"testing"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/tlsconfig/tlsconfigtest"
)

// pki is a throw-away CA with a server certificate for 127.0.0.1 and a
// client certificate, as PEM files.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	p := tlsconfigtest.New(t)
	return pki{ca: p.CAFile, serverCert: p.ServerCert, serverKey: p.ServerKey, clientCert: p.ClientCert, clientKey: p.ClientKey}
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
