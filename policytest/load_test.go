package policytest_test

import (
	"context"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "aviary.dev/aviary/policytest"
)

var _ = Describe("loading", func() {
	It("reports a problem in YAML bytes as name:line: field", func() {
		data, err := os.ReadFile(burstFile)
		Expect(err).NotTo(HaveOccurred())
		bad := strings.Replace(string(data), "until: 20m", "until: 20q", 1)
		Expect(bad).NotTo(Equal(string(data)))
		_, err = LoadYAML("../scenarios/inline.yaml", []byte(bad))
		Expect(err).To(MatchError(ContainSubstring(`scenario "podinfo-500-burst": ../scenarios/inline.yaml:24: spec.until: bad duration "20q"`)))
	})

	It("tests the Canary of a canary file instead of the scenario's", func() {
		rec := mustRun(burstFile, WithCanaryFile("testdata/loose-canary.yaml"))
		// The loose policy lets a 30% error rate through: the burst is promoted.
		Expect(rec).To(BePromoted())
		Expect(rec).To(HaveFailedChecks(0))
		Expect(failure(rec, PassExpectations())).To(ContainSubstring("  phase\n    expected: Failed\n    observed: Succeeded\n"))
	})

	It("names the canary file and its line when the canary file is wrong", func() {
		_, err := Load(burstFile, WithCanaryFile("testdata/bad-canary.yaml"))
		Expect(err).To(MatchError(ContainSubstring("testdata/bad-canary.yaml:9: Canary podinfo: spec.analysis.threshold: required")))
	})

	It("says when the canary file is missing", func() {
		_, err := Load(burstFile, WithCanaryFile("testdata/missing.yaml"))
		Expect(err).To(MatchError(ContainSubstring("testdata/missing.yaml: canary file: ")))
	})

	It("runs a loaded scenario again to the same record", func() {
		s, err := Load(healthyFile)
		Expect(err).NotTo(HaveOccurred())
		again, err := s.Run(context.Background())
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Result).To(Equal(healthy.Result))
	})
})

var _ = Describe("Record", func() {
	It("says how the run went", func() {
		Expect(burst.Routes).To(Equal([]int{10, 20, 30, 0}), "the field, not shadowed")
		Expect(burst.RolledBack()).To(BeTrue())
		Expect(burst.Promoted()).To(BeFalse())
		at, ok := burst.Decided()
		Expect(ok).To(BeTrue())
		Expect(at.String()).To(Equal("11m0s"))
		p, c := burst.FinalWeights()
		Expect([]int{p, c}).To(Equal([]int{100, 0}))
		p, c, ok = healthy.WeightsAt(6 * time.Minute)
		Expect(ok).To(BeTrue())
		Expect([]int{p, c}).To(Equal([]int{60, 40}))
		Expect(burst.FailedChecks()).To(Equal(5))
		events := burst.Events()
		Expect(events).To(HaveLen(17))
		Expect(events[len(events)-1].String()).To(Equal("at 11m: Canary failed! Scaling down podinfo.test"))
		Expect(events[len(events)-1].Type).To(Equal("Warning"))
	})
})
