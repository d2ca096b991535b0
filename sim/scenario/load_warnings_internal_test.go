package scenario

import (
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = ginkgo.DescribeTable("usesInterval finds {{ interval }} wherever the template calls it",
	func(text string, want bool) {
		Expect(usesInterval(text)).To(Equal(want))
	},
	ginkgo.Entry("top level", `rate(x[{{ interval }}])`, true),
	ginkgo.Entry("in a pipeline", `rate(x[{{ interval | printf "%s" }}])`, true),
	ginkgo.Entry("inside if", `{{ if .x }}rate(x[{{ interval }}]){{ end }}`, true),
	ginkgo.Entry("inside an else", `{{ if .x }}x{{ else }}rate(x[{{ interval }}]){{ end }}`, true),
	ginkgo.Entry("inside range", `{{ range .xs }}rate(x[{{ interval }}]){{ end }}`, true),
	ginkgo.Entry("inside with", `{{ with .x }}rate(x[{{ interval }}]){{ end }}`, true),
	ginkgo.Entry("as a with's pipeline", `{{ with interval }}rate(x[{{ . }}]){{ end }}`, true),
	ginkgo.Entry("in a defined template", `{{ define "w" }}{{ interval }}{{ end }}rate(x[{{ template "w" }}])`, true),
	ginkgo.Entry("with builtins around it", `{{ if and .x (not .y) }}{{ printf "%s" interval }}{{ end }}`, true),
	ginkgo.Entry("not parseable: judged by its text", `rate(x[{{ interval `, true),
	ginkgo.Entry("not called", `rate(x[1m])`, false),
	ginkgo.Entry("not called, with builtins", `{{ if and .x (not .y) }}{{ printf "%s" "1m" }}{{ end }}`, false),
	ginkgo.Entry("only as text", `interval_seconds{job="a"}`, false),
	ginkgo.Entry("as a field, not the function", `rate(x[{{ .interval }}])`, false),
)
