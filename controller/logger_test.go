package controller

import (
	"bytes"
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the logger", func() {
	DescribeTable("writes Flagger's JSON lines at the levels -log-level lets through",
		func(level string, wantInfo, wantWarn bool) {
			var buf bytes.Buffer
			log, err := NewLogger(level, &buf)
			Expect(err).NotTo(HaveOccurred())
			log.Info("info line")
			log.Warn("warn line")
			Expect(buf.String()).To(map[bool]OmegaMatcher{true: ContainSubstring(`"msg":"info line"`), false: Not(ContainSubstring("info line"))}[wantInfo])
			Expect(buf.String()).To(map[bool]OmegaMatcher{true: ContainSubstring(`"msg":"warn line"`), false: Not(ContainSubstring("warn line"))}[wantWarn])
		},
		Entry("debug", "debug", true, true),
		Entry("info", "info", true, true),
		Entry("warn", "warn", false, true),
		Entry("warning (Flagger's help's word)", "warning", false, true),
		Entry("error", "error", false, false),
	)

	It("has Flagger's keys", func() {
		var buf bytes.Buffer
		log, err := NewLogger("info", &buf)
		Expect(err).NotTo(HaveOccurred())
		log.Info("Starting operator")
		var line map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &line)).To(Succeed())
		Expect(line).To(HaveKeyWithValue("level", "info"))
		Expect(line).To(HaveKeyWithValue("msg", "Starting operator"))
		Expect(line["ts"]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`))
		Expect(line["caller"]).To(MatchRegexp(`^controller/logger_test\.go:\d+$`))
	})

	It("refuses a level it does not know", func() {
		_, err := NewLogger("verbose", &bytes.Buffer{})
		Expect(err).To(MatchError(ContainSubstring(`log level "verbose"`)))
	})
})
