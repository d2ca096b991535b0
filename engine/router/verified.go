package router

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// The routers reconcile their objects on every tick, and nearly always find them as
// the canary wants them; building the desired state to compare was most of the cost.
// So a reconcile that found an object as wanted is remembered, keyed by
// everything the verdict depends on: the object at its resourceVersion, which the API
// server moves on every write, the canary at its metadata.generation, which it moves
// on every spec change, and the router's other inputs. While none of them moves, the
// comparison would only find the same again; and once one moves, the key is new.

// verifiedKey names one such verdict.
type verifiedKey struct {
	object          types.UID
	resourceVersion string
	canary          types.UID
	generation      int64
	// inputs is what else the desired state depends on (the Services: the target's
	// selector label and discovered ports).
	inputs string
}

// verifiedKeyOf returns the key of obj as reconciled for cd, or false when either
// lacks what tells its versions apart (an object not read from an API server).
func verifiedKeyOf(obj client.Object, cd *v1beta1.Canary, inputs string) (verifiedKey, bool) {
	if obj.GetUID() == "" || obj.GetResourceVersion() == "" || cd.UID == "" || cd.Generation == 0 {
		return verifiedKey{}, false
	}
	return verifiedKey{obj.GetUID(), obj.GetResourceVersion(), cd.UID, cd.Generation, inputs}, true
}

// viewed reads key into obj only to look at it (a caching client may share its own
// copy's maps and slices, see client.UnsafeDisableDeepCopy), or returns nil when it
// cannot be read.
func viewed(ctx context.Context, c client.Client, key types.NamespacedName, obj client.Object) client.Object {
	if err := c.Get(ctx, key, obj, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	return obj
}

// isVerified reports whether memo (may be nil) remembers obj (may be nil), as it is,
// to be as cd wants it. A reconcile looks first at the object's view (viewed): only
// one that is not remembered is read again, to be compared and changed.
func isVerified(memo *lru.Cache, obj client.Object, cd *v1beta1.Canary, inputs string) bool {
	if obj == nil {
		return false
	}
	key, ok := verifiedKeyOf(obj, cd, inputs)
	if !ok || memo == nil {
		return false
	}
	_, found := memo.Get(key)
	return found
}

// markVerified remembers in memo (may be nil) that obj, as read, is as cd wants it.
// An object the router wrote is compared once more before it is remembered, since
// the API server may have added to what was sent; only SetRoutes carries a verdict
// through its own write (see there).
func markVerified(memo *lru.Cache, obj client.Object, cd *v1beta1.Canary, inputs string) {
	if key, ok := verifiedKeyOf(obj, cd, inputs); ok && memo != nil {
		memo.Add(key, struct{}{})
	}
}
