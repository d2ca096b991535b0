package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// RunOptions configure a live run of scenarios.
type RunOptions struct {
	// Aviary is the aviary binary (`aviary sim serve`, and the controller when
	// Controller is aviary's).
	Aviary string
	// Prometheus is the Prometheus server's binary.
	Prometheus string
	// Controller is the controller under test.
	Controller Controller
	// Kubeconfig reaches the API server, for sim serve and the controller.
	Kubeconfig string
	// ControllerKubeconfig, when set, is the controller's instead (through a CutProxy).
	ControllerKubeconfig string
	// Dir holds the logs, configurations and Prometheus' TSDB of the run.
	Dir string
	// Scenarios are the scenario files (or directories) sim serve plays.
	Scenarios []string
}

// ServeReady is what `aviary sim serve --ready-file` writes.
type ServeReady struct {
	Listen    string `json:"listen"`
	Scenarios []struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"scenarios"`
}

// Namespaces are the scenarios' Canary namespaces.
func (r ServeReady) Namespaces() []string {
	out := make([]string, 0, len(r.Scenarios))
	for _, s := range r.Scenarios {
		out = append(out, s.Namespace)
	}
	return out
}

// Live is a running live setup: the world, Prometheus and the controller under test.
type Live struct {
	Opts       RunOptions
	Serve      *Process
	Ready      ServeReady
	Prometheus *Prometheus
	Ctl        *Running
}

// Processes are the live processes, for logs and teardown.
func (l *Live) Processes() []*Process {
	var out []*Process
	for _, p := range []*Process{l.Serve, promProc(l.Prometheus), ctlProc(l.Ctl)} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func promProc(p *Prometheus) *Process {
	if p == nil {
		return nil
	}
	return p.Proc
}

func ctlProc(c *Running) *Process {
	if c == nil {
		return nil
	}
	return c.Proc
}

// Stop stops every process of the run (the controller first, so that it does not
// act on a world that is gone).
func (l *Live) Stop() error {
	var errs []error
	for _, p := range []*Process{ctlProc(l.Ctl), l.Serve, promProc(l.Prometheus)} {
		if p != nil {
			errs = append(errs, p.Stop(5e9))
		}
	}
	return errors.Join(errs...)
}

// StartLive starts, in this order: Prometheus (its scrape jobs: the file sim serve
// will write and the controller's port, chosen now), `aviary sim serve` (it creates
// the scenarios' objects and writes the ready file; Prometheus is told to reload its
// configuration then), and the controller under test right after, so that it starts
// as close as it can to the scenarios' time zero. started, when not nil, is called
// after sim serve is ready and before the controller starts (a recorder starts there
// to see every status the controller writes). On error, whatever started is stopped.
func StartLive(ctx context.Context, opts RunOptions, started func(ServeReady)) (l *Live, err error) {
	l = &Live{Opts: opts}
	defer func() {
		if err != nil {
			_ = l.Stop()
		}
	}()
	simProm := filepath.Join(opts.Dir, "sim-scrape.yml")
	ctlPort, err := FreePort()
	if err != nil {
		return l, err
	}
	// Prometheus reads scrape_config_files at start and on SIGHUP; the file exists
	// empty until sim serve writes it.
	if err := os.WriteFile(simProm, []byte("scrape_configs: []\n"), 0o644); err != nil {
		return l, err
	}
	l.Prometheus, err = StartPrometheus(ctx, PrometheusOptions{Binary: opts.Prometheus, Dir: opts.Dir,
		ScrapeConfigFiles: []string{simProm}, Targets: map[string]string{opts.Controller.Name + "-controller": "127.0.0.1:" + strconv.Itoa(ctlPort)}})
	if err != nil {
		return l, err
	}

	ready := filepath.Join(opts.Dir, "ready.json")
	args := append([]string{"sim", "serve", "--kubeconfig", opts.Kubeconfig, "--listen", "127.0.0.1:0",
		"--ready-file", ready, "--prometheus-config", simProm, "--prometheus", l.Prometheus.URL}, opts.Scenarios...)
	if l.Serve, err = StartProcess("sim-serve", opts.Dir, nil, opts.Aviary, args...); err != nil {
		return l, err
	}
	if err := poll(ctx, l.Serve, "sim serve's ready file", func() error {
		b, err := os.ReadFile(ready)
		if errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &l.Ready)
	}); err != nil {
		return l, err
	}
	if err := syscall.Kill(l.Prometheus.Proc.Pid(), syscall.SIGHUP); err != nil {
		return l, fmt.Errorf("prometheus: reload: %w", err)
	}
	if started != nil {
		started(l.Ready)
	}

	kc := opts.Kubeconfig
	if opts.ControllerKubeconfig != "" {
		kc = opts.ControllerKubeconfig
	}
	l.Ctl, err = opts.Controller.Start(ControllerOptions{Kubeconfig: kc, MetricsServer: l.Prometheus.URL, Proxy: l.Ready.Listen, LogDir: opts.Dir}, ctlPort)
	if err != nil {
		return l, err
	}
	return l, l.Ctl.WaitServing(ctx)
}
