package imageconfig

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Archive reads image configs from a `docker save` tarball (skopeo's and
// podman's docker-archive): its manifest.json lists each image's RepoTags
// and config. Such a tarball records tags, not registry digests, so a
// reference by digest is never found in it.
type Archive struct {
	File string
}

func (a Archive) String() string { return "docker-archive:" + a.File }

// Config finds the image whose RepoTags include ref's tag (normalized:
// "nginx:1.27" is docker.io/library/nginx:1.27) and reads its config.
func (a Archive) Config(_ context.Context, ref name.Reference) (*v1.ConfigFile, error) {
	tag, ok := ref.(name.Tag)
	if !ok {
		return nil, fmt.Errorf("%w: a docker save tarball names images by tag, and %s is a digest", ErrNotFound, ref)
	}
	manifest, err := tarball.LoadManifest(a.open)
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json: %w", err)
	}
	for _, d := range manifest {
		for _, t := range d.RepoTags {
			if named, err := name.NewTag(t); err == nil && named.Name() == tag.Name() {
				img, err := tarball.Image(a.open, &named)
				if err != nil {
					return nil, fmt.Errorf("reading image %s: %w", t, err)
				}
				cfg, err := img.ConfigFile()
				if err != nil {
					return nil, fmt.Errorf("reading the config of %s: %w", t, err)
				}
				return cfg, nil
			}
		}
	}
	return nil, ErrNotFound
}

// open opens the tarball; go-containerregistry reopens it for each file it reads.
func (a Archive) open() (io.ReadCloser, error) { return os.Open(a.File) }
