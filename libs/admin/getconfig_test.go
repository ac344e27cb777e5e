package admin

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sluice-io/sluice/libs/config"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// configService is a fakeService that shows its configuration.
type configService struct {
	*fakeService
	cfg any
}

func (c configService) RunningConfig() any { return c.cfg }

type shownConfig struct {
	Kafka struct {
		Brokers config.StringList `yaml:"brokers"`
		SASL    config.SASL       `yaml:"sasl"`
	} `yaml:"kafka"`
	Elasticsearch struct {
		URLs     config.StringList `yaml:"urls"`
		Password string            `yaml:"password"`
		APIKey   string            `yaml:"api_key"`
	} `yaml:"elasticsearch"`
}

func dialBuf(tb testing.TB, svc Service) *grpc.ClientConn {
	tb.Helper()
	srv, err := New(config.Admin{}, "indexer", "v1", "node-1", svc, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	ln := bufconn.Listen(1 << 20)
	srv.ServeListener(ln)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		srv.Shutdown(context.Background())
	})
	return conn
}

func TestGetConfig(t *testing.T) {
	var cfg shownConfig
	cfg.Kafka.Brokers = config.StringList{"kafka-0:9092"}
	cfg.Kafka.SASL = config.SASL{Mechanism: "plain", Username: "svc-user", Password: "kafka-pw"}
	cfg.Elasticsearch.URLs = config.StringList{"https://elastic:url-pw@es:9200"}
	cfg.Elasticsearch.Password, cfg.Elasticsearch.APIKey = "es-pw", "es-key"

	cl := adminv1.NewAdminServiceClient(dialBuf(t, configService{&fakeService{digest: "d0"}, cfg}))
	resp, err := cl.GetConfig(context.Background(), &adminv1.GetConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	doc := resp.GetConfigYaml()
	for _, secret := range []string{"kafka-pw", "svc-user", "url-pw", "es-pw", "es-key"} {
		if strings.Contains(doc, secret) {
			t.Errorf("GetConfig shows the secret %q:\n%s", secret, doc)
		}
	}
	for _, want := range []string{"kafka-0:9092", "mechanism: plain", "https://elastic:xxxxx@es:9200", "api_key: '[redacted]'"} {
		if !strings.Contains(doc, want) {
			t.Errorf("GetConfig lacks %q:\n%s", want, doc)
		}
	}

	plain := adminv1.NewAdminServiceClient(dialBuf(t, &fakeService{digest: "d0"}))
	if _, err := plain.GetConfig(context.Background(), &adminv1.GetConfigRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("GetConfig of a service without ConfigSource: %v, want Unimplemented", err)
	}
}
