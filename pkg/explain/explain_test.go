package explain

import (
	"strings"
	"testing"
)

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 200)
	got := Truncate(long)
	if len(got) > MaxWarningLength || !strings.HasSuffix(got, "...") || strings.ToValidUTF8(got, "\uFFFD") != got {
		t.Errorf("truncate: %d bytes %q", len(got), got)
	}
	if Truncate("short") != "short" {
		t.Error("short strings must stay")
	}
}
