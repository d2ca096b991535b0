package analysis_test

import (
	"context"
	"errors"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/analysis"
)

// canary is the test canary: named differently from its target so that messages
// prove which one they print.
func canary(metrics ...v1beta1.CanaryMetric) *v1beta1.Canary {
	return &v1beta1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo-canary", Namespace: "default"},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  &v1beta1.CanaryAnalysis{Metrics: metrics},
		},
	}
}

type sourceCall struct {
	Provider    v1beta1.MetricTemplateProvider
	Credentials map[string][]byte
	Query       string
}

// fakeSource answers every query with answer(query) and records the calls.
type fakeSource struct {
	answer func(query string) (float64, error)
	calls  []sourceCall
}

func (f *fakeSource) Query(_ context.Context, p v1beta1.MetricTemplateProvider, q string) (float64, error) {
	f.calls = append(f.calls, sourceCall{Provider: p, Query: q})
	return f.answer(q)
}

func (f *fakeSource) queries() []string {
	var qs []string
	for _, c := range f.calls {
		qs = append(qs, c.Query)
	}
	return qs
}

// credSource also receives the template's secret data.
type credSource struct{ fakeSource }

func (f *credSource) QueryWithCredentials(_ context.Context, p v1beta1.MetricTemplateProvider, creds map[string][]byte, q string) (float64, error) {
	f.calls = append(f.calls, sourceCall{Provider: p, Credentials: creds, Query: q})
	return f.answer(q)
}

func constant(v float64) func(string) (float64, error) {
	return func(string) (float64, error) { return v, nil }
}

func failing(err error) func(string) (float64, error) {
	return func(string) (float64, error) { return 0, err }
}

// noValues answers like PickValue on an empty vector; nan like PickValue on NaN.
func noValues(string) (float64, error) { return analysis.PickValue(nil) }
func nan(string) (float64, error)      { return analysis.PickValue([]float64{math.NaN()}) }

// byQuery answers by the first substring of the query found in answers.
func byQuery(answers map[string]float64) func(string) (float64, error) {
	return func(q string) (float64, error) {
		for k, v := range answers {
			if strings.Contains(q, k) {
				return v, nil
			}
		}
		return 0, errors.New("unexpected query " + q)
	}
}

func template(name, namespace, query string, provider v1beta1.MetricTemplateProvider) *v1beta1.MetricTemplate {
	return &v1beta1.MetricTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       v1beta1.MetricTemplateSpec{Provider: provider, Query: query},
	}
}

var promProvider = v1beta1.MetricTemplateProvider{Type: "prometheus", Address: "http://prom.monitoring:9090"}

func fakeClient(objs ...client.Object) client.Client {
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func ptr(v float64) *float64 { return &v }

func tr(lo, hi *float64) *v1beta1.CanaryThresholdRange {
	return &v1beta1.CanaryThresholdRange{Min: lo, Max: hi}
}
