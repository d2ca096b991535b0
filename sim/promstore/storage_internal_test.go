package promstore

import (
	"context"
	"fmt"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/prometheus/model/labels"
)

var _ = ginkgo.Describe("Storage with colliding label hashes", func() {
	ginkgo.It("keeps series whose hashes collide apart", func() {
		s := NewStorage()
		a := labels.FromStrings("__name__", "m", "pod", "a")
		b := labels.FromStrings("__name__", "m", "pod", "b")
		c := labels.FromStrings("__name__", "m", "pod", "c")
		const h = 42
		ra, rb, rc := s.refHashed(h, a), s.refHashed(h, b), s.refHashed(h, c)
		Expect([]SeriesRef{ra, rb, rc}).To(Equal([]SeriesRef{1, 2, 3}))
		Expect(s.refHashed(h, c)).To(Equal(rc), "found again past the first collision")
		Expect(s.refHashed(h, b)).To(Equal(rb))
		Expect(s.refHashed(h, a)).To(Equal(ra))

		Expect(s.Append(ra, 1000, 1)).To(Succeed())
		Expect(s.Append(rb, 1000, 2)).To(Succeed())
		Expect(s.Append(rc, 1000, 3)).To(Succeed())
		q, err := s.Querier(0, 1000)
		Expect(err).NotTo(HaveOccurred())
		set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
		var got []string
		for set.Next() {
			it := set.At().Iterator(nil)
			Expect(it.Next()).NotTo(BeZero())
			_, v := it.At()
			got = append(got, fmt.Sprintf("%s=%v", set.At().Labels().Get("pod"), v))
		}
		Expect(got).To(Equal([]string{"a=1", "b=2", "c=3"}))
	})
})

var _ = ginkgo.Describe("Storage.Truncate's cost", func() {
	fill := func() (*Storage, SeriesRef) {
		s := NewStorage()
		ref := s.Ref(labels.FromStrings("__name__", "m"))
		for i := range int64(100) {
			Expect(s.Append(ref, i, float64(i))).To(Succeed())
		}
		return s, ref
	}

	ginkgo.It("moves a series' samples only when it drops at least as many as it keeps, in place", func() {
		s, ref := fill()
		first, room := &s.series[ref-1].ts[0], cap(s.series[ref-1].ts)
		s.Truncate(49) // 49 dropped, 51 kept
		Expect(s.series[ref-1].ts).To(HaveLen(100), "not moved")
		s.Truncate(50) // 50 and 50
		ms := &s.series[ref-1]
		Expect(ms.ts).To(HaveLen(50))
		Expect(&ms.ts[0]).To(BeIdenticalTo(first), "no querier is open: the same slice")
		Expect(cap(ms.ts)).To(Equal(room))
		Expect([]int64{ms.ts[0], ms.ts[49]}).To(Equal([]int64{50, 99}))
		Expect([]float64{ms.vs[0], ms.vs[49]}).To(Equal([]float64{50, 99}))
		s.Truncate(100)
		Expect(s.series[ref-1].ts).To(BeNil())
		Expect(s.series[ref-1].vs).To(BeNil())
	})

	ginkgo.It("copies them into new slices while a querier is open, and moves them again once it is closed", func() {
		s, ref := fill()
		q, err := s.Querier(0, 200)
		Expect(err).NotTo(HaveOccurred())
		first := &s.series[ref-1].ts[0]
		s.Truncate(50)
		Expect(&s.series[ref-1].ts[0]).NotTo(BeIdenticalTo(first))
		Expect(cap(s.series[ref-1].ts)).To(Equal(100), "room for as many as were dropped")
		Expect(q.Close()).To(Succeed())
		Expect(q.Close()).To(Succeed(), "closing twice counts once")
		Expect(s.open.Load()).To(BeZero())
		moved := &s.series[ref-1].ts[0]
		s.Truncate(75)
		Expect(&s.series[ref-1].ts[0]).To(BeIdenticalTo(moved))
	})
})
