// Package logging builds a service's structured logger from its config.
package logging

import (
	"io"
	"log/slog"
	"os"

	"github.com/sluice-io/sluice/libs/config"
)

// New returns a logger writing to stderr as cfg says, with a "service" attribute.
func New(cfg config.Log, service string) *slog.Logger {
	return NewTo(os.Stderr, cfg, service)
}

// NewTo is New writing to w.
func NewTo(w io.Writer, cfg config.Log, service string) *slog.Logger {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(h).With("service", service)
}
