// Package service runs one Sluice service's lifecycle the same way in all
// three binaries and in the embedded local stack: admin API and metrics up,
// health SERVING while running, and on stop the documented order —
// health NOT_SERVING, stop intake, drain and flush (the service's Run
// returning), then the admin server stopped with a deadline.
package service

import (
	"context"
	"errors"
	"fmt"
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
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
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

// Run runs r until ctx ends and returns r's error. Every error it returns
// has been logged with its cause first: a service never exits silently.
func Run(ctx context.Context, r Runner, o Options) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	srv, err := admin.New(o.Admin, o.Name, o.Version, o.Node, r, o.Log)
	if err != nil {
		o.Log.Error("cannot start the admin API", "err", err)
		return err
	}
	if o.Register != nil {
		o.Register(srv.GRPC())
	}
	adminAddr, err := srv.Listen()
	if err != nil {
		return listenError(o.Log, "admin API", o.Admin.Listen, "admin.listen", err)
	}
	r.Telemetry().ObserveLag(func(ctx context.Context) []telemetry.PartitionLag {
		lags := r.Stats(ctx).GetLag()
		out := make([]telemetry.PartitionLag, len(lags))
		for i, l := range lags {
			out[i] = telemetry.PartitionLag{Topic: l.GetTopic(), Partition: l.GetPartition(), Lag: l.GetLag()}
		}
		return out
	})
	mctx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMetrics()
	metricsAddr, err := r.Telemetry().Serve(mctx, o.Admin.MetricsListen, telemetry.WithPprof(o.Admin.Pprof))
	if err != nil {
		srv.Shutdown(ctx)
		return listenError(o.Log, "metrics endpoint", o.Admin.MetricsListen, "admin.metrics_listen", err)
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

// ListenError is a port a service could not bind. Its message names the
// address and the configuration key that sets it.
type ListenError struct {
	What string // "admin API", "metrics endpoint"
	Addr string
	Key  string // admin.listen, admin.metrics_listen
	Err  error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("%s cannot listen on %s (set %s to a free address): %v", e.What, e.Addr, e.Key, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

func listenError(log *slog.Logger, what, addr, key string, err error) error {
	le := &ListenError{What: what, Addr: addr, Key: key, Err: err}
	log.Error("cannot start: "+what+" cannot listen", "address", addr, "key", key, "err", err)
	return le
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

// RunSetup is Run for a service whose construction waits on something
// outside it (the indexer pings the search engine and installs its
// template, for up to elasticsearch.setup_timeout). While setup runs, the
// admin API already answers on its address: health NOT_SERVING, state
// "starting", so probes and operators see a live process that says what it
// waits for instead of a silent one. setup should log each failed attempt.
// When setup returns, that interim server stops and Run serves the runner on
// the same address.
func RunSetup(ctx context.Context, setup func(context.Context) (Runner, error), o Options) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	pre, err := admin.New(o.Admin, o.Name, o.Version, o.Node, starting{}, o.Log)
	if err != nil {
		o.Log.Error("cannot start the admin API", "err", err)
		return err
	}
	addr, err := pre.Listen()
	if err != nil {
		return listenError(o.Log, "admin API", o.Admin.Listen, "admin.listen", err)
	}
	if addr != nil {
		// A port chosen by the system (":0") is kept for the real server.
		o.Admin.Listen = addr.String()
	}
	o.Log.Info("starting: health is NOT_SERVING until setup completes", "admin", addrString(addr))
	r, err := setup(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	pre.Shutdown(sctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			o.Log.Info("stopped during setup")
			return nil
		}
		o.Log.Error("setup failed", "err", err)
		return err
	}
	return Run(ctx, r, o)
}

// starting is the admin view of a service still being set up.
type starting struct{}

func (starting) State() string { return "starting" }
func (starting) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{}
}
func (starting) Pause()  {}
func (starting) Resume() {}
func (starting) Reload(context.Context, []byte) (string, error) {
	return "", errors.New("the service is still starting")
}
func (starting) ConfigDigest() string { return "" }
