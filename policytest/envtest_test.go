package policytest_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "aviary.dev/aviary/policytest"
	"aviary.dev/aviary/sim/cluster"
)

var _ = Describe("InEnvtest", func() {
	It("runs against a real API server to the fast mode's decision", func(ctx SpecContext) {
		// Without envtest's binaries (KUBEBUILDER_ASSETS) this fails saying how to get them.
		env, err := cluster.StartEnvtest(ctx, cluster.EnvtestOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		rec := mustRun(burstFile, InEnvtest(env))
		Expect(rec.Mode).To(Equal("envtest"))
		Expect(rec).To(PassExpectations())
		Expect(rec.Phase).To(Equal(burst.Phase))
		Expect(rec.DecidedAt).To(Equal(burst.DecidedAt))
		Expect(rec.Routes).To(Equal(burst.Routes))
	})
})
