// Package sarif writes SARIF 2.1.0 logs, the format code-scanning UIs
// (GitHub, GitLab, Azure DevOps) read.
package sarif

import (
	"encoding/json"
	"io"
)

// Rule describes one kind of result.
type Rule struct {
	ID      string
	Summary string
}

// Result is one finding at one place.
type Result struct {
	RuleID string
	// Level is "error", "warning" or "note".
	Level   string
	Message string
	// File and Line locate the finding; Line 0 when unknown.
	File string
	Line int
}

type log struct {
	Version string `json:"version"`
	Schema  string `json:"$schema"`
	Runs    []run  `json:"runs"`
}

type run struct {
	Tool    tool     `json:"tool"`
	Results []result `json:"results"`
}

type tool struct {
	Driver driver `json:"driver"`
}

type driver struct {
	Name           string     `json:"name"`
	InformationURI string     `json:"informationUri"`
	Rules          []ruleJSON `json:"rules"`
}

type ruleJSON struct {
	ID               string `json:"id"`
	ShortDescription text   `json:"shortDescription"`
}

type text struct {
	Text string `json:"text"`
}

type result struct {
	RuleID    string     `json:"ruleId"`
	Level     string     `json:"level"`
	Message   text       `json:"message"`
	Locations []location `json:"locations,omitempty"`
}

type location struct {
	PhysicalLocation physical `json:"physicalLocation"`
}

type physical struct {
	ArtifactLocation artifact `json:"artifactLocation"`
	Region           *region  `json:"region,omitempty"`
}

type artifact struct {
	URI string `json:"uri"`
}

type region struct {
	StartLine int `json:"startLine"`
}

// Write writes one run of tool kube-psp with its rules and results.
func Write(w io.Writer, rules []Rule, results []Result) error {
	r := run{Tool: tool{Driver: driver{Name: "kube-psp", InformationURI: "https://github.com/kube-psp/kube-psp", Rules: []ruleJSON{}}}, Results: []result{}}
	for _, rule := range rules {
		r.Tool.Driver.Rules = append(r.Tool.Driver.Rules, ruleJSON{ID: rule.ID, ShortDescription: text{rule.Summary}})
	}
	for _, res := range results {
		out := result{RuleID: res.RuleID, Level: res.Level, Message: text{res.Message}}
		if res.File != "" && res.File != "<stdin>" && res.File[0] != ' ' {
			loc := location{PhysicalLocation: physical{ArtifactLocation: artifact{URI: res.File}}}
			if res.Line > 0 {
				loc.PhysicalLocation.Region = &region{StartLine: res.Line}
			}
			out.Locations = []location{loc}
		}
		r.Results = append(r.Results, out)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log{Version: "2.1.0", Schema: "https://json.schemastore.org/sarif-2.1.0.json", Runs: []run{r}})
}
