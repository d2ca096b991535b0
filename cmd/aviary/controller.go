package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller"
	"aviary.dev/aviary/controller/notify"
	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/version"
)

// controllerFlags are `aviary controller`'s flags: Flagger's names, defaults and
// meanings (cmd/flagger/main.go) where the engine honours them, plus --api-group.
type controllerFlags struct {
	kubeconfig, metricsServer, meshProvider, namespace, selectorLabels string
	leaderElectionNamespace, logLevel, port, clusterName, apiGroup     string
	eventWebhook                                                       string
	kubeconfigQPS, kubeconfigBurst, threadiness                        int
	leaderElection, configTracking, version                            bool
	controlLoopInterval                                                time.Duration
	global                                                             notify.GlobalConfig
}

// refusedFlags are Flagger's flags the engine cannot honour: given (with a value
// other than Flagger's default where it has one), the command refuses to start
// rather than run otherwise than asked.
var refusedFlags = []struct{ name, why string }{
	{"include-label-prefix", "the primary gets the target's labels as the engine copies them (no prefix filter)"},
	{"ingress-annotations-prefix", "the engine routes with istio, traefik and kubernetes only (no NGINX)"},
	{"ingress-class", "the engine routes with istio, traefik and kubernetes only (no Contour)"},
	{"kubeconfig-service-mesh", "routing objects are written to the cluster of -kubeconfig"},
	{"master", "give the API server's address in the kubeconfig"},
	{"zap-encoding", "logs are JSON"},
	{"zap-replace-globals", "there is no global logger to replace"},
	{"no-cross-namespace-refs", "cross-namespace references are not blocked"},
}

func newControllerCommand(stdout, stderr io.Writer) *cobra.Command {
	var f controllerFlags
	cmd := &cobra.Command{
		Use:   "controller [flags]",
		Short: "Run the live controller: the engine advances every Canary of a cluster",
		Long: `Run aviary's engine as a live controller, in place of Flagger (or beside it with
--api-group aviary.dev): every Canary of the cluster (or of --namespace) is
advanced on Flagger's schedule — the Canaries are listed every
--control-loop-interval, and each gets a job that ticks at once and then every
analysis interval — with its metrics read from Prometheus' HTTP API, webhooks
called over HTTP, Kubernetes Events (component "flagger"), alerts to the
Canary's AlertProviders or the global Slack/MS Teams notifier, and JSON log lines
whose msg reads like Flagger's. All state is in the Canaries' status: a restarted
controller resumes each canary at the step it was at.

Flags are Flagger's, in either form: -metrics-server=URL (as Flagger's Helm
chart passes them) or --metrics-server URL. Flagger flags the engine cannot
honour are refused: ` + refusedNames() + `,
and -enable-config-tracking=false.

Serves /metrics (Flagger's flagger_* series), /healthz and /readyz on --port.
Exits 0 on SIGINT or SIGTERM after the ticks in flight end; 2 on invalid flags.`,
		Example: `  aviary controller -kubeconfig ~/.kube/config -metrics-server=http://prometheus:9090 \
      -mesh-provider=istio -port=8080`,
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true, // parsed in RunE, after Flagger's single-dash form is read
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if err := fl.Parse(flaggerStyle(fl, args)); err != nil {
				if errors.Is(err, pflag.ErrHelp) {
					return cmd.Help()
				}
				return invalid(err)
			}
			if help, _ := fl.GetBool("help"); help {
				return cmd.Help()
			}
			if fl.NArg() > 0 {
				return invalid(fmt.Errorf("controller takes no arguments, got %q", fl.Args()))
			}
			if err := checkRefused(fl, f); err != nil {
				return invalid(err)
			}
			if f.version { // Flagger's -version: print and exit
				_, err := fmt.Fprintln(stdout, version.Get())
				return err
			}
			return runController(cmd.Context(), f, stderr)
		},
	}
	addControllerFlags(cmd.Flags(), &f)
	return cmd
}

// addControllerFlags registers the flags in fs, Flagger's with its names and defaults.
func addControllerFlags(fl *pflag.FlagSet, f *controllerFlags) {
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "Path to a kubeconfig. Only required if out-of-cluster ($KUBECONFIG, then ~/.kube/config, then the Pod's service account).")
	fl.IntVar(&f.kubeconfigQPS, "kubeconfig-qps", 100, "Set QPS for kubeconfig.")
	fl.IntVar(&f.kubeconfigBurst, "kubeconfig-burst", 250, "Set Burst for kubeconfig.")
	fl.StringVar(&f.metricsServer, "metrics-server", v1beta1.DefaultMetricsServer, "Prometheus URL: the address of builtin and inline metrics (MetricTemplates name their own).")
	fl.DurationVar(&f.controlLoopInterval, "control-loop-interval", 10*time.Second, "How often the Canaries are listed and their jobs started, restarted or stopped.")
	fl.StringVar(&f.logLevel, "log-level", "debug", "Log level: "+strings.Join(controller.LogLevels, ", ")+".")
	fl.StringVar(&f.port, "port", "8080", "Port (or host:port) of /metrics, /healthz and /readyz; 0 picks a free one.")
	fl.StringVar(&f.namespace, "namespace", "", "Namespace whose Canaries are advanced; all namespaces when empty.")
	fl.StringVar(&f.meshProvider, "mesh-provider", v1beta1.DefaultMeshProvider, "Provider of Canaries without spec.provider: istio, traefik or kubernetes.")
	fl.StringVar(&f.selectorLabels, "selector-labels", strings.Join(engine.DefaultSelectorLabels, ","), "List of pod labels that are looked for in the target's selector.")
	fl.BoolVar(&f.leaderElection, "enable-leader-election", false, "Enable leader election: one replica advances the Canaries at a time.")
	fl.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "kube-system", "Namespace of the leader election Lease ("+controller.DefaultLeaderElectionID+").")
	fl.BoolVar(&f.configTracking, "enable-config-tracking", true, "Enable secrets and configmaps tracking (cannot be turned off: the engine always tracks them).")
	fl.StringVar(&f.clusterName, "cluster-name", "", "Cluster name to be included in alert msgs.")
	fl.StringVar(&f.eventWebhook, "event-webhook", "", "Webhook for publishing flagger events (every event of a Canary without event webhooks of its own; $EVENT_WEBHOOK_URL wins).")
	fl.IntVar(&f.threadiness, "threadiness", 2, "Flagger's worker count for informer syncs; accepted and without effect (each Canary's job runs on its own).")
	fl.BoolVar(&f.version, "version", false, "Print the version (as `aviary version`) and exit.")
	fl.StringVar(&f.apiGroup, "api-group", v1beta1.FlaggerGroupVersion.Group, "API group of Canaries, MetricTemplates and AlertProviders: flagger.app (replace Flagger) or aviary.dev (run beside it).")
	gfs := flag.NewFlagSet("notify", flag.ContinueOnError)
	f.global.AddFlags(gfs)
	fl.AddGoFlagSet(gfs)
	for _, r := range refusedFlags {
		fl.String(r.name, "", "Flagger's; refused: "+r.why+".")
		_ = fl.MarkHidden(r.name)
	}
	fl.Lookup("zap-replace-globals").NoOptDefVal = "true"
	fl.Lookup("no-cross-namespace-refs").NoOptDefVal = "true"
	fl.BoolP("help", "h", false, "help for controller")
}

// refusedNames lists refusedFlags for the help.
func refusedNames() string {
	names := make([]string, len(refusedFlags))
	for i, r := range refusedFlags {
		names[i] = "-" + r.name
	}
	return strings.Join(names, ", ")
}

// checkRefused refuses Flagger's flags the engine cannot honour.
func checkRefused(fl *pflag.FlagSet, f controllerFlags) error {
	for _, r := range refusedFlags {
		if fl.Changed(r.name) {
			return fmt.Errorf("-%s is not supported by aviary's controller: %s", r.name, r.why)
		}
	}
	if !f.configTracking {
		return errors.New("-enable-config-tracking=false is not supported by aviary's controller: the engine always tracks the target's ConfigMaps and Secrets")
	}
	return nil
}

// flaggerStyle rewrites Flagger's single-dash long flags (-metrics-server=URL, as Go's
// flag package and Flagger's Helm chart write them) to pflag's --metrics-server=URL.
// Shorthands (-h) and arguments after "--" are left as they are.
func flaggerStyle(fl *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 2 {
			name, _, _ := strings.Cut(a[1:], "=")
			if fl.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// runController runs the controller until SIGINT or SIGTERM.
func runController(ctx context.Context, f controllerFlags, stderr io.Writer) error {
	log, err := controller.NewLogger(f.logLevel, stderr)
	if err != nil {
		return invalid(fmt.Errorf("-log-level: %w", err))
	}
	defer func() { _ = log.Sync() }()
	probe := &v1beta1.Canary{Spec: v1beta1.CanarySpec{Provider: f.meshProvider, TargetRef: v1beta1.LocalObjectReference{Kind: "Deployment"}}}
	for _, u := range (&engine.Engine{}).Unsupported(probe) {
		if u.Field == "spec.provider" {
			return invalid(fmt.Errorf("-mesh-provider %q: %s", f.meshProvider, u.Msg))
		}
	}
	if err := controller.CheckAPIGroup(f.apiGroup); err != nil {
		return invalid(fmt.Errorf("-api-group: %w", err))
	}
	if f.controlLoopInterval <= 0 {
		return invalid(fmt.Errorf("-control-loop-interval %s: want a positive duration", f.controlLoopInterval))
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return invalid(err)
	}
	cfg.QPS, cfg.Burst = float32(f.kubeconfigQPS), f.kubeconfigBurst
	listen := f.port
	if !strings.Contains(listen, ":") {
		listen = ":" + listen
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return invalid(fmt.Errorf("-port %q: %w", f.port, err))
	}
	sender, err := notify.New(notify.Options{Global: f.global.WithEnv(os.Getenv), ClusterName: f.clusterName})
	if err != nil {
		log.Error("Notifier " + err.Error()) // Flagger carries on without a global notifier
	} else if line := f.global.WithEnv(os.Getenv).Enabled(); line != "" {
		log.Info(line)
	}
	var labels []string
	for _, l := range strings.Split(f.selectorLabels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			labels = append(labels, l)
		}
	}
	eventWebhook := f.eventWebhook
	if v := os.Getenv("EVENT_WEBHOOK_URL"); v != "" { // Flagger's fromEnv: the variable wins
		eventWebhook = v
	}
	c, err := controller.New(controller.Options{
		Config: cfg, APIGroup: f.apiGroup, Namespace: f.namespace,
		Metrics: promapi.New(), Alerts: sender,
		MeshProvider: f.meshProvider, MetricsServer: f.metricsServer, SelectorLabels: labels,
		EventWebhook: eventWebhook, ControlLoopInterval: f.controlLoopInterval, Listen: listen,
		LeaderElection: f.leaderElection, LeaderElectionNamespace: f.leaderElectionNamespace,
		Log: log,
	})
	if err != nil {
		return invalid(err)
	}
	log.Info(fmt.Sprintf("Starting %s, API group %s, mesh provider %s, metrics server %s",
		version.Get(), f.apiGroup, f.meshProvider, f.metricsServer))
	if f.namespace != "" {
		log.Info("Watching namespace " + f.namespace)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx); err != nil {
		log.Error(err.Error())
		return &exitError{code: exitFailed}
	}
	return nil
}
