package version

import (
	"runtime"
	"runtime/debug"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the version", func() {
	DescribeTable("the revision of a build without -X comes from its VCS stamp",
		func(settings []debug.BuildSetting, want string) {
			Expect(revisionOf(settings)).To(Equal(want))
		},
		Entry("clean", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, "abc"),
		Entry("modified", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "abc"}}, "abc-dirty"),
		Entry("no stamp (-buildvcs=false)", []debug.BuildSetting{{Key: "-trimpath", Value: "true"}}, Unknown),
		Entry("modified without a revision", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, Unknown),
	)

	It("prefers the commit set at link time", func() {
		DeferCleanup(func(c string) { Commit = c }, Commit)
		Commit = "0123456789abcdef"
		Expect(Revision()).To(Equal("0123456789abcdef"))
		Expect(Get()).To(Equal(Info{Version: Version, Commit: "0123456789abcdef", FlaggerVersion: FlaggerVersion, GoVersion: runtime.Version()}))
	})

	It("says the version, commit, Flagger semantics and Go release on one line", func() {
		Expect(Info{Version: "1.2.3", Commit: "abc", FlaggerVersion: "1.44.0", GoVersion: "go1.26.8"}.String()).
			To(Equal("aviary 1.2.3 (commit abc, Flagger 1.44.0 semantics, go1.26.8)"))
	})
})
