// Package version says which build of kube-psp is running: the module
// version and the VCS commit the Go toolchain stamped into the binary
// (runtime/debug.ReadBuildInfo), never a value set by hand at release time.
package version

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"sigs.k8s.io/yaml"
)

// Info is one binary's build, with the field names of `kubectl version -o
// json`'s clientVersion where they mean the same.
type Info struct {
	// Version is the module version (v1.2.3, or a pseudo-version
	// v0.0.0-20261129221843-0123456789ab for a commit without a tag), or
	// "devel" when the toolchain recorded none ("(devel)": built by
	// `go run`, or with -buildvcs=false).
	Version string `json:"version"`
	// GitCommit is the full commit hash, "" when unknown.
	GitCommit string `json:"gitCommit,omitempty"`
	// GitTreeState is "clean" or "dirty" (uncommitted changes), "" when unknown.
	GitTreeState string `json:"gitTreeState,omitempty"`
	// CommitDate is the commit's time, RFC 3339, "" when unknown.
	CommitDate string `json:"commitDate,omitempty"`
	// GoVersion is the toolchain that built the binary (go1.26.0).
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH of the binary.
	Platform string `json:"platform"`
}

// Get reads the running binary's build information.
func Get() Info {
	info := Info{Version: "devel", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info = FromBuildInfo(bi)
	}
	if info.Platform == "" {
		info.Platform = runtime.GOOS + "/" + runtime.GOARCH
	}
	return info
}

// FromBuildInfo takes the version from bi.Main and the commit, its date,
// the tree state and the platform from the settings the go command records
// (vcs.revision, vcs.time, vcs.modified, GOOS, GOARCH; see
// runtime/debug.BuildSetting). Platform is "" when GOOS or GOARCH is absent.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" || info.Version == "(devel)" {
		info.Version = "devel"
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.GitCommit = s.Value
		case "vcs.time":
			info.CommitDate = s.Value
		case "vcs.modified":
			info.GitTreeState = map[string]string{"true": "dirty", "false": "clean"}[s.Value]
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		info.Platform = goos + "/" + goarch
	}
	return info
}

// String is the one-line text form:
// "v1.2.3 (commit 0123456789ab, dirty, 2026-11-29T22:18:43Z; go1.26.0 linux/amd64)".
func (i Info) String() string {
	var build []string
	if i.GitCommit != "" {
		c := i.GitCommit
		if len(c) > 12 {
			c = c[:12]
		}
		build = append(build, "commit "+c)
	} else {
		build = append(build, "commit unknown")
	}
	if i.GitTreeState == "dirty" {
		build = append(build, "dirty")
	}
	if i.CommitDate != "" {
		build = append(build, i.CommitDate)
	}
	return fmt.Sprintf("%s (%s; %s)", i.Version, strings.Join(build, ", "), strings.TrimSpace(i.GoVersion+" "+i.Platform))
}

// Formats returns the formats Write writes.
func Formats() []string { return []string{"text", "json", "yaml"} }

// Write writes info in format: text ("kube-psp VERSION ..." and a
// newline), json (indented) or yaml. An unknown format is an error naming
// --output and the formats.
func Write(w io.Writer, info Info, format string) error {
	switch format {
	case "text":
		_, err := fmt.Fprintf(w, "kube-psp %s\n", info)
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return fmt.Errorf("writing the version as YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("--output must be text, json or yaml, not %q", format)
}
