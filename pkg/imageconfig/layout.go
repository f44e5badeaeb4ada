package imageconfig

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations of index.json entries that name an image.
const (
	// annotationRefName is the OCI annotation: a full reference when
	// written by `crane pull --format=oci --annotate-ref` or `skopeo copy
	// ... oci:DIR:docker.io/library/nginx:1.27`, often only a tag ("1.27").
	annotationRefName = "org.opencontainers.image.ref.name"
	// annotationImageName is containerd's, which `docker save` (Docker 25
	// and later) and `ctr export` write: the full reference.
	annotationImageName = "io.containerd.image.name"
)

// Layout reads image configs from an OCI image layout directory.
//
// A reference with a digest finds the top-level entry of index.json with
// that digest. A reference with a tag finds the entry whose
// io.containerd.image.name or org.opencontainers.image.ref.name annotation
// is the same full reference ("nginx:1.27" is docker.io/library/nginx:1.27).
// An annotation holding only a tag ("1.27") does not say which repository
// the image is from, so it never matches: the error says so.
type Layout struct {
	Dir string
	// Platform chooses the image of a multi-platform index.
	Platform v1.Platform
}

func (l Layout) String() string { return "oci:" + l.Dir }

// Config finds ref's entry in index.json and reads its config.
func (l Layout) Config(_ context.Context, ref name.Reference) (*v1.ConfigFile, error) {
	index, err := layout.ImageIndexFromPath(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("reading the OCI image layout: %w", err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s/index.json: %w", l.Dir, err)
	}
	var tagOnly []string
	for _, d := range manifest.Manifests {
		if !matches(d, ref) {
			if n := d.Annotations[annotationRefName]; n != "" && n == tagOf(ref) {
				tagOnly = append(tagOnly, n)
			}
			continue
		}
		return configOf(index, d, l.Platform)
	}
	if len(tagOnly) > 0 {
		return nil, fmt.Errorf("%w: an image is named only by its tag %q, without its repository; name it by the full reference (skopeo copy ... oci:%s:%s, or crane pull --format=oci --annotate-ref)",
			ErrNotFound, tagOnly[0], l.Dir, ref.Name())
	}
	return nil, ErrNotFound
}

// matches says whether index entry d is the image ref names.
func matches(d v1.Descriptor, ref name.Reference) bool {
	if digest, ok := ref.(name.Digest); ok {
		return d.Digest.String() == digest.DigestStr()
	}
	for _, key := range []string{annotationImageName, annotationRefName} {
		n := d.Annotations[key]
		if !strings.ContainsAny(n, ":/") {
			continue // empty, or a bare tag
		}
		if named, err := name.ParseReference(n); err == nil && named.Name() == ref.Name() {
			return true
		}
	}
	return false
}

// tagOf is ref's tag, or "" for a digest.
func tagOf(ref name.Reference) string {
	if tag, ok := ref.(name.Tag); ok {
		return tag.TagStr()
	}
	return ""
}

// configOf reads the config of entry d: an image, or an index (nested
// indexes too) whose image for platform is chosen as a registry client would.
func configOf(index v1.ImageIndex, d v1.Descriptor, platform v1.Platform) (*v1.ConfigFile, error) {
	if d.MediaType.IsIndex() {
		child, err := index.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", d.Digest, err)
		}
		children, err := child.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", d.Digest, err)
		}
		for _, c := range children.Manifests {
			switch {
			case c.MediaType.IsImage() && c.Platform != nil && c.Platform.Satisfies(platform):
				return configOf(child, c, platform)
			case c.MediaType.IsIndex():
				// Nested indexes, as docker save of Docker 29 writes them.
				if cfg, err := configOf(child, c, platform); err == nil {
					return cfg, nil
				}
			}
		}
		return nil, fmt.Errorf("index %s has no image for platform %s", d.Digest, platform.String())
	}
	img, err := index.Image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", d.Digest, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of image %s: %w", d.Digest, err)
	}
	return cfg, nil
}
