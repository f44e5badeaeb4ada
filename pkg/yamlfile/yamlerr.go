package yamlfile

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

var yamlLineRE = regexp.MustCompile(`^line (\d+): `)

// parserProblems are the messages of go.yaml.in/yaml/v2's parser, as opposed
// to its scanner. The parser's errors give the line counted from 0 (and
// none on the first line), the scanner's from 1 (parserc.go, decode.go
// fail); the decoder's ("key already set") from 1.
var parserProblems = []string{
	"did not find expected ",
	"found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// YAMLError rewrites an error of sigs.k8s.io/yaml about one document for a
// reader of the whole file: it names the file line (firstLine is the line
// the document starts at), where the parser counts from the document's
// start, from 0 or 1 depending on the error, and omits the first line. The
// converter's "error converting YAML to JSON: yaml: " prefix goes.
// Errors of several lines ("unmarshal errors:\n  line 3: ...") have each
// line rewritten. It returns nil for a nil err.
func YAMLError(err error, firstLine int) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
		l = l[len(indent):]
		if i == 0 && strings.HasPrefix(l, "unmarshal errors:") {
			continue
		}
		line, rest := 1, l
		if m := yamlLineRE.FindStringSubmatch(l); m != nil {
			line, _ = strconv.Atoi(m[1])
			rest = l[len(m[0]):]
			if isParserProblem(rest) {
				line++
			}
		}
		lines[i] = indent + "line " + strconv.Itoa(line+firstLine-1) + ": " + rest
	}
	return errors.New(strings.Join(lines, "\n"))
}

func isParserProblem(msg string) bool {
	for _, p := range parserProblems {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
