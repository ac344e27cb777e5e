// Command shipper runs the Sluice node collector.
//
//	shipper -config /etc/sluice/shipper.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/logging"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/shipper"
	"github.com/sluice-io/sluice/services/shipper/config"
)

func main() {
	configFile := flag.String("config", "/etc/sluice/shipper.yaml", "configuration file")
	flag.Parse()
	cfg, digest, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipper: %v\n", err)
		os.Exit(2)
	}
	log := logging.New(cfg.Log, "shipper")
	s, err := shipper.New(cfg, digest, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipper: %v\n", err)
		os.Exit(2)
	}
	ctx, cancel := service.SignalContext()
	defer cancel()
	err = service.Run(ctx, s, service.Options{
		Name: "shipper", Version: shipper.Version, Node: cfg.Node, Admin: cfg.Admin, Log: log,
		Register: func(g *grpc.Server) { s.RegisterAdmin(g) },
	})
	if err != nil {
		os.Exit(1)
	}
}
