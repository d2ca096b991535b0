package reports_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
)

func TestReports(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "reports")
}

// library is the scenario library run once in fast mode; wrong are runs of library
// scenarios with deliberately wrong expectations, so that reports have failures to
// show.
var library, wrong []*sim.Result

// suite is wrong followed by library: the report tests' input.
func suite() []*sim.Result { return append(append([]*sim.Result{}, wrong...), library...) }

var _ = BeforeSuite(func(ctx SpecContext) {
	loaded, err := sim.LoadPaths([]string{"../scenarios"})
	Expect(err).NotTo(HaveOccurred())
	Expect(len(loaded)).To(BeNumerically(">=", 12))
	results, errs := sim.RunSuite(ctx, loaded, 0, nil)
	for i, err := range errs {
		Expect(err).NotTo(HaveOccurred(), loaded[i].Scenario.File)
	}
	library = results

	wrong = []*sim.Result{
		// expects a promotion to 50% where the policy rolls back at 10%: two failures
		runWrong(ctx, "../scenarios/user-profile-nan-division.yaml", "user-profile-nan-division-expects-promotion", func(e *sim.Expectations) {
			e.Phase = "Succeeded"
			fifty := 50
			e.MaxCanaryWeight = &fifty
		}),
		// a blast radius far below what the burst costs: one failure
		runWrong(ctx, "../scenarios/podinfo-500-burst.yaml", "podinfo-500-burst-tight-blast-radius", func(e *sim.Expectations) {
			hundred := int64(100)
			e.FailedRequests = &sim.Count{Max: &hundred}
		}),
	}
}, NodeTimeout(300e9))

// runWrong runs a library scenario under another name with its expectations changed.
func runWrong(ctx context.Context, file, name string, change func(*sim.Expectations)) *sim.Result {
	l, err := sim.LoadFile(file)
	Expect(err).NotTo(HaveOccurred())
	l.Scenario.Metadata.Name = name
	if l.Scenario.Spec.Expect == nil {
		l.Scenario.Spec.Expect = &sim.Expectations{}
	}
	change(l.Scenario.Spec.Expect)
	res, err := sim.Run(ctx, l, sim.RunOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(res.Passed).To(BeFalse(), "%s should fail", name)
	return res
}

// failedExpectations counts the failed expectations of results.
func failedExpectations(results []*sim.Result) (n int) {
	for _, r := range results {
		for _, e := range r.Expectations {
			if !e.OK {
				n++
			}
		}
	}
	return n
}
