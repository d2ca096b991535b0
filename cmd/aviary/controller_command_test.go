package main

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
)

var _ = Describe("aviary controller", func() {
	parse := func(args ...string) controllerFlags {
		GinkgoHelper()
		var f controllerFlags
		fl := pflag.NewFlagSet("controller", pflag.ContinueOnError)
		addControllerFlags(fl, &f)
		Expect(fl.Parse(flaggerStyle(fl, args))).To(Succeed())
		return f
	}

	DescribeTable("reads Flagger's single-dash flags as the double-dash ones",
		func(single, double []string) {
			Expect(parse(single...)).To(Equal(parse(double...)))
			Expect(parse(single...)).NotTo(Equal(parse()), "the flags were read")
		},
		Entry("-metrics-server=URL", []string{"-metrics-server=http://prom:9090"}, []string{"--metrics-server", "http://prom:9090"}),
		Entry("-kubeconfig FILE", []string{"-kubeconfig", "kc"}, []string{"--kubeconfig=kc"}),
		Entry("-port=N", []string{"-port=9000"}, []string{"--port=9000"}),
		Entry("-mesh-provider", []string{"-mesh-provider=kubernetes"}, []string{"--mesh-provider=kubernetes"}),
		Entry("-enable-leader-election", []string{"-enable-leader-election"}, []string{"--enable-leader-election"}),
		Entry("-control-loop-interval", []string{"-control-loop-interval=5s"}, []string{"--control-loop-interval=5s"}),
		Entry("-slack-url (the notifier's flags)", []string{"-slack-url=https://hooks.slack.com/x"}, []string{"--slack-url=https://hooks.slack.com/x"}),
		Entry("-selector-labels and -namespace", []string{"-selector-labels=app", "-namespace=prod"}, []string{"--selector-labels=app", "--namespace=prod"}),
		Entry("-api-group", []string{"-api-group=aviary.dev"}, []string{"--api-group=aviary.dev"}),
	)

	It("has Flagger's defaults", func() {
		f := parse()
		Expect(f.metricsServer).To(Equal("http://prometheus:9090"))
		Expect(f.meshProvider).To(Equal("istio"))
		Expect(f.port).To(Equal("8080"))
		Expect(f.controlLoopInterval).To(Equal(10 * time.Second))
		Expect(f.leaderElectionNamespace).To(Equal("kube-system"))
		Expect(f.selectorLabels).To(Equal("app,name,app.kubernetes.io/name"))
		Expect(f.apiGroup).To(Equal("flagger.app"))
		Expect(f.global.SlackUser).To(Equal("flagger"))
	})

	It("leaves what follows -- alone", func() {
		var f controllerFlags
		fl := pflag.NewFlagSet("controller", pflag.ContinueOnError)
		addControllerFlags(fl, &f)
		Expect(flaggerStyle(fl, []string{"-port=1", "--", "-port=2", "-x"})).To(Equal([]string{"--port=1", "--", "-port=2", "-x"}))
	})

	DescribeTable("refuses what it cannot honour, before connecting to anything (exit 2)",
		func(arg, message string) {
			res := invokeCLI("controller", "-kubeconfig=/nonexistent", arg)
			Expect(res.code).To(Equal(exitInvalid))
			Expect(res.stderr).To(ContainSubstring(message))
		},
		Entry("a Flagger flag the engine does not model", "-include-label-prefix=app", "-include-label-prefix is not supported by aviary's controller"),
		Entry("a router aviary has not", "-mesh-provider=linkerd", `-mesh-provider "linkerd": provider "linkerd" is not supported`),
		Entry("config tracking off", "-enable-config-tracking=false", "-enable-config-tracking=false is not supported"),
		Entry("an unknown log level", "-log-level=verbose", `-log-level: log level "verbose"`),
		Entry("an unknown flag", "-no-such-flag", "unknown shorthand flag"),
		Entry("an API group", "-api-group=example.com", `api group "example.com"`),
		Entry("an argument", "extra", "controller takes no arguments"),
	)

	It("prints its help, with every flag", func() {
		res := invokeCLI("controller", "--help")
		Expect(res.code).To(Equal(exitOK))
		Expect(res.stdout).To(ContainSubstring("Usage:\n  aviary controller [flags]"))
		for _, flag := range []string{"--kubeconfig", "--metrics-server", "--mesh-provider", "--namespace", "--selector-labels",
			"--enable-leader-election", "--leader-election-namespace", "--log-level", "--port", "--control-loop-interval",
			"--slack-url", "--msteams-url", "--cluster-name", "--api-group", "--kubeconfig-qps"} {
			Expect(res.stdout).To(ContainSubstring(flag))
		}
		Expect(invokeCLI("controller", "-h").stdout).To(Equal(res.stdout))
	})
})
