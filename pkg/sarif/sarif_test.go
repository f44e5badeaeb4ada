package sarif

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFile is the OASIS SARIF 2.1.0 schema (errata 01), the one
// json.schemastore.org serves, as embedded in github.com/owenrumney/go-sarif
// v3.3.1 (pkg/report/v210/sarif/schema.go).
const schemaFile = "testdata/sarif-schema-2.1.0.json"

// validate fails t unless data is a SARIF 2.1.0 log valid against the
// schema, formats included.
func validate(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := check(t, data); err != nil {
		t.Errorf("%s is not valid SARIF 2.1.0: %v", name, err)
	}
}

func check(t *testing.T, data []byte) error {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(doc)
}

// TestSchemaRefuses: the validation can fail: what an earlier version
// wrote for a bad location (a uri that is not a uri reference) and a log
// without version are refused.
func TestSchemaRefuses(t *testing.T) {
	for _, bad := range []string{
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a b\\c%"}}}]}]}]}`,
		`{"runs": []}`,
	} {
		if check(t, []byte(bad)) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestWriteLocations: every result has a location GitHub code scanning
// accepts: files under the working directory relative to %SRCROOT%, others
// absolute file:// uris, standard input the relative uri "stdin" at the
// document's line, a running pod a logical location; and the log is valid.
func TestWriteLocations(t *testing.T) {
	dir := filepath.FromSlash("/work/repo")
	var out bytes.Buffer
	err := WriteIn(&out, dir, []Rule{{ID: "r", Summary: "s"}}, []Result{
		{RuleID: "r", Level: "error", Message: "relative", File: filepath.FromSlash("k8s/app.yaml"), Line: 3},
		{RuleID: "r", Level: "error", Message: "absolute inside", File: filepath.FromSlash("/work/repo/k8s/my app.yaml"), Line: 1},
		{RuleID: "r", Level: "error", Message: "outside", File: filepath.FromSlash("../other/x.yaml")},
		{RuleID: "r", Level: "error", Message: "stdin", File: Stdin, Line: 12},
		{RuleID: "r", Level: "error", Message: "running pod", Object: "pod/team/web-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "the log", out.Bytes())
	var log struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	want := []string{"%SRCROOT% k8s/app.yaml 3", "%SRCROOT% k8s/my%20app.yaml 1", " file:///work/other/x.yaml 0", " stdin 12", "logical pod/team/web-1"}
	for i, r := range log.Runs[0].Results {
		got := "none"
		if len(r.Locations) == 1 {
			switch l := r.Locations[0]; {
			case l.PhysicalLocation != nil:
				line := 0
				if l.PhysicalLocation.Region != nil {
					line = l.PhysicalLocation.Region.StartLine
				}
				got = strings.Join([]string{l.PhysicalLocation.ArtifactLocation.URIBaseID, l.PhysicalLocation.ArtifactLocation.URI, strconv.Itoa(line)}, " ")
			case len(l.LogicalLocations) == 1:
				got = "logical " + l.LogicalLocations[0].FullyQualifiedName
			}
		}
		if got != want[i] {
			t.Errorf("result %d: location %q, want %q", i, got, want[i])
		}
	}
}

// TestGoldenLogsValid: the SARIF logs the commands' golden tests compare
// with real runs are valid SARIF 2.1.0.
func TestGoldenLogsValid(t *testing.T) {
	files, err := filepath.Glob("../../cmd/psp/testdata/*.sarif")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden SARIF logs: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, f, data)
	}
}
