package promstore_test

import (
	"math"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"aviary.dev/aviary/sim/promstore"
)

var _ = Describe("Storage.Latest", func() {
	latest := func(st *promstore.Storage) []string {
		var out []string
		for lset, v := range st.Latest() {
			out = append(out, lset.String()+" "+strconv.FormatFloat(v, 'g', -1, 64))
		}
		return out
	}

	It("yields each live series' last value, a metric's series together, and leaves out what went stale or was dropped", func() {
		st := promstore.NewStorage()
		a1 := st.Ref(labels.FromStrings("__name__", "a", "pod", "1"))
		b := st.Ref(labels.FromStrings("__name__", "b"))
		a2 := st.Ref(labels.FromStrings("__name__", "a", "pod", "2"))
		gone := st.Ref(labels.FromStrings("__name__", "a", "pod", "gone"))
		old := st.Ref(labels.FromStrings("__name__", "c"))
		g, err := st.NewGroup([]promstore.SeriesRef{
			st.Ref(labels.FromStrings("__name__", "h_bucket", "le", "1")), st.Ref(labels.FromStrings("__name__", "h_count"))})
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Append(old, 1000, 7)).To(Succeed())
		for t := int64(10_000); t <= 30_000; t += 10_000 {
			Expect(st.Append(a1, t, float64(t/1000))).To(Succeed())
			Expect(st.Append(b, t, float64(t/100))).To(Succeed())
			Expect(st.Append(a2, t, float64(t/10))).To(Succeed())
			Expect(st.AppendRows([]promstore.Row{{Group: g, T: t, Values: []float64{float64(t), float64(t + 1)}}})).To(Succeed())
		}
		Expect(st.Append(gone, 10_000, 1)).To(Succeed())
		Expect(st.Append(gone, 20_000, math.Float64frombits(value.StaleNaN))).To(Succeed())
		st.Truncate(5_000)

		Expect(latest(st)).To(Equal([]string{
			`{__name__="a", pod="1"} 30`,
			`{__name__="a", pod="2"} 3000`,
			`{__name__="b"} 300`,
			`{__name__="h_bucket", le="1"} 30000`,
			`{__name__="h_count"} 30001`,
		}))
	})

	It("stops where the loop stops", func() {
		st := promstore.NewStorage()
		Expect(st.AppendLabels(labels.FromStrings("__name__", "a"), 1, 1)).To(Succeed())
		Expect(st.AppendLabels(labels.FromStrings("__name__", "b"), 1, 2)).To(Succeed())
		n := 0
		for range st.Latest() {
			n++
			break
		}
		Expect(n).To(Equal(1))
		Expect(st.AppendLabels(labels.FromStrings("__name__", "a"), 2, 3)).To(Succeed(), "the store is unlocked after a break")
	})
})
