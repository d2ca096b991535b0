package main

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// --canary: a library scenario run with a team's own Canary file.
var _ = Describe("aviary test and run --canary", func() {
	burst := filepath.Join(scenarioDir, "podinfo-500-burst.yaml")
	const strict = "testdata/canary/podinfo-threshold-2.yaml"

	It("runs the scenario with the file's Canary: threshold 2 rolls back after two failed checks", func() {
		res := invokeCLI("test", burst, "--canary", strict)
		Expect(res.code).To(Equal(exitFailed), "the scenario expects threshold 5's rollback\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		block := failBlock(res.stdout, "podinfo-500-burst")
		Expect(block).To(ContainSubstring(`"Rolling back podinfo.test failed checks threshold reached 2"`))

		res = invokeCLI("test", burst)
		Expect(res.code).To(Equal(exitOK), "without --canary the library's Canary runs\n%s", res.stdout)
	})

	It("is what aviary run plays too", func() {
		res := invokeCLI("run", burst, "--canary", strict)
		Expect(res.code).To(Equal(exitFailed))
		Expect(res.stdout).To(ContainSubstring("Rolling back podinfo.test failed checks threshold reached 2"))
	})

	It("names the canary file, line and field of a problem in it (exit 2)", func() {
		res := invokeCLI("test", burst, "--canary", "testdata/canary/bad-threshold.yaml")
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stderr).To(ContainSubstring("testdata/canary/bad-threshold.yaml:11: Canary podinfo: spec.analysis.threshold:"))
		res = invokeCLI("run", burst, "--canary", "testdata/canary/missing.yaml")
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stderr).To(ContainSubstring("testdata/canary/missing.yaml"))
	})
})
