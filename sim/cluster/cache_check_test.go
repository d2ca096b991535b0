package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// cacheChecker checks the fast client's cache after every tick.
type cacheChecker struct {
	c     client.Client
	errs  []error
	ticks int
}

func (o *cacheChecker) ObserveTick(rec engine.TickRecord) {
	o.ticks++
	if err := cluster.CheckCache(o.c); err != nil {
		o.errs = append(o.errs, fmt.Errorf("after the tick at %s: %w", rec.At.Sub(scenario.Epoch), err))
	}
}

var _ = Describe("the fast client's read cache", func() {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil {
		panic(err)
	}
	slices.Sort(files)
	entries := []TableEntry{}
	for _, f := range files {
		entries = append(entries, Entry(filepath.Base(f), f))
	}
	DescribeTable("holds what is stored after every tick of every library scenario",
		func(file string) {
			l, err := scenario.LoadFile(file)
			Expect(err).NotTo(HaveOccurred())
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			c := cluster.NewFakeClient(s, nil)
			check := &cacheChecker{c: c}
			_, err = sim.Run(context.Background(), l, sim.RunOptions{Client: c, EveryTick: true, Observer: check})
			Expect(err).NotTo(HaveOccurred())
			Expect(check.errs).To(BeEmpty())
			Expect(check.ticks).To(BeNumerically(">", 10))
			Expect(cluster.CheckCache(c)).To(Succeed())
		},
		entries,
	)
})
