package gotest_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/policytest"
)

// The article's scenario: a healthy frontend 1.0.1 released at 2m.
const articleScenario = "../../scenarios/production-canary-as-written.yaml"

// burst is a scenario kept in the test: the frontend's release answers 10% of its
// requests with 500 from the moment it runs. Policy files are relative to the name
// it is loaded as, a file of this directory.
const burst = `
apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: frontend-500-burst
spec:
  policy:
    files: [../../scenarios/policies/production-frontend.yaml, canary.yaml]
  world:
    seed: 1
    rps: 100
    versions:
      "*": {codes: {"404": 0.002, "500": 0.001}, latency: {p50: 20ms, p99: 120ms}}
    faults:
      - {image: "my-registry/frontend:1.0.1", from: 2m, codes: {"500": 0.1}}
  timeline:
    - {at: 2m, image: "my-registry/frontend:1.0.1"}
  until: 20m
  expect:
    phase: Failed
`

var _ = Describe("the frontend Canary", func() {
	It("as the article wrote it rolls back even a healthy release", func(ctx SpecContext) {
		rec, err := policytest.Run(ctx, articleScenario)
		Expect(err).NotTo(HaveOccurred())
		Expect(rec).To(policytest.BeRolledBack())
		Expect(rec).To(policytest.HaveEvent("no usable metrics template and query were configured"))
		Expect(rec).To(policytest.PassExpectations())
	})

	It("as we fixed it promotes a healthy release", func(ctx SpecContext) {
		rec, err := policytest.Run(ctx, articleScenario, policytest.WithCanaryFile("canary.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rec).To(policytest.BePromotedWithin(10 * time.Minute))
		Expect(rec).To(policytest.HaveRoutesAt(4*time.Minute, 80, 20))
		Expect(rec).To(policytest.HaveRoutes(100, 0))
		Expect(rec).NotTo(policytest.HaveEvent(MatchRegexp(`^Metric query failed`)))
		Expect(rec).To(policytest.HaveFailedChecks(0))
	})

	It("as we fixed it rolls back a release that answers 10% with 500", func(ctx SpecContext) {
		s, err := policytest.LoadYAML("frontend-500-burst.yaml", []byte(burst))
		Expect(err).NotTo(HaveOccurred())
		rec, err := s.Run(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(rec).To(policytest.BeRolledBack())
		Expect(rec).To(policytest.HaveEvent(MatchRegexp(`^Halt frontend\.production advancement success rate \d+\.\d+% < 99%`)))
		Expect(rec).To(policytest.HaveEvent("failed checks threshold reached 10"))
		Expect(rec).To(policytest.PassExpectations())
	})
})
