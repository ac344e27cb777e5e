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
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
	"k8s.io/klog/v2"
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
	ctx, cancel := service.SignalContext()
	defer cancel()
	var opts []shipper.Option
	if cfg.Kubernetes.Enabled {
		cs, err := kube.NewClientset(cfg.Kubernetes.Kubeconfig)
		if err != nil {
			fmt.Fprintf(os.Stderr, "shipper: kubernetes: %v\n", err)
			os.Exit(2)
		}
		klog.SetSlogLogger(log.With("component", "client-go"))
		w := kube.NewWatcher(kube.WatcherConfig{Node: cfg.Node, Kubeconfig: cfg.Kubernetes.Kubeconfig,
			Annotations: cfg.Kubernetes.Annotations}, cs, log)
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
		fmt.Fprintf(os.Stderr, "shipper: %v\n", err)
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
