// Package kubelet predicts one refusal that happens after admission: a
// Kubernetes v1.37 kubelet on a Linux node refuses to start a container
// whose effective securityContext says runAsNonRoot but which would run as
// root, or as an image user it cannot verify (the container stays in
// CreateContainerConfigError). The pod is admitted; its workload never runs.
//
// It follows k8s.io/kubernetes v1.37 pkg/kubelet/kuberuntime:
// security_context_others.go (verifyRunAsNonRoot), helpers.go
// (getImageUser) and kuberuntime_container.go (generateContainerConfig, which
// runs the check for init, sidecar and regular containers alike), and the
// container runtimes' reading of the image config's User (containerd's and
// CRI-O's getUserFromImage, identical).
//
// The package only decides; reading image configs is behind the ImageUsers
// interface (pkg/imageconfig reads registries, OCI layouts and docker-archive
// tarballs). It does not model Windows nodes, whose kubelet applies other
// rules (security_context_windows.go): pods with spec.os.name windows are
// not judged.
package kubelet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
)

// ImageUsers reads the user an image runs as: the User field of the image's
// config ("", "1000", "1000:1000", "app", "app:app"), for the platform of
// the nodes. image is a container's image field as written in the pod.
type ImageUsers interface {
	ImageUser(ctx context.Context, image string) (string, error)
}

// Container is the kubelet's verdict on one container whose effective
// securityContext has runAsNonRoot: true (no other container is checked):
// the report schema's type (v1alpha1.ContainerVerdict, which documents its fields):
// its path in the pod (spec.containers[0]), name, image, the image's user
// when needed and read, and either Refused with the kubelet's Message
// (without the "(pod: ..., container: ...)" suffix whose pod name and UID
// exist only in the cluster) or the Error that kept the image unread.
type Container v1alpha1.ContainerVerdict

// Options tune Verify.
type Options struct {
	// Timeout bounds reading one image; 0 leaves only ctx's deadline.
	Timeout time.Duration
	// Parallel is how many images are read at once; below 1 means 1.
	Parallel int
}

// Verify judges every container with an effective runAsNonRoot: true of
// every pod, in the pod's order: init containers (sidecars included), then
// regular containers. Ephemeral containers are not judged: they cannot be
// set when a pod is created. A nil pod (one that was not admitted) gets no
// verdicts. Each distinct image that a verdict needs is read once, at most
// opts.Parallel at a time; a read error is reported on every container of
// that image (Container.Error) and affects nothing else. The result at
// index i belongs to pods[i].
//
// Every container is judged, also those after a refused init container,
// which the kubelet would not reach until the first refusal is fixed.
func Verify(ctx context.Context, pods []*corev1.Pod, users ImageUsers, opts Options) [][]Container {
	type pending struct {
		pod, container int
		c              *corev1.Container
	}
	out := make([][]Container, len(pods))
	var needUser []pending
	images := map[string]imageUser{}
	for i, pod := range pods {
		if pod == nil || (pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows) {
			continue
		}
		judge := func(field string, cs []corev1.Container) {
			for j := range cs {
				c := &cs[j]
				nonRoot, runAsUser := effective(pod, c)
				if !nonRoot {
					continue
				}
				v := Container{Field: fmt.Sprintf("spec.%s[%d]", field, j), Name: c.Name, Image: c.Image}
				if runAsUser != nil {
					// The image user does not matter: the kubelet looks only at runAsUser.
					if *runAsUser == 0 {
						v.Refused, v.Message = true, "container's runAsUser breaks non-root policy"
					}
				} else {
					needUser = append(needUser, pending{pod: i, container: len(out[i]), c: c})
					images[c.Image] = imageUser{}
				}
				out[i] = append(out[i], v)
			}
		}
		judge("initContainers", pod.Spec.InitContainers)
		judge("containers", pod.Spec.Containers)
	}
	readAll(ctx, images, users, opts)
	for _, p := range needUser {
		v := &out[p.pod][p.container]
		got := images[p.c.Image]
		if got.err != nil {
			v.Error = got.err.Error()
			continue
		}
		user := got.user
		v.ImageUser = &user
		if err := verifyImageUser(user); err != nil {
			v.Refused, v.Message = true, err.Error()
		}
	}
	return out
}

// imageUser is what reading one image gave.
type imageUser struct {
	user string
	err  error
}

// readAll fills images (keyed by image reference) with each image's user.
func readAll(ctx context.Context, images map[string]imageUser, users ImageUsers, opts Options) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(opts.Parallel, 1))
	// The keys first: the goroutines write to the map while this loop runs.
	for _, image := range slices.Sorted(maps.Keys(images)) {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			user, err := readOne(ctx, users, image, opts.Timeout)
			mu.Lock()
			images[image] = imageUser{user: user, err: err}
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// readOne reads one image's user within timeout (0: ctx's deadline only).
func readOne(ctx context.Context, users ImageUsers, image string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		return users.ImageUser(ctx, image)
	}
	readCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	user, err := users.ImageUser(readCtx, image)
	if err != nil && errors.Is(readCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("%w (gave up after %s)", err, timeout)
	}
	return user, err
}

// effective is the container's runAsNonRoot and runAsUser after the pod's
// securityContext: each container field, when set, overrides the pod's
// (v1.37 pkg/securitycontext/util.go, DetermineEffectiveSecurityContext).
func effective(pod *corev1.Pod, c *corev1.Container) (nonRoot bool, runAsUser *int64) {
	var nonRootPtr *bool
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRootPtr, runAsUser = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRootPtr = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			runAsUser = sc.RunAsUser
		}
	}
	return nonRootPtr != nil && *nonRootPtr, runAsUser
}

// ParseImageUser is how the kubelet sees an image config's User: the
// runtime keeps the part before ":" (the group is ignored) and reports it
// as a uid when strconv.ParseInt reads it, else as a user name
// (containerd's and CRI-O's getUserFromImage); the kubelet then treats an
// image with neither as uid 0 (v1.37 kuberuntime/helpers.go, getImageUser).
// So "" , ":1000", "0" and "0:0" are uid 0, "1000:1000" is uid 1000, and
// "root" or "app:app" is a name.
func ParseImageUser(user string) (uid *int64, name string) {
	user, _, _ = strings.Cut(user, ":")
	if user == "" {
		return new(int64), ""
	}
	n, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		return nil, user
	}
	return &n, ""
}

// verifyImageUser is the part of verifyRunAsNonRoot (v1.37
// kuberuntime/security_context_others.go) that runs when runAsNonRoot is
// true and runAsUser is unset, with its messages.
func verifyImageUser(user string) error {
	uid, name := ParseImageUser(user)
	switch {
	case uid == nil:
		return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root", name)
	case *uid == 0:
		return fmt.Errorf("container has runAsNonRoot and image will run as root")
	}
	if errs := validation.IsValidUserID(*uid); len(errs) > 0 {
		return fmt.Errorf("container has runAsNonRoot and image has an invalid user id (%d). (Must be 1-(%d)): %s", *uid, math.MaxInt32, strings.Join(errs, "; "))
	}
	return nil
}
