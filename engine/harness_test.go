package engine_test

import (
	"context"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	istio "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/engine/router"
	"aviary.dev/aviary/sim/cluster"
)

// The harness: sim's fake API server, a fake clock, a scripted metric source, a
// scripted webhook caller, an event sink and a tick log. Ticks are driven by hand,
// like Flagger's scheduler tests call advanceCanary.

const (
	ns       = "test"
	imageV1  = "podinfo:6.0.0"
	imageV2  = "podinfo:6.0.1"
	imageV3  = "podinfo:6.0.2"
	interval = time.Minute
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// newCanary is the test canary "podinfo.test" for the Deployment "podinfo": Istio,
// interval 1m, threshold 5, stepWeight 10, maxWeight 50, and the two builtin
// metrics (success rate >= 99%, duration <= 500ms), which the fake metric source
// passes by default.
func newCanary() *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service:   v1beta1.CanaryService{Port: 9898},
			Analysis: &v1beta1.CanaryAnalysis{
				Interval:   "1m",
				Threshold:  5,
				StepWeight: 10,
				MaxWeight:  50,
				Metrics: []v1beta1.CanaryMetric{
					{Name: "request-success-rate", Interval: "1m", ThresholdRange: &v1beta1.CanaryThresholdRange{Min: ptr(99.0)}},
					{Name: "request-duration", Interval: "1m", ThresholdRange: &v1beta1.CanaryThresholdRange{Max: ptr(500.0)}},
				},
			},
		},
	}
}

// hook is a webhook of the given type named after it unless a name is given.
func hook(typ v1beta1.HookType, name ...string) v1beta1.CanaryWebhook {
	n := string(typ)
	if len(name) > 0 {
		n = name[0]
	}
	return v1beta1.CanaryWebhook{Type: typ, Name: n, URL: "http://hooks.test/" + n}
}

// ---- fakes ----

// fakeMetrics answers queries by substring rules (the last rule added wins), else
// vector(1) -> 1 and anything else -> 100, like Flagger's fake Prometheus.
type fakeMetrics struct {
	rules   []metricRule
	queries []string
}

type metricRule struct {
	substr string
	value  float64
	err    error
}

func (m *fakeMetrics) Query(_ context.Context, _ v1beta1.MetricTemplateProvider, q string) (float64, error) {
	m.queries = append(m.queries, q)
	for i := len(m.rules) - 1; i >= 0; i-- {
		if strings.Contains(q, m.rules[i].substr) {
			return m.rules[i].value, m.rules[i].err
		}
	}
	if strings.Contains(q, "vector(1)") {
		return 1, nil
	}
	return 100, nil
}

func (m *fakeMetrics) set(substr string, v float64) {
	m.rules = append(m.rules, metricRule{substr: substr, value: v})
}
func (m *fakeMetrics) fail(substr string, err error) {
	m.rules = append(m.rules, metricRule{substr: substr, err: err})
}

// Substrings of the Istio builtin queries.
const (
	successRateQuery = "istio_requests_total"
	durationQuery    = "istio_request_duration_milliseconds_bucket"
)

// hookCall is one call received by fakeHooks.
type hookCall struct {
	Name, Type string
	Payload    hooks.Payload
}

// fakeHooks answers each webhook by name from a script (one answer per call, the
// last one repeating; no script = success) and records every call.
type fakeHooks struct {
	script map[string][]error
	calls  []hookCall
}

func (h *fakeHooks) Call(_ context.Context, wh v1beta1.CanaryWebhook, p hooks.Payload) error {
	typ := string(wh.Type)
	if typ == "" {
		typ = string(v1beta1.RolloutHook)
	}
	h.calls = append(h.calls, hookCall{Name: wh.Name, Type: typ, Payload: p})
	s := h.script[wh.Name]
	if len(s) == 0 {
		return nil
	}
	err := s[0]
	if len(s) > 1 {
		h.script[wh.Name] = s[1:]
	}
	return err
}

// answer scripts the next answers of the hook named name (nil = success).
func (h *fakeHooks) answer(name string, errs ...error) {
	if h.script == nil {
		h.script = map[string][]error{}
	}
	h.script[name] = errs
}

var errRefused = errors.New("403 Forbidden")

// phasesOf returns the payload phases of the calls of one webhook type, in order.
func (h *fakeHooks) phasesOf(typ v1beta1.HookType) []string {
	out := []string{}
	for _, c := range h.calls {
		if c.Type == string(typ) {
			out = append(out, c.Payload.Phase)
		}
	}
	return out
}

// eventMessages is what the event webhooks received: "<phase>|<type>|<message>".
func (h *fakeHooks) eventMessages() []string {
	out := []string{}
	for _, c := range h.calls {
		if c.Type == string(v1beta1.EventHook) {
			out = append(out, c.Payload.Phase+"|"+c.Payload.Metadata["eventType"]+"|"+c.Payload.Metadata["eventMessage"])
		}
	}
	return out
}

// sinkEvent is one event received by the event sink.
type sinkEvent struct {
	Phase, Type, Reason, Message string
}

type eventSink struct{ events []sinkEvent }

func (s *eventSink) Event(obj runtime.Object, eventType, reason, message string) {
	cd := obj.(*v1beta1.Canary)
	s.events = append(s.events, sinkEvent{Phase: string(cd.Status.Phase), Type: eventType, Reason: reason, Message: message})
}

type tickLog struct{ records []engine.TickRecord }

func (l *tickLog) ObserveTick(r engine.TickRecord) { l.records = append(l.records, r) }

// ---- fixture ----

type fixture struct {
	ctx     context.Context
	c       client.Client
	clock   *clocktesting.FakeClock
	metrics *fakeMetrics
	hooks   *fakeHooks
	sink    *eventSink
	log     *tickLog
	engine  *engine.Engine
	key     types.NamespacedName
	target  string
}

// newFixture creates the target Deployment (as sim's runner does: selector
// app=<name>, one container, 1 replica, image podinfo:6.0.0) and the canary.
func newFixture(cd *v1beta1.Canary) *fixture {
	s, err := cluster.NewScheme()
	Expect(err).NotTo(HaveOccurred())
	return newFixtureWithClient(cd, cluster.NewFakeClient(s, nil))
}

func newFixtureWithClient(cd *v1beta1.Canary, c client.Client) *fixture {
	f := &fixture{
		ctx:     context.Background(),
		c:       c,
		clock:   clocktesting.NewFakeClock(epoch),
		metrics: &fakeMetrics{},
		hooks:   &fakeHooks{},
		sink:    &eventSink{},
		log:     &tickLog{},
		key:     types.NamespacedName{Namespace: cd.Namespace, Name: cd.Name},
		target:  cd.Spec.TargetRef.Name,
	}
	f.engine = &engine.Engine{
		Client: c, Clock: f.clock, Metrics: f.metrics, Webhooks: f.hooks,
		Events: f.sink, Observer: f.log,
	}
	Expect(c.Create(f.ctx, targetDeployment(cd))).To(Succeed())
	Expect(c.Create(f.ctx, cd.DeepCopy())).To(Succeed())
	return f
}

func targetDeployment(cd *v1beta1.Canary) *appsv1.Deployment {
	name := cd.Spec.TargetRef.Name
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cd.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  name,
					Image: imageV1,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: cd.Spec.Service.Port, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		},
	}
}

// tickErr runs one tick, then moves the clock on by the returned interval (or 1m).
func (f *fixture) tickErr() (engine.TickRecord, error) {
	n := len(f.log.records)
	next, err := f.engine.Tick(f.ctx, f.key)
	ExpectWithOffset(2, f.log.records).To(HaveLen(n+1), "one TickRecord per Tick")
	if next <= 0 {
		next = interval
	}
	f.clock.Step(next)
	return f.log.records[n], err
}

// tick runs one tick that must not fail.
func (f *fixture) tick() engine.TickRecord {
	rec, err := f.tickErr()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return rec
}

// step marks both Deployments ready, then ticks.
func (f *fixture) step() engine.TickRecord {
	f.markReady(f.target)
	f.markReady(f.target + "-primary")
	rec, err := f.tickErr()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return rec
}

func (f *fixture) canary() *v1beta1.Canary {
	cd := &v1beta1.Canary{}
	ExpectWithOffset(1, f.c.Get(f.ctx, f.key, cd)).To(Succeed())
	return cd
}

func (f *fixture) deployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	ExpectWithOffset(1, f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: name}, d)).To(Succeed())
	return d
}

func (f *fixture) replicas(name string) int32 {
	return *f.deployment(name).Spec.Replicas
}

func (f *fixture) image(name string) string {
	return f.deployment(name).Spec.Template.Spec.Containers[0].Image
}

// markReady writes a finished rollout into the Deployment's status, as the
// Deployment controller would.
func (f *fixture) markReady(name string) {
	d := f.deployment(name)
	r := *d.Spec.Replicas
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
	}
	ExpectWithOffset(1, f.c.Status().Update(f.ctx, d)).To(Succeed())
}

// markDeadlineExceeded writes what the Deployment controller writes when a rollout
// is stuck past spec.progressDeadlineSeconds.
func (f *fixture) markDeadlineExceeded(name string) {
	d := f.deployment(name)
	now := metav1.NewTime(f.clock.Now())
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           1, UpdatedReplicas: 1, ReadyReplicas: 0, AvailableReplicas: 0, UnavailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
				LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
				LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	ExpectWithOffset(1, f.c.Status().Update(f.ctx, d)).To(Succeed())
}

// setImage changes the target's image: a new revision.
func (f *fixture) setImage(image string) {
	d := f.deployment(f.target)
	d.Spec.Template.Spec.Containers[0].Image = image
	ExpectWithOffset(1, f.c.Update(f.ctx, d)).To(Succeed())
}

// updateCanary edits the canary's spec.
func (f *fixture) updateCanary(edit func(cd *v1beta1.Canary)) {
	cd := f.canary()
	edit(cd)
	ExpectWithOffset(1, f.c.Update(f.ctx, cd)).To(Succeed())
}

// patchStatus edits the canary's status, like Flagger's tests force a state.
func (f *fixture) patchStatus(edit func(st *v1beta1.CanaryStatus)) {
	cd := f.canary()
	edit(&cd.Status)
	ExpectWithOffset(1, f.c.Status().Update(f.ctx, cd)).To(Succeed())
}

func (f *fixture) istio() *router.Istio { return &router.Istio{Client: f.c} }

// routes reads the VirtualService's weights.
func (f *fixture) routes() (primary, canary int, mirrored bool) {
	p, c, m, err := f.istio().GetRoutes(f.ctx, f.canary())
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p, c, m
}

func (f *fixture) setRoutes(primary, canary int) {
	ExpectWithOffset(1, f.istio().SetRoutes(f.ctx, f.canary(), primary, canary, false)).To(Succeed())
}

func (f *fixture) virtualServiceExists() bool {
	return f.c.Get(f.ctx, types.NamespacedName{Namespace: ns, Name: f.target}, &istio.VirtualService{}) == nil
}

// initialize runs the two initialization ticks (primary created, then ready).
func (f *fixture) initialize() {
	f.tick()
	f.markReady(f.target + "-primary")
	f.tick()
	ExpectWithOffset(1, f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseInitialized))
}

// startRevision initializes, changes the image and runs the detection tick; the
// canary is then Progressing at weight 0.
func (f *fixture) startRevision() {
	f.initialize()
	f.setImage(imageV2)
	f.tick()
	ExpectWithOffset(1, f.canary().Status.Phase).To(Equal(v1beta1.CanaryPhaseProgressing))
}

// reset forgets the calls, queries and events recorded so far.
func (f *fixture) reset() {
	f.hooks.calls = nil
	f.metrics.queries = nil
	f.sink.events = nil
}

// messages are the event messages of a record.
func messages(rec engine.TickRecord) []string {
	out := []string{}
	for _, e := range rec.Events {
		out = append(out, e.Message)
	}
	return out
}

// typed are the events of a record as "<type>|<message>".
func typed(rec engine.TickRecord) []string {
	out := []string{}
	for _, e := range rec.Events {
		out = append(out, e.Type+"|"+e.Message)
	}
	return out
}

// phased are the events of a record as "<phase>|<type>|<message>", the phase being
// that of the canary the event is about (the event webhooks' payload phase).
func phased(rec engine.TickRecord) []string {
	out := []string{}
	for _, e := range rec.Events {
		out = append(out, e.Phase+"|"+e.Type+"|"+e.Message)
	}
	return out
}

// routeChanges are the SetRoutes calls of a record as [primary, canary] pairs.
func routeChanges(rec engine.TickRecord) [][2]int {
	out := [][2]int{}
	for _, r := range rec.Routes {
		out = append(out, [2]int{r.Primary, r.Canary})
	}
	return out
}

// hookTypes are the non-event webhook calls of a record as "<type>:<phase>".
func hookTypes(rec engine.TickRecord) []string {
	out := []string{}
	for _, h := range rec.Hooks {
		if h.Type != string(v1beta1.EventHook) {
			out = append(out, h.Type+":"+h.Phase)
		}
	}
	return out
}

// counters is the part of a status the tables compare.
type counters struct {
	Phase        v1beta1.CanaryPhase
	CanaryWeight int
	FailedChecks int
	Iterations   int
}

func (f *fixture) counters() counters {
	st := f.canary().Status
	return counters{st.Phase, st.CanaryWeight, st.FailedChecks, st.Iterations}
}

func configMap(name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string]string{"k": value},
	}
}

func envFromConfigMap(name string) []corev1.EnvFromSource {
	return []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name},
	}}}
}
