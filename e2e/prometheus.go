package e2e

import (
	"context"
	"encoding/json"
	"errors"
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
	return waitOK(ctx, p.Proc, "prometheus", p.URL+"/-/ready")
}

// waitOK polls url until it answers 200, proc ends or ctx ends.
func waitOK(ctx context.Context, proc *Process, what, url string) error {
	return poll(ctx, proc, what+" "+url, func() error {
		resp, err := http.Get(url)
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
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(q), "vector", &data); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		v, err := sampleValue(r.Value[1])
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", q, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// get calls the HTTP API and decodes the data of a result of type want into data.
func (p *Prometheus) get(ctx context.Context, path, want string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if body.Status != "success" {
		return errors.New(body.Error)
	}
	if body.Data.ResultType != want {
		return fmt.Errorf("a %s, not a %s", body.Data.ResultType, want)
	}
	raw, _ := json.Marshal(map[string]json.RawMessage{"result": body.Data.Result})
	return json.Unmarshal(raw, data)
}

// sampleValue reads a sample's value, which the API writes as a string.
func sampleValue(v any) (float64, error) {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("value %v: %w", v, err)
	}
	return f, nil
}

// Series is one series of a range query: its samples' values in time order.
type Series struct {
	Labels map[string]string
	Values []float64
}

// QueryRange evaluates q from start to end at step through the HTTP API.
func (p *Prometheus) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]Series, error) {
	v := url.Values{"query": {q}, "start": {strconv.FormatFloat(float64(start.UnixMilli())/1e3, 'f', 3, 64)},
		"end": {strconv.FormatFloat(float64(end.UnixMilli())/1e3, 'f', 3, 64)}, "step": {step.String()}}
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query_range?"+v.Encode(), "matrix", &data); err != nil {
		return nil, fmt.Errorf("query_range %q: %w", q, err)
	}
	out := make([]Series, 0, len(data.Result))
	for _, r := range data.Result {
		s := Series{Labels: r.Metric}
		for _, pair := range r.Values {
			f, err := sampleValue(pair[1])
			if err != nil {
				return nil, fmt.Errorf("query_range %q: %w", q, err)
			}
			s.Values = append(s.Values, f)
		}
		out = append(out, s)
	}
	return out, nil
}
