package main

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("help", func() {
	DescribeTable("exits 0 and prints usage on stdout",
		func(args []string, usage string, mentions []string) {
			res := invokeCLI(args...)
			Expect(res.code).To(Equal(exitOK))
			Expect(res.stderr).To(BeEmpty())
			Expect(res.stdout).To(ContainSubstring("Usage:\n  " + usage))
			for _, m := range mentions {
				Expect(res.stdout).To(ContainSubstring(m))
			}
		},
		Entry("aviary --help", []string{"--help"}, "aviary [command]",
			[]string{"test        Run scenario files or directories", "run         Run one scenario and print it tick by tick"}),
		Entry("aviary -h", []string{"-h"}, "aviary [command]", []string{"Available Commands:"}),
		Entry("aviary test --help", []string{"test", "--help"}, "aviary test PATH... [flags]",
			[]string{"Exit status: 0 when every expectation of every scenario holds, 1 when any fails,\n2 on invalid input",
				"--cluster", "--parallel", "--run", "--keep-series", "aviary test scenarios/"}),
		Entry("aviary help test", []string{"help", "test"}, "aviary test PATH... [flags]", []string{"Exit status: 0"}),
		Entry("aviary run --help", []string{"run", "--help"}, "aviary run FILE [flags]",
			[]string{"Exit status as for \"aviary test\": 0 when every expectation holds, 1 when any\nfails, 2 on invalid input.",
				"--cluster", "--until-decided", "--keep-series", "aviary run scenarios/podinfo-500-burst.yaml"}),
		Entry("aviary query --help", []string{"query", "--help"}, "aviary query SCENARIO EXPR [flags]",
			[]string{"--at", "--range", "--step", "Unix 1767225600", "aviary query scenarios/podinfo-500-burst.yaml --at 6m"}),
		Entry("aviary serve --help", []string{"serve", "--help"}, "aviary serve SCENARIO [flags]",
			[]string{"--listen", "/api/v1/query_range", "Unix 1767225600", "aviary serve scenarios/podinfo-500-burst.yaml"}),
		Entry("aviary init --help", []string{"init", "--help"}, "aviary init POLICY.yaml... [flags]",
			[]string{"--output", "--force", "FINDING", "Exit status: 0 when the scenarios were written", "aviary init deploy/podinfo-canary.yaml -o scenarios/"}),
		Entry("aviary run -h with a file", []string{"run", "-h", "../../scenarios/podinfo-500-burst.yaml"}, "aviary run FILE [flags]",
			[]string{"Exit status"}),
	)

	It("prints the root help when called without arguments", func() {
		res := invokeCLI()
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stderr).To(BeEmpty())
		Expect(res.stdout).To(ContainSubstring("Usage:\n  aviary [command]"))
		Expect(res.stdout).To(Equal(invokeCLI("--help").stdout))
	})

	It("does not run anything for test --help", func() {
		res := invokeCLI("test", "--help", "../../scenarios")
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stdout).NotTo(ContainSubstring("passed,"))
	})

	It("mentions the exit status in the root help", func() {
		res := invokeCLI("--help")
		Expect(res.stdout).To(ContainSubstring("Exit status"))
	})
})
