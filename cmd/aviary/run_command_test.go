package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// tick is one analysis tick as `aviary run` prints it.
type tick struct {
	at           string // "mm:ss"
	phase        string // "Progressing" or "Initialized -> Progressing"
	primary      int
	canary       int
	failedChecks int
	lines        []string // metric, hook and event lines under the tick, trimmed
}

var tickHeader = regexp.MustCompile(`^(\d\d:\d\d)  (.+?)\s+weights\s+(\d+)/(\d+)\s+failedChecks (\d+)`)

// parseTicks reads the tick lines of `aviary run` output and the lines under each.
func parseTicks(out string) []tick {
	GinkgoHelper()
	var ticks []tick
	for _, l := range strings.Split(out, "\n") {
		if m := tickHeader.FindStringSubmatch(l); m != nil {
			t := tick{at: m[1], phase: m[2]}
			t.primary, _ = strconv.Atoi(m[3])
			t.canary, _ = strconv.Atoi(m[4])
			t.failedChecks, _ = strconv.Atoi(m[5])
			ticks = append(ticks, t)
			continue
		}
		if strings.HasPrefix(l, "        ") && len(ticks) > 0 {
			ticks[len(ticks)-1].lines = append(ticks[len(ticks)-1].lines, strings.TrimSpace(l))
		}
	}
	return ticks
}

func tickAt(ticks []tick, at string) tick {
	GinkgoHelper()
	for _, t := range ticks {
		if t.at == at {
			return t
		}
	}
	Fail("no tick at " + at)
	return tick{}
}

var _ = Describe("aviary run", func() {
	burst := filepath.Join(scenarioDir, "podinfo-500-burst.yaml")

	Describe("podinfo-500-burst", func() {
		var (
			res   cliResult
			ticks []tick
		)
		BeforeEach(func() {
			res = invokeCLI("run", burst)
			ticks = parseTicks(res.stdout)
		})

		It("exits 0 with the scenario's name and description", func() {
			Expect(res.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			Expect(res.stderr).To(BeEmpty())
			Expect(res.stdout).To(HavePrefix("scenario podinfo-500-burst (fast mode)\n"))
			Expect(res.stdout).To(ContainSubstring("From minute 5 the new version answers 30% of requests with 5xx."))
		})

		It("prints one tick per analysis interval, from 00:00 to until", func() {
			Expect(ticks).To(HaveLen(21))
			for i, t := range ticks {
				Expect(t.at).To(Equal(fmt.Sprintf("%02d:00", i)))
			}
		})

		It("prints phases and their transitions, and the router's weights", func() {
			Expect(tickAt(ticks, "01:00").phase).To(Equal("Initializing -> Initialized"))
			Expect(tickAt(ticks, "02:00").phase).To(Equal("Initialized -> Progressing"))
			weights := map[string][2]int{"01:00": {100, 0}, "03:00": {90, 10}, "04:00": {80, 20}, "05:00": {70, 30},
				"09:00": {70, 30}, "11:00": {100, 0}, "20:00": {100, 0}}
			for at, w := range weights {
				t := tickAt(ticks, at)
				Expect([2]int{t.primary, t.canary}).To(Equal(w), "weights at %s", at)
			}
			rollback := tickAt(ticks, "11:00")
			Expect(rollback.phase).To(Equal("Progressing -> Failed"))
			Expect(rollback.failedChecks).To(Equal(0))
			Expect(tickAt(ticks, "20:00").phase).To(Equal("Failed"))
		})

		It("prints each metric's value against its threshold", func() {
			healthy := tickAt(ticks, "04:00")
			Expect(healthy.lines).To(ContainElement(MatchRegexp(`^pass\s+request-success-rate\s+99\.9\s+>= 99$`)))
			Expect(healthy.lines).To(ContainElement(MatchRegexp(`^pass\s+request-duration\s+94\s+<= 500$`)))
			for i, at := range []string{"06:00", "07:00", "08:00", "09:00", "10:00"} {
				t := tickAt(ticks, at)
				Expect(t.failedChecks).To(Equal(i+1), "failedChecks at %s", at)
				Expect(t.lines).To(ContainElement(MatchRegexp(`^fail\s+request-success-rate\s+70\s+>= 99$`)), "at %s", at)
				Expect(t.lines).NotTo(ContainElement(ContainSubstring("request-duration")),
					"at %s: the first failed check skips the rest", at)
			}
		})

		It("prints hook calls, events with their type, and alerts with where they go", func() {
			start := tickAt(ticks, "03:00")
			Expect(start.lines).To(ContainElement("hook pre-rollout acceptance-test (http://flagger-loadtester.test/) ok"))
			Expect(start.lines).To(ContainElement("event Normal Advance podinfo.test canary weight 10"))
			Expect(tickAt(ticks, "06:00").lines).To(ContainElement("event Warning Halt podinfo.test advancement success rate 70.00% < 99%"))
			Expect(tickAt(ticks, "11:00").lines).To(Equal([]string{
				"event Warning Rolling back podinfo.test failed checks threshold reached 5",
				"event Warning Canary failed! Scaling down podinfo.test",
				"alert error Failed checks threshold reached 5 -> global notifier (no analysis.alerts)",
			}))
		})

		It("ends with the decision and every expectation's verdict", func() {
			Expect(res.stdout).To(ContainSubstring("\nfinal phase Failed at 11:00; routes [10 20 30 0]; max canary weight 30; failed user requests on new versions 3,242\n"))
			Expect(res.stdout).To(ContainSubstring("  PASS routes: expected [10, 20, 30, 0], observed [10, 20, 30, 0]\n"))
			Expect(res.stdout).NotTo(ContainSubstring("FAIL"))
		})
	})

	Describe("--until-decided", func() {
		second := filepath.Join(scenarioDir, "podinfo-second-release.yaml")

		It("prints the ticks up to the decision, then only those that do something, and counts the rest", func() {
			all := invokeCLI("run", second)
			res := invokeCLI("run", second, "--until-decided")
			Expect(res.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			every, shown := parseTicks(all.stdout), parseTicks(res.stdout)
			Expect(len(shown)).To(BeNumerically("<", len(every)))
			// Every tick up to the first decision (promoted at 10:00) is printed as without the flag.
			for i, t := range every {
				if t.at > "10:00" {
					break
				}
				Expect(shown[i]).To(Equal(t))
			}
			// After it, the ticks that do something are printed, the idle ones counted.
			skipped := regexp.MustCompile(`(?m)^… (\d+) idle ticks? not shown \((\d\d:\d\d)`).FindAllStringSubmatch(res.stdout, -1)
			Expect(skipped).NotTo(BeEmpty())
			Expect(skipped[0][2]).To(Equal("11:00"))
			left := 0
			for _, m := range skipped {
				n, _ := strconv.Atoi(m[1])
				left += n
			}
			Expect(len(shown) + left).To(Equal(len(every)))
			release := tickAt(shown, "22:00")
			Expect(release.lines).To(ContainElement(HavePrefix("fail   request-success-rate")))
			Expect(tickAt(shown, "27:00").phase).To(Equal("Progressing -> Failed"))
			for _, t := range shown {
				if t.at > "10:00" && t.phase == "Succeeded" {
					Expect(t.lines).NotTo(BeEmpty(), "an idle tick after the decision was printed at %s", t.at)
				}
			}
			// The end of the output is the same: decision and expectations.
			Expect(res.stdout[strings.Index(res.stdout, "\nfinal phase"):]).To(Equal(all.stdout[strings.Index(all.stdout, "\nfinal phase"):]))
		})
	})

	Describe("determinism", func() {
		It("gives byte-identical output for two runs of the same file", func() {
			a := invokeCLI("run", burst)
			b := invokeCLI("run", burst)
			Expect(a.code).To(Equal(exitOK))
			Expect(parseTicks(a.stdout)).NotTo(BeEmpty())
			Expect(b.stdout).To(Equal(a.stdout))
			Expect(b.stderr).To(Equal(a.stderr))
			Expect(b.code).To(Equal(a.code))
		})

		It("gives byte-identical output for two runs of a noisy scenario, and other values for another seed", func() {
			a := invokeCLI("run", "testdata/noisy/seed-7.yaml")
			b := invokeCLI("run", "testdata/noisy/seed-7.yaml")
			other := invokeCLI("run", "testdata/noisy/seed-8.yaml")
			Expect(a.code).To(Equal(exitOK), "stdout:\n%s\nstderr:\n%s", a.stdout, a.stderr)
			Expect(b.stdout).To(Equal(a.stdout))
			// The two seeds differ only in the drawn counts: the metric lines must
			// differ, so the noise is really drawn (and the comparison above not vacuous).
			metrics := func(out string) []string {
				var m []string
				for _, t := range parseTicks(out) {
					for _, l := range t.lines {
						if strings.HasPrefix(l, "pass") || strings.HasPrefix(l, "fail") {
							m = append(m, t.at+" "+l)
						}
					}
				}
				return m
			}
			Expect(metrics(a.stdout)).NotTo(BeEmpty())
			Expect(metrics(other.stdout)).NotTo(Equal(metrics(a.stdout)))
		})

		It("gives the same output with every sample kept (--keep-series)", func() {
			a := invokeCLI("run", burst)
			b := invokeCLI("run", burst, "--keep-series")
			Expect(b.code).To(Equal(exitOK))
			Expect(b.stdout).To(Equal(a.stdout))
			t := invokeCLI("test", "--keep-series", burst)
			Expect(t.code).To(Equal(exitOK))
			Expect(t.stdout).To(ContainSubstring("podinfo-500-burst"))
			Expect(t.stdout).To(Equal(invokeCLI("test", burst).stdout))
		})

		It("gives byte-identical output for a run with a load warning", func() {
			a := invokeCLI("run", "testdata/warn/unparseable-query.yaml")
			b := invokeCLI("run", "testdata/warn/unparseable-query.yaml")
			Expect(a.stderr).To(ContainSubstring("warning:"))
			Expect(b.stdout).To(Equal(a.stdout))
			Expect(b.stderr).To(Equal(a.stderr))
		})

		It("gives the same suite summary whatever the parallelism", func() {
			serial := invokeCLI("test", "-p", "1", scenarioDir)
			parallel := invokeCLI("test", "-p", "4", scenarioDir)
			Expect(serial.code).To(Equal(exitOK))
			Expect(summaryRow.FindAllString(serial.stdout, -1)).NotTo(BeEmpty())
			Expect(parallel.stdout).To(Equal(serial.stdout))
			Expect(parallel.stderr).To(Equal(serial.stderr))
		})
	})
})
