package scale_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/controller/promapi"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/cluster"
)

// TEST DOUBLE. With AVIARY_SCALE_AVIARY=standin the benchmark starts this test binary
// in place of `aviary controller`: a stand-in that takes the controller's flags and
// ticks every Canary with the engine on a per-canary timer, serving the analysis-tick
// histogram, so that the benchmark's setup and measurements can be tried without the
// live controller. It is not the controller and its figures are not the controller's.
func TestMain(m *testing.M) {
	if os.Getenv(standInChild) == "1" {
		if err := standIn(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "stand-in:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// standInChild is set in the stand-in's environment.
const standInChild = "AVIARY_SCALE_STANDIN_CHILD"

func standIn(args []string) error {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "")
	metricsServer := fs.String("metrics-server", "", "")
	mesh := fs.String("mesh-provider", "istio", "")
	port := fs.String("port", "8080", "")
	fs.String("log-level", "info", "")
	qps := fs.Float64("kubeconfig-qps", 100, "")
	burst := fs.Int("kubeconfig-burst", 250, "")
	if len(args) > 0 && args[0] == "controller" {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = float32(*qps), *burst
	s, err := cluster.NewSchemeIn(v1beta1.FlaggerGroupVersion.Group)
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: durationHistogram, Buckets: prometheus.DefBuckets}, []string{"name", "namespace"})
	reg.MustRegister(hist)
	e := &engine.Engine{Client: c, Clock: clock.RealClock{}, Metrics: promapi.New(), Webhooks: &hooks.Caller{},
		MeshProvider: *mesh, MetricsServer: *metricsServer,
		Observer: observerFunc(func(r engine.TickRecord) {
			if r.PhaseBefore == string(v1beta1.CanaryPhaseProgressing) {
				hist.WithLabelValues(r.Canary, "").Observe(time.Since(r.At).Seconds())
			}
		})}
	go func() { _ = http.ListenAndServe("127.0.0.1:"+*port, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	jobs := map[types.NamespacedName]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	loop := time.NewTicker(10 * time.Second) // Flagger's -control-loop-interval
	defer loop.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-loop.C:
		}
		var list v1beta1.CanaryList
		if err := c.List(ctx, &list); err != nil {
			continue
		}
		for i := range list.Items {
			cd := &list.Items[i]
			key := types.NamespacedName{Namespace: cd.Namespace, Name: cd.Name}
			if jobs[key] {
				continue
			}
			jobs[key] = true
			wg.Add(1)
			go func(every time.Duration) {
				defer wg.Done()
				t := time.NewTicker(every)
				defer t.Stop()
				for {
					_, _ = e.Tick(ctx, key)
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			}(cd.GetAnalysisInterval())
		}
	}
}

type observerFunc func(engine.TickRecord)

func (f observerFunc) ObserveTick(r engine.TickRecord) { f(r) }
