package kafka

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestLogger(t *testing.T) {
	tests := []struct {
		env       string
		service   slog.Level
		wantLevel kgo.LogLevel
	}{
		{"", slog.LevelDebug, kgo.LogLevelWarn},
		{"debug", slog.LevelDebug, kgo.LogLevelDebug},
		{"debug", slog.LevelInfo, kgo.LogLevelInfo}, // never below the service's level
		{"info", slog.LevelDebug, kgo.LogLevelInfo},
		{"error", slog.LevelDebug, kgo.LogLevelError},
		{"off", slog.LevelDebug, kgo.LogLevelNone},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.service.String(), func(t *testing.T) {
			t.Setenv(LogEnv, tt.env)
			var buf bytes.Buffer
			l := Logger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.service})))
			if got := l.Level(); got != tt.wantLevel {
				t.Fatalf("Level = %v, want %v", got, tt.wantLevel)
			}
			l.Log(kgo.LogLevelWarn, "broker gone", "broker", 1)
			wantOut := tt.wantLevel >= kgo.LogLevelWarn
			if got := strings.Contains(buf.String(), "broker gone"); got != wantOut {
				t.Fatalf("warning logged %v, want %v: %q", got, wantOut, buf.String())
			}
			if wantOut && !strings.Contains(buf.String(), "component=kafka") {
				t.Fatalf("no component attribute: %q", buf.String())
			}
		})
	}
}
