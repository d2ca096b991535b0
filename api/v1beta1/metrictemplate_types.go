package v1beta1

import (
	"net/http"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// MetricTemplateKind is the kind of the MetricTemplate resource.
	MetricTemplateKind = "MetricTemplate"
)

// MetricTemplate is a reusable metric query run against a metrics provider
// during a canary analysis.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=all
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider.type`
type MetricTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the provider and query of the template.
	Spec MetricTemplateSpec `json:"spec"`
	// Status of the template.
	// +optional
	Status MetricTemplateStatus `json:"status,omitempty"`
}

// MetricTemplateList is a list of MetricTemplate resources.
//
// +kubebuilder:object:root=true
type MetricTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the templates of the list.
	Items []MetricTemplate `json:"items"`
}

// MetricTemplateSpec is the provider and query of a MetricTemplate.
type MetricTemplateSpec struct {
	// Provider the query is run against.
	// +kubebuilder:validation:Required
	Provider MetricTemplateProvider `json:"provider,omitempty"`

	// Query is a Go text/template rendered with the MetricTemplateModel functions.
	// +kubebuilder:validation:Required
	Query string `json:"query,omitempty"`
}

// MetricTemplateProvider is the metrics provider of a MetricTemplate.
type MetricTemplateProvider struct {
	// Type of the provider; unknown types fall back to prometheus.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:Enum=prometheus;influxdb;datadog;externalmetrics;stackdriver;cloudwatch;newrelic;graphite;dynatrace;keptn;splunk
	Type string `json:"type,omitempty"`

	// Address is the HTTP(S) API address of the provider.
	// +optional
	Address string `json:"address,omitempty"`

	// SecretRef references a Secret in the template's namespace holding the
	// provider credentials.
	// +optional
	SecretRef *corev1.LocalObjectReference `json:"secretRef,omitempty"`

	// Headers replace the request headers sent to the provider (Prometheus).
	// +optional
	Headers http.Header `json:"headers,omitempty"`

	// InsecureSkipVerify disables TLS certificate verification of the provider address.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`

	// Region of the provider (CloudWatch).
	// +optional
	Region string `json:"region,omitempty"`
}

// MetricTemplateStatus is the status of a MetricTemplate.
type MetricTemplateStatus struct {
	// Conditions of the template.
	// +optional
	Conditions []MetricTemplateCondition `json:"conditions,omitempty"`
}

// MetricTemplateCondition is a status condition of a MetricTemplate.
type MetricTemplateCondition struct {
	// Type of the condition.
	Type string `json:"type"`

	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`

	// LastUpdateTime is when the condition was last written.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`

	// LastTransitionTime is when the condition's status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason for the condition's status.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message explaining the condition.
	// +optional
	Message string `json:"message,omitempty"`
}

// MetricTemplateModel is the data a MetricTemplate query is rendered with. It is
// not a resource: the engine fills it per canary and metric.
//
// +kubebuilder:object:generate=false
type MetricTemplateModel struct {
	// Name of the canary.
	Name string `json:"name"`
	// Namespace of the canary.
	Namespace string `json:"namespace"`
	// Target is spec.targetRef.name.
	Target string `json:"target"`
	// Service is spec.service.name, or the target name.
	Service string `json:"service"`
	// Ingress is spec.ingressRef.name, or the target name.
	Ingress string `json:"ingress"`
	// Route is spec.routeRef.name, or the target name.
	Route string `json:"route"`
	// Interval is the metric's interval (no default for template metrics).
	Interval string `json:"interval"`
	// Variables are the metric's templateVariables.
	Variables map[string]string `json:"variables"`
}

// TemplateFunctions returns the niladic template functions name, namespace,
// target, service, ingress, route, interval and variables, each returning the
// model field of the same name. Queries are executed with nil data, so these
// functions are the only way a query reads the model.
func (mtm *MetricTemplateModel) TemplateFunctions() template.FuncMap {
	return template.FuncMap{
		"name":      func() string { return mtm.Name },
		"namespace": func() string { return mtm.Namespace },
		"target":    func() string { return mtm.Target },
		"service":   func() string { return mtm.Service },
		"ingress":   func() string { return mtm.Ingress },
		"route":     func() string { return mtm.Route },
		"interval":  func() string { return mtm.Interval },
		"variables": func() map[string]string { return mtm.Variables },
	}
}
