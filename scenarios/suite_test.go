package scenarios_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
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
func runFile(file string) (*sim.Loaded, *sim.Result) {
	return runFileWith(file, sim.RunOptions{})
}

// runFileWith is runFile with options.
func runFileWith(file string, opts sim.RunOptions) (*sim.Loaded, *sim.Result) {
	l, err := sim.LoadFile(file)
	Expect(err).NotTo(HaveOccurred())
	res, err := sim.Run(context.Background(), l, opts)
	Expect(err).NotTo(HaveOccurred())
	return l, res
}

// recordJSON is a run's whole record as the reports serialise it.
func recordJSON(res *sim.Result) string {
	j, err := json.Marshal(res)
	Expect(err).NotTo(HaveOccurred())
	return string(j)
}

var _ = Describe("the scenario library", func() {
	It("has at least 12 scenarios, each with a description and expectations", func() {
		Expect(len(files)).To(BeNumerically(">=", 12))
		for _, f := range files {
			l, err := sim.LoadFile(f)
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

	DescribeTable("every expectation can fail: a wrong variant of each is reported",
		func(file string) {
			l, res := runFile(file)
			exp := l.Scenario.Spec.Expect
			variants := wrongVariants(exp, res)
			Expect(variants).NotTo(BeEmpty(), "scenario %s has no expectation that could fail", file)
			for name, wrong := range variants {
				checked := sim.Check(wrong, res)
				failed := []string{}
				for _, e := range checked {
					if !e.OK {
						failed = append(failed, e.Name)
					}
				}
				Expect(failed).NotTo(BeEmpty(), "%s: a wrong %s was not reported", file, name)
			}
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

// wrongVariants returns, for every expectation the scenario states, a copy of the
// expectations with only that one made wrong against the observed result.
func wrongVariants(exp *sim.Expectations, res *sim.Result) map[string]*sim.Expectations {
	out := map[string]*sim.Expectations{}
	variant := func(name string, mutate func(e *sim.Expectations)) {
		c := *exp
		mutate(&c)
		out[name] = &c
	}
	if exp.Phase != "" {
		variant("phase", func(e *sim.Expectations) {
			if res.Phase == "Succeeded" {
				e.Phase = "Failed"
			} else {
				e.Phase = "Succeeded"
			}
		})
	}
	if exp.Within.Duration > 0 && res.DecidedAt != nil {
		variant("within", func(e *sim.Expectations) {
			e.Within = sim.Duration{Duration: time.Duration(*res.DecidedAt) - time.Second}
		})
	}
	if exp.Routes != nil {
		variant("routes", func(e *sim.Expectations) { e.Routes = append(append([]int{}, res.Routes...), 99) })
	}
	if exp.MaxCanaryWeight != nil {
		variant("maxCanaryWeight", func(e *sim.Expectations) {
			w := res.MaxCanaryWeight + 1
			e.MaxCanaryWeight = &w
		})
	}
	if len(exp.Events) > 0 {
		variant("events", func(e *sim.Expectations) {
			e.Events = append(append([]string{}, exp.Events...), "this event never happens")
		})
		variant("events order", func(e *sim.Expectations) {
			rev := append([]string{}, exp.Events...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if len(rev) > 1 && rev[0] != rev[len(rev)-1] {
				e.Events = rev
			} else {
				e.Events = append(rev, "re:^never$")
			}
		})
	}
	if len(exp.AbsentEvents) > 0 {
		variant("absentEvents", func(e *sim.Expectations) {
			first := firstEvent(res)
			e.AbsentEvents = append(append([]string{}, exp.AbsentEvents...), first)
		})
	}
	for typ := range exp.HookCalls {
		variant("hookCalls."+typ, func(e *sim.Expectations) {
			e.HookCalls = map[string]sim.Count{}
			for k, v := range exp.HookCalls {
				e.HookCalls[k] = v
			}
			n := int64(hookCalls(res, typ)) + 1
			e.HookCalls[typ] = sim.Count{Exact: &n}
		})
	}
	if exp.FailedRequests != nil {
		variant("failedRequests", func(e *sim.Expectations) {
			n := res.FailedUserRequests + 1
			e.FailedRequests = &sim.Count{Exact: &n}
		})
	}
	return out
}

func firstEvent(res *sim.Result) string {
	for _, t := range res.Ticks {
		for _, e := range t.Events {
			return e.Message
		}
	}
	panic(fmt.Sprintf("%s: no events", res.Scenario))
}

func hookCalls(res *sim.Result, typ string) int {
	n := 0
	for _, t := range res.Ticks {
		for _, h := range t.Hooks {
			if h.Type == typ {
				n++
			}
		}
	}
	return n
}
