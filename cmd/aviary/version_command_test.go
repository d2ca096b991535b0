package main

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/version"
)

var _ = Describe("aviary version", func() {
	DescribeTable("prints the version line of the version package on stdout",
		func(args ...string) {
			res := invokeCLI(args...)
			Expect(res.code).To(Equal(exitOK))
			Expect(res.stderr).To(BeEmpty())
			Expect(res.stdout).To(Equal(version.Get().String() + "\n"))
			Expect(res.stdout).To(MatchRegexp(`^aviary 0\.14\.0 \(commit \S+, Flagger 1\.44\.0 semantics, go1\.\d+`))
		},
		Entry("aviary version", "version"),
		Entry("aviary version -o text", "version", "-o", "text"),
		Entry("aviary --version", "--version"),
		Entry("aviary controller -version (Flagger's flag)", "controller", "-version"),
	)

	It("prints the same as JSON for machines", func() {
		res := invokeCLI("version", "-o", "json")
		Expect(res.code).To(Equal(exitOK))
		var got map[string]string
		Expect(json.Unmarshal([]byte(res.stdout), &got)).To(Succeed())
		info := version.Get()
		Expect(got).To(Equal(map[string]string{"version": info.Version, "commit": info.Commit,
			"flaggerVersion": info.FlaggerVersion, "goVersion": info.GoVersion}))
	})

	DescribeTable("refuses what it does not take, exit 2",
		func(want string, args ...string) {
			res := invokeCLI(args...)
			Expect(res.code).To(Equal(exitInvalid))
			Expect(res.stdout).To(BeEmpty())
			Expect(res.stderr).To(ContainSubstring(want))
		},
		Entry("an unknown format", `-o "yaml": the formats are ["text" "json"]`, "version", "-o", "yaml"),
		Entry("an argument", `unknown command "now" for "aviary version"`, "version", "now"),
	)

	It("is listed in the root help", func() {
		Expect(invokeCLI("--help").stdout).To(ContainSubstring("version     Print aviary's version"))
	})
})
