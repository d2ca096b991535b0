package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/serve"
)

var _ = Describe("aviary sim serve", func() {
	It("refuses two scenarios sharing a namespace, naming both files, exit 2", func() {
		r := invokeCLI("sim", "serve", "../../sim/serve/testdata/shared", "--kubeconfig", "/nonexistent")
		Expect(r.code).To(Equal(exitInvalid), r.stderr)
		Expect(r.stderr).To(And(ContainSubstring("shared/a.yaml"), ContainSubstring("shared/b.yaml"), ContainSubstring(`namespace "shared"`)))
	})

	It("refuses a bad flag value before it loads anything, exit 2", func() {
		for _, args := range [][]string{
			{"--api-group", "example.com"},
			{"--prometheus", "prometheus:9090"},
			{"--log-level", "loud"},
		} {
			r := invokeCLI(append([]string{"sim", "serve", "../../sim/serve/testdata/realtime.yaml"}, args...)...)
			Expect(r.code).To(Equal(exitInvalid), "%v\n%s", args, r.stderr)
			Expect(r.stderr).To(ContainSubstring(args[0]))
		}
	})

	It("plays a scenario against the API server of --kubeconfig, writes the configuration and the ready file, and exits 0 after until", func() {
		env, err := cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{APIGroup: v1beta1.FlaggerGroupVersion.Group})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		dir := GinkgoT().TempDir()
		kubeconfig := filepath.Join(dir, "kubeconfig")
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
		cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData, Token: env.Config.BearerToken}
		cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
		cfg.CurrentContext = "envtest"
		Expect(clientcmd.WriteToFile(*cfg, kubeconfig)).To(Succeed())

		ready, prom := filepath.Join(dir, "ready.json"), filepath.Join(dir, "prometheus.yml")
		r := invokeCLI("sim", "serve", "../../sim/serve/testdata/realtime.yaml", "--kubeconfig", kubeconfig,
			"--listen", "127.0.0.1:0", "--ready-file", ready, "--prometheus-config", prom)
		Expect(r.code).To(Equal(exitOK), r.stderr)

		var got serve.Ready
		body, err := os.ReadFile(ready)
		Expect(err).NotTo(HaveOccurred())
		Expect(json.Unmarshal(body, &got)).To(Succeed())
		Expect(got.Listen).To(MatchRegexp(`^127\.0\.0\.1:\d+$`))
		Expect(got.Scenarios).To(Equal([]serve.ReadyScenario{{Name: "realtime", Namespace: "serve-realtime"}}))

		body, err = os.ReadFile(prom)
		Expect(err).NotTo(HaveOccurred())
		pc, err := promconfig.Load(string(body), slog.New(slog.DiscardHandler))
		Expect(err).NotTo(HaveOccurred())
		Expect(pc.ScrapeConfigs).To(HaveLen(1))
		static, ok := pc.ScrapeConfigs[0].ServiceDiscoveryConfigs[0].(discovery.StaticConfig)
		Expect(ok).To(BeTrue())
		Expect(static[0].Targets[0]).To(HaveKeyWithValue(model.LabelName("__address__"), model.LabelValue(got.Listen)))

		GinkgoWriter.Println(r.stderr)
		var msgs []string
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			var m map[string]any
			Expect(json.Unmarshal([]byte(line), &m)).To(Succeed(), "every log line is JSON: %s", line)
			msgs = append(msgs, m["msg"].(string))
		}
		Expect(msgs).To(ContainElements("created", "serving", "pod started", "pod ready", "timeline action", "until passed", "stopping"))
	})
})
