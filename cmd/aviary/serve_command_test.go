package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"aviary.dev/aviary/sim/scenario"
)

var _ = Describe("aviary serve", func() {
	burst := filepath.Join(scenarioDir, "podinfo-500-burst.yaml")

	It("serves the scenario's world over the Prometheus API until interrupted, then exits 0", func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errR, errW := io.Pipe()
		code := make(chan int, 1)
		go func() {
			defer GinkgoRecover()
			var stdout bytes.Buffer
			code <- run(ctx, []string{"serve", burst, "--listen", "127.0.0.1:0"}, &stdout, errW)
			_ = errW.Close()
		}()
		lines := bufio.NewReader(errR)
		first, err := lines.ReadString('\n')
		Expect(err).NotTo(HaveOccurred())
		go func() { _, _ = io.Copy(io.Discard, lines) }()
		Expect(first).To(ContainSubstring(`serving scenario "podinfo-500-burst"`))
		Expect(first).To(ContainSubstring("from 2026-01-01T00:00:00Z (Unix 1767225600, virtual 0) to 2026-01-01T00:20:00Z (Unix 1767226800, virtual 20m0s)"))
		addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(first)
		Expect(addr).NotTo(BeEmpty())

		client, err := api.NewClient(api.Config{Address: addr})
		Expect(err).NotTo(HaveOccurred())
		c := promv1.NewAPI(client)
		v, _, err := c.Query(ctx, `sum by (response_code) (rate(istio_requests_total{destination_workload="podinfo"}[1m]))`,
			scenario.Epoch.Add(6*time.Minute))
		Expect(err).NotTo(HaveOccurred())
		Expect(v.(model.Vector)).To(HaveLen(2))
		Expect(v.String()).To(ContainSubstring(`{response_code="500"} => 9 @[1767225960]`))
		names, _, err := c.LabelNames(ctx, []string{"istio_requests_total"}, time.Time{}, time.Time{})
		Expect(err).NotTo(HaveOccurred())
		Expect(names).To(ContainElement(model.LabelName("response_code")))

		cancel()
		Eventually(code).WithTimeout(10 * time.Second).Should(Receive(Equal(exitOK)))
	})

	It("exits 2 when it cannot listen", func() {
		res := invokeCLI("serve", burst, "--listen", "127.0.0.1:notaport")
		Expect(res.code).To(Equal(exitInvalid))
		Expect(res.stderr).To(ContainSubstring("aviary: --listen: "))
	})
})
