package webhook

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// TestDecisionLogDuration: a decision's duration is logged as seconds, a
// float, not as slog's integer nanoseconds.
func TestDecisionLogDuration(t *testing.T) {
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	var logs bytes.Buffer
	f.handler.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	f.post(t, review(t, admissionv1.Create, "", pod(nil), nil))
	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("%v: %s", err, logs.String())
	}
	if _, ok := entry["duration"]; ok {
		t.Errorf("duration in nanoseconds: %s", logs.String())
	}
	if s, ok := entry["durationSeconds"].(float64); !ok || s <= 0 || s > 10 {
		t.Errorf("durationSeconds = %v: %s", entry["durationSeconds"], logs.String())
	}
}
