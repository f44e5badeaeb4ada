package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decode decodes one report written as JSON into the type of its kind:
// *CheckReport for CheckReport, ExplainReport and AuditReport,
// *LintReport, *WhoCanReport, *DiffReport, *VerifyReport or
// *PodSecurityMigration. A key the type does not have, another
// apiVersion, an unknown kind or data after the object is an error: the
// strict reading the schema's own tests use. Consumers that should accept
// fields added later in v1alpha1 decode without DisallowUnknownFields.
func Decode(data []byte) (any, error) {
	var meta TypeMeta
	// Unmarshal also refuses data after the object.
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("not a report object: %w", err)
	}
	if meta.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion %q, want %q", meta.APIVersion, APIVersion)
	}
	var into any
	switch meta.Kind {
	case KindCheckReport, KindExplainReport, KindAuditReport:
		into = &CheckReport{}
	case KindLintReport:
		into = &LintReport{}
	case KindWhoCanReport:
		into = &WhoCanReport{}
	case KindDiffReport:
		into = &DiffReport{}
	case KindVerifyReport:
		into = &VerifyReport{}
	case KindPodSecurityMigration:
		into = &PodSecurityMigration{}
	default:
		return nil, fmt.Errorf("unknown report kind %q", meta.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return nil, fmt.Errorf("%s: %w", meta.Kind, err)
	}
	return into, nil
}
