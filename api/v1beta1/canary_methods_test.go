package v1beta1_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"aviary.dev/aviary/api/v1beta1"
)

func canaryWith(analysis *v1beta1.CanaryAnalysis) *v1beta1.Canary {
	return &v1beta1.Canary{
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.LocalObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis:  analysis,
		},
	}
}

var _ = Describe("Canary helpers", func() {
	Describe("GetServiceNames", func() {
		It("derives the names from targetRef.name when service.name is empty", func() {
			apex, primary, canary := canaryWith(nil).GetServiceNames()
			Expect([]string{apex, primary, canary}).To(Equal([]string{"podinfo", "podinfo-primary", "podinfo-canary"}))
		})
		It("prefers service.name", func() {
			cd := canaryWith(nil)
			cd.Spec.Service.Name = "frontend"
			apex, primary, canary := cd.GetServiceNames()
			Expect([]string{apex, primary, canary}).To(Equal([]string{"frontend", "frontend-primary", "frontend-canary"}))
		})
	})

	DescribeTable("GetProgressDeadlineSeconds",
		func(deadline *int32, want int) {
			cd := canaryWith(nil)
			cd.Spec.ProgressDeadlineSeconds = deadline
			Expect(cd.GetProgressDeadlineSeconds()).To(Equal(want))
		},
		Entry("unset defaults to 600", nil, 600),
		Entry("set is returned", ptr.To[int32](60), 60),
		Entry("zero is returned as is", ptr.To[int32](0), 0),
	)

	Describe("GetAnalysis", func() {
		It("prefers analysis over the deprecated canaryAnalysis", func() {
			cd := canaryWith(&v1beta1.CanaryAnalysis{Interval: "1m"})
			cd.Spec.CanaryAnalysis = &v1beta1.CanaryAnalysis{Interval: "2m"}
			Expect(cd.GetAnalysis()).To(BeIdenticalTo(cd.Spec.Analysis))
		})
		It("falls back to canaryAnalysis", func() {
			cd := canaryWith(nil)
			cd.Spec.CanaryAnalysis = &v1beta1.CanaryAnalysis{Interval: "2m"}
			Expect(cd.GetAnalysis()).To(BeIdenticalTo(cd.Spec.CanaryAnalysis))
		})
		It("is nil when neither is set", func() {
			Expect(canaryWith(nil).GetAnalysis()).To(BeNil())
		})
	})

	DescribeTable("GetAnalysisInterval",
		func(interval string, want time.Duration) {
			Expect(canaryWith(&v1beta1.CanaryAnalysis{Interval: interval}).GetAnalysisInterval()).To(Equal(want))
		},
		Entry(`"" defaults to 60s`, "", 60*time.Second),
		Entry(`"abc" (unparsable) defaults to 60s`, "abc", 60*time.Second),
		Entry(`"5s" is clamped to 10s`, "5s", 10*time.Second),
		Entry(`"10s" is kept`, "10s", 10*time.Second),
		Entry(`"30s" is kept`, "30s", 30*time.Second),
		Entry(`"2m" is kept`, "2m", 2*time.Minute),
	)

	It("GetAnalysisInterval reads the deprecated canaryAnalysis", func() {
		cd := canaryWith(nil)
		cd.Spec.CanaryAnalysis = &v1beta1.CanaryAnalysis{Interval: "45s"}
		Expect(cd.GetAnalysisInterval()).To(Equal(45 * time.Second))
	})

	It("GetAnalysisInterval defaults to 60s without analysis", func() {
		Expect(canaryWith(nil).GetAnalysisInterval()).To(Equal(60 * time.Second))
	})

	DescribeTable("GetAnalysisThreshold",
		func(threshold, want int) {
			Expect(canaryWith(&v1beta1.CanaryAnalysis{Threshold: threshold}).GetAnalysisThreshold()).To(Equal(want))
		},
		Entry("negative becomes 1", -3, 1),
		Entry("zero becomes 1", 0, 1),
		Entry("one is kept", 1, 1),
		Entry("five is kept", 5, 5),
	)

	DescribeTable("ready thresholds",
		func(primary, canary *int, wantPrimary, wantCanary int) {
			cd := canaryWith(&v1beta1.CanaryAnalysis{PrimaryReadyThreshold: primary, CanaryReadyThreshold: canary})
			Expect(cd.GetAnalysisPrimaryReadyThreshold()).To(Equal(wantPrimary))
			Expect(cd.GetAnalysisCanaryReadyThreshold()).To(Equal(wantCanary))
		},
		Entry("unset default to 100", nil, nil, 100, 100),
		Entry("set are returned independently", ptr.To(50), ptr.To(80), 50, 80),
		Entry("zero is returned as is", ptr.To(0), ptr.To(0), 0, 0),
	)

	DescribeTable("SkipAnalysis",
		func(skip bool, analysis, canaryAnalysis *v1beta1.CanaryAnalysis, want bool) {
			cd := canaryWith(analysis)
			cd.Spec.CanaryAnalysis = canaryAnalysis
			cd.Spec.SkipAnalysis = skip
			Expect(cd.SkipAnalysis()).To(Equal(want))
		},
		Entry("analysis set, skipAnalysis false", false, &v1beta1.CanaryAnalysis{}, nil, false),
		Entry("analysis set, skipAnalysis true", true, &v1beta1.CanaryAnalysis{}, nil, true),
		Entry("only canaryAnalysis set", false, nil, &v1beta1.CanaryAnalysis{}, false),
		Entry("both nil", false, nil, nil, true),
		Entry("both nil and skipAnalysis true", true, nil, nil, true),
	)

	It("GetMetricInterval defaults to 1m", func() {
		Expect(canaryWith(nil).GetMetricInterval()).To(Equal("1m"))
	})

	DescribeTable("CanaryMetric.GetMetricInterval",
		func(interval, want string) {
			m := v1beta1.CanaryMetric{Name: "request-success-rate", Interval: interval}
			Expect(m.GetMetricInterval()).To(Equal(want))
		},
		Entry("empty defaults to 1m", "", "1m"),
		Entry("set is kept", "30s", "30s"),
	)

	match := []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}}}
	DescribeTable("DeploymentStrategy",
		func(analysis *v1beta1.CanaryAnalysis, want string) {
			Expect(canaryWith(analysis).DeploymentStrategy()).To(Equal(want))
		},
		Entry("stepWeight and maxWeight", &v1beta1.CanaryAnalysis{StepWeight: 10, MaxWeight: 30}, v1beta1.DeploymentStrategyCanary),
		Entry("stepWeights", &v1beta1.CanaryAnalysis{StepWeights: []int{10, 20, 30}}, v1beta1.DeploymentStrategyCanary),
		Entry("iterations", &v1beta1.CanaryAnalysis{Iterations: 5}, v1beta1.DeploymentStrategyBlueGreen),
		Entry("iterations and match", &v1beta1.CanaryAnalysis{Iterations: 10, Match: match}, v1beta1.DeploymentStrategyABTesting),
		Entry("match without iterations", &v1beta1.CanaryAnalysis{StepWeight: 10, Match: match}, v1beta1.DeploymentStrategyCanary),
		Entry("empty analysis", &v1beta1.CanaryAnalysis{}, v1beta1.DeploymentStrategyCanary),
		Entry("nil analysis", nil, v1beta1.DeploymentStrategyCanary),
	)

	It("DeploymentStrategy constants are Flagger's label values", func() {
		Expect([]string{v1beta1.DeploymentStrategyCanary, v1beta1.DeploymentStrategyBlueGreen, v1beta1.DeploymentStrategyABTesting}).
			To(Equal([]string{"canary", "blue-green", "ab-testing"}))
	})

	DescribeTable("MaxWeight",
		func(analysis *v1beta1.CanaryAnalysis, want int) {
			Expect(canaryWith(analysis).MaxWeight()).To(Equal(want))
		},
		Entry("stepWeights ending above 100 is capped at 100", &v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 200}}, 100),
		Entry("stepWeights [1,2,10,80] gives 80", &v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 80}}, 80),
		Entry("stepWeights win over maxWeight", &v1beta1.CanaryAnalysis{StepWeights: []int{5, 40}, MaxWeight: 90}, 40),
		Entry("maxWeight 50 gives 50", &v1beta1.CanaryAnalysis{StepWeight: 10, MaxWeight: 50}, 50),
		Entry("none gives 100", &v1beta1.CanaryAnalysis{StepWeight: 10}, 100),
		Entry("nil analysis gives 100", nil, 100),
	)

	DescribeTable("CanaryWebhook.GetType",
		func(typ, want v1beta1.HookType) {
			Expect((&v1beta1.CanaryWebhook{Name: "h", Type: typ}).GetType()).To(Equal(want))
		},
		Entry("empty is rollout", v1beta1.HookType(""), v1beta1.RolloutHook),
		Entry("set is kept", v1beta1.PreRolloutHook, v1beta1.PreRolloutHook),
	)

	DescribeTable("SessionAffinity.GetMaxAge",
		func(maxAge, want int) {
			Expect((&v1beta1.SessionAffinity{CookieName: "c", MaxAge: maxAge}).GetMaxAge()).To(Equal(want))
		},
		Entry("zero defaults to 86400", 0, 86400),
		Entry("set is kept", 3600, 3600),
	)
})
