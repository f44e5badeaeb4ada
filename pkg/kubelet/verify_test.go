package kubelet_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/internal/imagetest"
	"github.com/kube-psp/kube-psp/pkg/imageconfig"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
)

// counting wraps the real reader to count reads per image and the most at once.
type counting struct {
	kubelet.ImageUsers
	mu              sync.Mutex
	reads           map[string]int
	running, widest atomic.Int32
}

func (c *counting) ImageUser(ctx context.Context, image string) (string, error) {
	n := c.running.Add(1)
	defer c.running.Add(-1)
	for w := c.widest.Load(); n > w && !c.widest.CompareAndSwap(w, n); w = c.widest.Load() {
	}
	c.mu.Lock()
	c.reads[image]++
	c.mu.Unlock()
	time.Sleep(10 * time.Millisecond) // let reads overlap, to see the bound
	return c.ImageUsers.ImageUser(ctx, image)
}

func TestVerifyOnARegistry(t *testing.T) {
	host := imagetest.RegistryWithUsers(t, map[string]string{"root": "0", "unset": "", "numeric": "1000", "named": "app", "uidgid": "1000:1000", "rootname": "root"})
	down := imagetest.Unreachable(t)
	img := func(repo string) string { return host + "/" + repo + ":1" }
	yes, no := true, false
	always := corev1.ContainerRestartPolicyAlways
	uid0, uid1000 := int64(0), int64(1000)
	web := &corev1.Pod{Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes},
		InitContainers: []corev1.Container{
			{Name: "init-root", Image: img("root")},
			{Name: "sidecar-unset", Image: img("unset"), RestartPolicy: &always},
		},
		Containers: []corev1.Container{
			{Name: "numeric", Image: img("numeric")},
			{Name: "named", Image: img("named")},
			{Name: "uidgid", Image: img("uidgid")},
			{Name: "rootname", Image: img("rootname")},
			{Name: "runs-as-0", Image: img("numeric"), SecurityContext: &corev1.SecurityContext{RunAsUser: &uid0}},
			{Name: "runs-as-1000", Image: img("root"), SecurityContext: &corev1.SecurityContext{RunAsUser: &uid1000}},
			{Name: "may-be-root", Image: img("root"), SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &no}},
		},
	}}
	// A second pod: one image on a registry that does not answer, and one
	// image the first pod also uses.
	api := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "lost", Image: down + "/app:1", SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &yes}},
		{Name: "unset", Image: img("unset"), SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &yes}},
	}}}
	windows := api.DeepCopy()
	windows.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
	reader := &counting{ImageUsers: imageconfig.Reader{Sources: []imageconfig.Source{imageconfig.Registry{Platform: imagetest.LinuxAMD64()}}}, reads: map[string]int{}}

	got := kubelet.Verify(context.Background(), []*corev1.Pod{web, nil, api, windows}, reader, kubelet.Options{Timeout: 5 * time.Second, Parallel: 2})

	type verdict struct{ field, name, user, message, err string }
	want := [][]verdict{
		{
			{"spec.initContainers[0]", "init-root", "0", "container has runAsNonRoot and image will run as root", ""},
			{"spec.initContainers[1]", "sidecar-unset", "", "container has runAsNonRoot and image will run as root", ""},
			{"spec.containers[0]", "numeric", "1000", "", ""},
			{"spec.containers[1]", "named", "app", "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root", ""},
			{"spec.containers[2]", "uidgid", "1000:1000", "", ""},
			{"spec.containers[3]", "rootname", "root", "container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root", ""},
			{"spec.containers[4]", "runs-as-0", "-", "container's runAsUser breaks non-root policy", ""},
			{"spec.containers[5]", "runs-as-1000", "-", "", ""},
		},
		nil,
		{
			{"spec.containers[0]", "lost", "-", "", `image "` + down + `/app:1" from registry: `},
			{"spec.containers[0]", "unset", "", "container has runAsNonRoot and image will run as root", ""},
		},
		nil,
	}
	want[2][1].field = "spec.containers[1]"
	if len(got) != len(want) {
		t.Fatalf("got %d pods' verdicts, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("pod %d: got %d verdicts %+v, want %d", i, len(got[i]), got[i], len(want[i]))
			continue
		}
		for j, w := range want[i] {
			g := got[i][j]
			user := "-"
			if g.ImageUser != nil {
				user = *g.ImageUser
			}
			if g.Field != w.field || g.Name != w.name || user != w.user || g.Message != w.message || g.Refused != (w.message != "") ||
				(w.err == "") != (g.Error == "") || !strings.Contains(g.Error, w.err) {
				t.Errorf("pod %d, %s: got %+v (image user %q), want %+v", i, g.Name, g, user, w)
			}
		}
	}
	for image, n := range reader.reads {
		if n != 1 {
			t.Errorf("image %s read %d times, want once", image, n)
		}
	}
	if len(reader.reads) != 7 {
		t.Errorf("read %d images, want the 7 that a verdict needs: %v", len(reader.reads), reader.reads)
	}
	if w := reader.widest.Load(); w > 2 || w < 2 {
		t.Errorf("%d reads at once, want 2 (Parallel)", w)
	}
}

// A registry that never answers costs one timeout; the other images are read.
func TestVerifyTimeout(t *testing.T) {
	host := imagetest.RegistryWithUsers(t, map[string]string{"numeric": "1000"})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	slow := strings.TrimPrefix(hang.URL, "http://") + "/app:1"
	yes := true
	pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes}, Containers: []corev1.Container{
		{Name: "slow", Image: slow}, {Name: "fine", Image: host + "/numeric:1"},
	}}}
	reader := imageconfig.Reader{Sources: []imageconfig.Source{imageconfig.Registry{Platform: imagetest.LinuxAMD64()}}}
	start := time.Now()
	got := kubelet.Verify(context.Background(), []*corev1.Pod{pod}, reader, kubelet.Options{Timeout: 300 * time.Millisecond, Parallel: 4})[0]
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s with a 300ms timeout", d)
	}
	if !strings.Contains(got[0].Error, slow) || !strings.Contains(got[0].Error, "gave up after 300ms") || got[0].Refused {
		t.Errorf("slow image: got %+v, want an error naming it and the timeout", got[0])
	}
	if got[1].Error != "" || got[1].Refused || got[1].ImageUser == nil || *got[1].ImageUser != "1000" {
		t.Errorf("the other image: got %+v, want read and started", got[1])
	}
}
