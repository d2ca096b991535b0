package scenarios_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// The envtest API server shared by the parity specs: started on first use (so that
// `go test -run` of other specs does not pay for it), stopped by TestMain.
var apiServer struct {
	once sync.Once
	env  *cluster.Envtest
	err  error
}

func envtestOrFail() *cluster.Envtest {
	GinkgoHelper()
	apiServer.once.Do(func() {
		apiServer.env, apiServer.err = cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{})
		if apiServer.err == nil {
			AddReportEntry("envtest start", apiServer.env.Startup.String())
		}
	})
	if apiServer.err != nil {
		Fail(apiServer.err.Error())
	}
	return apiServer.env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if apiServer.env != nil {
		if err := apiServer.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}
	os.Exit(code)
}

// tickDecision is what one tick decided and why; every field must be equal in both
// cluster modes.
type tickDecision struct {
	At           string               `json:"at"`
	PhaseBefore  string               `json:"phaseBefore"`
	Phase        string               `json:"phase"`
	Step         string               `json:"step"`
	Primary      int                  `json:"primaryWeight"`
	Canary       int                  `json:"canaryWeight"`
	Mirrored     bool                 `json:"mirrored"`
	FailedChecks int                  `json:"failedChecks"`
	Iterations   int                  `json:"iterations"`
	Metrics      any                  `json:"metrics"`
	Hooks        any                  `json:"hooks"`
	Routes       []engine.RouteChange `json:"routes"`
	Events       []engine.Event       `json:"events"`
	Alerts       []engine.Alert       `json:"alerts"`
	Error        string               `json:"error"`
}

func tickJSON(t engine.TickRecord) string {
	GinkgoHelper()
	b, err := json.Marshal(tickDecision{
		At: t.At.Sub(scenario.Epoch).String(), PhaseBefore: t.PhaseBefore, Phase: t.Phase, Step: t.Step,
		Primary: t.PrimaryWeight, Canary: t.CanaryWeight, Mirrored: t.Mirrored,
		FailedChecks: t.FailedChecks, Iterations: t.Iterations,
		Metrics: t.Metrics, Hooks: t.Hooks, Routes: t.Routes, Events: t.Events, Alerts: t.Alerts, Error: t.Error,
	})
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// outcomeJSON is the run's verdict: final phase and when, routes, blast radius, and
// every checked expectation.
func outcomeJSON(r *scenario.Result) string {
	GinkgoHelper()
	b, err := json.Marshal(map[string]any{
		"phase": r.Phase, "decidedAt": r.DecidedAt, "routes": r.Routes, "maxCanaryWeight": r.MaxCanaryWeight,
		"traffic": r.Traffic, "failedUserRequests": r.FailedUserRequests,
		"expectations": r.Expectations, "passed": r.Passed,
	})
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// firstDifference describes the first tick at which two runs decided differently, or
// "" when every tick is equal.
func firstDifference(fast, real *scenario.Result) string {
	GinkgoHelper()
	f, r := slices.Collect(fast.EachTick()), slices.Collect(real.EachTick())
	for i := 0; i < max(len(f), len(r)); i++ {
		var a, b string
		if i < len(f) {
			a = tickJSON(f[i])
		}
		if i < len(r) {
			b = tickJSON(r[i])
		}
		if a != b {
			return fmt.Sprintf("first difference at tick %d:\n  fast:    %s\n  envtest: %s", i, orNone(a), orNone(b))
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(no such tick)"
	}
	return s
}

var _ = Describe("parity of the cluster modes", func() {
	DescribeTable("a scenario decides the same against a real kube-apiserver (envtest) as against the fake client",
		func(file string) {
			env := envtestOrFail()
			l, fast := runFile(file)
			real, err := sim.Run(context.Background(), l, sim.InEnvtest(env, l))
			Expect(err).NotTo(HaveOccurred())
			Expect(fast.Mode).To(Equal(sim.ModeFast))
			Expect(real.Mode).To(Equal(sim.ModeEnvtest))

			Expect(firstDifference(fast, real)).To(BeEmpty(), "%s", file)
			Expect(outcomeJSON(real)).To(Equal(outcomeJSON(fast)), "%s", file)
			Expect(real.Passed).To(BeTrue(), "%s: every expectation holds in envtest mode too", file)
		},
		entries(),
	)
})

var _ = Describe("the parity check", func() {
	It("names the first tick at which the modes differ", func() {
		_, a := runFile("podinfo-500-burst.yaml")
		b := *a
		b.Ticks = append([]scenario.Tick{}, a.Ticks...)
		b.Ticks[7].FailedChecks++
		for _, t := range a.Ticks[:7] {
			Expect(t.Repeat).To(BeZero(), "record 7 is tick 7")
		}
		Expect(firstDifference(a, a)).To(BeEmpty())
		diff := firstDifference(a, &b)
		Expect(diff).To(HavePrefix("first difference at tick 7:"))
		Expect(diff).To(ContainSubstring(fmt.Sprintf(`"failedChecks":%d`, b.Ticks[7].FailedChecks)))
		Expect(firstDifference(a, &scenario.Result{Ticks: a.Ticks[:3]})).To(ContainSubstring("(no such tick)"))
	})
})
