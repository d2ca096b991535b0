package reports_test

import (
	"os"
	"slices"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

func TestReports(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "reports")
}

// fixture holds the run records the report tests render, frozen: written by
// hack/report-fixture (`make report-fixture`; see testdata/README.md) in the format
// of "aviary test --json": wrong, then library.
const fixture = "testdata/results.json"

// wrongNames are the deliberately wrong variants hack/report-fixture runs, in the
// fixture's order.
var wrongNames = []string{"user-profile-nan-division-expects-promotion", "podinfo-500-burst-tight-blast-radius"}

// library is the scenario library run in fast mode; wrong are runs of library
// scenarios with deliberately wrong expectations, so that reports have failures to
// show. Both are read from the fixture, not run.
var library, wrong []*scenario.Result

// suite is wrong followed by library: the report tests' input.
func suite() []*scenario.Result { return append(append([]*scenario.Result{}, wrong...), library...) }

var _ = BeforeSuite(func() {
	f, err := os.Open(fixture)
	Expect(err).NotTo(HaveOccurred(), "regenerate it with `make report-fixture`")
	defer func() { _ = f.Close() }()
	all, err := reports.ReadJSON(f)
	Expect(err).NotTo(HaveOccurred(), "%s: regenerate it with `make report-fixture`", fixture)
	Expect(len(all)).To(BeNumerically(">=", len(wrongNames)+12), "the wrong variants and the library")

	wrong, library = all[:len(wrongNames)], all[len(wrongNames):]
	for i, name := range wrongNames {
		Expect(wrong[i].Scenario).To(Equal(name))
		Expect(wrong[i].Passed).To(BeFalse(), "%s should fail", name)
	}
	for _, r := range library {
		Expect(r.Passed).To(BeTrue(), "library scenario %s", r.Scenario)
	}
})

// failedExpectations counts the failed expectations of results.
func failedExpectations(results []*scenario.Result) (n int) {
	for _, r := range results {
		for _, e := range r.Expectations {
			if !e.OK {
				n++
			}
		}
	}
	return n
}

// stored is records as a run stores them: repeated records compacted
// (scenario.AppendTick).
func stored(records ...engine.TickRecord) []scenario.Tick {
	var out []scenario.Tick
	for _, r := range records {
		out, _ = scenario.AppendTick(out, r)
	}
	return out
}

// ticksOf is every tick of r, repeats expanded.
func ticksOf(r *scenario.Result) []engine.TickRecord { return slices.Collect(r.EachTick()) }
