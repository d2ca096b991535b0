package world_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/world"
)

var _ = Describe("the families the world writes", func() {
	It("are every request series it writes, each with its code label", func() {
		h := newHarness(harnessOpts{spec: world.Spec{RPS: ptr(100.0)}, routing: traefikRouting(60, 40)})
		h.runTo(time.Minute)
		seen := map[string]bool{}
		for _, s := range h.query(`{__name__=~".+"}`, time.Minute) {
			name := s.Metric.Get("__name__")
			f, ok := world.FamilyOf(name)
			Expect(ok).To(BeTrue(), "%s is written but not among world.Families", name)
			Expect(s.Metric.Get(f.CodeLabel)).To(Equal("200"), "%s: code label %s", name, f.CodeLabel)
			seen[f.Name] = true
		}
		for _, f := range world.Families() {
			Expect(seen).To(HaveKey(f.Name), "a family the world does not write")
		}
	})

	DescribeTable("FamilyOf",
		func(name, family string, histogram bool) {
			f, ok := world.FamilyOf(name)
			Expect(ok).To(Equal(family != ""))
			Expect(f.Name).To(Equal(family))
			Expect(f.Histogram).To(Equal(histogram))
		},
		Entry(nil, "istio_requests_total", world.IstioRequests, false),
		Entry(nil, "istio_request_duration_milliseconds_bucket", world.IstioDuration, true),
		Entry(nil, "http_request_duration_seconds_count", world.HTTPDuration, true),
		Entry(nil, "traefik_service_request_duration_seconds_sum", world.TraefikDuration, true),
		Entry("a counter's suffix on a counter", "istio_requests_total_bucket", "", false),
		Entry("a histogram's name alone", "istio_request_duration_milliseconds", "", false),
		Entry("the application's own", "queue_depth", "", false),
	)
})
