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
	ginkgo.It("copies a series' samples only when it drops at least as many as it keeps", func() {
		s := NewStorage()
		ref := s.Ref(labels.FromStrings("__name__", "m"))
		for i := range int64(100) {
			Expect(s.Append(ref, i, float64(i))).To(Succeed())
		}
		before := &s.series[ref-1].ts[0]
		s.Truncate(49) // 49 dropped, 51 kept
		Expect(&s.series[ref-1].ts[0]).To(BeIdenticalTo(before), "not copied")
		Expect(s.series[ref-1].ts).To(HaveLen(100))
		s.Truncate(50) // 50 and 50
		Expect(s.series[ref-1].ts).To(HaveLen(50))
		Expect(s.series[ref-1].ts[0]).To(Equal(int64(50)))
		Expect(s.series[ref-1].vs[0]).To(Equal(50.0))
		Expect(cap(s.series[ref-1].ts)).To(Equal(100), "room to grow as much again")
		s.Truncate(100)
		Expect(s.series[ref-1].ts).To(BeNil())
		Expect(s.series[ref-1].vs).To(BeNil())
	})
})
