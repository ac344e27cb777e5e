// Command indexer runs the Sluice indexer service, or with the validate
// subcommand checks a configuration file without starting it:
//
//	indexer -config /etc/sluice/indexer.yaml
//	indexer validate -config /etc/sluice/indexer.yaml
//
// While the search engine is unreachable at start the indexer keeps trying
// for elasticsearch.setup_timeout, logging each attempt, and its admin API
// already answers (health NOT_SERVING) so probes see a live process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/logging"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/indexer"
	"github.com/sluice-io/sluice/services/indexer/config"
)

const defaultConfig = "/etc/sluice/indexer.yaml"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "validate" {
		os.Exit(validateCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	configFile := flag.String("config", defaultConfig, "configuration file")
	flag.Parse()
	cfg, digest, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %s: invalid configuration:\n%v\n", *configFile, err)
		os.Exit(2)
	}
	log := logging.New(cfg.Log, "indexer")
	service.SetMemoryLimit(log, int64(cfg.MemoryLimit), indexer.MemoryBudget(cfg))
	ctx, cancel := service.SignalContext()
	defer cancel()
	if err := run(ctx, cfg, digest, log, nil); err != nil {
		os.Exit(1)
	}
}

// run sets the indexer up and runs it until ctx ends. started, when set,
// receives the admin address once the indexer serves.
func run(ctx context.Context, cfg config.Config, digest string, log *slog.Logger, started func(admin net.Addr)) error {
	var (
		ix   *indexer.Indexer
		sink indexer.Sink
	)
	defer func() {
		if c, ok := sink.(io.Closer); ok {
			c.Close()
		}
	}()
	return service.RunSetup(ctx, func(ctx context.Context) (service.Runner, error) {
		out, err := indexer.NewSink(ctx, cfg, indexer.WithSetupLog(log))
		if err != nil {
			return nil, err
		}
		measured := indexer.Measure(out)
		sink = measured
		if ix, err = indexer.New(cfg, digest, measured, log); err != nil {
			return nil, err
		}
		measured.Attach(ix.Telemetry())
		return ix, nil
	}, service.Options{
		Name: "indexer", Version: indexer.Version, Admin: cfg.Admin, Log: log,
		Register: func(s *grpc.Server) { ix.RegisterAdmin(s) },
		Started: func(admin, _ net.Addr) {
			if started != nil {
				started(admin)
			}
		},
	})
}

// validateCommand is `indexer validate`.
func validateCommand(args []string, stdout, stderr io.Writer) int {
	return service.Validate("indexer", defaultConfig, args, stdout, stderr, func(file string) (string, error) {
		c, digest, err := config.Load(file)
		if err != nil {
			return "", err
		}
		out := "file " + c.File.Path
		if c.Output == "elasticsearch" {
			out = fmt.Sprintf("%s %s", c.Elasticsearch.Flavor, strings.Join(c.Elasticsearch.URLs, ","))
		}
		return fmt.Sprintf("kafka %s group %s topic %s (dead letters %s); output %s; digest %.12s",
			strings.Join(c.Kafka.Brokers, ","), c.Kafka.Group, c.Kafka.Topic, c.Kafka.DLQTopic, out, digest), nil
	})
}
