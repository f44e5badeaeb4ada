package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/kube-psp/kube-psp/internal/imagetest"
)

// deployment is a Deployment in namespace shop with one container per
// image, named after the image's repository, and optional init containers.
func deployment(name string, initImages, images []string) string {
	var b strings.Builder
	b.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  selector: {matchLabels: {app: " + name + "}}\n" +
		"  template:\n    metadata: {labels: {app: " + name + "}}\n    spec:\n")
	write := func(key string, images []string, extra string) {
		if len(images) == 0 {
			return
		}
		b.WriteString("      " + key + ":\n")
		for _, image := range images {
			repo := image[strings.LastIndex(image, "/")+1 : strings.LastIndex(image, ":")]
			b.WriteString("      - {name: " + repo + ", image: \"" + image + "\"" + extra + "}\n")
		}
	}
	write("initContainers", initImages, ", restartPolicy: Always")
	write("containers", images, "")
	return b.String()
}

// TestCheckImagesOnARegistry runs psp check --images on Deployments whose
// images are on an in-process registry on 127.0.0.1, and one on a
// registry that refuses connections; the restricted preset makes every
// container runAsNonRoot.
func TestCheckImagesOnARegistry(t *testing.T) {
	host := imagetest.RegistryWithUsers(t, map[string]string{"root": "0", "unset": "", "numeric": "1000", "named": "app", "uidgid": "1000:1000"})
	down := imagetest.Unreachable(t)
	img := func(repo string) string { return host + "/" + repo + ":1" }
	manifests := deployment("root", []string{img("unset")}, []string{img("root")}) +
		deployment("named", nil, []string{img("named")}) +
		deployment("fine", []string{img("numeric")}, []string{img("uidgid"), img("numeric")}) +
		deployment("lost", nil, []string{down + "/lost:1", img("numeric")})
	hide := strings.NewReplacer(host, "REGISTRY", down, "UNREACHABLE")

	for format, ext := range map[string]string{"text": "txt", "json": "json", "sarif": "sarif"} {
		out, errOut, code := run(t, manifests, "check", "-f", "-", "--images", "-o", format)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr: %s", format, code, errOut)
		}
		golden(t, "check-images-registry."+ext, hide.Replace(out))
		if format != "text" && !strings.Contains(errOut, `error: <stdin>: document 4 (line 40): Deployment shop/lost: container "lost" not verified: image "`+down+`/lost:1" from registry: `) {
			t.Errorf("%s: stderr %q does not name the unread image and its workload", format, errOut)
		}
	}
	// Without --images nothing is read: the output is the same as before.
	out, _, code := run(t, manifests, "check", "-f", "-")
	if code != 0 || strings.Contains(out, "kubelet") {
		t.Errorf("without --images: exit %d, want 0 and no kubelet verdicts\n%s", code, out)
	}
	// An unread image fails the check unless --image-errors warn; a refusal always does.
	lost := deployment("lost", nil, []string{down + "/lost:1", img("numeric")})
	for _, tc := range []struct {
		input string
		args  []string
		code  int
	}{
		{lost, nil, 1},
		{lost, []string{"--image-errors", "warn"}, 0},
		{deployment("fine", nil, []string{img("numeric")}), nil, 0},
		{deployment("root", nil, []string{img("root")}), []string{"--image-errors", "warn"}, 1},
	} {
		_, errOut, code := run(t, tc.input, append([]string{"check", "-f", "-", "--images"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%v on %s: exit %d, want %d; stderr: %s", tc.args, tc.input, code, tc.code, errOut)
		}
	}
}

// TestCheckImagesOffline reads images from an OCI layout (the committed
// examples/images) and from a docker save tarball.
func TestCheckImagesOffline(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	args := []string{"check", "-f", "examples/web-deployment.yaml", "-f", "examples/report-cronjob.yaml", "--images", "--image-source", "oci:examples/images"}
	out, errOut, code := run(t, "", args...)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr: %s", code, errOut)
	}
	t.Chdir(filepath.Join("cmd", "psp"))
	golden(t, "check-images-oci.txt", out)

	file := filepath.Join(t.TempDir(), "images.tar")
	app, _ := name.NewTag("registry.example/app:2")
	if err := tarball.MultiRefWriteToFile(file, map[name.Reference]v1.Image{app: imagetest.Image(t, "65532", imagetest.LinuxAMD64())}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		image  string
		code   int
		output string
	}{
		{"registry.example/app:2", 0, `ADMITTED by policy "restricted"`},
		{"registry.example/app:3", 1, `cannot tell whether the kubelet would start container "app" (runAsNonRoot): image "registry.example/app:3" is in no image source: docker-archive:` + file + `: not found`},
	} {
		out, errOut, code := run(t, deployment("app", nil, []string{tc.image}), "check", "-f", "-", "--images", "--image-source", "docker-archive:"+file)
		if code != tc.code || !strings.Contains(out, tc.output) {
			t.Errorf("%s: exit %d, want %d and %q\n%s%s", tc.image, code, tc.code, tc.output, out, errOut)
		}
	}
}

func TestCheckImagesUsageErrors(t *testing.T) {
	pod := deployment("app", nil, []string{"registry.example/app:1"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--image-source", "registry"}, "--image-source needs --images"},
		{[]string{"--image-timeout", "1s"}, "--image-timeout needs --images"},
		{[]string{"--images", "--image-source", "docker://x"}, `image source "docker://x": must be registry, oci:DIR or docker-archive:FILE`},
		{[]string{"--images", "--image-source", "oci:/nonexistent"}, `image source "oci:/nonexistent": stat /nonexistent: no such file or directory`},
		{[]string{"--images", "--image-errors", "ignore"}, "--image-errors must be fail or warn"},
		{[]string{"--images", "--image-parallel", "0"}, "must be positive"},
		{[]string{"--images", "--image-platform", "linux"}, `platform "linux": want os/arch[/variant], such as linux/amd64`},
		{[]string{"--images", "--image-platform", "a/b/c/d"}, `platform "a/b/c/d": too many slashes`},
	} {
		_, errOut, code := run(t, pod, append([]string{"check", "-f", "-"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
