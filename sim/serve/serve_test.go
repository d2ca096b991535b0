package serve_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	istioapi "istio.io/api/networking/v1beta1"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"

	"aviary.dev/aviary/sim/scenario"
	"aviary.dev/aviary/sim/serve"
)

// requestsOf is istio_requests_total of each pod of a workload and response code.
func requestsOf(fams map[string]*dto.MetricFamily, workload string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range fams["istio_requests_total"].GetMetric() {
		var pod, code string
		mine := false
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "destination_workload":
				mine = l.GetValue() == workload
			case "pod":
				pod = l.GetValue()
			case "response_code":
				code = l.GetValue()
			}
		}
		if mine {
			out[pod+" "+code] = m.GetUntyped().GetValue()
		}
	}
	return out
}

// grown counts the series of both scrapes that grew from before to after, and
// those in both (pods come and go between scrapes).
func grown(before, after map[string]float64) (grew, both int) {
	for k, b := range before {
		if a, ok := after[k]; ok {
			both++
			if a > b {
				grew++
			}
		}
	}
	return grew, both
}

var _ = Describe("sim serve", Ordered, func() {
	var (
		srv     *serve.Server
		logs    *logLines
		cancel  context.CancelFunc
		waited  chan error
		prom    *httptest.Server
		promGot chan string
		proxied *http.Client
	)
	ctx := context.Background()
	key := func(name string) types.NamespacedName {
		return types.NamespacedName{Namespace: "serve-realtime", Name: name}
	}

	BeforeAll(func() {
		l, err := scenario.LoadFile("testdata/realtime.yaml")
		Expect(err).NotTo(HaveOccurred())
		promGot = make(chan string, 10)
		prom = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			promGot <- r.Method + " " + r.URL.RequestURI()
			_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		}))
		DeferCleanup(prom.Close)
		pu, err := url.Parse(prom.URL)
		Expect(err).NotTo(HaveOccurred())
		logs = &logLines{}
		var runCtx context.Context
		runCtx, cancel = context.WithCancel(ctx)
		srv, err = serve.Start(runCtx, []*scenario.Loaded{l}, serve.Options{
			Client: env.Client(), Listen: "127.0.0.1:0", Prometheus: pu, SyncEvery: 50 * time.Millisecond,
			Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		Expect(err).NotTo(HaveOccurred())
		waited = make(chan error, 1)
		go func() { waited <- srv.Wait(runCtx) }()
		DeferCleanup(func() {
			cancel()
			Eventually(waited).Should(Receive())
		})
		proxyURL := &url.URL{Scheme: "http", Host: srv.Addr()}
		proxied = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	})

	scrape := func() map[string]*dto.MetricFamily {
		GinkgoHelper()
		resp, err := http.Get("http://" + srv.Addr() + serve.MetricsPath("realtime"))
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(Equal(serve.ExpositionContentType))
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).NotTo(MatchRegexp(`(?m)^[a-z_]+\{[^}]*\} \S+ \d+$`), "no explicit timestamps")
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		return fams
	}

	It("says where it listens and what it serves", func() {
		Expect(srv.Ready()).To(Equal(serve.Ready{Listen: srv.Addr(), Scenarios: []serve.ReadyScenario{{Name: "realtime", Namespace: "serve-realtime"}}}))
	})

	It("creates the scenario's objects in flagger.app", func() {
		for _, kind := range []string{"Canary", "MetricTemplate", "AlertProvider"} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(schema.GroupVersionKind{Group: "flagger.app", Version: "v1beta1", Kind: kind})
			name := map[string]string{"Canary": "podinfo", "MetricTemplate": "error-rate", "AlertProvider": "on-call"}[kind]
			Expect(env.Client().Get(ctx, key(name), u)).To(Succeed(), kind)
		}
		Expect(logs.with("created")).To(HaveLen(1))
		Expect(logs.with("created")[0]["objects"]).To(ContainElements("Deployment.apps/serve-realtime/podinfo", "Canary.flagger.app/serve-realtime/podinfo"))
	})

	It("simulates the pods, writing the Deployment's status through the status subresource", func() {
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(env.Client().Get(ctx, key("podinfo"), d)).To(Succeed())
			g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
			g.Expect(d.Status.ReadyReplicas).To(BeEquivalentTo(2))
		}).Should(Succeed())
		// The player logs the pods after the simulator's status write returns,
		// so the API server can show them ready a moment before the log does.
		Eventually(func() []map[string]any { return logs.with("pod ready") }).Should(HaveLen(2))
		Expect(logs.with("pod started")).To(HaveLen(2))
	})

	It("serves the pods' series, counters growing between two scrapes", func() {
		first := requestsOf(scrape(), "podinfo")
		Expect(first).NotTo(BeEmpty())
		Eventually(func() int { grew, _ := grown(first, requestsOf(scrape(), "podinfo")); return grew }).Should(BeNumerically(">", 0))
		Expect(logs.with("scrape")).NotTo(BeEmpty(), "scrapes are logged at debug level")
	})

	It("splits the traffic by the weights written to the VirtualService", func() {
		// What the controller would write: the primary, and the route to it.
		primary := &appsv1.Deployment{}
		Expect(env.Client().Get(ctx, key("podinfo"), primary)).To(Succeed())
		primary = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: "serve-realtime"},
			Spec: *primary.Spec.DeepCopy()}
		primary.Spec.Selector.MatchLabels = map[string]string{"app": "podinfo-primary"}
		primary.Spec.Template.Labels = map[string]string{"app": "podinfo-primary"}
		Expect(env.Client().Create(ctx, primary)).To(Succeed())
		dest := func(host string, w int32) *istioapi.HTTPRouteDestination {
			return &istioapi.HTTPRouteDestination{Destination: &istioapi.Destination{Host: host}, Weight: w}
		}
		vs := &istionet.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "serve-realtime"}}
		vs.Spec.Hosts = []string{"podinfo"}
		vs.Spec.Http = []*istioapi.HTTPRoute{{Route: []*istioapi.HTTPRouteDestination{dest("podinfo-primary", 100), dest("podinfo-canary", 0)}}}
		Expect(env.Client().Create(ctx, vs)).To(Succeed())
		primaryFirst := requestsOf(scrape(), "podinfo-primary")
		Eventually(func() int { grew, _ := grown(primaryFirst, requestsOf(scrape(), "podinfo-primary")); return grew }).Should(BeNumerically(">", 0))

		// Series in both scrapes: the canary's pods may change with the timeline.
		before := requestsOf(scrape(), "podinfo")
		Consistently(func(g Gomega) {
			grew, both := grown(before, requestsOf(scrape(), "podinfo"))
			g.Expect(both).To(BeNumerically(">", 0))
			g.Expect(grew).To(BeZero(), "at weight 0 the canary's pods serve nothing")
		}, "1s", "250ms").Should(Succeed())

		vs.Spec.Http[0].Route[0].Weight, vs.Spec.Http[0].Route[1].Weight = 50, 50
		Expect(env.Client().Update(ctx, vs)).To(Succeed())
		Eventually(func() int {
			after := requestsOf(scrape(), "podinfo")
			grew, _ := grown(before, after)
			before = after
			return grew
		}).Should(BeNumerically(">", 0))
	})

	It("answers a webhook call through the proxy from the scenario's script: status, body, delay", func() {
		call := func(metadata string) (*http.Response, string, time.Duration) {
			GinkgoHelper()
			payload := `{"name":"podinfo","namespace":"serve-realtime","phase":"Progressing","checksum":"x","metadata":` + metadata + `}`
			start := time.Now()
			resp, err := proxied.Post("http://hooks.serve-realtime/gate", "application/json", strings.NewReader(payload))
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			Expect(err).NotTo(HaveOccurred())
			return resp, string(body), time.Since(start)
		}
		resp, body, took := call(`{"step":"migrate"}`)
		Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))
		Expect(body).To(Equal("migration pending"))
		Expect(took).To(BeNumerically(">=", 300*time.Millisecond), "the reply's delay is kept")

		resp, body, _ = call(`{"step":"load"}`)
		Expect(resp.StatusCode).To(Equal(http.StatusAccepted), "the hook at the same URL with the other metadata")
		Expect(body).To(Equal("load started"))

		hooks := logs.with("proxy request")
		Expect(hooks).To(ContainElement(And(HaveKeyWithValue("kind", "webhook"), HaveKeyWithValue("hook", "gate"), HaveKeyWithValue("status", 503.0))))
		Expect(hooks).To(ContainElement(And(HaveKeyWithValue("kind", "webhook"), HaveKeyWithValue("hook", "load"), HaveKeyWithValue("status", 202.0))))
	})

	It("records alerts, forwards the Prometheus API and refuses the rest", func() {
		resp, err := proxied.Post("http://alerts.serve-realtime/hook", "application/json", strings.NewReader(`{"text":"podinfo.serve-realtime promoted"}`))
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(logs.with("proxy request")).To(ContainElement(And(HaveKeyWithValue("kind", "alert"),
			HaveKeyWithValue("provider", "serve-realtime/on-call"), HaveKeyWithValue("body", `{"text":"podinfo.serve-realtime promoted"}`))))

		resp, err = proxied.Get("http://prometheus.istio-system:9090/api/v1/query?query=up")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(promGot).To(Receive(Equal("GET /api/v1/query?query=up")))

		resp, err = proxied.Get("http://elsewhere.example/index.html")
		Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusBadGateway))
		Expect(string(body)).To(ContainSubstring("only answers webhooks, alerts and the Prometheus HTTP API"))
	})

	It("writes a Prometheus configuration that Prometheus loads", func() {
		cfg, err := promconfig.Load(string(srv.PrometheusConfig()), slog.New(slog.DiscardHandler))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.ScrapeConfigs).To(HaveLen(1))
		sc := cfg.ScrapeConfigs[0]
		Expect(sc.JobName).To(Equal("realtime"))
		Expect(time.Duration(sc.ScrapeInterval)).To(Equal(time.Second))
		Expect(sc.HonorLabels).To(BeTrue())
		Expect(sc.MetricsPath).To(Equal("/metrics/realtime"))
		Expect(sc.ServiceDiscoveryConfigs).To(HaveLen(1))
	})

	It("applies the timeline at its offset from the start", func() {
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(env.Client().Get(ctx, key("podinfo"), d)).To(Succeed())
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("podinfo:6.0.1"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		actions := logs.with("timeline action")
		Expect(actions).To(HaveLen(1))
		Expect(actions[0]).To(HaveKeyWithValue("image", "podinfo:6.0.1"))
		late, err := time.ParseDuration(actions[0]["late"].(string))
		Expect(err).NotTo(HaveOccurred())
		Expect(late).To(BeNumerically(">=", 0), "not before its offset")

		// The old pods go once the new ones are ready; their series leave the
		// exposition, for Prometheus' staleness to end them.
		Eventually(logs.with).WithArguments("pod gone").Should(HaveLen(2))
		series := requestsOf(scrape(), "podinfo")
		Expect(series).NotTo(BeEmpty())
		for _, gone := range logs.with("pod gone") {
			Expect(series).NotTo(HaveKey(HavePrefix(gone["pod"].(string) + " ")))
		}
	})

	It("ends once the scenario's until has passed", func() {
		Eventually(srv.Done()).WithTimeout(15 * time.Second).Should(BeClosed())
		Eventually(waited).WithTimeout(10 * time.Second).Should(Receive(BeNil()))
		waited <- nil // for the cleanup
		Expect(logs.with("until passed")).To(HaveLen(1))
	})
})

var _ = Describe("scenarios side by side", func() {
	It("are refused when two share a namespace, naming both files", func() {
		loaded, err := scenario.LoadPaths([]string{"testdata/shared"})
		Expect(err).NotTo(HaveOccurred())
		err = serve.CheckNamespaces(loaded)
		Expect(err).To(MatchError(And(ContainSubstring("testdata/shared/a.yaml"), ContainSubstring("testdata/shared/b.yaml"),
			ContainSubstring(`namespace "shared" is also scenario "shared-a"'s`), ContainSubstring("metadata.namespace"))))
		_, err = serve.Start(context.Background(), loaded, serve.Options{Client: env.Client(), Listen: "127.0.0.1:0"})
		Expect(err).To(HaveOccurred(), "Start checks too")
		Expect(env.Client().Get(context.Background(), types.NamespacedName{Name: "shared"}, &corev1.Namespace{})).NotTo(Succeed(), "nothing created")
	})
})
