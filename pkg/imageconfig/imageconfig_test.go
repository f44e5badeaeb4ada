package imageconfig

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/kube-psp/kube-psp/internal/imagetest"
)

var linuxAMD64 = imagetest.LinuxAMD64()

func TestRegistryReadsUserAndPlatform(t *testing.T) {
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/app:1", imagetest.Image(t, "1000:1000", linuxAMD64))
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: imagetest.Image(t, "root", linuxAMD64), Descriptor: v1.Descriptor{Platform: &linuxAMD64}},
		mutate.IndexAddendum{Add: imagetest.Image(t, "65532", arm), Descriptor: v1.Descriptor{Platform: &arm}})
	r, _ := name.ParseReference(host + "/multi:1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		image    string
		platform v1.Platform
		want     string
	}{
		{host + "/app:1", linuxAMD64, "1000:1000"},
		{host + "/multi:1", linuxAMD64, "root"},
		{host + "/multi:1", arm, "65532"},
	} {
		got, err := Reader{Sources: []Source{Registry{Keychain: authn.DefaultKeychain, Platform: tc.platform}}}.ImageUser(ctx, tc.image)
		if err != nil || got != tc.want {
			t.Errorf("%s on %s: got %q, %v; want %q", tc.image, tc.platform, got, err, tc.want)
		}
	}
	// A digest reference reads the same image.
	img := imagetest.Image(t, "1000:1000", linuxAMD64)
	digest, _ := img.Digest()
	if got, err := (Reader{Sources: []Source{Registry{Platform: linuxAMD64}}}).ImageUser(ctx, host+"/app@"+digest.String()); err != nil || got != "1000:1000" {
		t.Errorf("by digest: got %q, %v", got, err)
	}
}

func TestRegistryMissingImageIsNotFound(t *testing.T) {
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/app:1", imagetest.Image(t, "1000", linuxAMD64))
	for _, image := range []string{host + "/app:2", host + "/nothing:1"} {
		ref, _ := name.ParseReference(image)
		_, err := Registry{Platform: linuxAMD64}.Config(context.Background(), ref)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", image, err)
		}
	}
}

func TestRegistryUnreachableFailsWithinTimeout(t *testing.T) {
	addr := imagetest.Unreachable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Reader{Sources: []Source{Registry{Platform: linuxAMD64}}}.ImageUser(ctx, addr+"/app:1")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `image "`+addr+`/app:1" from registry`) {
		t.Fatalf("got %v, want an error naming the image and the source, not 'not found'", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s, beyond the 2s deadline", d)
	}
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	add := func(img v1.Image, annotations map[string]string) {
		if err := p.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
			t.Fatal(err)
		}
	}
	add(imagetest.Image(t, "", linuxAMD64), map[string]string{annotationImageName: "docker.io/library/nginx:1.27"}) // as docker save writes
	add(imagetest.Image(t, "101", linuxAMD64), map[string]string{annotationRefName: "registry.example/app:2"})      // skopeo oci:DIR:REF, crane --annotate-ref
	add(imagetest.Image(t, "app", linuxAMD64), map[string]string{annotationRefName: "3"})                           // a bare tag
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: imagetest.Image(t, "0", linuxAMD64), Descriptor: v1.Descriptor{Platform: &linuxAMD64}},
		mutate.IndexAddendum{Add: imagetest.Image(t, "2000", arm), Descriptor: v1.Descriptor{Platform: &arm}})
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{annotationRefName: "registry.example/multi:1"})); err != nil {
		t.Fatal(err)
	}
	nested := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: imagetest.Image(t, "3000", linuxAMD64), Descriptor: v1.Descriptor{Platform: &linuxAMD64}})})
	if err := p.AppendIndex(nested, layout.WithAnnotations(map[string]string{annotationImageName: "registry.example/nested:1"})); err != nil {
		t.Fatal(err)
	}
	byDigest := imagetest.Image(t, "101", linuxAMD64)
	digest, _ := byDigest.Digest()

	src, err := ParseSource("oci:"+dir, linuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	armSrc, _ := ParseSource("oci:"+dir, arm)
	ctx := context.Background()
	for _, tc := range []struct {
		src   Source
		image string
		want  string
	}{
		{src, "nginx:1.27", ""},
		{src, "docker.io/library/nginx:1.27", ""},
		{src, "index.docker.io/library/nginx:1.27", ""},
		{src, "registry.example/app:2", "101"},
		{src, "registry.example/app@" + digest.String(), "101"},
		{src, "registry.example/multi:1", "0"},
		{armSrc, "registry.example/multi:1", "2000"},
		{src, "registry.example/nested:1", "3000"},
	} {
		got, err := Reader{Sources: []Source{tc.src}}.ImageUser(ctx, tc.image)
		if err != nil || got != tc.want {
			t.Errorf("%s from %s: got %q, %v; want %q", tc.image, tc.src, got, err, tc.want)
		}
	}
	for image, wantErr := range map[string]string{
		"nginx:1.28": "not found",
		"registry.example/nested:1@sha256:" + strings.Repeat("0", 64): "not found",
		"registry.example/app:3": `an image is named only by its tag "3"`,
	} {
		_, err := Reader{Sources: []Source{src}}.ImageUser(ctx, image)
		if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), image) {
			t.Errorf("%s: got %v, want an error naming the image and saying %q", image, err, wantErr)
		}
	}
}

func TestArchive(t *testing.T) {
	file := filepath.Join(t.TempDir(), "images.tar")
	nginx, _ := name.NewTag("nginx:1.27")
	app, _ := name.NewTag("registry.example/app:2")
	if err := tarball.MultiRefWriteToFile(file, map[name.Reference]v1.Image{
		nginx: imagetest.Image(t, "", linuxAMD64),
		app:   imagetest.Image(t, "app:app", linuxAMD64),
	}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"docker-archive:" + file, "tarball:" + file} {
		src, err := ParseSource(spec, linuxAMD64)
		if err != nil {
			t.Fatal(err)
		}
		r := Reader{Sources: []Source{src}}
		for image, want := range map[string]string{"docker.io/library/nginx:1.27": "", "nginx:1.27": "", "registry.example/app:2": "app:app"} {
			if got, err := r.ImageUser(context.Background(), image); err != nil || got != want {
				t.Errorf("%s from %s: got %q, %v; want %q", image, spec, got, err, want)
			}
		}
		_, err = r.ImageUser(context.Background(), "registry.example/app@sha256:"+strings.Repeat("a", 64))
		if !errors.Is(err, ErrNotFound) && (err == nil || !strings.Contains(err.Error(), "names images by tag")) {
			t.Errorf("digest reference: got %v", err)
		}
	}
}

// A Reader tries its sources in order: the first that holds the image wins,
// and an image in none names every source tried.
func TestReaderTriesSourcesInOrder(t *testing.T) {
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/app:1", imagetest.Image(t, "1000", linuxAMD64))
	file := filepath.Join(t.TempDir(), "images.tar")
	tag, _ := name.NewTag(host + "/app:1")
	other, _ := name.NewTag(host + "/other:1")
	if err := tarball.MultiRefWriteToFile(file, map[name.Reference]v1.Image{tag: imagetest.Image(t, "2000", linuxAMD64), other: imagetest.Image(t, "3000", linuxAMD64)}); err != nil {
		t.Fatal(err)
	}
	archive := Archive{File: file}
	reg := Registry{Platform: linuxAMD64}
	ctx := context.Background()
	if got, _ := (Reader{Sources: []Source{archive, reg}}).ImageUser(ctx, host+"/app:1"); got != "2000" {
		t.Errorf("archive first: got %q, want the archive's 2000", got)
	}
	if got, _ := (Reader{Sources: []Source{reg, archive}}).ImageUser(ctx, host+"/other:1"); got != "3000" {
		t.Errorf("registry first, image only in the archive: got %q, want 3000", got)
	}
	_, err := Reader{Sources: []Source{archive, reg}}.ImageUser(ctx, host+"/missing:1")
	if err == nil || !strings.Contains(err.Error(), "docker-archive:"+file) || !strings.Contains(err.Error(), "registry:") {
		t.Errorf("got %v, want an error naming both sources", err)
	}
}

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "images.tar")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{
		"registry":                 "registry",
		"oci:" + dir:               "oci:" + dir,
		"docker-archive:" + file:   "docker-archive:" + file,
		"tarball:" + file:          "docker-archive:" + file,
		"registry:example.com":     "registry takes no path",
		"oci:":                     "missing the path",
		"oci:" + file:              "is not a directory",
		"docker-archive:" + dir:    "is a directory",
		"oci:" + dir + "/missing":  "no such file or directory",
		"docker://nginx":           "must be registry, oci:DIR or docker-archive:FILE",
		"containers-storage:nginx": "must be registry",
	} {
		src, err := ParseSource(spec, linuxAMD64)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = src.String()
		}
		if !strings.Contains(got, want) {
			t.Errorf("%q: got %q, want %q", spec, got, want)
		}
	}
}
