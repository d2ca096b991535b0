package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CanaryConditionType is the type of a CanaryCondition.
type CanaryConditionType string

const (
	// PromotedType is the condition reporting the result of the last analysis.
	PromotedType CanaryConditionType = "Promoted"
)

// CanaryCondition is a status condition of a Canary.
type CanaryCondition struct {
	// Type of the condition.
	Type CanaryConditionType `json:"type"`

	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`

	// LastUpdateTime is when the condition was last written.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`

	// LastTransitionTime is when the condition's status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason is the phase that produced the condition.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message is the human-readable explanation of the condition.
	// +optional
	Message string `json:"message,omitempty"`
}

// CanaryPhase is the phase of a canary's lifecycle.
// +kubebuilder:validation:Enum="";Initializing;Initialized;Waiting;Progressing;WaitingPromotion;Promoting;Finalising;Succeeded;Failed;Terminating;Terminated
type CanaryPhase string

const (
	// CanaryPhaseInitializing means the canary's initialization is underway.
	CanaryPhaseInitializing CanaryPhase = "Initializing"
	// CanaryPhaseInitialized means the primary workload, autoscaler, services and
	// routing objects have been created.
	CanaryPhaseInitialized CanaryPhase = "Initialized"
	// CanaryPhaseWaiting means the rollout is paused waiting for confirmation.
	CanaryPhaseWaiting CanaryPhase = "Waiting"
	// CanaryPhaseProgressing means the analysis is underway.
	CanaryPhaseProgressing CanaryPhase = "Progressing"
	// CanaryPhaseWaitingPromotion means the promotion is paused waiting for confirmation.
	CanaryPhaseWaitingPromotion CanaryPhase = "WaitingPromotion"
	// CanaryPhasePromoting means the analysis passed and the primary is being updated.
	CanaryPhasePromoting CanaryPhase = "Promoting"
	// CanaryPhaseFinalising means the promotion finished and traffic is routed back to the primary.
	CanaryPhaseFinalising CanaryPhase = "Finalising"
	// CanaryPhaseSucceeded means the canary was analysed and promoted.
	CanaryPhaseSucceeded CanaryPhase = "Succeeded"
	// CanaryPhaseFailed means the analysis failed and the canary was scaled to zero.
	CanaryPhaseFailed CanaryPhase = "Failed"
	// CanaryPhaseTerminating means the canary is being deleted and finalized.
	CanaryPhaseTerminating CanaryPhase = "Terminating"
	// CanaryPhaseTerminated means the canary was finalized (never written by Flagger).
	CanaryPhaseTerminated CanaryPhase = "Terminated"
)

// CanaryPhases are every phase, in the order of a canary's lifecycle (the CRD's enum
// of status.phase, "" aside).
var CanaryPhases = []CanaryPhase{
	CanaryPhaseInitializing, CanaryPhaseInitialized, CanaryPhaseWaiting,
	CanaryPhaseProgressing, CanaryPhaseWaitingPromotion, CanaryPhasePromoting,
	CanaryPhaseFinalising, CanaryPhaseSucceeded, CanaryPhaseFailed,
	CanaryPhaseTerminating, CanaryPhaseTerminated,
}

// CanaryStatus is the persisted state of a canary's analysis.
type CanaryStatus struct {
	// Phase of the analysis.
	// +optional
	Phase CanaryPhase `json:"phase"`

	// FailedChecks is the failed check count of the current analysis.
	// +optional
	FailedChecks int `json:"failedChecks"`

	// CanaryWeight is the traffic weight routed to the canary.
	// +optional
	CanaryWeight int `json:"canaryWeight"`

	// Iterations is the iteration count of the current A/B or Blue/Green analysis.
	// +optional
	Iterations int `json:"iterations"`

	// SessionAffinityCookie is the canary session affinity cookie of the current run.
	// +optional
	SessionAffinityCookie string `json:"sessionAffinityCookie,omitempty"`

	// PreviousSessionAffinityCookie is the canary session affinity cookie of the previous run.
	// +optional
	PreviousSessionAffinityCookie string `json:"previousSessionAffinityCookie,omitempty"`

	// PrimarySessionAffinityCookie is the primary session affinity cookie of the current run.
	// +optional
	PrimarySessionAffinityCookie string `json:"primarySessionAffinityCookie,omitempty"`

	// TrackedConfigs maps "<kind>/<name>" of tracked ConfigMaps and Secrets to their checksum.
	// +optional
	TrackedConfigs *map[string]string `json:"trackedConfigs,omitempty"`

	// LastAppliedSpec is the hash of the target's last analysed spec.
	// +optional
	LastAppliedSpec string `json:"lastAppliedSpec,omitempty"`

	// LastPromotedSpec is the hash of the target's last promoted spec.
	// +optional
	LastPromotedSpec string `json:"lastPromotedSpec,omitempty"`

	// LastTransitionTime is when any status field was last written.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Conditions of the canary (a single Promoted condition).
	// +optional
	Conditions []CanaryCondition `json:"conditions,omitempty"`
}
