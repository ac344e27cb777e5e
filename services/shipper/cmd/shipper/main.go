// Command shipper runs the Sluice node collector, or with the validate
// subcommand checks a configuration file without starting it:
//
//	shipper -config /etc/sluice/shipper.yaml
//	shipper validate -config /etc/sluice/shipper.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/logging"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/shipper"
	"github.com/sluice-io/sluice/services/shipper/config"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
	"k8s.io/klog/v2"
)

const defaultConfig = "/etc/sluice/shipper.yaml"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "validate" {
		os.Exit(validateCommand(os.Args[2:], os.Stdout, os.Stderr))
	}
	configFile := flag.String("config", defaultConfig, "configuration file")
	flag.Parse()
	cfg, digest, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipper: %s: invalid configuration:\n%v\n", *configFile, err)
		os.Exit(2)
	}
	log := logging.New(cfg.Log, "shipper")
	service.SetMemoryLimit(log, int64(cfg.MemoryLimit), shipper.MemoryBudget(cfg))
	ctx, cancel := service.SignalContext()
	defer cancel()
	var opts []shipper.Option
	if cfg.Kubernetes.Enabled {
		kc, err := kube.NewClient(cfg.Kubernetes.Kubeconfig)
		if err != nil {
			log.Error("cannot start: kubernetes client", "kubeconfig", cfg.Kubernetes.Kubeconfig, "err", err)
			os.Exit(2)
		}
		klog.SetSlogLogger(log.With("component", "client-go"))
		w := kube.NewWatcher(kube.WatcherConfig{Node: cfg.Node, Kubeconfig: cfg.Kubernetes.Kubeconfig,
			Annotations: cfg.Kubernetes.Annotations}, kc, log)
		// Start waits a bounded time for the first list; without the API
		// server the shipper ships with file-name metadata and enriches
		// once the watch catches up.
		if !w.Start(ctx) {
			log.Warn("kubernetes metadata not synced yet; using file-name metadata until it is")
		}
		opts = append(opts, shipper.WithMetadata(w))
	}
	s, err := shipper.New(cfg, digest, log, opts...)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(2)
	}
	err = service.Run(ctx, s, service.Options{
		Name: "shipper", Version: shipper.Version, Node: cfg.Node, Admin: cfg.Admin, Log: log,
		Register: func(g *grpc.Server) { s.RegisterAdmin(g) },
	})
	if err != nil {
		os.Exit(1)
	}
}

// validateCommand is `shipper validate`.
func validateCommand(args []string, stdout, stderr io.Writer) int {
	return service.Validate("shipper", defaultConfig, args, stdout, stderr, func(file string) (string, error) {
		c, digest, err := config.Load(file)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("node %s; kafka %s topic %s; tailing %s; state %s; digest %.12s",
			c.Node, strings.Join(c.Kafka.Brokers, ","), c.Kafka.Topic, strings.Join(c.Tail.Include, ","), c.State.Path, digest), nil
	})
}
