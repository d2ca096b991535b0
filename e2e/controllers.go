package e2e

import (
	"context"
	"strconv"
)

// Controller is a controller under test: a program that reads a kubeconfig and a
// Prometheus URL with Flagger's flags.
type Controller struct {
	// Name is "aviary" or "flagger".
	Name string
	// Binary is the program.
	Binary string
	// Command comes before the flags ("controller" for aviary).
	Command []string
	// LogLevel is -log-level ("" is info).
	LogLevel string
	// Flags come after the common ones (-namespace, leader election).
	Flags []string
	// Env is added to its environment.
	Env []string
}

// AviaryController is `aviary controller` of the aviary binary at path.
func AviaryController(path string) Controller {
	return Controller{Name: "aviary", Binary: path, Command: []string{"controller"}}
}

// FlaggerController is Flagger's own binary at path.
func FlaggerController(path string) Controller { return Controller{Name: "flagger", Binary: path} }

// ControllerOptions say what a controller under test connects to.
type ControllerOptions struct {
	// Kubeconfig is the file it reaches the API server with.
	Kubeconfig string
	// MetricsServer is the Prometheus URL (-metrics-server).
	MetricsServer string
	// Proxy is the HTTP proxy for its webhooks, alerts and MetricTemplate addresses
	// (cluster host names): `aviary sim serve`'s listen address.
	Proxy string
	// LogDir is where its log goes.
	LogDir string
}

// Args are the flags: Flagger's names, which aviary's controller mirrors.
func (c Controller) Args(kubeconfig, metricsServer string, port int) []string {
	level := c.LogLevel
	if level == "" {
		level = "info"
	}
	return append(append(append([]string{}, c.Command...),
		"-kubeconfig", kubeconfig,
		"-metrics-server", metricsServer,
		"-mesh-provider", "istio",
		"-port", strconv.Itoa(port),
		"-log-level", level,
	), c.Flags...)
}

// Running is a controller under test as a process, with the port its /metrics is on.
type Running struct {
	Controller
	Proc *Process
	Port int
}

// MetricsAddr is host:port of its /metrics, for Prometheus to scrape.
func (r *Running) MetricsAddr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// Start starts the controller on port (FreePort when 0): HTTP_PROXY leads every
// request to a cluster host name to opts.Proxy; Go's HTTP clients never proxy
// 127.0.0.1, so the API server and Prometheus are reached directly.
func (c Controller) Start(opts ControllerOptions, port int) (*Running, error) {
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	env := append([]string{"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}, c.Env...)
	if opts.Proxy != "" {
		env = append(env, "HTTP_PROXY=http://"+opts.Proxy, "http_proxy=http://"+opts.Proxy)
	}
	proc, err := StartProcess(c.Name+"-controller", opts.LogDir, env, c.Binary, c.Args(opts.Kubeconfig, opts.MetricsServer, port)...)
	if err != nil {
		return nil, err
	}
	return &Running{Controller: c, Proc: proc, Port: port}, nil
}

// WaitServing waits until the controller answers on its /metrics.
func (r *Running) WaitServing(ctx context.Context) error {
	return waitOK(ctx, r.Proc, r.Name+" controller", "http://"+r.MetricsAddr()+"/metrics")
}
