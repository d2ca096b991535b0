package world

import (
	"aviary.dev/aviary/sim/promstore"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = ginkgo.Describe("scrapeBatch", func() {
	ginkgo.It("adds grouped series as a row, any others as their samples in the row's order", func() {
		var values [seriesPerCode]float64
		for i := range values {
			values[i] = float64(i) * 1.5
		}
		var b scrapeBatch
		grouped := &codeSeries{group: 7}
		b.addRow(grouped.group, grouped.refs[:], 1000, values[:])
		Expect(b.rows).To(HaveLen(1))
		Expect(b.rows[0].Group).To(Equal(promstore.GroupRef(7)))
		Expect(b.rows[0].T).To(Equal(int64(1000)))
		Expect(b.rows[0].Values).To(Equal(values[:]))
		Expect(b.samples).To(BeEmpty())

		single := &codeSeries{}
		for i := range single.refs {
			single.refs[i] = promstore.SeriesRef(100 + i)
		}
		b.addRow(single.group, single.refs[:], 2000, values[:])
		Expect(b.rows).To(HaveLen(1))
		Expect(b.samples).To(HaveLen(seriesPerCode))
		for i, s := range b.samples {
			Expect(s).To(Equal(promstore.Sample{Ref: promstore.SeriesRef(100 + i), T: 2000, V: values[i]}))
		}

		b.reset()
		Expect(b.rows).To(BeEmpty())
		Expect(b.samples).To(BeEmpty())
	})
})
