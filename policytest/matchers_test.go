package policytest_test

import (
	"context"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	. "aviary.dev/aviary/policytest"
	"aviary.dev/aviary/sim/scenario"
)

// record names the suite's runs, for table entries built before they exist.
func record(name string) *Record {
	return map[string]*Record{"burst": burst, "healthy": healthy}[name]
}

// failure is Gomega's message when Expect(actual).To(m) fails, or "" when it holds.
func failure(actual any, m types.GomegaMatcher) string {
	msgs := InterceptGomegaFailures(func() { Expect(actual).To(m) })
	return strings.Join(msgs, "\n")
}

// negatedFailure is the same for Expect(actual).NotTo(m).
func negatedFailure(actual any, m types.GomegaMatcher) string {
	msgs := InterceptGomegaFailures(func() { Expect(actual).NotTo(m) })
	return strings.Join(msgs, "\n")
}

var _ = Describe("matchers", func() {
	DescribeTable("hold on the run they describe, and say why when they do not",
		func(m types.GomegaMatcher, holds, fails string, failWords, negatedWords []string) {
			Expect(failure(record(holds), m)).To(BeEmpty())
			Expect(negatedFailure(record(fails), m)).To(BeEmpty())
			msg := failure(record(fails), m)
			for _, w := range failWords {
				Expect(msg).To(ContainSubstring(w))
			}
			msg = negatedFailure(record(holds), m)
			for _, w := range negatedWords {
				Expect(msg).To(ContainSubstring(w))
			}
		},
		Entry("BeRolledBack", BeRolledBack(), "burst", "healthy",
			[]string{
				"Expected scenario podinfo-healthy-promotion (" + healthyFile + ") to be rolled back, but its final phase is Succeeded\n",
				"  final phase Succeeded at 10:00; routes [10 20 30 40 50 0]; max canary weight 50;",
				"  why: Promoted at 10m (max canary weight 50%), every check passed.\n",
				"  last 5 of 15 events:\n",
				"    at 10m: Promotion completed! Scaling down podinfo.test\n",
			},
			[]string{
				"Expected scenario podinfo-500-burst (" + burstFile + ") not to be rolled back, but its final phase is Failed\n",
				"  why: Rolled back at 11m: failed checks threshold reached (5 failed checks): request-success-rate",
				"    at 11m: Rolling back podinfo.test failed checks threshold reached 5\n",
			}),
		Entry("BePromoted", BePromoted(), "healthy", "burst",
			[]string{"podinfo-500-burst (" + burstFile + ") to be promoted, but its final phase is Failed\n", "  final phase Failed at 11:00;"},
			[]string{"podinfo-healthy-promotion (" + healthyFile + ") not to be promoted, but its final phase is Succeeded\n"}),
		Entry("BePromotedWithin, promoted too late", BePromotedWithin(10*time.Minute), "healthy", "burst",
			[]string{"to be promoted within 10m, but its final phase is Failed\n"},
			[]string{"not to be promoted within 10m, but it was promoted at 10m\n"}),
		Entry("HaveRoutesAt mid-analysis", HaveRoutesAt(6*time.Minute, 60, 40), "healthy", "burst",
			[]string{"to have routes primary 60, canary 40 at 6m, but its routes at 6m were primary 70, canary 30\n"},
			[]string{"not to have routes primary 60, canary 40 at 6m, but its routes at 6m were primary 60, canary 40\n"}),
		Entry("HaveEvent with a substring", HaveEvent("failed checks threshold reached"), "burst", "healthy",
			[]string{`to have an event containing "failed checks threshold reached", but none of its 15 events does`},
			[]string{`not to have an event containing "failed checks threshold reached", but it had at 11m: Rolling back podinfo.test failed checks threshold reached 5` + "\n"}),
		Entry("HaveEvent with a matcher", HaveEvent(MatchRegexp(`success rate \d+\.\d+% < 99%`)), "burst", "healthy",
			[]string{"to have an event whose message satisfies the matcher, but none of its 15 events does; of the last, the matcher says:\n" +
				"    Expected\n        <string>: Promotion completed! Scaling down podinfo.test\n    to match regular expression\n        <string>: success rate \\d+\\.\\d+% < 99%\n"},
			[]string{"but it had at 6m: Halt podinfo.test advancement success rate 70.00% < 99%\n"}),
		Entry("HaveFailedChecks", HaveFailedChecks(5), "burst", "healthy",
			[]string{"to count 5 failed checks, but its analyses counted at most 0\n"},
			[]string{"not to count 5 failed checks, but its analyses counted at most 5\n"}),
	)

	It("BePromotedWithin says when a promotion came too late", func() {
		Expect(failure(healthy, BePromotedWithin(9*time.Minute))).To(ContainSubstring(
			"to be promoted within 9m, but it was promoted at 10m\n"))
	})

	It("has a message, not a panic, when asked for one without a run record", func() {
		m := BeRolledBack()
		_, err := m.Match(42)
		Expect(err).To(HaveOccurred())
		Expect(m.FailureMessage(42)).To(Equal("policytest: no run record was matched (Match failed or was not called)"))
	})

	It("HaveRoutes is the traffic split at the end", func() {
		Expect(burst).To(HaveRoutes(100, 0))
		Expect(negatedFailure(healthy, HaveRoutes(100, 0))).To(ContainSubstring(
			"not to end with routes primary 100, canary 0, but its routes at 15m were primary 100, canary 0\n"))
		Expect(failure(healthy, HaveRoutes(50, 50))).To(ContainSubstring(
			"to end with routes primary 50, canary 50, but its routes at 15m were primary 100, canary 0\n"))
	})

	It("HaveRoutesAt before the first tick says so", func() {
		Expect(failure(healthy, HaveRoutesAt(-time.Minute, 100, 0))).To(ContainSubstring(
			"to have routes primary 100, canary 0 at -1m, but no engine tick ran by -1m\n"))
	})

	It("take a *scenario.Result as well as a *Record", func() {
		Expect(burst.Result).To(BeRolledBack())
		Expect(failure(healthy.Result, BeRolledBack())).To(ContainSubstring("to be rolled back, but its final phase is Succeeded"))
	})

	DescribeTable("refuse what is not a run record, saying what they want",
		func(actual any) {
			ok, err := BeRolledBack().Match(actual)
			Expect(ok).To(BeFalse())
			Expect(err).To(MatchError(ContainSubstring("policytest matchers want a *policytest.Record or a *scenario.Result, got")))
		},
		Entry("a string", "podinfo-500-burst"),
		Entry("a Result by value", scenario.Result{}),
		Entry("a nil *Record", (*Record)(nil)),
		Entry("a nil *scenario.Result", (*scenario.Result)(nil)),
		Entry("nil", nil),
	)

	It("HaveEvent refuses an argument that is neither a string nor a matcher", func() {
		ok, err := HaveEvent(42).Match(burst)
		Expect(ok).To(BeFalse())
		Expect(err).To(MatchError("HaveEvent wants a string or a Gomega matcher, got <int>: 42"))
	})

	Describe("PassExpectations", func() {
		It("holds when the scenario's spec.expect does, and says how many held when negated", func() {
			Expect(burst).To(PassExpectations())
			Expect(negatedFailure(burst, PassExpectations())).To(ContainSubstring("not to pass its expectations (spec.expect), but all 9 held\n"))
		})

		It("lists the failed expectations as aviary test does", func() {
			data, err := os.ReadFile(burstFile)
			Expect(err).NotTo(HaveOccurred())
			wrong := strings.Replace(string(data), "phase: Failed", "phase: Succeeded", 1)
			Expect(wrong).NotTo(Equal(string(data)))
			s, err := LoadYAML("../scenarios/wrong.yaml", []byte(wrong))
			Expect(err).NotTo(HaveOccurred())
			rec, err := s.Run(context.Background())
			Expect(err).NotTo(HaveOccurred())
			Expect(failure(rec, PassExpectations())).To(ContainSubstring(
				"to pass its expectations (spec.expect), but these failed:\n" +
					"  phase\n    expected: Succeeded\n    observed: Failed\n" +
					"  within\n    expected: Succeeded by 12m0s\n    observed: Failed at 11m0s\n" +
					"  final phase Failed at 11:00;"))
		})

		It("fails a scenario without expectations: it would pass whatever happened", func() {
			data, err := os.ReadFile(healthyFile)
			Expect(err).NotTo(HaveOccurred())
			text, _, found := strings.Cut(string(data), "  expect:\n")
			Expect(found).To(BeTrue())
			s, err := LoadYAML("../scenarios/no-expect.yaml", []byte(text))
			Expect(err).NotTo(HaveOccurred())
			rec, err := s.Run(context.Background())
			Expect(err).NotTo(HaveOccurred())
			Expect(rec).To(BePromoted())
			Expect(failure(rec, PassExpectations())).To(ContainSubstring("to pass its expectations (spec.expect), but it has none: spec.expect is empty\n"))
		})
	})
})
