package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the GC settings (tuneGC)", func() {
	type settings struct{ percent, limit int64 }
	current := func() settings {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
		metrics.Read(s)
		return settings{percent: int64(s[0].Value.Uint64()), limit: int64(s[1].Value.Uint64())}
	}
	BeforeEach(func() {
		GinkgoT().Setenv("GOGC", "")
		GinkgoT().Setenv("GOMEMLIMIT", "")
	})

	It("collects less often, within a memory budget, and restores Go's settings", func() {
		before := current()
		restore := tuneGC(context.Background(), []string{"test", "scenarios/"})
		Expect(current()).To(Equal(settings{percent: gcPercent, limit: heapBudget}))
		restore()
		Expect(current()).To(Equal(before))
	})

	It("leaves the GC alone for the commands that serve until stopped", func() {
		before := current()
		for _, args := range [][]string{{"controller", "-port=0"}, {"sim", "serve", "x.yaml"}} {
			restore := tuneGC(context.Background(), args)
			Expect(current()).To(Equal(before), args[0])
			restore()
		}
	})

	It("leaves the GC alone when GOGC or GOMEMLIMIT are set", func() {
		before := current()
		for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
			GinkgoT().Setenv(env, "200")
			restore := tuneGC(context.Background(), []string{"test"})
			Expect(current()).To(Equal(before), env)
			restore()
			GinkgoT().Setenv(env, "")
		}
	})

	It("raises the memory limit to a multiple of what is live", func() {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
		live := make([][]byte, 32)
		for i := range live {
			live[i] = make([]byte, 1<<20)
		}
		runtime.GC()
		limit := followLive(1 << 20)
		Expect(limit).To(BeNumerically(">=", liveFactor*32<<20))
		Expect(current().limit).To(Equal(limit))
		Expect(followLive(limit+1)).To(Equal(limit+1), "never below the budget")
		runtime.KeepAlive(live)
	})
})
