// Command indexer runs the Sluice indexer service.
//
//	indexer -config /etc/sluice/indexer.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/logging"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/indexer"
	"github.com/sluice-io/sluice/services/indexer/config"
)

func main() {
	configFile := flag.String("config", "/etc/sluice/indexer.yaml", "configuration file")
	flag.Parse()
	cfg, digest, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(2)
	}
	log := logging.New(cfg.Log, "indexer")
	ctx, cancel := service.SignalContext()
	defer cancel()
	sink, err := indexer.NewSink(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(2)
	}
	if c, ok := sink.(io.Closer); ok {
		defer c.Close()
	}
	ix, err := indexer.New(cfg, digest, sink, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(2)
	}
	err = service.Run(ctx, ix, service.Options{
		Name: "indexer", Version: indexer.Version, Admin: cfg.Admin, Log: log,
		Register: func(s *grpc.Server) { ix.RegisterAdmin(s) },
	})
	if err != nil {
		os.Exit(1)
	}
}
