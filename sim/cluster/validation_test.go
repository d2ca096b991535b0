package cluster_test

import (
	"context"
	"path/filepath"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("the fast client's checks", func() {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil {
		panic(err)
	}
	files = append(files, filepath.Join("..", "testdata", "bench", "rollout-30m.yaml"))
	slices.Sort(files)
	entries := []TableEntry{}
	for _, f := range files {
		entries = append(entries, Entry(filepath.Base(f), f))
	}
	DescribeTable("spare only writes the full check admits unchanged, in every library scenario",
		func(file string) {
			l, err := scenario.LoadFile(file)
			Expect(err).NotTo(HaveOccurred())
			s, err := cluster.NewScheme()
			Expect(err).NotTo(HaveOccurred())
			c, audit := cluster.NewAuditingFakeClient(s)
			res, err := sim.Run(context.Background(), l, sim.RunOptions{Client: c})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Passed).To(BeTrue())
			spared, disagreements := audit()
			Expect(disagreements).To(BeEmpty())
			if len(res.Routes) > 0 {
				// a canary that advanced wrote statuses of ticks that only count
				Expect(spared).To(BeNumerically(">", 0), "the status writes of a tick that only counts are spared")
			}
		},
		entries,
	)
})
