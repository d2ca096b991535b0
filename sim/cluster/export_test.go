package cluster

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CheckCache is checkCache of c, a client made by NewFakeClient, for tests outside
// the package.
func CheckCache(c client.Client) error {
	fast, ok := c.(*fastClient)
	if !ok {
		return fmt.Errorf("%T is not the fast client", c)
	}
	return fast.checkCache()
}

// checkCache compares every object the fast client's read cache holds with what its
// tracker stores (as served): a cached object is handed out without a copy
// (client.UnsafeDisableDeepCopy), so whoever changed one would show here.
func (c *fastClient) checkCache() error {
	for k, cached := range c.objects {
		_, gvr, err := c.kind(cached)
		if err != nil {
			return err
		}
		got, err := c.tracker.Get(gvr, k.key.Namespace, k.key.Name)
		if err != nil {
			return fmt.Errorf("%s %s cached but not stored: %w", k.typ, k.key, err)
		}
		stored := got.(client.Object)
		asServed(stored)
		if !sameObject(cached, stored) {
			return fmt.Errorf("%s %s: the cached object is not the stored one:\ncached %+v\nstored %+v", k.typ, k.key, cached, stored)
		}
	}
	return nil
}

// sameObject compares objects of one type; Istio's protobuf specs with proto.Equal.
func sameObject(a, b client.Object) bool {
	switch x := a.(type) {
	case *istionet.VirtualService:
		y := b.(*istionet.VirtualService)
		return equality.Semantic.DeepEqual(x.ObjectMeta, y.ObjectMeta) && proto.Equal(&x.Spec, &y.Spec)
	case *istionet.DestinationRule:
		y := b.(*istionet.DestinationRule)
		return equality.Semantic.DeepEqual(x.ObjectMeta, y.ObjectMeta) && proto.Equal(&x.Spec, &y.Spec)
	}
	return equality.Semantic.DeepEqual(a, b)
}

// NewAuditingFakeClient is NewFakeClient, whose spared writes (validation_ratchet.go)
// are checked in full as well; audit says how many writes were spared and where the
// full check disagreed.
func NewAuditingFakeClient(s *runtime.Scheme) (c client.Client, audit func() (spared int, disagreements []string)) {
	fast := NewFakeClient(s, nil).(*fastClient)
	fast.checks.auditing = true
	return fast, func() (int, []string) { return fast.checks.spared, fast.checks.audit }
}
