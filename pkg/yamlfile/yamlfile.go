// Package yamlfile is kube-psp's one file layer: it lists the manifest files
// of paths (directories walked, -R, "-" for standard input), splits YAML
// streams into documents, decodes documents as the apiserver does, and names
// positions in files (file, document, line, List item) for messages.
//
// It knows nothing of PodSecurityPolicies, RBAC or workloads: pkg/loader
// (policies and RBAC) and pkg/manifest (Pods and workloads) read through it,
// so that both name a document the same way and read directories alike.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Position is where in a file an object was read.
type Position struct {
	File string `json:"file"`
	// Document is the 1-based index of the YAML document in the file.
	Document int `json:"document"`
	// Line is the 1-based line where the document starts.
	Line int `json:"line"`
	// Item is the 1-based index in a List kind, 0 when not in a list.
	Item int `json:"item,omitempty"`
}

// String is "FILE: document N (line L)", with ", item I" in a List; a
// Position without a document is just its file ("" for the zero Position).
func (p Position) String() string {
	if p.Document == 0 {
		return p.File
	}
	loc := fmt.Sprintf("%s: document %d (line %d)", p.File, p.Document, p.Line)
	if p.Item > 0 {
		loc += fmt.Sprintf(", item %d", p.Item)
	}
	return loc
}

// Stdin is the name standard input ("-" among the paths) has in messages.
const Stdin = "<stdin>"

// File is one file to read, or standard input.
type File struct {
	// Name is the file's path, or Stdin.
	Name string
	// data is standard input, read when listed (it can be read only once);
	// nil for a file.
	data []byte
}

// Read returns the input's contents; an error names the file.
func (in File) Read() ([]byte, error) {
	if in.data != nil {
		return in.data, nil
	}
	data, err := os.ReadFile(in.Name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", in.Name, err)
	}
	return data, nil
}

// List returns the inputs of paths, in order: a file given directly, the
// manifest files of a directory (ListFiles; subdirectories only when
// recursive), and for "-" standard input, read now. An error is a path
// that cannot be read, named.
func List(paths []string, stdin io.Reader, recursive bool) ([]File, error) {
	var inputs []File
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
			if data == nil {
				data = []byte{}
			}
			inputs = append(inputs, File{Name: Stdin, data: data})
			continue
		}
		files, err := ListFiles(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			inputs = append(inputs, File{Name: f})
		}
	}
	return inputs, nil
}

// IsManifestFile reports whether a file name has a manifest extension.
func IsManifestFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// ListFiles returns the manifest files (.yaml, .yml, .json) of a path,
// sorted. A file given directly is returned whatever its extension. In a
// directory, hidden entries are skipped, subdirectories are walked only when
// recursive, and symlinked files are followed (ConfigMap volumes link each
// key into ..data).
func ListFiles(root string, recursive bool) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	if !info.IsDir() {
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if p == root {
			return nil
		}
		if d.IsDir() {
			if !recursive || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !IsManifestFile(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			if !st.Mode().IsRegular() {
				return nil
			}
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// HasSubdirectories reports whether a directory has a subdirectory that a
// recursive ListFiles would walk (hidden ones are skipped); false for a
// file or a path that cannot be read.
func HasSubdirectories(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			return true
		}
	}
	return false
}

// Document is one YAML document of a file and the line it starts at.
type Document struct {
	Data []byte
	Line int
}

// SplitDocuments splits a YAML stream at "---" lines. Documents holding only
// comments or white space are kept (so indexes match what a reader counts)
// but have no data.
func SplitDocuments(data []byte) []Document {
	var docs []Document
	start, startLine, line := 0, 1, 1
	for pos := 0; pos <= len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		lineEnd := len(data)
		if end >= 0 {
			lineEnd = pos + end
		}
		text := strings.TrimRight(string(data[pos:lineEnd]), " \t\r")
		if text == "---" || strings.HasPrefix(text, "--- ") {
			if pos > start || len(docs) > 0 {
				docs = append(docs, Document{Data: blankToNil(data[start:pos]), Line: startLine})
			}
			start, startLine = lineEnd+1, line+1
		}
		if end < 0 {
			break
		}
		pos = lineEnd + 1
		line++
	}
	if start < len(data) {
		docs = append(docs, Document{Data: blankToNil(data[start:]), Line: startLine})
	}
	return docs
}

func blankToNil(b []byte) []byte {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return b
		}
	}
	return nil
}

// DecodeYAML unmarshals one YAML or JSON object into out, case-sensitively
// as the apiserver does. Problems that do not stop decoding (unknown or
// duplicate fields) come back as strictErrs, named with their full path
// (e.g. `unknown field "spec.runAsUsr"`); err is a malformed document or a
// value of the wrong type, named with its field.
func DecodeYAML(data []byte, out any) (strictErrs []error, err error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return DecodeJSON(js, out)
}

// DecodeJSON unmarshals one JSON object into out, case-sensitively as the
// apiserver does. Unknown or duplicate fields come back as strictErrs,
// named with their full path (e.g. `unknown field "spec.runAsUsr"`); err is
// a malformed document or a value of the wrong type, named with its field.
func DecodeJSON(js []byte, out any) (strictErrs []error, err error) {
	strictErrs, err = kjson.UnmarshalStrict(js, out)
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return strictErrs, nil
}
