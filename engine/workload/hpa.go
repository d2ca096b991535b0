package workload

import (
	"context"
	"fmt"

	"github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// HPAKind is the autoscalerRef kind HPA reconciles.
const HPAKind = "HorizontalPodAutoscaler"

// HPA keeps the primary's HorizontalPodAutoscaler in step with the target's (Flagger's
// HPAReconciler, pkg/canary/hpa_reconciler.go; docs/flagger-semantics.md#autoscaler).
// It implements engine.Autoscaler. It only writes autoscaling/v2 objects; nothing here
// scales anything: that is the HPA controller's job, which the simulator does not run.
type HPA struct {
	// Client reads the target's HPA and writes <autoscalerRef.name>-primary. (Flagger's
	// -include-label-prefix would select the labels an update copies, but no update
	// writes them: see ReconcilePrimary.)
	Client client.Client
}

// ReconcilePrimary is Flagger's ReconcilePrimaryScaler for an HPA. It reads the HPA
// autoscalerRef names (an error when it cannot: "HorizontalPodAutoscaler %s.%s get
// query error: %s") and creates <name>-primary when absent: the target HPA's spec with
// scaleTargetRef naming <target>-primary, primaryScalerReplicas overriding min and
// max, the target HPA's labels without Flux keys, no annotations, owned by the Canary.
// Unless init, an existing primary HPA whose metrics, behavior, min, max, labels or
// annotations differ from the target's (go-cmp, nil and empty differ; min nil counts
// as 1) gets the spec fields written. Flagger also means to copy the labels and
// annotations then, but passes the object's metadata by value, so they never change;
// that is reproduced.
func (h *HPA) ReconcilePrimary(ctx context.Context, cd *v1beta1.Canary, init bool) error {
	ref := cd.Spec.AutoscalerRef
	if ref == nil {
		return nil
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := h.Client.Get(ctx, types.NamespacedName{Namespace: cd.Namespace, Name: ref.Name}, hpa, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("HorizontalPodAutoscaler %s.%s get query error: %s", ref.Name, cd.Namespace, err)
	}
	_, primaryName := names(cd)
	spec := autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
			Name:       primaryName,
			Kind:       hpa.Spec.ScaleTargetRef.Kind,
			APIVersion: hpa.Spec.ScaleTargetRef.APIVersion,
		},
		MinReplicas: clonePtr(hpa.Spec.MinReplicas),
		MaxReplicas: hpa.Spec.MaxReplicas,
		Metrics:     copyMetrics(hpa.Spec.Metrics),
		Behavior:    hpa.Spec.Behavior.DeepCopy(),
	}
	if r := ref.PrimaryScalerReplicas; r != nil {
		if r.MinReplicas != nil {
			spec.MinReplicas = clonePtr(r.MinReplicas)
		}
		if r.MaxReplicas != nil {
			spec.MaxReplicas = *r.MaxReplicas
		}
	}

	primaryHPAName := ref.Name + "-primary"
	key := types.NamespacedName{Namespace: cd.Namespace, Name: primaryHPAName}
	primary := &autoscalingv2.HorizontalPodAutoscaler{}
	err := h.Client.Get(ctx, key, primary, client.UnsafeDisableDeepCopy)
	if apierrors.IsNotFound(err) {
		primary = &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{
				Name:            primaryHPAName,
				Namespace:       cd.Namespace,
				Labels:          withoutToolkit(hpa.Labels),
				OwnerReferences: []metav1.OwnerReference{v1beta1.ControllerRef(h.Client, cd)},
			},
			Spec: spec,
		}
		if err := h.Client.Create(ctx, primary); err != nil {
			return fmt.Errorf("creating HorizontalPodAutoscaler v2 %s.%s failed: %w", primaryHPAName, cd.Namespace, err)
		}
		return nil
	}
	if err != nil {
		// Flagger names the object client-go returned with the error: an empty one.
		return fmt.Errorf("HorizontalPodAutoscaler v2 %s.%s get query failed: %w", "", "", err)
	}
	if init || !hpaChanged(hpa, &spec, primary) {
		return nil
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		fresh := &autoscalingv2.HorizontalPodAutoscaler{}
		if err := h.Client.Get(ctx, key, fresh); err != nil {
			return err
		}
		fresh.Spec.MaxReplicas = spec.MaxReplicas
		fresh.Spec.MinReplicas = clonePtr(spec.MinReplicas)
		fresh.Spec.Metrics = copyMetrics(spec.Metrics)
		fresh.Spec.Behavior = spec.Behavior.DeepCopy()
		// Flagger's updateObjectMeta(primaryHpaClone.ObjectMeta, hpa.ObjectMeta) sets
		// labels and annotations on a copy of the metadata: nothing of it is written.
		return h.Client.Update(ctx, fresh)
	})
	if err != nil {
		return fmt.Errorf("updating HorizontalPodAutoscaler v2 %s.%s failed: %w", primaryHPAName, cd.Namespace, err)
	}
	return nil
}

// hpaChanged is Flagger's hasHPAChanged: the target's metrics, behavior, labels and
// annotations against the primary's, with go-cmp (nil and empty differ), and min
// (nil = 1) and max replicas.
func hpaChanged(target *autoscalingv2.HorizontalPodAutoscaler, spec *autoscalingv2.HorizontalPodAutoscalerSpec, primary *autoscalingv2.HorizontalPodAutoscaler) bool {
	return !cmp.Equal(spec.Metrics, primary.Spec.Metrics) ||
		!cmp.Equal(spec.Behavior, primary.Spec.Behavior) ||
		!cmp.Equal(target.Labels, primary.Labels) ||
		!cmp.Equal(target.Annotations, primary.Annotations) ||
		int32OrOne(spec.MinReplicas) != int32OrOne(primary.Spec.MinReplicas) ||
		spec.MaxReplicas != primary.Spec.MaxReplicas
}

func int32OrOne(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// copyMetrics deep-copies metric specs (the target HPA is a view of a cached object).
func copyMetrics(in []autoscalingv2.MetricSpec) []autoscalingv2.MetricSpec {
	if in == nil {
		return nil
	}
	out := make([]autoscalingv2.MetricSpec, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}
