package serve

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewLoggerDurationsInSeconds(t *testing.T) {
	for format, want := range map[string]string{
		"json": `"msg":"stopping","timeoutSeconds":1.5,"waitSeconds":0.25,"group":{"elapsedSeconds":0.001}`,
		"text": `msg=stopping timeoutSeconds=1.5 waitSeconds=0.25 group.elapsedSeconds=0.001`,
	} {
		var b bytes.Buffer
		log, err := NewLogger(&b, format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("stopping", "timeout", 1500*time.Millisecond, "waitSeconds", 250*time.Millisecond, slog.Group("group", "elapsed", time.Millisecond))
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s: %s, want %s", format, b.String(), want)
		}
	}
	if _, err := NewLogger(&bytes.Buffer{}, "xml", slog.LevelInfo); err == nil || !strings.Contains(err.Error(), "--log-format must be json or text") {
		t.Errorf("bad format: %v", err)
	}
}
