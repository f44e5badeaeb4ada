package kubeclient

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestListAll follows the continue token page by page, asks PageSize at a
// time, hands every item over in order, and stops at add's error or the
// list's (worded by Describe, naming the resource).
func TestListAll(t *testing.T) {
	pages := map[string]*corev1.PodList{
		"":   {ListMeta: metav1.ListMeta{Continue: "p2"}, Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, {ObjectMeta: metav1.ObjectMeta{Name: "b"}}}},
		"p2": {Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "c"}}}},
	}
	var asked []string
	list := func(_ context.Context, o metav1.ListOptions) (runtime.Object, error) {
		if o.Limit != PageSize {
			t.Errorf("limit %d, want %d", o.Limit, PageSize)
		}
		asked = append(asked, o.Continue)
		return pages[o.Continue], nil
	}
	var names []string
	err := ListAll(context.Background(), corev1.Resource("pods"), list, func(obj runtime.Object) error {
		names = append(names, obj.(*corev1.Pod).Name)
		return nil
	})
	if err != nil || len(asked) != 2 || asked[1] != "p2" || len(names) != 3 || names[0] != "a" || names[2] != "c" {
		t.Errorf("err %v, pages asked %q, items %q", err, asked, names)
	}

	stop := errors.New("stop")
	calls := 0
	err = ListAll(context.Background(), corev1.Resource("pods"), list, func(runtime.Object) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("add's error: %v after %d items", err, calls)
	}

	forbidden := func(context.Context, metav1.ListOptions) (runtime.Object, error) {
		return nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errors.New("no"))
	}
	err = ListAll(context.Background(), corev1.Resource("pods"), forbidden, func(runtime.Object) error { return nil })
	if err == nil || !apierrors.IsForbidden(err) {
		t.Errorf("a refused list: %v, want the forbidden error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ListAll(ctx, corev1.Resource("pods"), list, func(runtime.Object) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
