package world_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/world"
)

var _ = Describe("Response codes", func() {
	It("answers each version's codes and 200 for the rest, in every family", func() {
		h := newHarness(harnessOpts{
			spec: world.Spec{RPS: ptr(100.0), Versions: map[string]world.Behavior{
				newImage: {Codes: map[string]float64{"404": 0.03, "503": 0.01}},
			}},
			routing: world.Routing{CanaryWeight: 100},
		})
		h.runTo(3 * time.Minute)
		for code, share := range map[string]float64{"200": 0.96, "404": 0.03, "503": 0.01} {
			Expect(h.scalar(`sum(rate(istio_requests_total{`+istioCanary+`,response_code="`+code+`"}[1m]))`, 3*time.Minute)).
				To(BeNumerically("~", 100*share, 1e-9), "Istio's response_code %s", code)
			Expect(h.scalar(`sum(rate(http_request_duration_seconds_count{`+httpCanary+`,status="`+code+`"}[1m]))`, 3*time.Minute)).
				To(BeNumerically("~", 100*share, 1e-9), "the Prometheus client's status %s", code)
		}
		// Flagger's builtin success rate counts non-5xx: a 404 is a success for it
		sr := h.scalar(`sum(rate(istio_requests_total{`+istioCanary+`,response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{`+istioCanary+`}[1m])) * 100`, 3*time.Minute)
		Expect(sr).To(BeNumerically("~", 99, 1e-9))
		// and the blast radius counts 5xx only
		canary := traffic(h.w, newImage)
		Expect(canary.Requests).To(BeNumerically("~", 100*180.0, 1e-6))
		Expect(canary.Failed).To(BeNumerically("~", 100*180*0.01, 1e-6))
	})

	It("lets a fault's codes replace the version's whole mix, and errorRate is codes {\"500\": x}", func() {
		spec := func(f world.Fault) world.Spec {
			f.Image, f.From = newImage, dur(time.Minute)
			return world.Spec{RPS: ptr(100.0),
				Versions: map[string]world.Behavior{newImage: {Codes: map[string]float64{"404": 0.05}}},
				Faults:   []world.Fault{f}}
		}
		byCode := func(h *harness) map[string]float64 {
			out := map[string]float64{}
			for _, s := range h.query(`sum by (response_code) (istio_requests_total{`+istioCanary+`})`, 3*time.Minute) {
				out[s.Metric.Get("response_code")] = s.F
			}
			return out
		}
		shorthand := newHarness(harnessOpts{spec: spec(world.Fault{ErrorRate: ptr(0.2)}), routing: world.Routing{CanaryWeight: 100}})
		shorthand.runTo(3 * time.Minute)
		codes := newHarness(harnessOpts{spec: spec(world.Fault{Codes: map[string]float64{"500": 0.2}}), routing: world.Routing{CanaryWeight: 100}})
		codes.runTo(3 * time.Minute)
		Expect(byCode(shorthand)).To(Equal(byCode(codes)))
		got := byCode(codes)
		Expect(got).To(HaveLen(3))
		Expect(got["200"]).To(BeNumerically("~", 100*(60*0.95+120*0.8), 1e-6))
		Expect(got["404"]).To(BeNumerically("~", 100*60*0.05, 1e-6), "before the fault only: its mix has no 404")
		Expect(got["500"]).To(BeNumerically("~", 100*120*0.2, 1e-6))
	})

	DescribeTable("Validate refuses bad codes",
		func(b world.Behavior, path, msg string) {
			errs := world.Spec{Versions: map[string]world.Behavior{"*": b}, Faults: []world.Fault{{Codes: b.Codes, ErrorRate: b.ErrorRate}}}.Validate()
			Expect(errs).To(ContainElement(world.FieldError{Path: `versions["*"]` + path, Msg: msg}))
			Expect(errs).To(ContainElement(world.FieldError{Path: `faults[0]` + path, Msg: msg}))
		},
		Entry("not a code", world.Behavior{Codes: map[string]float64{"4xx": 0.1}}, `.codes["4xx"]`, `want an HTTP response code between 100 and 599, got "4xx"`),
		Entry("out of range", world.Behavior{Codes: map[string]float64{"600": 0.1}}, `.codes["600"]`, `want an HTTP response code between 100 and 599, got "600"`),
		Entry("200 is the rest", world.Behavior{Codes: map[string]float64{"200": 0.5}}, `.codes["200"]`, `leave 200 out: it is what the other codes leave (1 minus their sum)`),
		Entry("a share above 1", world.Behavior{Codes: map[string]float64{"503": 1.5}}, `.codes["503"]`, `want a fraction between 0 and 1, got 1.5`),
		Entry("shares above 1 together", world.Behavior{Codes: map[string]float64{"404": 0.6, "503": 0.5}}, `.codes`, `the shares add up to 1.1, more than 1`),
		Entry("both errorRate and codes", world.Behavior{ErrorRate: ptr(0.1), Codes: map[string]float64{"404": 0.1}}, `.codes`,
			`give errorRate or codes, not both (errorRate 0.1 is codes: {"500": 0.1})`),
	)

	It("accepts shares written as decimals that add up to 1, and a fault giving only codes", func() {
		Expect(world.Spec{
			Versions: map[string]world.Behavior{"*": {Codes: map[string]float64{"404": 0.1, "429": 0.2, "503": 0.7}}},
			Faults:   []world.Fault{{Codes: map[string]float64{"404": 0.5}}},
		}.Validate()).To(BeEmpty())
	})

	It("resolves versions taking the mix of \"*\" as a whole", func() {
		got := world.ResolveVersions(map[string]world.Behavior{
			"*":      {Codes: map[string]float64{"404": 0.02}},
			newImage: {Latency: &world.Latency{P99: dur(time.Second)}},
			oldImage: {ErrorRate: ptr(0.1)},
		})
		Expect(got[newImage].Codes).To(Equal(map[string]float64{"404": 0.02}))
		Expect(got[newImage].ErrorRate).To(BeNil())
		Expect(got[oldImage].Codes).To(BeNil())
		Expect(*got[oldImage].ErrorRate).To(Equal(0.1))
		Expect(*world.ResolveVersions(nil)["*"].ErrorRate).To(Equal(0.0))
	})
})
