// Package service runs one Sluice service's lifecycle the same way in all
// three binaries and in the embedded local stack: admin API and metrics up,
// health SERVING while running, and on stop the documented order —
// health NOT_SERVING, stop intake, drain and flush (the service's Run
// returning), then the admin server stopped with a deadline.
package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/telemetry"
)

// Runner is a service's main loop: it runs until ctx ends, then drains and
// returns nil, or returns the error that stopped it.
type Runner interface {
	admin.Service
	Run(ctx context.Context) error
	Telemetry() *telemetry.Telemetry
}

// Options describe the service to run.
type Options struct {
	Name    string
	Version string
	Node    string
	Admin   config.Admin
	Log     *slog.Logger
	// Register adds the service's own admin APIs.
	Register func(*grpc.Server)
	// Started, when set, receives the bound admin and metrics addresses.
	Started func(adminAddr, metricsAddr net.Addr)
	// StopTimeout bounds the admin server's graceful stop; default 5s.
	StopTimeout time.Duration
}

// Run runs r until ctx ends and returns r's error.
func Run(ctx context.Context, r Runner, o Options) error {
	srv, err := admin.New(o.Admin, o.Name, o.Version, o.Node, r, o.Log)
	if err != nil {
		return err
	}
	if o.Register != nil {
		o.Register(srv.GRPC())
	}
	adminAddr, err := srv.Listen()
	if err != nil {
		return err
	}
	mctx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMetrics()
	metricsAddr, err := r.Telemetry().Serve(mctx, o.Admin.MetricsListen)
	if err != nil {
		srv.Shutdown(ctx)
		return err
	}
	if o.Started != nil {
		o.Started(adminAddr, metricsAddr)
	}
	o.Log.Info("started", "version", o.Version, "admin", addrString(adminAddr), "metrics", addrString(metricsAddr))

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	srv.SetServing(true)

	var runErr error
	select {
	case <-ctx.Done():
		srv.SetServing(false)
		o.Log.Info("stopping: draining in-flight work")
		cancelRun()
		runErr = <-done
	case runErr = <-done:
		srv.SetServing(false)
	}
	timeout := o.StopTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	srv.Shutdown(sctx)
	_ = r.Telemetry().Shutdown(sctx)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		o.Log.Error("stopped with error", "err", runErr)
		return runErr
	}
	o.Log.Info("stopped")
	return nil
}

// SignalContext returns a context cancelled by SIGTERM or SIGINT. A second
// signal exits at once.
func SignalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ch
		cancel()
		<-ch
		os.Exit(1)
	}()
	return ctx, cancel
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// ErrAbort, as the cause of a Run context's cancellation, stops a service
// where it is, the way a crash would: the batch in hand is neither finished
// nor committed. Tests use it to stand for kill -9 inside one process.
var ErrAbort = errors.New("service aborted")

// Aborted reports whether ctx was cancelled with ErrAbort.
func Aborted(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrAbort) }
