package kafka

import (
	"context"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
)

// LogEnv names the environment variable that turns on the Kafka client's
// own logs (debug, info, warn or error) for troubleshooting connections,
// group membership and produce retries. Off by default: the client is
// chatty and the services log what matters to operators themselves.
const LogEnv = "SLUICE_KAFKA_LOG"

// slogLogger adapts slog to franz-go's logger.
type slogLogger struct {
	log   *slog.Logger
	level kgo.LogLevel
}

func (l slogLogger) Level() kgo.LogLevel { return l.level }

func (l slogLogger) Log(level kgo.LogLevel, msg string, kv ...any) {
	sl := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		sl = slog.LevelError
	case kgo.LogLevelWarn:
		sl = slog.LevelWarn
	case kgo.LogLevelInfo:
		sl = slog.LevelInfo
	}
	l.log.Log(context.Background(), sl, "kafka: "+msg, kv...)
}

// envLogger returns the client logger $SLUICE_KAFKA_LOG asks for, if any.
func envLogger() (kgo.Opt, bool) {
	var level kgo.LogLevel
	switch os.Getenv(LogEnv) {
	case "debug":
		level = kgo.LogLevelDebug
	case "info":
		level = kgo.LogLevelInfo
	case "warn":
		level = kgo.LogLevelWarn
	case "error":
		level = kgo.LogLevelError
	default:
		return nil, false
	}
	return kgo.WithLogger(slogLogger{log: slog.Default(), level: level}), true
}
