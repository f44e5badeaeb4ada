package version

import (
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-29T22:18:43Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
		text string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: vcs[:2]},
			Info{Version: "v1.2.3", GoVersion: "go1.26.0", Platform: "linux/arm64"},
			"v1.2.3 (commit unknown; go1.26.0 linux/arm64)"},
		{"dirty checkout", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261129221843-0123456789ab+dirty"}, Settings: vcs},
			Info{Version: "v0.0.0-20261129221843-0123456789ab+dirty", GitCommit: vcs[3].Value, GitTreeState: "dirty", CommitDate: "2026-11-29T22:18:43Z", GoVersion: "go1.26.0", Platform: "linux/arm64"},
			"v0.0.0-20261129221843-0123456789ab+dirty (commit 0123456789ab, dirty, 2026-11-29T22:18:43Z; go1.26.0 linux/arm64)"},
		{"go run", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			Info{Version: "devel", GoVersion: "go1.26.0"},
			"devel (commit unknown; go1.26.0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromBuildInfo(&tc.bi)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.text {
				t.Errorf("text %q, want %q", got.String(), tc.text)
			}
		})
	}
}

func TestGetDescribesThisBinary(t *testing.T) {
	got := Get()
	if got.GoVersion != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH || got.Version == "" {
		t.Errorf("Get() = %+v", got)
	}
}

func TestWrite(t *testing.T) {
	info := Info{Version: "v1.2.3", GitCommit: "abc", GoVersion: "go1.26", Platform: "linux/amd64"}
	for format, want := range map[string]string{
		"text": "kube-psp " + info.String() + "\n",
		"json": "{\n  \"version\": \"v1.2.3\",",
		"yaml": "version: v1.2.3\n",
	} {
		var b strings.Builder
		if err := Write(&b, info, format); err != nil || !strings.Contains(b.String(), want) {
			t.Errorf("%s: got %q, %v; want %q in it", format, b.String(), err, want)
		}
	}
	if err := Write(io.Discard, info, "xml"); err == nil || err.Error() != `--output must be text, json or yaml, not "xml"` {
		t.Errorf("unknown format: %v", err)
	}
}
