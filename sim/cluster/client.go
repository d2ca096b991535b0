package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"aviary.dev/aviary/api/scheme"
	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
)

// NewScheme returns the scheme of every type the simulator and the engine use:
// Kubernetes' built-ins, aviary's v1beta1 API, Istio's networking API and Traefik's
// TraefikService and IngressRoute in both of Traefik's groups.
func NewScheme() (*runtime.Scheme, error) { return NewSchemeIn(v1beta1.GroupVersion.Group) }

// NewSchemeIn is NewScheme with aviary's types served in group ("flagger.app" for
// Flagger's objects, as a live controller or a world served to one reads them).
func NewSchemeIn(group string) (*runtime.Scheme, error) { return scheme.In(group) }

// NewFakeClient returns the fast mode's Kubernetes API: controller-runtime's fake
// client with status subresources, plus what a real API server does that the fake
// does not and that the engine observes: metadata.generation starts at 1 and moves on
// spec changes of Deployments (the readiness check compares it with
// status.observedGeneration) and Canaries (the routers remember reconciles by it),
// a created object gets a UID, and every write is judged as the API server judges it
// (validation.go: refused with its error, pruned and defaulted; verdicts, when not
// nil, is the memo of verdicts it shares with other clients, as a suite's runs do). A
// typed read cache and typed updates sit in front of it (see fastClient).
func NewFakeClient(s *runtime.Scheme, verdicts *Verdicts) client.Client {
	c, tracker, checks := newFakeClient(s, verdicts)
	return newFastClient(c, tracker, checks, s)
}

// newFakeClient is the fake client itself, the object tracker that holds its objects
// and the API server's checks (serverChecks) that every write of the fake client
// passes before it reaches the tracker (checkingTracker).
func newFakeClient(s *runtime.Scheme, verdicts *Verdicts) (client.Client, clienttesting.ObjectTracker, *serverChecks) {
	// A plain object tracker: the default field-managed tracker rebuilds a REST mapper
	// on every write, which made it the bulk of a simulated run's cost; aviary does
	// not use server-side apply.
	tracker := clienttesting.NewObjectTracker(s, serializer.NewCodecFactory(s).UniversalDecoder())
	checks := newServerChecks(verdicts)
	withStatus := []client.Object{&v1beta1.Canary{}, &appsv1.Deployment{}}
	checking := &checkingTracker{ObjectTracker: tracker, checks: checks, scheme: s, statusKinds: map[schema.GroupVersionKind]bool{}}
	for _, o := range withStatus {
		if gvk, err := apiutil.GVKForObject(o, s); err == nil {
			checking.statusKinds[gvk] = true
		}
	}
	var uids int
	c := fake.NewClientBuilder().
		WithScheme(s).
		WithObjectTracker(checking).
		WithStatusSubresource(withStatus...).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if _, ok := specOf(obj); ok {
					obj.SetGeneration(1)
				}
				if obj.GetUID() == "" {
					// deterministic, unlike a real API server's, so that runs repeat
					uids++
					obj.SetUID(types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", uids)))
				}
				if err := c.Create(ctx, obj, opts...); err != nil {
					obj.SetUID("")
					return err
				}
				return nil
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if _, ok := specOf(obj); ok {
					old := newObjectLike(obj)
					if err := c.Get(ctx, client.ObjectKeyFromObject(obj), old); err == nil {
						obj.SetGeneration(nextGeneration(old, obj))
					}
				}
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				if _, ok := specOf(obj); !ok {
					return c.Patch(ctx, obj, patch, opts...)
				}
				old := newObjectLike(obj)
				if err := c.Get(ctx, client.ObjectKeyFromObject(obj), old); err != nil {
					return c.Patch(ctx, obj, patch, opts...)
				}
				if err := c.Patch(ctx, obj, patch, opts...); err != nil {
					return err
				}
				next := nextGeneration(old, obj)
				if next == obj.GetGeneration() {
					return nil
				}
				obj.SetGeneration(next)
				return c.Update(ctx, obj)
			},
		}).
		Build()
	return c, tracker, checks
}

// specOf returns the spec of an object of a kind whose metadata.generation the fast
// mode keeps as a real API server does (it moves on spec changes only), or false.
func specOf(obj client.Object) (spec any, ok bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec, true
	case *v1beta1.Canary:
		return &o.Spec, true
	}
	return nil, false
}

// nextGeneration is the metadata.generation a real API server gives an object (of a
// specOf kind) updated from old to obj: one more when the spec changed.
func nextGeneration(old, obj client.Object) int64 {
	before, _ := specOf(old)
	after, _ := specOf(obj)
	if equality.Semantic.DeepEqual(before, after) {
		return old.GetGeneration()
	}
	return old.GetGeneration() + 1
}

// newObjectLike returns a new, empty object of obj's type.
func newObjectLike(obj client.Object) client.Object {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
}

// fastClient is the fast mode's API in front of the fake client. The fake client
// turns every Get, List and Update into a JSON round trip (and a status update into
// several), which made it most of a simulated run's cost. So:
//   - Gets are served from typed deep copies of what was last read or written, and
//     misses and Lists read the fake client's object tracker directly; a Get with
//     client.UnsafeDisableDeepCopy is served the cached object's own maps and slices,
//     as controller-runtime's cache reader serves it;
//   - Updates and status updates of the kinds a run writes (statusKind) are done
//     typed against the same tracker, with the fake client's rules: NotFound, a
//     resourceVersion conflict, the next resourceVersion, and the status subresource
//     (an update keeps the stored status, a status update keeps everything else),
//     and the API server's checks the fake client's writes pass too (serverChecks);
//   - everything else (creates, deletes, patches, other kinds, unconditional updates)
//     goes through the fake client itself.
//
// One run is single-threaded and the simulator is the only writer, so the cache is
// always current. A cached object never changes once cached, since it may be shared:
// a write replaces it (or takes it out first, takeStored) with objects whose maps and
// slices are the fast client's own. The envtest parity test compares every decision
// against a real API server, the fast client's own tests compare it with the fake
// client, and a test checks the cache against the store after every tick of every
// library scenario.
type fastClient struct {
	client.Client
	// tracker is the fake client's tracker without its checks: the typed writes
	// make the API server's checks themselves (checks), knowing what they write.
	tracker clienttesting.ObjectTracker
	checks  *serverChecks
	scheme  *runtime.Scheme
	objects map[cacheKey]client.Object
	kinds   map[reflect.Type]schema.GroupVersionKind
	// writes counts the successful writes (see Writes).
	writes Writes
}

// Writes counts the successful writes a fast client has seen, by what they may have
// changed. The event loop reads them to tell that the API has not changed since it
// last looked (docs/architecture.md, performance contracts): a real API server's
// objects also change by its own hand, so only the fast client counts.
type Writes struct {
	// All is every successful write.
	All uint64
	// Deployments is those that may have changed a Deployment (a write of an object
	// whose kind the type does not tell counts): the Deployment simulator's only
	// input from the API.
	Deployments uint64
	// Routes is those that may have changed what the traffic split is read from: a
	// VirtualService or a TraefikService, or which Deployments exist (creates and
	// deletes).
	Routes uint64
}

type cacheKey struct {
	typ reflect.Type
	key client.ObjectKey
}

// keyOf is obj's key in the cache.
func keyOf(obj client.Object) cacheKey {
	return cacheKey{reflect.TypeOf(obj), client.ObjectKeyFromObject(obj)}
}

// newFastClient wraps the fake client c, whose objects tracker holds.
func newFastClient(c client.Client, tracker clienttesting.ObjectTracker, checks *serverChecks, s *runtime.Scheme) *fastClient {
	return &fastClient{
		Client:  c,
		tracker: tracker,
		checks:  checks,
		scheme:  s,
		objects: map[cacheKey]client.Object{},
		kinds:   map[reflect.Type]schema.GroupVersionKind{},
	}
}

// kind returns obj's group, version and kind, and its resource as the fake client
// guesses it.
func (c *fastClient) kind(obj runtime.Object) (schema.GroupVersionKind, schema.GroupVersionResource, error) {
	t := reflect.TypeOf(obj)
	gvk, ok := c.kinds[t]
	if !ok {
		var err error
		if gvk, err = apiutil.GVKForObject(obj, c.scheme); err != nil {
			return gvk, schema.GroupVersionResource{}, err
		}
		c.kinds[t] = gvk
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	return gvk, gvr, nil
}

// Get serves obj from the cache, filling the cache from the tracker on a miss. With
// client.UnsafeDisableDeepCopy, as controller-runtime's cache reader does, obj gets
// the cached object's fields themselves (its maps and slices are the cache's): the
// caller must not change it.
func (c *fastClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	var o client.GetOptions
	o.ApplyOptions(opts)
	shared := o.UnsafeDisableDeepCopy != nil && *o.UnsafeDisableDeepCopy
	k := cacheKey{reflect.TypeOf(obj), key}
	if cached, ok := c.objects[k]; ok && o.Raw == nil {
		if shared {
			shareInto(obj, cached)
		} else {
			copyInto(obj, cached)
		}
		return nil
	}
	if known, _ := statusKind(obj); !known || o.Raw != nil {
		if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
			return err
		}
		c.objects[k] = obj.DeepCopyObject().(client.Object)
		return nil
	}
	_, gvr, err := c.kind(obj)
	if err != nil {
		return err
	}
	stored, err := c.tracker.Get(gvr, key.Namespace, key.Name)
	if err != nil {
		return err
	}
	asServed(stored.(client.Object))
	c.objects[k] = stored.(client.Object)
	copyInto(obj, stored.(client.Object))
	return nil
}

// asServed makes a typed object read from the tracker what the fake client (and a
// real API server through a typed client) hands out: no TypeMeta, and timestamps in
// whole seconds, as metav1.Time is serialized (RFC 3339) and read back in local time.
// Virtual time can fall between seconds.
func asServed(obj client.Object) {
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	round := func(t *metav1.Time) {
		if !t.IsZero() {
			*t = metav1.NewTime(time.Unix(t.Unix(), 0))
		}
	}
	created := obj.GetCreationTimestamp()
	round(&created)
	obj.SetCreationTimestamp(created)
	if d := obj.GetDeletionTimestamp(); d != nil {
		deleted := *d
		round(&deleted)
		obj.SetDeletionTimestamp(&deleted)
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		for i := range o.Status.Conditions {
			round(&o.Status.Conditions[i].LastUpdateTime)
			round(&o.Status.Conditions[i].LastTransitionTime)
		}
	case *corev1.Service:
		for i := range o.Status.Conditions {
			round(&o.Status.Conditions[i].LastTransitionTime)
		}
	case *v1beta1.Canary:
		round(&o.Status.LastTransitionTime)
		for i := range o.Status.Conditions {
			round(&o.Status.Conditions[i].LastUpdateTime)
			round(&o.Status.Conditions[i].LastTransitionTime)
		}
	}
}

// shareInto sets dst to src (pointers of the same type) without copying what src's
// fields point to.
func shareInto(dst, src client.Object) {
	switch d := dst.(type) {
	case *appsv1.Deployment:
		*d = *src.(*appsv1.Deployment)
	case *corev1.Service:
		*d = *src.(*corev1.Service)
	case *v1beta1.Canary:
		*d = *src.(*v1beta1.Canary)
	case *traefik.TraefikService:
		*d = *src.(*traefik.TraefikService)
	default:
		// as controller-runtime's cache reader does; Istio's types embed protobuf
		// messages, which go vet does not let be assigned
		reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src).Elem())
	}
}

// copyInto deep-copies src into dst (pointers of the same type): with the type's
// generated DeepCopyInto for the kinds a run reads most, without an intermediate copy.
func copyInto(dst, src client.Object) {
	switch d := dst.(type) {
	case *appsv1.Deployment:
		src.(*appsv1.Deployment).DeepCopyInto(d)
	case *corev1.Service:
		src.(*corev1.Service).DeepCopyInto(d)
	case *v1beta1.Canary:
		src.(*v1beta1.Canary).DeepCopyInto(d)
	case *istionet.VirtualService:
		src.(*istionet.VirtualService).DeepCopyInto(d)
	case *istionet.DestinationRule:
		src.(*istionet.DestinationRule).DeepCopyInto(d)
	case *traefik.TraefikService:
		src.(*traefik.TraefikService).DeepCopyInto(d)
	default:
		reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src.DeepCopyObject()).Elem())
	}
}

// List reads the tracker directly for typed lists filtered by namespace and labels
// only; anything else goes through the fake client.
func (c *fastClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	var lo client.ListOptions
	lo.ApplyOptions(opts)
	if lo.FieldSelector != nil || lo.Limit > 0 || lo.Continue != "" || lo.Raw != nil {
		return c.Client.List(ctx, list, opts...)
	}
	listGVK, _, err := c.kind(list)
	if err != nil {
		return err
	}
	gvk := listGVK.GroupVersion().WithKind(strings.TrimSuffix(listGVK.Kind, "List"))
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	stored, err := c.tracker.List(gvr, gvk, lo.Namespace)
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(stored)
	if err != nil {
		return err
	}
	kept := items[:0]
	for _, o := range items {
		if lo.LabelSelector != nil && !lo.LabelSelector.Matches(labels.Set(o.(client.Object).GetLabels())) {
			continue
		}
		asServed(o.(client.Object))
		kept = append(kept, o)
	}
	return meta.SetList(list, kept)
}

// statusKind says whether the typed paths know obj's kind, and whether that kind has
// a status subresource.
func statusKind(obj client.Object) (known, hasStatus bool) {
	switch obj.(type) {
	case *appsv1.Deployment, *corev1.Service, *v1beta1.Canary:
		return true, true
	case *istionet.VirtualService, *istionet.DestinationRule, *traefik.TraefikService, *v1beta1.MetricTemplate, *v1beta1.AlertProvider:
		return true, false
	}
	return false, false
}

// copyStatus sets dst's status to a deep copy of src's (of dst's kind, one with a
// status subresource): neither may share the other's maps and slices, since a cached
// object is handed out without a copy (shareInto) and must never change.
func copyStatus(dst, src client.Object) {
	switch d := dst.(type) {
	case *appsv1.Deployment:
		src.(*appsv1.Deployment).Status.DeepCopyInto(&d.Status)
	case *corev1.Service:
		src.(*corev1.Service).Status.DeepCopyInto(&d.Status)
	case *v1beta1.Canary:
		src.(*v1beta1.Canary).Status.DeepCopyInto(&d.Status)
	}
}

// update writes obj typed into the tracker; ok is false when the fast path does not
// apply and the fake client must do it. kept, when not nil, is a copy of what was
// stored that nobody else holds, for the cache to keep instead of copying obj again.
func (c *fastClient) update(ctx context.Context, obj client.Object, status bool) (ok bool, kept client.Object, err error) {
	known, hasStatus := statusKind(obj)
	if !known || obj.GetResourceVersion() == "" || (status && !hasStatus) {
		return false, nil, nil
	}
	gvk, gvr, err := c.kind(obj)
	if err != nil {
		return true, nil, err
	}
	old, err := c.takeStored(obj, gvr)
	if apierrors.IsNotFound(err) {
		// the fake client's answer depends on the kind (some are created on update)
		return false, nil, nil
	}
	if err != nil {
		return true, nil, err
	}
	if obj.GetResourceVersion() != old.GetResourceVersion() {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), obj.GetName(), errors.New("object was modified"))
	}
	if old.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil {
		return false, nil, nil
	}
	rv, err := strconv.ParseUint(old.GetResourceVersion(), 10, 64)
	if err != nil {
		return false, nil, nil
	}
	// before old is changed below; obj becomes what the API server would store
	if err := c.checks.update(ctx, gvk, obj, old, status); err != nil {
		return true, nil, err
	}
	next := obj
	if status {
		// everything but the status (and the resourceVersion checked above) is the
		// stored object's; old is ours (takeStored), and with a copy of the status
		// it is what the cache keeps
		copyStatus(old, obj)
		next = old
	} else {
		if hasStatus {
			copyStatus(obj, old)
		}
		if _, generational := specOf(obj); generational {
			obj.SetGeneration(nextGeneration(old, obj))
		}
	}
	// stored as given: reads (and written, for the cache) serve it asServed
	next.SetResourceVersion(strconv.FormatUint(rv+1, 10))
	if err := c.tracker.Update(gvr, next, obj.GetNamespace()); err != nil {
		return true, nil, err
	}
	if status {
		copyInto(obj, next)
		return true, next, nil
	}
	return true, nil, nil
}

// takeStored returns the stored version of obj for update to change: the cache's
// copy, which it takes out of the cache (every write replaces or forgets it anyway;
// copying the tracker's version instead was a third of a write's cost), else a copy
// from the tracker. update may replace its fields, never change what they point to:
// a Get may have shared them (client.UnsafeDisableDeepCopy).
func (c *fastClient) takeStored(obj client.Object, gvr schema.GroupVersionResource) (client.Object, error) {
	k := keyOf(obj)
	if cached, ok := c.objects[k]; ok {
		delete(c.objects, k)
		return cached, nil
	}
	stored, err := c.tracker.Get(gvr, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return nil, err
	}
	return stored.(client.Object), nil
}

func (c *fastClient) forget(obj client.Object) {
	delete(c.objects, keyOf(obj))
}

// written keeps what a successful write left in obj: the stored object (the new
// resourceVersion and, for a status write, the stored spec), so it is what the next
// Get would return. A failed write forgets it.
func (c *fastClient) written(obj client.Object, err error) error { return c.keep(obj, nil, err) }

// keep is written, with kept (when not nil) an equal copy of obj for the cache to own.
func (c *fastClient) keep(obj, kept client.Object, err error) error {
	if err != nil {
		c.forget(obj)
		return err
	}
	c.count(obj)
	asServed(obj)
	if kept == nil {
		kept = obj.DeepCopyObject().(client.Object)
	} else {
		asServed(kept)
	}
	c.objects[keyOf(obj)] = kept
	return nil
}

// counted counts a write of obj (nil: of unknown kind) that did not fail.
func (c *fastClient) counted(obj client.Object, err error) error {
	if err == nil {
		c.count(obj)
	}
	return err
}

func (c *fastClient) count(obj client.Object) {
	c.writes.All++
	// the fake client neither cascades nor garbage-collects, so only a write of a
	// Deployment, or of an object whose kind the type does not tell, changes one
	switch obj.(type) {
	case nil, *unstructured.Unstructured, *metav1.PartialObjectMetadata:
		c.writes.Deployments++
		c.writes.Routes++
	case *appsv1.Deployment:
		c.writes.Deployments++ // and Routes when it is created or deleted (existenceChanged)
	case *istionet.VirtualService, *traefik.TraefikService:
		c.writes.Routes++
	}
}

// existenceChanged counts a create or delete of obj that did not fail: which
// Deployments exist is part of what the traffic split is read from.
func (c *fastClient) existenceChanged(obj client.Object, err error) error {
	if _, isDeployment := obj.(*appsv1.Deployment); isDeployment && err == nil {
		c.writes.Routes++
	}
	return err
}

// Writes is what the client has written so far.
func (c *fastClient) Writes() Writes { return c.writes }

// Create writes through and keeps what was written.
func (c *fastClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.existenceChanged(obj, c.written(obj, c.Client.Create(ctx, obj, opts...)))
}

// Update writes typed when it can, through the fake client otherwise, and keeps
// what was written.
func (c *fastClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if len(opts) == 0 {
		if done, kept, err := c.update(ctx, obj, false); done {
			return c.keep(obj, kept, err)
		}
	}
	return c.written(obj, c.Client.Update(ctx, obj, opts...))
}

// Patch writes through and keeps what was written.
func (c *fastClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.written(obj, c.Client.Patch(ctx, obj, patch, opts...))
}

// Delete writes through and forgets the object.
func (c *fastClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	defer c.forget(obj)
	return c.existenceChanged(obj, c.counted(obj, c.Client.Delete(ctx, obj, opts...)))
}

// DeleteAllOf writes through and forgets everything.
func (c *fastClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	clear(c.objects)
	return c.existenceChanged(obj, c.counted(obj, c.Client.DeleteAllOf(ctx, obj, opts...)))
}

// Status returns the status subresource's client.
func (c *fastClient) Status() client.SubResourceWriter { return c.SubResource("status") }

// SubResource returns a subresource client that keeps (status) or forgets what it
// writes.
func (c *fastClient) SubResource(name string) client.SubResourceClient {
	return fastSubResourceClient{SubResourceClient: c.Client.SubResource(name), name: name, cache: c}
}

type fastSubResourceClient struct {
	client.SubResourceClient
	name  string
	cache *fastClient
}

func (s fastSubResourceClient) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	defer s.cache.forget(obj)
	return s.cache.counted(obj, s.SubResourceClient.Create(ctx, obj, sub, opts...))
}

func (s fastSubResourceClient) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if s.name == "status" && len(opts) == 0 {
		if done, kept, err := s.cache.update(ctx, obj, true); done {
			return s.cache.keep(obj, kept, err)
		}
	}
	return s.cache.written(obj, s.SubResourceClient.Update(ctx, obj, opts...))
}

func (s fastSubResourceClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.cache.written(obj, s.SubResourceClient.Patch(ctx, obj, patch, opts...))
}

func (s fastSubResourceClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	clear(s.cache.objects)
	return s.cache.counted(nil, s.SubResourceClient.Apply(ctx, obj, opts...))
}

// Apply writes through and forgets everything.
func (c *fastClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	clear(c.objects)
	return c.counted(nil, c.Client.Apply(ctx, obj, opts...))
}
