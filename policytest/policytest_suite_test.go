package policytest_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/policytest"
)

func TestPolicytest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "policytest")
}

// Library scenarios the matchers are tried on.
const (
	burstFile   = "../scenarios/podinfo-500-burst.yaml"
	healthyFile = "../scenarios/podinfo-healthy-promotion.yaml"
)

// burst is a 5xx burst rolled back at 11m; healthy a promotion at 10m. Run once.
var burst, healthy *policytest.Record

var _ = BeforeSuite(func() {
	burst, healthy = mustRun(burstFile), mustRun(healthyFile)
})

func mustRun(path string, opts ...policytest.Option) *policytest.Record {
	GinkgoHelper()
	rec, err := policytest.Run(context.Background(), path, opts...)
	Expect(err).NotTo(HaveOccurred())
	return rec
}
