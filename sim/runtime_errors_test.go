package sim_test

import (
	"context"
	"errors"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// What only the run finds out about a scenario still names the file, the line and the
// field, as a load error does.
var _ = Describe("problems a run finds", func() {
	type where struct {
		file, object, path string
		line               int
		says               string
	}
	DescribeTable("name where they are written",
		func(name string, want where) {
			file := filepath.Join("testdata", "errors", name)
			l, err := scenario.LoadFile(file)
			Expect(err).NotTo(HaveOccurred())
			_, err = sim.Run(context.Background(), l, sim.RunOptions{})
			Expect(err).To(HaveOccurred())
			le, ok := errors.AsType[*scenario.LoadError](err)
			Expect(ok).To(BeTrue(), "%v", err)
			if want.file == "" {
				want.file = file
			}
			Expect(le.File).To(Equal(want.file))
			Expect(le.Line).To(Equal(want.line))
			Expect(le.Object).To(Equal(want.object))
			Expect(le.Path).To(Equal(want.path))
			Expect(le.Msg).To(ContainSubstring(want.says))
			Expect(err.Error()).To(HavePrefix(`scenario "%s"`, l.Scenario.Metadata.Name))
			Expect(err.Error()).To(ContainSubstring(" %s:%d: ", want.file, want.line))
		},
		Entry("a series with the labels of one the world writes", "series-collision.yaml", where{
			line: 15, path: "spec.world.series[1].series",
			says: "at 15s the world writes a series with these labels too (a pod's, a counter's or Traefik's)",
		}),
		Entry("a timeline patch the API server refuses", "patch-refused.yaml", where{
			line: 13, path: "spec.timeline[1].patch",
			says: `Canary.aviary.dev "podinfo" is invalid: spec.analysis.interval`,
		}),
		Entry("a policy object the API server refuses", "object-refused.yaml", where{
			line: 13, object: "spec.policy.objects[0] (MetricTemplate t)", path: "spec.query",
			says: `setup: create MetricTemplate t.test: MetricTemplate.aviary.dev "t" is invalid: spec.query: Required value`,
		}),
		Entry("an object of a policy file the API server refuses", "canary-refused.yaml", where{
			file: filepath.Join("testdata", "errors", "policies", "canary.yaml"), line: 10, object: "Canary podinfo", path: "spec.analysis",
			says: `Canary.aviary.dev "podinfo" is invalid: spec.analysis: Invalid value: exactly one of iterations, stepWeight and stepWeights must be set`,
		}),
	)
})
