// Package sarif writes SARIF 2.1.0 logs, the format code-scanning UIs
// (GitHub, GitLab, Azure DevOps) read. Every result that has a place has a
// location, as GitHub code scanning requires: a file under the working
// directory as a relative uri with uriBaseId %SRCROOT% (GitHub resolves it
// against the repository root), any other file as an absolute file:// uri,
// standard input as the relative uri "stdin" with the document's line, and
// what is not in a file (a running pod) as a logical location.
package sarif

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/kube-psp/kube-psp/pkg/report"
)

// Stdin is the file name the readers give standard input.
const Stdin = "<stdin>"

// SrcRoot is the uriBaseId of files under the working directory.
const SrcRoot = "%SRCROOT%"

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
	// File and Line locate the finding; Line 0 when unknown. File is a
	// path, or Stdin.
	File string
	Line int
	// Object names what the finding is about when it is not in a file (a
	// running pod, "pod/NS/NAME"): it is then written as a logical
	// location, and File is not used.
	Object string
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
	PhysicalLocation *physical `json:"physicalLocation,omitempty"`
	LogicalLocations []logical `json:"logicalLocations,omitempty"`
}

type logical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type physical struct {
	ArtifactLocation artifact `json:"artifactLocation"`
	Region           *region  `json:"region,omitempty"`
}

type artifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type region struct {
	StartLine int `json:"startLine"`
}

// Write writes one run of tool kube-psp with its rules and results, file
// locations relative to the working directory.
func Write(w io.Writer, rules []Rule, results []Result) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	return WriteIn(w, dir, rules, results)
}

// WriteIn is Write with file locations relative to dir, an absolute path.
func WriteIn(w io.Writer, dir string, rules []Rule, results []Result) error {
	s := NewWriter(w, dir)
	for _, r := range results {
		if err := s.Result(r); err != nil {
			return err
		}
	}
	return s.Close(rules)
}

// Writer writes one run as its results come, each as soon as it is given,
// and the rules, which only the results seen decide, after them (JSON's
// key order is free: "results" comes before "tool"), so that a log of
// many results is never held in memory. The log is indented by two
// spaces, with <, > and & unescaped.
type Writer struct {
	w       io.Writer
	dir     string
	results int
	err     error
}

// NewWriter returns a Writer of one run with file locations relative to
// dir, an absolute path; it writes nothing until the first Result or Close.
func NewWriter(w io.Writer, dir string) *Writer {
	return &Writer{w: w, dir: dir}
}

// header is the log up to the first result of the run's results.
const header = `{
  "version": "2.1.0",
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "runs": [
    {
      "results": [`

// Result writes one result. After an error every call returns it.
func (s *Writer) Result(res Result) error {
	if s.err != nil {
		return s.err
	}
	var b bytes.Buffer
	if s.results == 0 {
		b.WriteString(header)
	} else {
		b.WriteByte(',')
	}
	b.WriteString("\n        ")
	if err := report.EncodeJSON(&b, s.result(res), "        "); err != nil {
		s.err = err
		return err
	}
	s.results++
	return s.write(b.Bytes())
}

// Close writes the rules and ends the log.
func (s *Writer) Close(rules []Rule) error {
	if s.err != nil {
		return s.err
	}
	var b bytes.Buffer
	if s.results == 0 {
		b.WriteString(header + "],")
	} else {
		b.WriteString("\n      ],")
	}
	t := tool{Driver: driver{Name: "kube-psp", InformationURI: "https://github.com/kube-psp/kube-psp", Rules: []ruleJSON{}}}
	for _, rule := range rules {
		t.Driver.Rules = append(t.Driver.Rules, ruleJSON{ID: rule.ID, ShortDescription: text{rule.Summary}})
	}
	b.WriteString("\n      \"tool\": ")
	if err := report.EncodeJSON(&b, t, "      "); err != nil {
		s.err = err
		return err
	}
	b.WriteString("\n    }\n  ]\n}\n")
	if err := s.write(b.Bytes()); err != nil {
		return err
	}
	s.err = errors.New("SARIF log already closed")
	return nil
}

func (s *Writer) write(data []byte) error {
	if _, err := s.w.Write(data); err != nil {
		s.err = err
		return err
	}
	return nil
}

// result is res as SARIF writes it.
func (s *Writer) result(res Result) result {
	out := result{RuleID: res.RuleID, Level: res.Level, Message: text{res.Message}}
	switch {
	case res.Object != "":
		out.Locations = []location{{LogicalLocations: []logical{{FullyQualifiedName: res.Object, Kind: "resource"}}}}
	case res.File != "":
		loc := &physical{ArtifactLocation: fileArtifact(s.dir, res.File)}
		if res.Line > 0 {
			loc.Region = &region{StartLine: res.Line}
		}
		out.Locations = []location{{PhysicalLocation: loc}}
	}
	return out
}

// fileArtifact is the artifactLocation of a file: relative to %SRCROOT%
// under dir, an absolute file:// uri elsewhere, "stdin" for Stdin.
func fileArtifact(dir, file string) artifact {
	if file == Stdin {
		return artifact{URI: "stdin"}
	}
	abs := file
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(dir, file)
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return artifact{URI: (&url.URL{Path: filepath.ToSlash(rel)}).String(), URIBaseID: SrcRoot}
	}
	return artifact{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}
}
