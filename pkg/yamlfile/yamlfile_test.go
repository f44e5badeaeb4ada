package yamlfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestSplitDocuments(t *testing.T) {
	docs := SplitDocuments([]byte("---\na: 1\n---\n# c\n--- \nb: 2\n...\n"))
	if len(docs) != 3 || docs[0].Line != 2 || docs[1].Data != nil || docs[2].Line != 6 {
		t.Errorf("docs = %+v", docs)
	}
	if docs := SplitDocuments([]byte("a: 1")); len(docs) != 1 || string(docs[0].Data) != "a: 1" {
		t.Errorf("single = %+v", docs)
	}
}

// TestYAMLErrorFileLine: every kind of YAML error names the file line of
// the mistake, for a document that starts at line 10.
func TestYAMLErrorFileLine(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
		strict          bool
	}{
		// The parser counts from 0: the mistake is on the document's 4th line.
		{"parser", "a: 1\nb:\n  c: 1\n d: 2\n", "line 13: did not find expected key", false},
		// The parser gives no line for the first.
		{"parser, first line", "a: b: c\n", "line 10: mapping values are not allowed in this context", false},
		// The scanner counts from 1.
		{"scanner", "a: 1\nb:\n\t- x\n", "line 12: found character that cannot start any token", false},
		{"unclosed flow", "a: 1\nb: [\n", "line 12: did not find expected node content", false},
		{"duplicate key", "a: 1\nb:\n  c: 2\n  c: 3\n", "unmarshal errors:\n  line 13: key \"c\" already set in map", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			convert := yaml.YAMLToJSON
			if tc.strict {
				convert = yaml.YAMLToJSONStrict
			}
			_, err := convert([]byte(tc.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if got := YAMLError(err, 10).Error(); got != tc.want {
				t.Errorf("got %q from %q, want %q", got, err, tc.want)
			}
		})
	}
	if YAMLError(nil, 3) != nil {
		t.Error("nil error")
	}
}

// TestList: files in order, a directory's manifest files (hidden entries
// and other extensions skipped; subdirectories only when recursive), and
// standard input read once, as "<stdin>".
func TestList(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.yaml", "a.json", "notes.txt", ".hidden.yaml", "sub/c.yml", ".git/d.yaml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := func(inputs []File) []string {
		var out []string
		for _, in := range inputs {
			out = append(out, strings.TrimPrefix(in.Name, dir+string(filepath.Separator)))
		}
		return out
	}
	inputs, err := List([]string{dir, "-"}, strings.NewReader("from stdin"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(inputs), []string{"a.json", "b.yaml", Stdin}; !slices.Equal(got, want) {
		t.Errorf("not recursive: got %q, want %q", got, want)
	}
	if data, err := inputs[2].Read(); err != nil || string(data) != "from stdin" {
		t.Errorf("stdin: %q, %v", data, err)
	}
	if data, err := inputs[0].Read(); err != nil || string(data) != "a.json" {
		t.Errorf("file: %q, %v", data, err)
	}
	if !HasSubdirectories(dir) || HasSubdirectories(filepath.Join(dir, "sub")) {
		t.Error("HasSubdirectories")
	}
	inputs, err = List([]string{dir}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(inputs), []string{"a.json", "b.yaml", filepath.Join("sub", "c.yml")}; !slices.Equal(got, want) {
		t.Errorf("recursive: got %q, want %q", got, want)
	}
	if inputs, err := List([]string{"-"}, strings.NewReader(""), false); err != nil || len(inputs) != 1 {
		t.Errorf("empty stdin: %v, %v", inputs, err)
	} else if data, err := inputs[0].Read(); err != nil || len(data) != 0 {
		t.Errorf("empty stdin read: %q, %v", data, err)
	}
	if _, err := List([]string{filepath.Join(dir, "nope")}, nil, false); err == nil || !strings.Contains(err.Error(), "reading "+filepath.Join(dir, "nope")) {
		t.Errorf("missing path: %v", err)
	}
}

// TestPosition: how a position reads in messages.
func TestPosition(t *testing.T) {
	for p, want := range map[Position]string{
		{File: "a.yaml", Document: 2, Line: 7}:          "a.yaml: document 2 (line 7)",
		{File: "a.yaml", Document: 1, Line: 1, Item: 3}: "a.yaml: document 1 (line 1), item 3",
		{File: "a.yaml"}: "a.yaml",
		{}:               "",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v: got %q, want %q", p, got, want)
		}
	}
}

// TestDuplicateFields: repeated keys with their file lines and paths; merge
// keys are not repeats.
func TestDuplicateFields(t *testing.T) {
	doc := "a: 1\nb:\n  c: 1\n  c: 2\nd: [{e: 1, e: 2}]\nbase: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n"
	got := DuplicateFields([]byte(doc), 10)
	want := []DuplicateField{{Path: "b.c", Line: 13, First: 12}, {Path: "d[0].e", Line: 14, First: 14}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if DuplicateFields([]byte("a: [\n"), 1) != nil {
		t.Error("a document that does not parse has no duplicates")
	}
}
