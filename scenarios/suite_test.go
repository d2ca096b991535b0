package scenarios_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "scenario suite")
}

// files are the scenario library; each becomes table entries below.
var files = func() []string {
	f, err := filepath.Glob("*.yaml")
	if err != nil {
		panic(err)
	}
	sort.Strings(f)
	return f
}()

func entries() []TableEntry {
	var out []TableEntry
	for _, f := range files {
		out = append(out, Entry(f, f))
	}
	return out
}

// runFile loads and runs one scenario in fast mode.
func runFile(file string) (*scenario.Loaded, *scenario.Result) {
	return runFileWith(file, sim.RunOptions{})
}

// runFileWith is runFile with options.
func runFileWith(file string, opts sim.RunOptions) (*scenario.Loaded, *scenario.Result) {
	l, err := scenario.LoadFile(file)
	Expect(err).NotTo(HaveOccurred())
	res, err := sim.Run(context.Background(), l, opts)
	Expect(err).NotTo(HaveOccurred())
	return l, res
}

// recordJSON is a run's whole record as the reports serialise it.
func recordJSON(res *scenario.Result) string {
	j, err := json.Marshal(res)
	Expect(err).NotTo(HaveOccurred())
	return string(j)
}

var _ = Describe("the scenario library", func() {
	It("has at least 12 scenarios, each with a description and expectations", func() {
		Expect(len(files)).To(BeNumerically(">=", 12))
		for _, f := range files {
			l, err := scenario.LoadFile(f)
			Expect(err).NotTo(HaveOccurred(), f)
			Expect(l.Scenario.Metadata.Description).NotTo(BeEmpty(), f)
			Expect(l.Scenario.Spec.Expect).NotTo(BeNil(), f)
		}
	})

	DescribeTable("every expectation holds in fast mode",
		func(file string) {
			_, res := runFile(file)
			for _, e := range res.Expectations {
				Expect(e.OK).To(BeTrue(), "%s: %s: expected %s, observed %s", file, e.Name, e.Expected, e.Observed)
			}
			Expect(res.Passed).To(BeTrue())
			Expect(res.Expectations).NotTo(BeEmpty())
		},
		entries(),
	)

	DescribeTable("runs are deterministic: the same scenario twice gives byte-identical records",
		func(file string) {
			_, a := runFile(file)
			_, b := runFile(file)
			Expect(recordJSON(a)).To(Equal(recordJSON(b)))
		},
		entries(),
	)

	DescribeTable("repeating idle ticks changes nothing: the record equals one with every tick run",
		func(file string) {
			var every, replaying sim.Profile
			_, a := runFileWith(file, sim.RunOptions{EveryTick: true, Profile: &every})
			_, b := runFileWith(file, sim.RunOptions{Profile: &replaying})
			Expect(every.Replayed).To(BeZero())
			Expect(replaying.Ticks).To(Equal(every.Ticks))
			Expect(recordJSON(b)).To(Equal(recordJSON(a)), "%d of %d ticks replayed", replaying.Replayed, replaying.Ticks)
		},
		entries(),
	)

	It("is what the reports' frozen fixture holds (reports/testdata/results.json; `make report-fixture` regenerates it)", func() {
		f, err := os.Open(filepath.Join("..", "reports", "testdata", "results.json"))
		Expect(err).NotTo(HaveOccurred())
		defer func() { _ = f.Close() }()
		frozen, err := reports.ReadJSON(f)
		Expect(err).NotTo(HaveOccurred())
		byName := map[string]*scenario.Result{}
		for _, r := range frozen {
			byName[r.Scenario] = r
		}
		GinkgoT().Chdir("..") // the fixture is written from the repository root: its files and warnings say scenarios/...
		for _, file := range files {
			// The fixture holds baselines, as "aviary test --json" writes them.
			_, res := runFileWith(filepath.Join("scenarios", file), sim.RunOptions{Baselines: true})
			held, ok := byName[res.Scenario]
			Expect(ok).To(BeTrue(), "%s is not in the fixture: run `make report-fixture`", file)
			Expect(recordJSON(held)).To(Equal(recordJSON(res)), "%s: the fixture is stale: run `make report-fixture` and review the report tests", file)
		}
	})

	It("repeats idle ticks somewhere in the library", func() {
		replayed := 0
		for _, f := range files {
			var p sim.Profile
			runFileWith(f, sim.RunOptions{Profile: &p})
			replayed += p.Replayed
		}
		Expect(replayed).To(BeNumerically(">", 0))
	})
})
