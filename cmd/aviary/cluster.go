package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
)

// clusterModeHelp is the --cluster flag's help.
const clusterModeHelp = `Kubernetes API to run against: "fast" (in-memory fake client) or "envtest" ` +
	`(a real kube-apiserver + etcd started for this invocation; build them with "make envtest-assets" ` +
	`or point KUBEBUILDER_ASSETS at them)`

// validCluster checks a --cluster value; errors are bad input.
func validCluster(mode string) error {
	if mode != sim.ModeFast && mode != sim.ModeEnvtest {
		return invalid(fmt.Errorf("--cluster %q: unknown cluster mode (want fast or envtest)", mode))
	}
	return nil
}

// kubeAPI is the Kubernetes API of one invocation.
type kubeAPI struct {
	mode string
	env  *cluster.Envtest // envtest mode only
	sigs chan os.Signal   // envtest mode only: see guard
	done chan struct{}
}

// startCluster starts what the mode needs: nothing for fast mode, one API server for
// envtest mode (missing binaries or a failed start are exit 2). The caller must stop it.
func startCluster(ctx context.Context, mode string) (*kubeAPI, error) {
	c := &kubeAPI{mode: mode}
	if mode != sim.ModeEnvtest {
		return c, nil
	}
	env, err := cluster.StartEnvtest(ctx, cluster.EnvtestOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, &exitError{code: exitInvalid, err: errors.New("interrupted while starting the envtest API server")}
		}
		return nil, &exitError{code: exitInvalid, err: fmt.Errorf("--cluster envtest: %w", err)}
	}
	c.env = env
	c.guard()
	return c, nil
}

// guard keeps kube-apiserver and etcd (own process groups, so Ctrl-C at a terminal
// only reaches aviary, which then stops them through the command's context) from
// outliving aviary when it ends another way: a closed stdout (`aviary test ... | head`)
// no longer kills aviary with SIGPIPE, and SIGTERM or SIGHUP stop the API server
// before aviary exits.
func (c *kubeAPI) guard() {
	signal.Ignore(syscall.SIGPIPE)
	c.sigs, c.done = make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(c.sigs, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case s := <-c.sigs:
			_ = c.env.Stop()
			code := 128 + 15
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-c.done:
		}
	}()
}

// stop stops the API server, if any.
func (c *kubeAPI) stop() {
	if c.env == nil {
		return
	}
	signal.Stop(c.sigs)
	close(c.done)
	_ = c.env.Stop()
}

// describe names the mode for the header line, e.g.
// "envtest (kube-apiserver v1.36.3 ready in 6.1s)".
func (c *kubeAPI) describe() string {
	if c.env == nil {
		return c.mode
	}
	return fmt.Sprintf("%s (kube-apiserver %s ready in %s)", c.mode, cluster.EnvtestK8sVersion, c.env.Startup.Total().Round(100*time.Millisecond))
}

// suiteOptions is sim.RunSuite's opts: the per-scenario options of the mode, with
// baselines evaluated when asked (sim.RunOptions.Baselines) and every sample kept
// when asked (--keep-series).
func (c *kubeAPI) suiteOptions(loaded []*scenario.Loaded, baselines, keepSeries bool) func(i int) sim.RunOptions {
	return func(i int) sim.RunOptions {
		o := c.runOptions(loaded[i], keepSeries)
		o.Baselines = baselines
		return o
	}
}

// runOptions are the options of a single run of l.
func (c *kubeAPI) runOptions(l *scenario.Loaded, keepSeries bool) sim.RunOptions {
	o := sim.RunOptions{}
	if c.env != nil {
		o = sim.InEnvtest(c.env, l)
	}
	o.KeepSeries = keepSeries
	return o
}

// keepSeriesHelp is the --keep-series flag's help.
const keepSeriesHelp = "keep every sample of the run's series in memory, not only those its queries can still read " +
	"(a long run then grows with virtual time); the results are the same"
