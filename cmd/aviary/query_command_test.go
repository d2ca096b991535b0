package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// apiAnswer is the part of the Prometheus HTTP API's answer -o json prints that
// the tests read.
type apiAnswer struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

var _ = Describe("aviary query", func() {
	burst := filepath.Join(scenarioDir, "podinfo-500-burst.yaml")
	perCode := `sum by (response_code) (rate(istio_requests_total{destination_workload="podinfo"}[1m]))`

	It("answers a check's query at its tick with the value the tick record shows", func() {
		l, err := scenario.LoadFile(burst)
		Expect(err).NotTo(HaveOccurred())
		res, err := sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).NotTo(HaveOccurred())
		compared := 0
		for t := range res.EachTick() {
			for _, m := range t.Metrics {
				if m.Kind != analysis.KindSuccessRate || m.Value == nil {
					continue
				}
				at := t.At.Sub(scenario.Epoch).String()
				out := invokeCLI("query", burst, "--at", at, "-o", "json", m.Query)
				Expect(out.code).To(Equal(exitOK), out.stderr)
				var a apiAnswer
				Expect(json.Unmarshal([]byte(out.stdout), &a)).To(Succeed())
				Expect(a.Status).To(Equal("success"))
				Expect(a.Data.ResultType).To(Equal("vector"))
				Expect(a.Data.Result).To(HaveLen(1))
				Expect(a.Data.Result[0].Value[0]).To(BeNumerically("==", t.At.Unix()))
				Expect(a.Data.Result[0].Value[1]).To(Equal(strconv.FormatFloat(*m.Value, 'f', -1, 64)), "%s at %s", m.Query, at)
				compared++
			}
		}
		Expect(compared).To(BeNumerically(">=", 5))
	})

	It("prints an instant vector one series a line", func() {
		out := invokeCLI("query", burst, "--at", "6m", perCode)
		Expect(out.code).To(Equal(exitOK), out.stderr)
		Expect(out.stdout).To(Equal("{response_code=\"200\"} 20.999999999999996\n{response_code=\"500\"} 9\n"))
	})

	It("prints a range query's series with a row per step, at virtual times", func() {
		out := invokeCLI("query", burst, "--range", "3m:6m", "--step", "1m",
			`sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))`)
		Expect(out.code).To(Equal(exitOK), out.stderr)
		Expect(out.stdout).To(Equal("{}\n  t=3m0s 0\n  t=4m0s 9.999999999999996\n  t=5m0s 20\n  t=6m0s 29.999999999999996\n"))
	})

	It("prints a range query in the API's matrix format with -o json", func() {
		out := invokeCLI("query", burst, "--range", "0:2m", "--step", "30s", "-o", "json", `count(istio_requests_total)`)
		Expect(out.code).To(Equal(exitOK), out.stderr)
		var a apiAnswer
		Expect(json.Unmarshal([]byte(out.stdout), &a)).To(Succeed())
		Expect(a.Data.ResultType).To(Equal("matrix"))
		Expect(a.Data.Result).To(HaveLen(1))
		Expect(a.Data.Result[0].Values).To(HaveLen(5))
		Expect(a.Data.Result[0].Values[0][0]).To(BeNumerically("==", scenario.Epoch.Unix()))
	})

	It("prints a scalar, and says when a vector is empty", func() {
		out := invokeCLI("query", burst, "--at", "3m", "scalar(sum(istio_requests_total))")
		Expect(out.code).To(Equal(exitOK), out.stderr)
		Expect(out.stdout).To(Equal("scalar 18000\n"))
		out = invokeCLI("query", burst, "--at", "0", `istio_requests_total{response_code="999"}`)
		Expect(out.code).To(Equal(exitOK), out.stderr)
		Expect(out.stdout).To(Equal("no series\n"))
	})

	It("queries at the scenario's end without --at", func() {
		end := invokeCLI("query", burst, "count(istio_requests_total)")
		at := invokeCLI("query", burst, "--at", "20m", "count(istio_requests_total)")
		Expect(end.code).To(Equal(exitOK), end.stderr)
		Expect(end.stdout).To(Equal(at.stdout))
		Expect(end.stdout).To(MatchRegexp(`^\{\} \d+\n$`))
	})
})
