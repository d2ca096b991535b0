package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Deployment condition reasons, as the Kubernetes Deployment controller writes them
// (k8s.io/kubernetes pkg/controller/deployment/util).
const (
	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	ReasonNewReplicaSetCreated       = "NewReplicaSetCreated"
	ReasonFoundNewReplicaSet         = "FoundNewReplicaSet"
	ReasonReplicaSetUpdated          = "ReplicaSetUpdated"
	ReasonNewReplicaSetAvailable     = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded   = "ProgressDeadlineExceeded"
)

// DefaultProgressDeadlineSeconds is what the API server defaults
// spec.progressDeadlineSeconds of an apps/v1 Deployment to.
const DefaultProgressDeadlineSeconds = 600

// Pod is a simulated pod of a Deployment.
type Pod struct {
	Name       string
	Deployment string
	// Image is the image of the pod template's first container.
	Image string
	Ready bool
	// Started is when the pod was created (virtual time).
	Started time.Time
}

// DeploymentSimulator simulates what the Deployment controller, the ReplicaSet
// controller and the kubelets of a cluster do for the Deployments of one namespace:
// it keeps a deterministic model of each Deployment's pods and writes the Deployment's status
// (through the status subresource only, as the Deployment controller does) in virtual
// time. A rollout surges: pods of the new template are created at once (maxSurge 100%),
// old-template pods keep serving until every new pod is ready and are then removed.
//
// Pods never exist as API objects; Pods and EachPod show the model. A
// DeploymentSimulator is safe for concurrent use, but Sync must be called with
// non-decreasing instants.
type DeploymentSimulator struct {
	mu            sync.Mutex
	c             client.Client
	namespace     string
	startupDelay  time.Duration
	probes        bool
	readyOverride func(image string, now time.Time) (ready, overridden bool)
	deployments   map[string]*deploymentPods
	gen           uint64
}

// UseReadinessProbes makes a new pod whose containers have readiness probes become
// ready when the kubelet would first find them all ready (ProbeReadyDelay) instead of
// after the fixed startup delay, which stays the delay of pods without probes. Call it
// before the first Sync.
func (k *DeploymentSimulator) UseReadinessProbes() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.probes = true
}

// podDelay is how long a new pod of the template takes to become ready.
func (k *DeploymentSimulator) podDelay(t *corev1.PodTemplateSpec) time.Duration {
	if k.probes {
		if d, ok := ProbeReadyDelay(&t.Spec); ok {
			return d
		}
	}
	return k.startupDelay
}

// ProbeReadyDelay is when a pod of spec first counts as ready, measured from its
// containers' start, when a container has a readinessProbe (ok is false when none
// has): the latest of its containers' first passing readiness probe, as the kubelet's
// prober schedules it when every probe passes at once. A probe worker runs at once and
// then every periodSeconds (default 10), skipping the runs before initialDelaySeconds
// and, while a startupProbe has not passed, the readiness results; successThreshold
// passing runs (default 1) in a row make the container ready. A container without a
// readinessProbe is ready when it runs (0). The pod's own start, image pulls and
// failing probes are not modelled: a world fault with `ready` says when pods are not
// ready.
func ProbeReadyDelay(spec *corev1.PodSpec) (time.Duration, bool) {
	var latest time.Duration
	found := false
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.ReadinessProbe == nil {
			continue
		}
		found = true
		started := time.Duration(0)
		if c.StartupProbe != nil {
			started = firstPass(c.StartupProbe, 0)
		}
		latest = max(latest, firstPass(c.ReadinessProbe, started))
	}
	return latest, found
}

// firstPass is when a probe that always passes has passed successThreshold runs in a
// row, its runs falling at 0, period, 2*period, ... and counting from the first at or
// after both initialDelaySeconds and notBefore.
func firstPass(p *corev1.Probe, notBefore time.Duration) time.Duration {
	period := time.Duration(p.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	from := max(time.Duration(p.InitialDelaySeconds)*time.Second, notBefore)
	runs := (from + period - 1) / period // the first run at or after from
	need := max(p.SuccessThreshold, 1)
	return (runs + time.Duration(need-1)) * period
}

// NewDeploymentSimulator returns a DeploymentSimulator for the Deployments of namespace. New pods become ready
// startupDelay after they are created (see UseReadinessProbes) unless readyOverride (may be nil) overrides the
// readiness of pods running image at now (a `ready: false` fault: pods stop being ready).
// A ready pod is available spec.minReadySeconds later, as the Deployment controller counts it.
func NewDeploymentSimulator(c client.Client, namespace string, startupDelay time.Duration, readyOverride func(image string, now time.Time) (ready bool, overridden bool)) *DeploymentSimulator {
	return &DeploymentSimulator{
		c:             c,
		namespace:     namespace,
		startupDelay:  startupDelay,
		readyOverride: readyOverride,
		deployments:   map[string]*deploymentPods{},
	}
}

// deploymentPods is the pod model of one Deployment.
type deploymentPods struct {
	name string
	uid  types.UID
	// hash and image are the current pod template's hash and first container image.
	hash  string
	image string
	// hashedGeneration is the Deployment generation hash was computed for.
	hashedGeneration int64
	// pods in creation order.
	pods []*simPod
	// nextIndex is the index of the next pod created per template hash.
	nextIndex map[string]int
	// names are the names of pods, so that a new name is checked in constant time
	// (a scale-up to many replicas compared each with every pod).
	names map[string]bool
	// replicaSets are the template hashes a ReplicaSet was ever created for.
	replicaSets map[string]bool
	// rsCreatedPending: a ReplicaSet was created and no status write has recorded it yet.
	rsCreatedPending bool
	// synced is the generation of the last Sync that saw the Deployment.
	synced uint64
}

type simPod struct {
	Pod
	hash string
	// delay is how long the pod takes to become ready after it starts.
	delay time.Duration
	// readySince is when it last became ready (zero while not ready): it is available
	// minReadySeconds later.
	readySince time.Time
}

// availableAt is when the ready pod counts as available.
func (p *simPod) availableAt(minReady time.Duration) time.Time {
	return p.readySince.Add(minReady)
}

// Sync reconciles every Deployment in the namespace at the virtual instant now: it
// creates, removes and readies pods and writes each Deployment's status when it
// changed. next is the earliest instant after now at which something will change on
// its own (a pod becoming ready, a progress deadline passing), zero if none; the caller
// should Sync again then (and whenever a fault or spec change may change readiness).
func (k *DeploymentSimulator) Sync(ctx context.Context, now time.Time) (next time.Time, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var list appsv1.DeploymentList
	if err := k.c.List(ctx, &list, client.InNamespace(k.namespace)); err != nil {
		return time.Time{}, fmt.Errorf("deployments: list in %s: %w", k.namespace, err)
	}
	slices.SortFunc(list.Items, func(a, b appsv1.Deployment) int { return strings.Compare(a.Name, b.Name) })
	k.gen++
	gen := k.gen
	for i := range list.Items {
		d := &list.Items[i]
		n, err := k.syncDeployment(ctx, d, now, gen)
		if err != nil {
			return time.Time{}, err
		}
		next = earliest(next, n)
	}
	for name, st := range k.deployments {
		if st.synced != gen {
			delete(k.deployments, name)
		}
	}
	return next, nil
}

// Pods returns the current pods of a Deployment in creation order.
func (k *DeploymentSimulator) Pods(deployment string) []Pod {
	var out []Pod
	k.EachPod(deployment, func(p Pod) { out = append(out, p) })
	return out
}

// EachPod calls f with each current pod of a Deployment, in creation order, and
// returns the image of the first container of its pod template as of the last Sync;
// known is false for a Deployment the simulator has not seen. f must not call back.
func (k *DeploymentSimulator) EachPod(deployment string, f func(Pod)) (image string, known bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st := k.deployments[deployment]
	if st == nil {
		return "", false
	}
	for _, p := range st.pods {
		f(p.Pod)
	}
	return st.image, true
}

func (k *DeploymentSimulator) syncDeployment(ctx context.Context, d *appsv1.Deployment, now time.Time, gen uint64) (time.Time, error) {
	var next time.Time
	first := true
	gone := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			fresh := &appsv1.Deployment{}
			if err := k.c.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
				if apierrors.IsNotFound(err) {
					gone = true
					return nil
				}
				return err
			}
			d = fresh
		}
		first = false
		st := k.deployments[d.Name]
		if st == nil || st.uid != d.UID { // new, or deleted and created again
			st = &deploymentPods{name: d.Name, uid: d.UID, nextIndex: map[string]int{}, names: map[string]bool{}, replicaSets: map[string]bool{}}
			k.deployments[d.Name] = st
		}
		st.synced = gen
		st.reconcile(d, now, k.podDelay(&d.Spec.Template), k.readyOverride)
		status := st.status(d, now)
		next = st.nextChange(d, status, now)
		if sameDeploymentStatus(&d.Status, &status) {
			st.rsCreatedPending = false
			return nil
		}
		// d is the simulator's own copy (listed or read again after a conflict)
		d.Status = status
		if err := k.c.Status().Update(ctx, d); err != nil {
			return err
		}
		st.rsCreatedPending = false
		return nil
	})
	if gone {
		delete(k.deployments, d.Name)
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("deployment %s.%s: write status: %w", d.Name, d.Namespace, err)
	}
	return next, nil
}

// sameDeploymentStatus is equality.Semantic.DeepEqual of two Deployment statuses
// without reflection, which made it a sizeable part of a sync. Its test fails when
// DeploymentStatus or DeploymentCondition gain a field it does not compare.
func sameDeploymentStatus(a, b *appsv1.DeploymentStatus) bool {
	sameInt := func(x, y *int32) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	if a.ObservedGeneration != b.ObservedGeneration || a.Replicas != b.Replicas ||
		a.UpdatedReplicas != b.UpdatedReplicas || a.ReadyReplicas != b.ReadyReplicas ||
		a.AvailableReplicas != b.AvailableReplicas || a.UnavailableReplicas != b.UnavailableReplicas ||
		!sameInt(a.TerminatingReplicas, b.TerminatingReplicas) || !sameInt(a.CollisionCount, b.CollisionCount) ||
		(a.Conditions == nil) != (b.Conditions == nil) || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		x, y := &a.Conditions[i], &b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message ||
			!x.LastUpdateTime.UTC().Equal(y.LastUpdateTime.UTC()) || !x.LastTransitionTime.UTC().Equal(y.LastTransitionTime.UTC()) {
			return false
		}
	}
	return true
}

// reconcile brings the pod model in line with the Deployment at now. It is idempotent
// for the same (spec, now).
func (st *deploymentPods) reconcile(d *appsv1.Deployment, now time.Time, delay time.Duration, override func(string, time.Time) (bool, bool)) {
	hash := st.hash
	if d.Generation == 0 || d.Generation != st.hashedGeneration {
		// the template can only have changed with the generation
		hash = PodTemplateHash(&d.Spec.Template)
		st.hashedGeneration = d.Generation
	}
	if hash != st.hash {
		st.hash = hash
		if !st.replicaSets[hash] {
			st.replicaSets[hash] = true
			st.rsCreatedPending = true
		}
	}
	st.image = templateImage(&d.Spec.Template)
	desired := int(desiredReplicas(d))

	setReady := func(p *simPod) {
		readyAt := p.Started.Add(p.delay)
		ready, since := !now.Before(readyAt), readyAt
		if override != nil {
			if r, ok := override(p.Image, now); ok {
				ready, since = r, now
			}
		}
		switch {
		case ready && !p.Ready:
			p.readySince = since
		case !ready:
			p.readySince = time.Time{}
		}
		p.Ready = ready
	}
	for _, p := range st.pods {
		setReady(p)
	}

	// Scale the current template's pods to the desired count.
	current := 0
	for _, p := range st.pods {
		if p.hash == hash {
			current++
		}
	}
	for ; current < desired; current++ {
		p := &simPod{Pod: Pod{Deployment: d.Name, Image: st.image, Started: now}, hash: hash, delay: delay}
		p.Name = st.newPodName(hash)
		setReady(p)
		st.pods = append(st.pods, p)
		st.names[p.Name] = true
	}
	if current > desired {
		st.scaleDown(hash, current-desired)
	}

	// Old template pods serve until every current pod is ready (or all are scaled away).
	readyCurrent := 0
	for _, p := range st.pods {
		if p.hash == hash && p.Ready {
			readyCurrent++
		}
	}
	if desired == 0 || readyCurrent >= desired {
		st.remove(func(_ int, p *simPod) bool { return p.hash != hash })
	}
}

// scaleDown removes the n newest pods of the template hash. (A ReplicaSet removes
// not-ready pods first, then the newest; pods of one template share an image and so a
// readiness override, which makes the not-ready ones the newest.)
func (st *deploymentPods) scaleDown(hash string, n int) {
	newest := len(st.pods) // the n newest of the hash are st.pods[newest:] of the hash
	for ; newest > 0 && n > 0; newest-- {
		if st.pods[newest-1].hash == hash {
			n--
		}
	}
	st.remove(func(i int, p *simPod) bool { return i >= newest && p.hash == hash })
}

// remove removes the pods gone says are gone (given their index), in one pass.
func (st *deploymentPods) remove(gone func(int, *simPod) bool) {
	kept := st.pods[:0]
	for i, p := range st.pods {
		if gone(i, p) {
			delete(st.names, p.Name)
			continue
		}
		kept = append(kept, p)
	}
	clear(st.pods[len(kept):])
	st.pods = kept
}

// newPodName returns <deployment>-<hash>-<5 chars>, a function of the deployment name,
// the template hash and the pod's index within that template.
func (st *deploymentPods) newPodName(hash string) string {
	for {
		i := st.nextIndex[hash]
		st.nextIndex[hash] = i + 1
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%s/%d", st.name, hash, i)
		name := st.name + "-" + hash + "-" + safeEncode(h.Sum64(), 5)
		if !st.names[name] {
			return name
		}
	}
}

// status computes the Deployment's status as the Deployment controller would
// (getNewReplicaSet, calculateStatus and syncRolloutStatus in k8s.io/kubernetes
// pkg/controller/deployment). When a ReplicaSet was just created, the controller first
// writes a status in which the new ReplicaSet has no pods yet and then, once the
// ReplicaSet controller has created them, another one; both passes are replayed so the
// conditions end as they would in a cluster.
func (st *deploymentPods) status(d *appsv1.Deployment, now time.Time) appsv1.DeploymentStatus {
	ts := metav1.NewTime(now.Truncate(time.Second)) // the API stores seconds
	_, hasDeadline := progressDeadline(d)
	rsName := d.Name + "-" + st.hash

	old := *d.Status.DeepCopy()
	if hasDeadline {
		if st.rsCreatedPending {
			setCondition(&old, condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetCreated,
				fmt.Sprintf("Created new replica set %q", rsName), ts))
		} else if getCondition(old, appsv1.DeploymentProgressing) == nil {
			setCondition(&old, condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewReplicaSet,
				fmt.Sprintf("Found new replica set %q", rsName), ts))
		}
	}
	if st.rsCreatedPending {
		old = st.rolloutStatus(d, old, false, now)
	}
	return st.rolloutStatus(d, old, true, now)
}

// rolloutStatus is one pass of calculateStatus + syncRolloutStatus against the status
// old; withNew = false leaves the pods of the current template out (the new
// ReplicaSet's status before the ReplicaSet controller has created its pods).
func (st *deploymentPods) rolloutStatus(d *appsv1.Deployment, old appsv1.DeploymentStatus, withNew bool, now time.Time) appsv1.DeploymentStatus {
	ts := metav1.NewTime(now.Truncate(time.Second))
	desired := desiredReplicas(d)
	deadline, hasDeadline := progressDeadline(d)
	rsName := d.Name + "-" + st.hash

	// calculateStatus.
	var total, updated, ready, available int32
	minReady := time.Duration(d.Spec.MinReadySeconds) * time.Second
	for _, p := range st.pods {
		if p.hash == st.hash && !withNew {
			continue
		}
		total++
		if p.hash == st.hash {
			updated++
		}
		if p.Ready {
			ready++
			if !now.Before(p.availableAt(minReady)) {
				available++
			}
		}
	}
	ns := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            total,
		UpdatedReplicas:     updated,
		ReadyReplicas:       ready,
		AvailableReplicas:   available,
		UnavailableReplicas: max(total-available, 0),
		CollisionCount:      d.Status.CollisionCount,
	}
	ns.Conditions = append(ns.Conditions, old.Conditions...)
	if available >= desired-maxUnavailable(d) {
		setCondition(&ns, condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumReplicasAvailable,
			"Deployment has minimum availability.", ts))
	} else {
		setCondition(&ns, condition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumReplicasUnavailable,
			"Deployment does not have minimum availability.", ts))
	}

	// syncRolloutStatus.
	if !hasDeadline {
		removeCondition(&ns, appsv1.DeploymentProgressing)
	}
	cur := getCondition(old, appsv1.DeploymentProgressing)
	isComplete := ns.Replicas == ns.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewReplicaSetAvailable
	if hasDeadline && !isComplete {
		switch {
		case ns.UpdatedReplicas == desired && ns.Replicas == desired && ns.AvailableReplicas == desired:
			setCondition(&ns, condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSetAvailable,
				fmt.Sprintf("ReplicaSet %q has successfully progressed.", rsName), ts))
		case progressed(old, ns):
			c := condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated,
				fmt.Sprintf("ReplicaSet %q is progressing.", rsName), ts)
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(&ns, appsv1.DeploymentProgressing)
			}
			setCondition(&ns, c)
		case timedOut(ns, deadline, now):
			setCondition(&ns, condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonProgressDeadlineExceeded,
				fmt.Sprintf("ReplicaSet %q has timed out progressing.", rsName), ts))
		}
	}
	if len(ns.Conditions) == 0 {
		ns.Conditions = nil
	}
	return ns
}

// nextChange is the earliest instant after now at which the model or the status will
// change without a spec change: a pod reaching its startup delay or becoming available
// (minReadySeconds after it became ready), or the Deployment controller's progress
// check (lastUpdateTime + deadline, requeued one second later as k8s does; the
// deadline counts as exceeded once strictly past).
func (st *deploymentPods) nextChange(d *appsv1.Deployment, status appsv1.DeploymentStatus, now time.Time) time.Time {
	var next time.Time
	minReady := time.Duration(d.Spec.MinReadySeconds) * time.Second
	for _, p := range st.pods {
		if t := p.Started.Add(p.delay); t.After(now) {
			next = earliest(next, t)
		}
		if t := p.availableAt(minReady); p.Ready && t.After(now) {
			next = earliest(next, t)
		}
	}
	deadline, hasDeadline := progressDeadline(d)
	if c := getCondition(status, appsv1.DeploymentProgressing); hasDeadline && c != nil &&
		c.Reason != ReasonNewReplicaSetAvailable && c.Reason != ReasonProgressDeadlineExceeded {
		if t := c.LastUpdateTime.Add(deadline + time.Second).In(now.Location()); t.After(now) {
			next = earliest(next, t)
		}
	}
	return next
}

func progressed(old, ns appsv1.DeploymentStatus) bool {
	return ns.UpdatedReplicas > old.UpdatedReplicas ||
		ns.Replicas-ns.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		ns.ReadyReplicas > old.ReadyReplicas ||
		ns.AvailableReplicas > old.AvailableReplicas
}

func timedOut(ns appsv1.DeploymentStatus, deadline time.Duration, now time.Time) bool {
	c := getCondition(ns, appsv1.DeploymentProgressing)
	switch {
	case c == nil || c.Reason == ReasonNewReplicaSetAvailable:
		return false
	case c.Reason == ReasonProgressDeadlineExceeded:
		return true
	}
	return c.LastUpdateTime.Add(deadline).Before(now)
}

func condition(t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason, msg string, ts metav1.Time) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: msg, LastUpdateTime: ts, LastTransitionTime: ts}
}

func getCondition(s appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			c := s.Conditions[i]
			return &c
		}
	}
	return nil
}

// setCondition is k8s' SetDeploymentCondition: no change when status and reason are
// the same; lastTransitionTime kept when only the reason changes; the condition moves
// to the end of the list.
func setCondition(s *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(*s, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(s, c.Type)
	s.Conditions = append(s.Conditions, c)
}

func removeCondition(s *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var out []appsv1.DeploymentCondition
	for _, c := range s.Conditions {
		if c.Type != t {
			out = append(out, c)
		}
	}
	s.Conditions = out
}

// desiredReplicas is spec.replicas, defaulted to 1 as the API server does.
func desiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// progressDeadline is spec.progressDeadlineSeconds defaulted to 600; MaxInt32 = none.
func progressDeadline(d *appsv1.Deployment) (time.Duration, bool) {
	s := int32(DefaultProgressDeadlineSeconds)
	if d.Spec.ProgressDeadlineSeconds != nil {
		s = *d.Spec.ProgressDeadlineSeconds
	}
	if s == math.MaxInt32 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// maxUnavailable is k8s' deploymentutil.MaxUnavailable with the API server's defaults
// (RollingUpdate, maxSurge and maxUnavailable 25%).
func maxUnavailable(d *appsv1.Deployment) int32 {
	desired := desiredReplicas(d)
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType || desired == 0 {
		return 0
	}
	quarter := intstr.FromString("25%")
	surge, unavail := &quarter, &quarter
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			surge = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			unavail = ru.MaxUnavailable
		}
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(surge, int(desired), true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(unavail, int(desired), false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return min(int32(u), desired)
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

func templateImage(t *corev1.PodTemplateSpec) string {
	if len(t.Spec.Containers) == 0 {
		return ""
	}
	return t.Spec.Containers[0].Image
}

// safeAlphabet is k8s.io/apimachinery/pkg/util/rand's SafeEncodeString alphabet
// (no vowels, no 0/1/3: no bad words, no look-alikes).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func safeEncode(v uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = safeAlphabet[v%uint64(len(safeAlphabet))]
		v /= uint64(len(safeAlphabet))
	}
	return string(b)
}

// PodTemplateHash is the pod-template-hash the simulator names ReplicaSets and pods by:
// FNV-1a (64 bit) of the template's JSON, 10 characters of the SafeEncodeString
// alphabet. The API server's defaults are applied to a copy first, so a template
// written without them (fake client) and the same template read back from a real API
// server hash alike.
func PodTemplateHash(t *corev1.PodTemplateSpec) string {
	c := t.DeepCopy()
	delete(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	defaultPodSpec(&c.Spec)
	b, err := json.Marshal(c)
	if err != nil { // cannot happen for a PodTemplateSpec
		b = []byte(fmt.Sprintf("%#v", c))
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return safeEncode(h.Sum64(), 10)
}

// defaultPodSpec applies the defaults the API server sets on a Deployment's pod
// template (k8s.io/kubernetes pkg/apis/core/v1 defaults.go), for the fields a
// simulated workload can plausibly carry.
func defaultPodSpec(s *corev1.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		p := int64(corev1.DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &p
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	mode := func(m **int32, v int32) {
		if *m == nil {
			*m = &v
		}
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		if v.VolumeSource == (corev1.VolumeSource{}) {
			v.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		if v.Secret != nil {
			mode(&v.Secret.DefaultMode, corev1.SecretVolumeSourceDefaultMode)
		}
		if v.ConfigMap != nil {
			mode(&v.ConfigMap.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode)
		}
		if v.DownwardAPI != nil {
			mode(&v.DownwardAPI.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode)
			for j := range v.DownwardAPI.Items {
				defaultFieldRef(v.DownwardAPI.Items[j].FieldRef)
			}
		}
		if v.Projected != nil {
			mode(&v.Projected.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
			for j := range v.Projected.Sources {
				src := &v.Projected.Sources[j]
				if src.DownwardAPI != nil {
					for k := range src.DownwardAPI.Items {
						defaultFieldRef(src.DownwardAPI.Items[k].FieldRef)
					}
				}
				if src.ServiceAccountToken != nil && src.ServiceAccountToken.ExpirationSeconds == nil {
					hour := int64(3600)
					src.ServiceAccountToken.ExpirationSeconds = &hour
				}
			}
		}
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for j := range c.Ports {
		if c.Ports[j].Protocol == "" {
			c.Ports[j].Protocol = corev1.ProtocolTCP
		}
	}
	for j := range c.Env {
		if vf := c.Env[j].ValueFrom; vf != nil {
			defaultFieldRef(vf.FieldRef)
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.TimeoutSeconds == 0 {
			p.TimeoutSeconds = 1
		}
		if p.PeriodSeconds == 0 {
			p.PeriodSeconds = 10
		}
		if p.SuccessThreshold == 0 {
			p.SuccessThreshold = 1
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = 3
		}
		if g := p.HTTPGet; g != nil {
			if g.Path == "" {
				g.Path = "/"
			}
			if g.Scheme == "" {
				g.Scheme = corev1.URISchemeHTTP
			}
		}
		if g := p.GRPC; g != nil && g.Service == nil {
			empty := ""
			g.Service = &empty
		}
	}
}

func defaultFieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

// defaultPullPolicy is the API server's default imagePullPolicy (SetDefaults_Container,
// which reads the tag as k8s.io/kubernetes' parsers.ParseImageName does): Always for
// an image tagged or defaulting to latest, IfNotPresent otherwise, an unparsable one
// included.
func defaultPullPolicy(image string) corev1.PullPolicy {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return corev1.PullIfNotPresent
	}
	tagged, isTagged := named.(reference.Tagged)
	_, isDigested := named.(reference.Digested)
	if isTagged && tagged.Tag() == "latest" || !isTagged && !isDigested {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
