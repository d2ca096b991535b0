package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/serve"
)

// newSimCommand is the `sim` group: the simulator's world served to the outside.
func newSimCommand(stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a scenario's simulated world to a live controller",
	}
	cmd.AddCommand(newSimServeCommand(stderr))
	return cmd
}

// simServeFlags are `aviary sim serve`'s flags.
type simServeFlags struct {
	kubeconfig, listen, readyFile, promConfig, prometheus, apiGroup, logLevel string
	keepRunning                                                               bool
}

func newSimServeCommand(stderr io.Writer) *cobra.Command {
	var f simServeFlags
	cmd := &cobra.Command{
		Use:   "serve [flags] SCENARIO...",
		Short: "Play scenarios' worlds in wall-clock time against a real API server",
		Long: `Play each scenario's world in wall-clock time against the API server of
--kubeconfig, for a live controller (aviary's or Flagger) and a real Prometheus:
create what the simulator creates (namespaces, the policy's objects, the target
Deployment, MetricTemplates, AlertProviders, the Canary), then simulate the pods of
every Deployment (statuses through the status subresource), apply the timeline at
its offsets from the start, and serve the world's per-pod series, split by the
weights the controller writes, at /metrics/<scenario> in Prometheus' text format.

The listener is also an HTTP proxy for the controller (run it with
HTTP_PROXY=http://<listen>): webhook calls are answered from the scenario's
spec.hooks, alerts to an AlertProvider's host are logged, and Prometheus API
requests (/api/v1/...) to any host go to --prometheus.

Scenarios run side by side, each in the namespaces its files name (two scenarios
sharing one are refused). Logs are JSON lines on stderr. It exits 0 once every
scenario's spec.until has passed (unless --keep-running), on SIGINT or SIGTERM;
2 on invalid input or when the API server refuses the scenario's objects.`,
		Example: `  aviary sim serve e2e/scenarios/ --kubeconfig kubeconfig \
      --ready-file ready.json --prometheus-config prometheus.yml --prometheus http://127.0.0.1:9090`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return simServe(cmd.Context(), args, f, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the API server (default $KUBECONFIG, then ~/.kube/config)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9091", "address of the metrics server and proxy (port 0 picks a free one)")
	fl.StringVar(&f.readyFile, "ready-file", "", `write {"listen":ADDR,"scenarios":[{"name":..,"namespace":..}]} here once everything is created and serving`)
	fl.StringVar(&f.promConfig, "prometheus-config", "", "write a Prometheus configuration that scrapes every scenario here (before the ready file)")
	fl.StringVar(&f.prometheus, "prometheus", "", "URL of the Prometheus the proxy forwards /api/v1/ requests to")
	fl.StringVar(&f.apiGroup, "api-group", v1beta1.FlaggerGroupVersion.Group, "API group of Canaries, MetricTemplates and AlertProviders: flagger.app or aviary.dev")
	fl.BoolVar(&f.keepRunning, "keep-running", false, "keep serving after every scenario's until has passed, until SIGINT or SIGTERM")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug (scrapes too), info, warn or error")
	return cmd
}

// simServe runs `aviary sim serve`.
func simServe(ctx context.Context, args []string, f simServeFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return invalid(fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel))
	}
	if f.apiGroup != v1beta1.FlaggerGroupVersion.Group && f.apiGroup != v1beta1.GroupVersion.Group {
		return invalid(fmt.Errorf("--api-group %q: want %s or %s", f.apiGroup, v1beta1.FlaggerGroupVersion.Group, v1beta1.GroupVersion.Group))
	}
	var prom *url.URL
	if f.prometheus != "" {
		u, err := url.Parse(f.prometheus)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid(fmt.Errorf("--prometheus %q: want an http(s) URL such as http://127.0.0.1:9090", f.prometheus))
		}
		prom = u
	}
	loaded, err := scenario.LoadPaths(args)
	if err != nil {
		return invalid(err)
	}
	if err := serve.CheckNamespaces(loaded); err != nil {
		return invalid(err)
	}
	c, err := kubeClient(f.kubeconfig, f.apiGroup)
	if err != nil {
		return invalid(err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := serve.Start(ctx, loaded, serve.Options{Client: c, Listen: f.listen, Prometheus: prom, Log: log, KeepRunning: f.keepRunning})
	if err != nil {
		return invalid(err)
	}
	if f.promConfig != "" {
		if err := writeFileAtomic(f.promConfig, s.PrometheusConfig()); err != nil {
			_ = s.Close()
			return invalid(fmt.Errorf("--prometheus-config: %w", err))
		}
	}
	if f.readyFile != "" {
		body, err := json.Marshal(s.Ready())
		if err == nil {
			err = writeFileAtomic(f.readyFile, append(body, '\n'))
		}
		if err != nil {
			_ = s.Close()
			return invalid(fmt.Errorf("--ready-file: %w", err))
		}
	}
	return s.Wait(ctx)
}

// kubeClient is a client of the API server of kubeconfig ("" as kubectl finds one:
// $KUBECONFIG, then ~/.kube/config) whose scheme serves aviary's kinds in group.
func kubeClient(kubeconfig, group string) (client.Client, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	// The Deployment simulators poll; client-go's default 5 requests a second would
	// hold a few scenarios back.
	cfg.QPS, cfg.Burst = 100, 200
	s, err := cluster.NewSchemeIn(group)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	return c, nil
}

// restConfig is the configuration of the API server of kubeconfig ("" as kubectl
// finds one: $KUBECONFIG, then ~/.kube/config; inside a Pod, its service account).
func restConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		if kubeconfig == "" && clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no kubeconfig: give --kubeconfig, or set KUBECONFIG")
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// writeFileAtomic writes body to path through a temporary file in the same
// directory, so that a reader polling for path never sees it half written.
func writeFileAtomic(path string, body []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
