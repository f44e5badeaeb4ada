// Package imagetest makes container images and registries for tests:
// images with no layers whose config runs as a chosen user, served by
// go-containerregistry's in-process registry on 127.0.0.1 (no internet).
package imagetest

import (
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// LinuxAMD64 is the platform tests' images are built for.
func LinuxAMD64() v1.Platform { return v1.Platform{OS: "linux", Architecture: "amd64"} }

// Image is an image without layers whose config has User user and the
// platform's OS and architecture.
func Image(t testing.TB, user string, platform v1.Platform) v1.Image {
	t.Helper()
	cf, err := empty.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.User, cf.OS, cf.Architecture = user, platform.OS, platform.Architecture
	img, err := mutate.ConfigFile(empty.Image, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Registry serves an empty in-memory registry on 127.0.0.1 until the test
// ends and returns its host:port (go-containerregistry speaks plain HTTP
// to loopback addresses).
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push writes img to the registry as ref ("host:port/repo:tag").
func Push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

// RegistryWithUsers serves, on a new Registry, one linux/amd64 image per
// entry of users (repository: image user), tagged "1", and returns the
// registry's host:port.
func RegistryWithUsers(t testing.TB, users map[string]string) string {
	t.Helper()
	host := Registry(t)
	for repo, user := range users {
		Push(t, host+"/"+repo+":1", Image(t, user, LinuxAMD64()))
	}
	return host
}

// Unreachable returns a 127.0.0.1 host:port where nothing listens:
// connections to it are refused.
func Unreachable(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
