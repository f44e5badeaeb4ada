package kubeclient

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PageSize is how many objects one list request asks for: a large
// cluster's resource comes in pages, not as one huge response.
const PageSize = 500

// ListAll lists every object of one resource, page by page (PageSize each,
// following the continue token), and hands each item to add, in the
// server's order. list is the typed or dynamic client's List; its error is
// worded by Describe, naming the resource. An error from add ends the
// listing and is returned as it is.
func ListAll(ctx context.Context, resource schema.GroupResource, list func(context.Context, metav1.ListOptions) (runtime.Object, error), add func(runtime.Object) error) error {
	opts := metav1.ListOptions{Limit: PageSize}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l, err := list(ctx, opts)
		if err != nil {
			return Describe(err, "list", resource, "")
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return fmt.Errorf("listing %s: %w", resource, err)
		}
		for _, item := range items {
			if err := add(item); err != nil {
				return err
			}
		}
		page, err := meta.ListAccessor(l)
		if err != nil {
			return fmt.Errorf("listing %s: %w", resource, err)
		}
		if page.GetContinue() == "" {
			return nil
		}
		opts.Continue = page.GetContinue()
	}
}
