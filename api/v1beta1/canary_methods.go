package v1beta1

import (
	"time"
)

// GetServiceNames returns the apex, primary and canary Kubernetes service names:
// spec.service.name (or spec.targetRef.name when empty), with the suffixes
// -primary and -canary.
func (c *Canary) GetServiceNames() (apexName, primaryName, canaryName string) {
	apexName = c.Spec.TargetRef.Name
	if c.Spec.Service.Name != "" {
		apexName = c.Spec.Service.Name
	}
	return apexName, apexName + "-primary", apexName + "-canary"
}

// GetProgressDeadlineSeconds returns spec.progressDeadlineSeconds, or 600 when unset.
func (c *Canary) GetProgressDeadlineSeconds() int {
	if c.Spec.ProgressDeadlineSeconds != nil {
		return int(*c.Spec.ProgressDeadlineSeconds)
	}
	return ProgressDeadlineSeconds
}

// GetAnalysis returns spec.analysis, or the deprecated spec.canaryAnalysis when
// spec.analysis is nil. It returns nil when neither is set.
func (c *Canary) GetAnalysis() *CanaryAnalysis {
	if c.Spec.Analysis != nil {
		return c.Spec.Analysis
	}
	return c.Spec.CanaryAnalysis
}

// GetAnalysisInterval returns the analysis tick period: 60s when the interval is
// empty or unparsable, clamped up to 10s when shorter. Unlike Flagger it does
// not panic when the canary has no analysis (it returns 60s).
func (c *Canary) GetAnalysisInterval() time.Duration {
	analysis := c.GetAnalysis()
	if analysis == nil || analysis.Interval == "" {
		return AnalysisInterval
	}
	interval, err := time.ParseDuration(analysis.Interval)
	if err != nil {
		return AnalysisInterval
	}
	if interval < MinAnalysisInterval {
		return MinAnalysisInterval
	}
	return interval
}

// GetAnalysisThreshold returns the number of failed checks that triggers a
// rollback: analysis.threshold, or 1 when it is not positive (or there is no analysis).
func (c *Canary) GetAnalysisThreshold() int {
	if analysis := c.GetAnalysis(); analysis != nil && analysis.Threshold > 0 {
		return analysis.Threshold
	}
	return 1
}

// GetAnalysisPrimaryReadyThreshold returns analysis.primaryReadyThreshold, or 100 when unset.
func (c *Canary) GetAnalysisPrimaryReadyThreshold() int {
	if analysis := c.GetAnalysis(); analysis != nil && analysis.PrimaryReadyThreshold != nil {
		return *analysis.PrimaryReadyThreshold
	}
	return PrimaryReadyThreshold
}

// GetAnalysisCanaryReadyThreshold returns analysis.canaryReadyThreshold, or 100 when unset.
func (c *Canary) GetAnalysisCanaryReadyThreshold() int {
	if analysis := c.GetAnalysis(); analysis != nil && analysis.CanaryReadyThreshold != nil {
		return *analysis.CanaryReadyThreshold
	}
	return CanaryReadyThreshold
}

// GetMetricInterval returns the default interval of builtin and inline-query
// metrics ("1m"). Template metrics get no default (see CanaryMetric.GetMetricInterval).
func (c *Canary) GetMetricInterval() string {
	return MetricInterval
}

// SkipAnalysis reports whether the canary is promoted without analysis: true when
// spec.skipAnalysis is set or when both spec.analysis and spec.canaryAnalysis are nil.
func (c *Canary) SkipAnalysis() bool {
	if c.Spec.Analysis == nil && c.Spec.CanaryAnalysis == nil {
		return true
	}
	return c.Spec.SkipAnalysis
}

// DeploymentStrategy returns the rollout strategy of the canary: ab-testing when
// analysis.iterations > 0 and analysis.match is non-empty, blue-green when
// iterations > 0 without match, canary otherwise (also when there is no analysis).
func (c *Canary) DeploymentStrategy() string {
	analysis := c.GetAnalysis()
	if analysis == nil || analysis.Iterations <= 0 {
		return DeploymentStrategyCanary
	}
	if len(analysis.Match) > 0 {
		return DeploymentStrategyABTesting
	}
	return DeploymentStrategyBlueGreen
}

// MaxWeight returns the largest canary weight of a canary-strategy analysis:
// min(100, last of stepWeights) when stepWeights is non-empty (maxWeight is then
// ignored), else maxWeight when positive, else 100.
func (c *Canary) MaxWeight() int {
	analysis := c.GetAnalysis()
	if analysis == nil {
		return TotalWeight
	}
	if n := len(analysis.StepWeights); n > 0 {
		return min(TotalWeight, analysis.StepWeights[n-1])
	}
	if analysis.MaxWeight > 0 {
		return analysis.MaxWeight
	}
	return TotalWeight
}

// GetMetricInterval returns the metric's interval, or "1m" when empty. This is
// the default Flagger applies to builtin and inline-query metrics only; callers
// running templateRef metrics must use Interval as is (Flagger renders "" there).
func (m *CanaryMetric) GetMetricInterval() string {
	if m.Interval == "" {
		return MetricInterval
	}
	return m.Interval
}

// GetType returns the webhook's type, rollout when empty (Flagger's runAnalysis
// runs untyped webhooks as rollout webhooks, and only those).
func (w *CanaryWebhook) GetType() HookType {
	if w.Type == "" {
		return RolloutHook
	}
	return w.Type
}

// GetMaxAge returns the session affinity cookie max age in seconds, or 86400
// (one day) when maxAge is 0.
func (s *SessionAffinity) GetMaxAge() int {
	if s.MaxAge == 0 {
		return SessionAffinityMaxAge
	}
	return s.MaxAge
}
