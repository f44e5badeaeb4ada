package serve

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the server's logger writing to w in format "json" or
// "text" at level. Durations are written as seconds, a float, under a key
// ending in "Seconds" (duration becomes durationSeconds), as Prometheus and
// Kubernetes' own JSON do: slog would write a time.Duration as integer
// nanoseconds in JSON and as "1.5ms" in text.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationsInSeconds}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be json or text, not %q", format)
}

// durationsInSeconds is a slog.HandlerOptions.ReplaceAttr.
func durationsInSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "Seconds") {
		key += "Seconds"
	}
	return slog.Float64(key, a.Value.Duration().Seconds())
}
