package sim

import (
	"context"
	"runtime"
	"sync"

	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// RunSuite runs loaded scenarios, up to parallel at a time (0 = one per CPU), each
// with its own fast-mode cluster, and returns the results in input order. An error
// of one scenario does not stop the others; errs[i] belongs to loaded[i].
func RunSuite(ctx context.Context, loaded []*scenario.Loaded, parallel int, opts func(i int) RunOptions) (results []*scenario.Result, errs []error) {
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	results = make([]*scenario.Result, len(loaded))
	errs = make([]error, len(loaded))
	prom := promstore.NewEngine()
	verdicts := cluster.NewVerdicts()
	scheme, err := cluster.NewScheme()
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, l := range loaded {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := RunOptions{}
			if opts != nil {
				o = opts(i)
			}
			if o.PromEngine == nil {
				o.PromEngine = prom
			}
			if o.Scheme == nil && o.Client == nil {
				if err != nil {
					errs[i] = err
					return
				}
				o.Scheme = scheme
			}
			if o.Verdicts == nil {
				o.Verdicts = verdicts
			}
			results[i], errs[i] = Run(ctx, l, o)
		}()
	}
	wg.Wait()
	return results, errs
}
