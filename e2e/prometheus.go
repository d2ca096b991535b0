package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PrometheusOptions configure a Prometheus server.
type PrometheusOptions struct {
	// Binary is the server (PrometheusBinary).
	Binary string
	// Dir holds its configuration, its TSDB and its log.
	Dir string
	// ScrapeConfigFiles are files of scrape_configs to include (what `aviary sim serve
	// --prometheus-config` writes).
	ScrapeConfigFiles []string
	// Targets are more jobs: job name → host:port scraped at /metrics (a controller).
	Targets map[string]string
	// ScrapeInterval is the global one, for Targets (default 1s).
	ScrapeInterval time.Duration
}

// Prometheus is a real Prometheus server on a free port of 127.0.0.1, in a process
// of its own, that can be stopped and started again on the same port and TSDB.
type Prometheus struct {
	// URL is its base URL, e.g. http://127.0.0.1:40123.
	URL  string
	Proc *Process
}

// FreePort is a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// PrometheusConfig is the configuration the server runs with: the included
// scrape_config files and one static job per target.
func PrometheusConfig(opts PrometheusOptions) []byte {
	every := opts.ScrapeInterval
	if every == 0 {
		every = time.Second
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by aviary's e2e harness.\nglobal:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", every, every, every)
	if len(opts.ScrapeConfigFiles) > 0 {
		b.WriteString("scrape_config_files:\n")
		for _, f := range opts.ScrapeConfigFiles {
			fmt.Fprintf(&b, "  - %s\n", strconv.Quote(f))
		}
	}
	if len(opts.Targets) > 0 {
		b.WriteString("scrape_configs:\n")
		for _, job := range sortedKeys(opts.Targets) {
			fmt.Fprintf(&b, "  - job_name: %s\n    static_configs:\n      - targets: [%s]\n", strconv.Quote(job), strconv.Quote(opts.Targets[job]))
		}
	}
	return []byte(b.String())
}

// StartPrometheus writes the configuration, starts the server and waits until it
// is ready.
func StartPrometheus(ctx context.Context, opts PrometheusOptions) (*Prometheus, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(opts.Dir, "prometheus.yml")
	if err := os.WriteFile(cfg, PrometheusConfig(opts), 0o644); err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	proc, err := StartProcess("prometheus", opts.Dir, nil, opts.Binary,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(opts.Dir, "tsdb"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	if err != nil {
		return nil, err
	}
	p := &Prometheus{URL: "http://" + addr, Proc: proc}
	if err := p.WaitReady(ctx); err != nil {
		_ = proc.Kill()
		return nil, err
	}
	return p, nil
}

// Restart starts the server again after Stop, on the same port and TSDB, and waits
// until it is ready.
func (p *Prometheus) Restart(ctx context.Context) error {
	if err := p.Proc.Start(); err != nil {
		return err
	}
	return p.WaitReady(ctx)
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s).
func (p *Prometheus) Stop() error { return p.Proc.Stop(10 * time.Second) }

// WaitReady polls /-/ready until it answers 200, the process ends or ctx ends.
func (p *Prometheus) WaitReady(ctx context.Context) error {
	return poll(ctx, p.Proc, "prometheus /-/ready", func() error {
		resp, err := http.Get(p.URL + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// poll calls try every 100 ms until it succeeds, proc ends (when given) or ctx ends.
func poll(ctx context.Context, proc *Process, what string, try func() error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	var done <-chan struct{}
	if proc != nil {
		done = proc.Done()
	}
	for {
		if last = try(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), last)
		case <-done:
			return fmt.Errorf("%s: %s ended (%v); its log %s ends with:\n%s", what, proc.Name, proc.Err(), proc.Log, proc.Tail(2000))
		case <-tick.C:
		}
	}
}

// Sample is one series of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates an instant query now through the HTTP API.
func (p *Prometheus) Query(ctx context.Context, q string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: status %d: %w", q, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: a %s, not a vector", q, body.Data.ResultType)
	}
	out := make([]Sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", q, r.Value[1], err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}
