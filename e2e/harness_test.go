package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/e2e"
)

var _ = Describe("the tool versions", func() {
	root := func() string {
		GinkgoHelper()
		r, err := e2e.ModuleRoot()
		Expect(err).NotTo(HaveOccurred())
		return r
	}

	It("builds Prometheus at the version the root go.mod requires", func() {
		want, err := e2e.Required(filepath.Join(root(), "go.mod"), e2e.PrometheusModule)
		Expect(err).NotTo(HaveOccurred())
		got, err := e2e.Required(filepath.Join(root(), "hack", "prometheus", "go.mod"), e2e.PrometheusModule)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(want), "hack/prometheus/go.mod; hack/tool-assets.sh prometheus updates it")
	})

	It("builds the Flagger release FlaggerVersion names", func() {
		got, err := e2e.Required(filepath.Join(root(), "hack", "flagger", "go.mod"), "github.com/fluxcd/flagger")
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(e2e.FlaggerVersion))
		script, err := os.ReadFile(filepath.Join(root(), "hack", "tool-assets.sh"))
		Expect(err).NotTo(HaveOccurred())
		Expect(regexp.MustCompile(`(?m)^FLAGGER_VERSION=(\S+)`).FindSubmatch(script)).To(
			HaveExactElements(Not(BeEmpty()), BeEquivalentTo(e2e.FlaggerVersion)))
	})

	It("says how to build a missing tool", func() {
		GinkgoT().Setenv("AVIARY_PROMETHEUS", "/nonexistent/prometheus")
		_, err := e2e.PrometheusBinary()
		Expect(err).To(MatchError(And(ContainSubstring("/nonexistent/prometheus not found"), ContainSubstring("make prometheus"))))
	})
})

var _ = Describe("a process", func() {
	It("is killed with everything it started (its process group)", func() {
		dir := GinkgoT().TempDir()
		pidFile := filepath.Join(dir, "child")
		p, err := e2e.StartProcess("sh", dir, nil, "/bin/sh", "-c", "sleep 300 & echo $! > "+pidFile+"; echo started; wait")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Kill)
		Eventually(func() string { b, _ := os.ReadFile(pidFile); return string(b) }).Should(MatchRegexp(`^\d+\n$`))
		b, _ := os.ReadFile(pidFile)
		var child int
		_, err = fmtSscan(strings.TrimSpace(string(b)), &child)
		Expect(err).NotTo(HaveOccurred())
		Expect(alive(child)).To(BeTrue(), "the child runs")

		Expect(p.Kill()).To(Succeed())
		Expect(p.Running()).To(BeFalse())
		Eventually(func() bool { return alive(child) }).Should(BeFalse(), "the child is gone too")
		Expect(p.Tail(100)).To(ContainSubstring("started"))

		Expect(p.Start()).To(Succeed(), "it starts again")
		Expect(p.Running()).To(BeTrue())
		Expect(p.Start()).To(MatchError(ContainSubstring("already running")))
		Expect(p.Stop(time.Second)).To(Succeed())
		log, err := os.ReadFile(p.Log)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(log), "==== ")).To(Equal(2), "one header per run, appended")
	})

	It("reports the end of a run", func() {
		p, err := e2e.StartProcess("false", GinkgoT().TempDir(), nil, "/bin/false")
		Expect(err).NotTo(HaveOccurred())
		Eventually(p.Done()).Should(BeClosed())
		Expect(p.Err()).To(MatchError(ContainSubstring("exit status 1")))
	})
})

var _ = Describe("the cut proxy", func() {
	It("forwards, cuts open and new connections, and forwards again after Restore", func() {
		echo, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(echo.Close)
		go func() {
			for {
				c, err := echo.Accept()
				if err != nil {
					return
				}
				go func() { _, _ = io.Copy(c, c); c.Close() }()
			}
		}()
		p, err := e2e.NewCutProxy(echo.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Close)

		roundTrip := func(c net.Conn) error {
			if _, err := c.Write([]byte("ping\n")); err != nil {
				return err
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return err
			}
			if line != "ping\n" {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		open, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(open.Close)
		Expect(roundTrip(open)).To(Succeed())

		p.Cut()
		Expect(roundTrip(open)).NotTo(Succeed(), "the open connection was closed")
		during, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred(), "the port still accepts...")
		Expect(roundTrip(during)).NotTo(Succeed(), "...but closes at once")
		during.Close()
		Eventually(p.Refused).Should(BeNumerically(">=", 1))

		p.Restore()
		after, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(after.Close)
		Expect(roundTrip(after)).To(Succeed())
	})
})

var _ = Describe("the Prometheus server", func() {
	It("is configured with the included scrape files and a job per target", func() {
		cfg := string(e2e.PrometheusConfig(e2e.PrometheusOptions{
			ScrapeConfigFiles: []string{"/tmp/x/sim.yml"},
			Targets:           map[string]string{"controller": "127.0.0.1:8080"},
		}))
		Expect(cfg).To(ContainSubstring("scrape_interval: 1s"))
		Expect(cfg).To(ContainSubstring("scrape_config_files:\n  - \"/tmp/x/sim.yml\"\n"))
		Expect(cfg).To(ContainSubstring("- job_name: \"controller\"\n    static_configs:\n      - targets: [\"127.0.0.1:8080\"]\n"))
	})

	It("starts without its web UI's assets, scrapes a target, answers queries, and restarts on its port and TSDB", func(ctx SpecContext) {
		bin := tool(e2e.PrometheusBinary, requireE2E)
		target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "# TYPE e2e_answer gauge\ne2e_answer{kind=\"test\"} 42\n")
		})}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		go func() { _ = target.Serve(ln) }()
		DeferCleanup(target.Close)

		dir := GinkgoT().TempDir()
		prom, err := e2e.StartPrometheus(ctx, e2e.PrometheusOptions{Binary: bin, Dir: dir, Targets: map[string]string{"target": ln.Addr().String()}})
		Expect(err).NotTo(HaveOccurred())
		processes(prom.Proc)

		value := func() float64 {
			s, err := prom.Query(ctx, `e2e_answer{job="target"}`)
			if err != nil || len(s) != 1 {
				return -1
			}
			return s[0].Value
		}
		Eventually(value).WithTimeout(30 * time.Second).Should(Equal(42.0))
		_, err = prom.Query(ctx, `sum(`)
		Expect(err).To(MatchError(ContainSubstring("parse error")))

		Expect(prom.Stop()).To(Succeed())
		_, err = prom.Query(ctx, `up`)
		Expect(err).To(MatchError(ContainSubstring("connection refused")))
		Expect(prom.Restart(context.Background())).To(Succeed())
		s, err := prom.Query(ctx, `count_over_time(e2e_answer[1h])`)
		Expect(err).NotTo(HaveOccurred())
		Expect(s).To(HaveLen(1))
		Expect(s[0].Value).To(BeNumerically(">=", 1), "the samples before the restart are still there")
	}, SpecTimeout(2*time.Minute))
})

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(s, v) }

// alive reports whether pid runs: it exists and is not a zombie (an orphan whose
// end nobody has waited for yet, when no init reaps them).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}
