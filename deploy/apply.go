package deploy

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ApplyOptions say how Apply applies.
type ApplyOptions struct {
	// FieldOwner is the field manager the objects are applied as ("helm" to stand in
	// for `helm install`).
	FieldOwner string
	// Established, when set, is called with the CRDs applied so far before the first
	// object of another kind, which may be one of theirs: it waits until they serve.
	Established func(crds []*unstructured.Unstructured) error
	// Applied, when set, is called with each object once applied (to read it back).
	Applied func(u *unstructured.Unstructured) error
}

// Apply server-side applies objs (with ForceOwnership) as `helm install
// --create-namespace` creates them: the namespaces they are in first, then CRDs, then
// the rest (Sorted). The objects are not modified.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, opts ApplyOptions) error {
	var namespaces []*unstructured.Unstructured
	seen := map[string]bool{}
	for _, u := range Sorted(objs) {
		if ns := u.GetNamespace(); ns != "" && !seen[ns] {
			seen[ns] = true
			n := &unstructured.Unstructured{}
			n.SetAPIVersion("v1")
			n.SetKind("Namespace")
			n.SetName(ns)
			namespaces = append(namespaces, n)
		}
	}
	var crds []*unstructured.Unstructured
	for _, u := range append(namespaces, Sorted(objs)...) {
		isCRD := u.GetKind() == "CustomResourceDefinition"
		if !isCRD && len(crds) > 0 && opts.Established != nil {
			if err := opts.Established(crds); err != nil {
				return fmt.Errorf("wait for CRDs: %w", err)
			}
			crds = nil
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(opts.FieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s: %w", Key(u), err)
		}
		if isCRD {
			crds = append(crds, u)
		}
		if opts.Applied != nil {
			if err := opts.Applied(u); err != nil {
				return fmt.Errorf("%s: %w", Key(u), err)
			}
		}
	}
	return nil
}
