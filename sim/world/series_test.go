package world_test

import (
	"math"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"aviary.dev/aviary/sim/world"
)

// scrapes returns what the series writes at scrapes 0..n-1: a value, or "_" for nothing.
func scrapes(e world.ExpandedSeries, n int) []any {
	out := make([]any, n)
	for i := range out {
		v, omitted := e.At(i)
		switch {
		case omitted:
			out[i] = "_"
		case value.IsStaleNaN(v):
			out[i] = "stale"
		case math.IsNaN(v):
			out[i] = "NaN"
		default:
			out[i] = v
		}
	}
	return out
}

var _ = Describe("RawSeries", func() {
	DescribeTable("expands promtool's notation, one value per scrape",
		func(values string, want []any) {
			e, err := world.ExpandRawSeries(world.RawSeries{Series: `queue_depth{namespace="test"}`, Values: values})
			Expect(err).NotTo(HaveOccurred())
			Expect(e.Labels).To(Equal(labels.FromStrings("__name__", "queue_depth", "namespace", "test")))
			Expect(scrapes(e, len(want))).To(Equal(want))
		},
		Entry("a start and an increment", "0+2x3", []any{0.0, 2.0, 4.0, 6.0, "_"}),
		Entry("a decrement", "10-1x2", []any{10.0, 9.0, 8.0, "_"}),
		Entry("repeats", "7x2 1", []any{7.0, 7.0, 7.0, 1.0}),
		Entry("omitted scrapes and a staleness marker", "1 _x3 stale", []any{1.0, "_", "_", "_", "stale", "_"}),
		Entry("special values", "NaN Inf -Inf", []any{"NaN", math.Inf(1), math.Inf(-1)}),
		Entry("one omitted value", "_ 5", []any{"_", 5.0}),
	)

	It("writes nothing before the first or after the last scrape", func() {
		e, err := world.ExpandRawSeries(world.RawSeries{Series: "up", Values: "1 2"})
		Expect(err).NotTo(HaveOccurred())
		Expect(e.Len()).To(Equal(2))
		_, omitted := e.At(-1)
		Expect(omitted).To(BeTrue())
		v, omitted := e.At(1)
		Expect(omitted).To(BeFalse())
		Expect(v).To(Equal(2.0))
		_, omitted = e.At(2)
		Expect(omitted).To(BeTrue())
	})

	It("returns labels and values from ParseRawSeries", func() {
		lset, vals, err := world.ParseRawSeries(world.RawSeries{Series: `{__name__="x", a="b"}`, Values: "1 _"})
		Expect(err).NotTo(HaveOccurred())
		Expect(lset.String()).To(Equal(`{__name__="x", a="b"}`))
		Expect(vals).To(HaveLen(2))
		Expect(vals[0].Value).To(Equal(1.0))
		Expect(vals[1].Omitted).To(BeTrue())
	})

	DescribeTable("names the problem",
		func(s world.RawSeries, want string) {
			_, _, err := world.ParseRawSeries(s)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(want))
			Expect(err.Error()).To(ContainSubstring("series %q", s.Series))
		},
		Entry("no series", world.RawSeries{Values: "1"}, "series is empty"),
		Entry("no values", world.RawSeries{Series: "up"}, "no values"),
		Entry("a bad value", world.RawSeries{Series: "up", Values: "1 two"}, `parse error`),
		Entry("a bad character", world.RawSeries{Series: "up", Values: "1 ; 2"}, `unexpected character in series sequence`),
		Entry("an unclosed brace", world.RawSeries{Series: `up{job="a"`, Values: "1"}, "parse error"),
		Entry("a regex matcher", world.RawSeries{Series: `up{job=~"a"}`, Values: "1"}, "parse error"),
		Entry("a native histogram", world.RawSeries{Series: "h", Values: "{{schema:0 sum:1 count:1}}"}, "native histogram"),
		Entry("too many samples", world.RawSeries{Series: "up", Values: "0+1x100000000"}, "more than 1000000 samples"),
		Entry("too many samples in total", world.RawSeries{Series: "up", Values: "0x600000 0x600000"}, "more than 1000000 samples"),
		Entry("duplicate labels", world.RawSeries{Series: `up{a="1", a="2"}`, Values: "1"}, `a`),
	)

	It("does not count an x inside a quoted label value as a repetition", func() {
		_, vals, err := world.ParseRawSeries(world.RawSeries{Series: `up{id="x99999999"}`, Values: "1x2"})
		Expect(err).NotTo(HaveOccurred())
		Expect(vals).To(HaveLen(3))
	})
})
