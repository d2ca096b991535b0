package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/world"
)

// Stage is what a scenario puts on a Kubernetes API and does there besides the
// engine, whatever time it is played in: the objects it creates (Setup), its
// timeline's actions (Apply), the Deployment simulator with the scenario's readiness
// faults, the world with the traffic split read from the router's objects (Routing),
// and the webhook script (WebhookScript). The runner plays it in virtual time, with
// the engine; sim serve (sim/serve) in wall-clock time, beside a live controller. So
// every rule of how a scenario acts on a cluster has one source.
type Stage struct {
	l         *scenario.Loaded
	sc        *scenario.Scenario
	canary    *v1beta1.Canary
	namespace string
	key       types.NamespacedName
	client    client.Client
	// start is time zero of the scenario: the timeline's, the faults' and the
	// webhook replies' offsets count from it.
	start       time.Time
	deployments *cluster.DeploymentSimulator
	world       *world.Model
}

// NewStage prepares l's stage on c, with time zero at start: the Deployment
// simulator of the Canary's namespace and the world, which writes its samples to
// store and reads the traffic split with routes (nil: Routing at every scrape). It
// creates nothing yet (Setup does).
func NewStage(l *scenario.Loaded, c client.Client, start time.Time, store *promstore.Storage, routes func(context.Context) (world.Routing, error)) (*Stage, error) {
	s := &Stage{l: l, sc: l.Scenario, client: c, start: start, canary: l.Canary.DeepCopy()}
	// The policy's namespace; envtest runs isolate scenarios in the client instead
	// (cluster.ScenarioClient), so messages and queries read the same in both modes.
	s.namespace = s.canary.Namespace
	s.key = types.NamespacedName{Namespace: s.namespace, Name: s.canary.Name}
	s.deployments = cluster.NewDeploymentSimulator(c, s.namespace, s.sc.Spec.Target.StartupDelay.Duration, s.readyOverride)
	if l.ReadinessFromProbes {
		s.deployments.UseReadinessProbes()
	}
	if routes == nil {
		routes = s.Routing
	}
	apex, _, _ := s.canary.GetServiceNames()
	w, err := world.New(world.Config{
		Spec:         s.sc.Spec.World,
		Namespace:    s.namespace,
		Target:       s.canary.Spec.TargetRef.Name,
		Service:      apex,
		InitialImage: s.sc.Spec.Target.Image,
		Start:        start,
		Store:        store,
		Pods:         podSource{s.deployments},
		Routes:       routes,
	})
	if err != nil {
		return nil, s.WorldError(err)
	}
	s.world = w
	return s, nil
}

// Loaded is the scenario the stage plays.
func (s *Stage) Loaded() *scenario.Loaded { return s.l }

// Canary names the Canary the stage creates.
func (s *Stage) Canary() types.NamespacedName { return s.key }

// Deployments is the Deployment simulator of the Canary's namespace.
func (s *Stage) Deployments() *cluster.DeploymentSimulator { return s.deployments }

// World is the stage's world.
func (s *Stage) World() *world.Model { return s.world }

// WorldError is a problem of the world's, at the spec.world field it is about.
func (s *Stage) WorldError(err error) error {
	if fe, ok := errors.AsType[world.FieldError](err); ok {
		return s.l.FieldError("spec.world."+fe.Path, errors.New(fe.Msg))
	}
	return err
}

// objectError is a problem of a policy object the API server refused (obj is the
// loaded one), at the field its first cause names.
func (s *Stage) objectError(obj client.Object, err error) error {
	field := ""
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		if d := st.Status().Details; d != nil && len(d.Causes) > 0 {
			field = d.Causes[0].Field
		}
	}
	if e, ok := s.l.ObjectError(obj, field, err); ok {
		return e
	}
	return err
}

// podSource shows the world the pods of the Deployment simulator: the one place
// where the world and the cluster side meet over pods.
type podSource struct{ d *cluster.DeploymentSimulator }

func (s podSource) AppendPods(buf []world.Pod, deployment string) ([]world.Pod, string, bool) {
	image, known := s.d.EachPod(deployment, func(p cluster.Pod) { buf = append(buf, world.Pod(p)) })
	return buf, image, known
}

// WebhookScript answers each webhook call with the replies of the spec.hooks entry
// that selects it (scenario.SelectEndpoint: by the hook's name, metadata and URL).
func WebhookScript(hooks []scenario.WebhookEndpoint) cluster.WebhookScript {
	replies := make([][]cluster.WebhookReply, len(hooks))
	for i, h := range hooks {
		for _, resp := range h.Responses {
			replies[i] = append(replies[i], cluster.WebhookReply{
				From: resp.From.Duration, Delay: resp.Delay.Duration, Status: resp.Status, Body: resp.Body})
		}
	}
	return func(hook v1beta1.CanaryWebhook, url string) []cluster.WebhookReply {
		call := scenario.WebhookCall{Name: hook.Name, URL: url}
		if hook.Metadata != nil {
			call.Metadata = *hook.Metadata
		}
		if i := scenario.SelectEndpoint(hooks, call); i >= 0 {
			return replies[i]
		}
		return nil
	}
}

// readyOverride applies `ready` faults to the Deployment simulator.
func (s *Stage) readyOverride(image string, now time.Time) (ready bool, overridden bool) {
	at := now.Sub(s.start)
	for _, f := range s.sc.Spec.World.Faults {
		if f.Ready == nil || (f.Image != "" && f.Image != image) || !f.Active(at) {
			continue
		}
		ready, overridden = *f.Ready, true
	}
	return ready, overridden
}

// Setup creates the namespaces (the policy's own Namespace objects as given, bare
// ones for the others), the policy's other objects (ConfigMaps, Secrets, Services,
// HPAs, ...), the target Deployment, the MetricTemplates, AlertProviders and the
// Canary, each in its own namespace, as given.
func (s *Stage) Setup(ctx context.Context) error {
	written := map[string]*corev1.Namespace{}
	for _, o := range s.l.Objects {
		if n, ok := o.(*corev1.Namespace); ok {
			written[n.Name] = n
		}
	}
	for _, ns := range s.Namespaces() {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if n, ok := written[ns]; ok {
			obj = n.DeepCopy()
		}
		if err := s.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			err = fmt.Errorf("setup: create namespace %s: %w", ns, err)
			if n, ok := written[ns]; ok {
				return s.objectError(n, err)
			}
			return err
		}
	}
	for _, o := range s.l.Objects {
		if _, ok := o.(*corev1.Namespace); ok {
			continue
		}
		if err := s.client.Create(ctx, o.DeepCopyObject().(client.Object)); err != nil {
			return s.objectError(o, fmt.Errorf("setup: create %T %s.%s: %w", o, o.GetName(), o.GetNamespace(), err))
		}
	}
	if err := s.client.Create(ctx, s.targetDeployment()); err != nil {
		err = fmt.Errorf("setup: create target deployment: %w", err)
		if s.l.Target != nil {
			return s.objectError(s.l.Target, err)
		}
		// made from spec.target, with the Canary's targetRef.name and service port
		return s.l.FieldError("spec.target", err)
	}
	for _, t := range s.l.Templates {
		if err := s.client.Create(ctx, t.DeepCopy()); err != nil {
			return s.objectError(t, fmt.Errorf("setup: create MetricTemplate %s.%s: %w", t.Name, t.Namespace, err))
		}
	}
	for _, a := range s.l.AlertProviders {
		if err := s.client.Create(ctx, a.DeepCopy()); err != nil {
			return s.objectError(a, fmt.Errorf("setup: create AlertProvider %s.%s: %w", a.Name, a.Namespace, err))
		}
	}
	if err := s.client.Create(ctx, s.canary.DeepCopy()); err != nil {
		return s.objectError(s.l.Canary, fmt.Errorf("setup: create Canary %s: %w", s.canary.Name, err))
	}
	return nil
}

// Namespaces are the namespaces of the stage's objects (ScenarioNamespaces).
func (s *Stage) Namespaces() []string { return ScenarioNamespaces(s.l) }

// ScenarioNamespaces are the namespaces of the objects l's stage creates: the
// Canary's first, then the others in the order they are first named.
func ScenarioNamespaces(l *scenario.Loaded) []string {
	out := []string{l.Canary.Namespace}
	add := func(ns string) {
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	for _, o := range l.Objects {
		if n, ok := o.(*corev1.Namespace); ok {
			add(n.Name)
			continue
		}
		add(o.GetNamespace())
	}
	for _, t := range l.Templates {
		add(t.Namespace)
	}
	for _, a := range l.AlertProviders {
		add(a.Namespace)
	}
	return out
}

// targetDeployment is the workload the Canary's targetRef names: the policy's own
// Deployment when it holds one, else one as a user would have deployed it: selector
// label app=<name>, one container serving the service port.
func (s *Stage) targetDeployment() *appsv1.Deployment {
	if s.l.Target != nil {
		return s.l.Target.DeepCopy()
	}
	name := s.canary.Spec.TargetRef.Name
	labels := map[string]string{"app": name}
	port := s.canary.Spec.Service.Port
	if tp := s.canary.Spec.Service.TargetPort; tp.Type == intstr.Int && tp.IntVal > 0 {
		port = tp.IntVal
	}
	if port == 0 {
		port = 8080
	}
	replicas := *s.sc.Spec.Target.Replicas
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  name,
					Image: s.sc.Spec.Target.Image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		},
	}
}

// ReadyFaultBoundaries are the instants at which a `ready` fault starts or ends, sorted.
func (s *Stage) ReadyFaultBoundaries() []time.Time {
	var out []time.Time
	for _, f := range s.sc.Spec.World.Faults {
		if f.Ready == nil {
			continue
		}
		out = append(out, s.start.Add(f.From.Duration))
		if f.Until.Duration > 0 {
			out = append(out, s.start.Add(f.Until.Duration))
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// Apply performs timeline action i.
func (s *Stage) Apply(ctx context.Context, i int) error {
	a := s.sc.Spec.Timeline[i]
	field := fmt.Sprintf("spec.timeline[%d]", i)
	if a.Image != "" {
		err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
			d := &appsv1.Deployment{}
			if err := s.client.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: s.canary.Spec.TargetRef.Name}, d); err != nil {
				return err
			}
			d.Spec.Template.Spec.Containers[0].Image = a.Image
			return s.client.Update(ctx, d)
		})
		if err != nil {
			return s.l.FieldError(field+".image", fmt.Errorf("set image %s: %w", a.Image, err))
		}
	}
	if a.Patch != nil {
		if err := s.patchCanary(ctx, a.Patch); err != nil {
			return s.l.FieldError(field+".patch", err)
		}
	}
	if c := a.ConfigMap; c != nil {
		err := s.updateConfig(ctx, c.Name, &corev1.ConfigMap{}, func(o client.Object) { o.(*corev1.ConfigMap).Data = maps.Clone(c.Data) })
		if err != nil {
			return s.l.FieldError(field+".configMap", err)
		}
	}
	if c := a.Secret; c != nil {
		err := s.updateConfig(ctx, c.Name, &corev1.Secret{}, func(o client.Object) { o.(*corev1.Secret).Data = c.SecretData() })
		if err != nil {
			return s.l.FieldError(field+".secret", err)
		}
	}
	return nil
}

// updateConfig writes a new version of a ConfigMap or Secret of the Canary's
// namespace, as `kubectl apply` of its changed manifest would.
func (s *Stage) updateConfig(ctx context.Context, name string, obj client.Object, set func(client.Object)) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if err := s.client.Get(ctx, types.NamespacedName{Namespace: s.namespace, Name: name}, obj); err != nil {
			return err
		}
		set(obj)
		return s.client.Update(ctx, obj)
	})
}

// patchCanary applies a JSON merge patch to the Canary, as `kubectl patch --type merge`.
func (s *Stage) patchCanary(ctx context.Context, patch map[string]any) error {
	body, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	cd := &v1beta1.Canary{}
	if err := s.client.Get(ctx, s.key, cd); err != nil {
		return err
	}
	return s.client.Patch(ctx, cd, client.RawPatch(types.MergePatchType, body))
}
