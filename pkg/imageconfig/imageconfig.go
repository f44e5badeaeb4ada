// Package imageconfig reads container image configs (the JSON that says an
// image's user, entrypoint and environment) from the places CI has them: a
// registry, with the credentials docker and podman use; an OCI image layout
// directory; a `docker save` tarball. It reads configs and manifests only,
// never layers.
//
// Sources are named as the containers/image transports (skopeo, podman)
// name them: "registry", "oci:DIR", "docker-archive:FILE" ("tarball:FILE"
// is the same). A Reader tries its sources in order.
package imageconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrNotFound is wrapped by a Source's error when it does not hold the
// image, so that a Reader tries its next source.
var ErrNotFound = errors.New("not found")

// Source is one place image configs are read from.
type Source interface {
	// Config returns the config of the image ref names, for the source's
	// platform when ref names an index (a multi-platform image). An error
	// wrapping ErrNotFound means the source does not hold the image.
	Config(ctx context.Context, ref name.Reference) (*v1.ConfigFile, error)
	// String names the source as ParseSource reads it.
	String() string
}

// ParseSource reads a source: "registry", "oci:DIR" or
// "docker-archive:FILE" (or its alias "tarball:FILE"). Directories and
// files must exist. platform chooses among the images of a multi-platform
// index (the kubelet pulls its node's platform).
func ParseSource(spec string, platform v1.Platform) (Source, error) {
	kind, path, _ := strings.Cut(spec, ":")
	switch kind {
	case "registry":
		if path != "" {
			return nil, fmt.Errorf("image source %q: registry takes no path (the registry is the one each image names)", spec)
		}
		return Registry{Keychain: authn.DefaultKeychain, Platform: platform}, nil
	case "oci", "docker-archive", "tarball":
		if path == "" {
			return nil, fmt.Errorf("image source %q: missing the path after %q", spec, kind+":")
		}
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("image source %q: %w", spec, err)
		}
		if kind == "oci" {
			if !info.IsDir() {
				return nil, fmt.Errorf("image source %q: %s is not a directory (an OCI image layout is a directory with index.json; for a docker save tarball use docker-archive:%s)", spec, path, path)
			}
			return Layout{Dir: path, Platform: platform}, nil
		}
		if info.IsDir() {
			return nil, fmt.Errorf("image source %q: %s is a directory, not a docker save tarball (for an OCI image layout use oci:%s)", spec, path, path)
		}
		return Archive{File: path}, nil
	}
	return nil, fmt.Errorf("image source %q: must be registry, oci:DIR or docker-archive:FILE", spec)
}

// NewReader returns a Reader of the sources specs (ParseSource), in order,
// or of the registry alone when specs is empty. platform is the nodes'
// platform, "os/arch[/variant]" such as "linux/amd64" or "linux/arm64/v8".
func NewReader(specs []string, platform string) (Reader, error) {
	p, err := v1.ParsePlatform(platform)
	if err == nil && (p.OS == "" || p.Architecture == "") {
		err = errors.New("want os/arch[/variant], such as linux/amd64")
	}
	if err != nil {
		return Reader{}, fmt.Errorf("platform %q: %w", platform, err)
	}
	if len(specs) == 0 {
		specs = []string{"registry"}
	}
	var r Reader
	for _, spec := range specs {
		src, err := ParseSource(spec, *p)
		if err != nil {
			return Reader{}, err
		}
		r.Sources = append(r.Sources, src)
	}
	return r, nil
}

// Reader reads images' users from its sources, trying them in order until
// one holds the image. It satisfies kubelet.ImageUsers.
type Reader struct {
	Sources []Source
}

// ImageUser returns the User of the config of image (a container's image
// field: "nginx", "nginx:1.27", "registry.example/app@sha256:..."). Errors
// name the image and the sources tried.
func (r Reader) ImageUser(ctx context.Context, image string) (string, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return "", fmt.Errorf("image %q: not a valid image reference: %w", image, err)
	}
	var missing []string
	for _, s := range r.Sources {
		cfg, err := s.Config(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			missing = append(missing, fmt.Sprintf("%s: %v", s, err))
			continue
		}
		if err != nil {
			return "", fmt.Errorf("image %q from %s: %w", image, s, err)
		}
		return cfg.Config.User, nil
	}
	if len(missing) == 0 {
		return "", fmt.Errorf("image %q: no image source", image)
	}
	return "", fmt.Errorf("image %q is in no image source: %s", image, strings.Join(missing, "; "))
}

// Registry reads image configs from the registry each reference names
// (Docker Hub for "nginx"), over HTTPS, or HTTP for localhost and private
// addresses as go-containerregistry decides (pkg/name, Registry.Scheme).
type Registry struct {
	// Keychain finds credentials; authn.DefaultKeychain reads the docker
	// config (~/.docker/config.json or $DOCKER_CONFIG/config.json, with its
	// credential helpers), else podman's auth.json ($REGISTRY_AUTH_FILE,
	// $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json),
	// else pulls anonymously.
	Keychain authn.Keychain
	// Platform chooses the image of a multi-platform index.
	Platform v1.Platform
	// Transport, when set, replaces remote.DefaultTransport.
	Transport http.RoundTripper
}

func (Registry) String() string { return "registry" }

// Config reads the manifest (and, for an index, the platform's manifest)
// and the config blob; a missing repository, tag or manifest wraps
// ErrNotFound.
func (r Registry) Config(ctx context.Context, ref name.Reference) (*v1.ConfigFile, error) {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(r.Platform)}
	if r.Keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(r.Keychain))
	}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, registryError(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", registryError(err))
	}
	return cfg, nil
}

// registryError marks the registry's "no such image" answers as ErrNotFound.
func registryError(err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return fmt.Errorf("%w: %w", ErrNotFound, err)
			}
		}
	}
	return err
}
