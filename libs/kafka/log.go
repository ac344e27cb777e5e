package kafka

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// LogEnv names the environment variable that sets the level of the Kafka
// client's own logs (debug, info, warn, error or off) for troubleshooting
// connections, group membership and produce retries. Default warn: the
// client's warnings and errors reach the service's log, its chatty life
// cycle does not.
const LogEnv = "SLUICE_KAFKA_LOG"

// Logger returns the logger for a Kafka client of a service: franz-go's
// kslog writing to log with component=kafka, at the level LogEnv sets
// (default warn) and never below what log itself is enabled for; "off"
// silences the client.
func Logger(log *slog.Logger) kgo.Logger {
	level := slog.LevelWarn
	switch env := os.Getenv(LogEnv); strings.ToLower(env) {
	case "":
	case "off", "none":
		level = slog.LevelError + 1 // above everything the client logs
	default:
		// debug, info, warn or error, as slog spells them.
		if err := level.UnmarshalText([]byte(env)); err != nil {
			level = slog.LevelWarn
		}
	}
	return kslog.New(slog.New(minLevel{log.Handler(), level}).With("component", "kafka"))
}

// minLevel drops records below min, whatever the handler it wraps allows:
// kslog asks the handler which client levels to produce.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
