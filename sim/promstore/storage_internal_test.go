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
