package source

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// RBACResources are the RBAC objects whose changes can change who may use a policy.
func RBACResources() []string {
	return []string{"roles", "clusterroles", "rolebindings", "clusterrolebindings"}
}

// InvalidateOnRBACChange, with an authorizer (SubjectAccessReview), watches
// RBAC objects' metadata and calls invalidate on every change, so cached
// answers never outlive an RBAC change the watch has delivered: with the
// namespace of a Role or RoleBinding (it grants there only), and with ""
// for a ClusterRole or ClusterRoleBinding (they may grant anywhere). A
// RoleBinding created in one namespace leaves the answers about every other
// namespace cached. Only names and resource versions are kept, not the
// objects. Call it before Start; Start then waits for this watch to sync
// too.
func (c *Cluster) InvalidateOnRBACChange(client metadata.Interface, invalidate func(namespace string)) {
	c.rbacMetadata, c.invalidate = client, invalidate
}

// watchRBACMetadata starts the metadata informers and returns their sync checks.
func (c *Cluster) watchRBACMetadata(ctx context.Context) ([]cache.InformerSynced, error) {
	factory := metadatainformer.NewSharedInformerFactory(c.rbacMetadata, 0)
	changed := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		namespace := ""
		if m, ok := obj.(metav1.Object); ok {
			namespace = m.GetNamespace() // "" for cluster-scoped objects
		}
		c.invalidate(namespace)
	}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    changed,
		UpdateFunc: func(_, obj any) { changed(obj) },
		DeleteFunc: changed,
	}
	var synced []cache.InformerSynced
	for _, resource := range RBACResources() {
		inf := factory.ForResource(rbacv1.SchemeGroupVersion.WithResource(resource)).Informer()
		// Keep what identifies an object and nothing else (no labels,
		// annotations or managed fields): a change shows as a new
		// resourceVersion all the same.
		if err := inf.SetTransform(func(obj any) (any, error) {
			m, ok := obj.(*metav1.PartialObjectMetadata)
			if !ok {
				return obj, nil
			}
			return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: metav1.ObjectMeta{
				Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			}}, nil
		}); err != nil {
			return nil, fmt.Errorf("watching %s: %w", resource, err)
		}
		if _, err := inf.AddEventHandler(notify); err != nil {
			return nil, fmt.Errorf("watching %s: %w", resource, err)
		}
		synced = append(synced, inf.HasSynced)
	}
	factory.Start(ctx.Done())
	return synced, nil
}
