package reports_test

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/net/html"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// renderHTML renders results and parses the page.
func renderHTML(results []*scenario.Result, opts reports.HTMLOptions) ([]byte, *html.Node) {
	var buf bytes.Buffer
	Expect(reports.WriteHTML(&buf, results, opts)).To(Succeed())
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	Expect(err).NotTo(HaveOccurred())
	return buf.Bytes(), doc
}

// Small DOM helpers over golang.org/x/net/html.

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// findAll returns the elements under n (n included) for which match holds, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func elem(tag string, classes ...string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Data != tag {
			return false
		}
		for _, c := range classes {
			if !hasClass(n, c) {
				return false
			}
		}
		return true
	}
}

// textOf is the text content of n, whitespace collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// metricsOf lists the distinct metrics (name, kind) a result checked, in order.
func metricsOf(r *scenario.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range r.Ticks {
		for _, m := range t.Metrics {
			k := m.Name + "/" + m.Kind
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

var _ = Describe("the HTML report", func() {
	var page []byte
	var doc *html.Node

	BeforeEach(func() {
		page, doc = renderHTML(suite(), reports.HTMLOptions{})
	})

	// The bound is per scenario, so that the library can grow: about 55 KB each (2.35 MB
	// for the 41 of the library and 2 failing variants), the charts most of it.
	It("is under 64 KB a scenario for the whole scenario suite", func() {
		AddReportEntry("HTML report size (scenario library + 2 failing variants)", len(page))
		GinkgoWriter.Printf("HTML report for %d scenarios: %d bytes\n", len(suite()), len(page))
		Expect(len(page) / len(suite())).To(BeNumerically("<", 64<<10))
	})

	It("has a summary row per scenario, failed scenarios first", func() {
		rows := findAll(doc, func(n *html.Node) bool {
			return n.Data == "tr" && n.Parent.Parent != nil && hasClass(n.Parent.Parent, "summary") && n.Parent.Data == "tbody"
		})
		Expect(rows).To(HaveLen(len(suite())))
		for i, w := range wrong {
			Expect(hasClass(rows[i], "fail")).To(BeTrue())
			Expect(textOf(rows[i])).To(HavePrefix(w.Scenario + " FAIL"))
		}
		for _, row := range rows[len(wrong):] {
			Expect(hasClass(row, "pass")).To(BeTrue(), textOf(row))
		}
		nan := textOf(rows[0])
		Expect(nan).To(ContainSubstring("Failed"))
		Expect(nan).To(ContainSubstring("7m"))
		Expect(nan).To(ContainSubstring("10%"))
		Expect(nan).To(ContainSubstring("2 of 7 failed"))
	})

	It("has every scenario with its description, a timeline, one chart per metric and every expectation", func() {
		sections := findAll(doc, elem("details", "scenario"))
		Expect(sections).To(HaveLen(len(suite())))
		byName := map[string]*html.Node{}
		for _, s := range sections {
			h2 := findAll(s, elem("h2"))
			Expect(h2).NotTo(BeEmpty())
			name := strings.Fields(textOf(h2[0]))[0]
			byName[name] = s
		}
		for _, r := range suite() {
			s := byName[r.Scenario]
			Expect(s).NotTo(BeNil(), "scenario %s is missing", r.Scenario)
			Expect(attr(s, "id")).NotTo(BeEmpty())
			body := textOf(s)
			if r.Description != "" {
				Expect(body).To(ContainSubstring(strings.Join(strings.Fields(r.Description), " ")))
			}
			Expect(findAll(s, elem("figure", "timeline"))).To(HaveLen(1))
			Expect(findAll(findAll(s, elem("figure", "timeline"))[0], elem("svg", "chart"))).To(HaveLen(1))

			metrics := metricsOf(r)
			figs := findAll(s, elem("figure", "metric"))
			Expect(figs).To(HaveLen(len(metrics)), "%s: one chart per metric", r.Scenario)
			var shown, want []string
			for i, f := range figs {
				Expect(findAll(f, elem("svg", "chart"))).To(HaveLen(1))
				// the metric's name is the heading's text before its kind (a name may
				// have spaces: Flagger's Traefik tutorial's "404s percentage")
				h4 := findAll(f, elem("h4"))[0]
				Expect(h4.FirstChild.Type).To(Equal(html.TextNode))
				shown = append(shown, strings.TrimSpace(h4.FirstChild.Data))
				name := strings.SplitN(metrics[i], "/", 2)[0]
				if name == "" {
					name = "metrics" // "metrics server", the failure of spec.metricsServer
				}
				want = append(want, name)
			}
			Expect(shown).To(ConsistOf(want))
			Expect(findAll(s, elem("svg", "chart"))).To(HaveLen(1 + len(metrics)))

			rows := findAll(s, func(n *html.Node) bool {
				return n.Data == "tr" && n.Parent.Parent != nil && hasClass(n.Parent.Parent, "expect") && n.Parent.Data == "tbody"
			})
			Expect(rows).To(HaveLen(len(r.Expectations)))
			for i, e := range r.Expectations {
				row := textOf(rows[i])
				verdict := "PASS"
				if !e.OK {
					verdict = "FAIL"
					Expect(hasClass(rows[i], "fail")).To(BeTrue())
				}
				Expect(row).To(HavePrefix(e.Name + " " + verdict))
				Expect(row).To(ContainSubstring(strings.Join(strings.Fields(e.Expected), " ")))
				Expect(row).To(ContainSubstring(strings.Join(strings.Fields(e.Observed), " ")))
			}
			// Failed scenarios are open, passed ones collapsed.
			_, open := findAttr(s, "open")
			Expect(open).To(Equal(!r.Passed), r.Scenario)
		}
	})

	It("has an alerts section per scenario: each alert, the fields it carries and where Flagger routes it", func() {
		byName := map[string]*html.Node{}
		for _, s := range findAll(doc, elem("details", "scenario")) {
			byName[strings.Fields(textOf(findAll(s, elem("h2"))[0]))[0]] = s
		}
		for _, r := range suite() {
			alerts := 0
			for _, t := range ticksOf(r) {
				alerts += len(t.Alerts)
			}
			rows := findAll(byName[r.Scenario], func(n *html.Node) bool {
				return n.Data == "tr" && n.Parent.Data == "tbody" && hasClass(n.Parent.Parent, "alerts")
			})
			Expect(rows).To(HaveLen(alerts), r.Scenario)
		}
		rows := findAll(byName["podinfo-alerts-on-call"], func(n *html.Node) bool {
			return n.Data == "tr" && n.Parent.Data == "tbody" && hasClass(n.Parent.Parent, "alerts")
		})
		Expect(rows).To(HaveLen(3))
		Expect(textOf(rows[0])).To(Equal("01:00 info New Deployment detected, initialization completed. " +
			"Target: Deployment/podinfo.test · Failed checks threshold: 5 · Progress deadline: 60s · Traffic routing: Weight step: 10 max: 50 " +
			"releases → releases-teams.test (msteams)"))
		Expect(textOf(rows[2])).To(Equal("11:00 error Failed checks threshold reached 5 " +
			"on-call → on-call-slack.test (slack #on-call) releases → releases-teams.test (msteams)"))
		Expect(hasClass(rows[2], "warn")).To(BeTrue(), "an error alert stands out")
		burst := findAll(byName["podinfo-500-burst"], func(n *html.Node) bool {
			return n.Data == "tr" && n.Parent.Data == "tbody" && hasClass(n.Parent.Parent, "alerts")
		})
		Expect(burst).NotTo(BeEmpty())
		Expect(textOf(burst[0])).To(HaveSuffix("the global notifier (no analysis.alerts: an operator setting)"))
	})

	It("shows every failed expectation with what was expected and what was observed", func() {
		failedRows := findAll(doc, func(n *html.Node) bool {
			return n.Data == "tr" && hasClass(n, "fail") && n.Parent.Parent != nil && hasClass(n.Parent.Parent, "expect")
		})
		Expect(failedRows).To(HaveLen(failedExpectations(suite())))
		Expect(failedExpectations(suite())).To(Equal(3))
	})

	It("explains the NaN rollback without reading code", func() {
		_, doc := renderHTML([]*scenario.Result{find(library, "user-profile-nan-division")}, reports.HTMLOptions{})
		callout := findAll(doc, elem("div", "callout"))
		Expect(callout).To(HaveLen(1))
		Expect(hasClass(callout[0], "rollback")).To(BeTrue())
		Expect(textOf(callout[0])).To(Equal("Rolled back at 7m: failed checks threshold reached (3 failed checks): legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m"))

		figs := findAll(doc, elem("figure", "metric"))
		Expect(figs).To(HaveLen(2))
		ratio := figs[0] // metrics with failed checks come first
		Expect(textOf(ratio)).To(ContainSubstring("legacy-read-ratio"))
		Expect(textOf(ratio)).To(ContainSubstring("3 checks: 3 NaN"))
		Expect(textOf(ratio)).To(ContainSubstring("NaN (treated as no data: failed check)"))
		// The chart labels each NaN tick in text, not by colour alone.
		chart := findAll(ratio, elem("svg", "chart"))[0]
		nanLabels := findAll(chart, func(n *html.Node) bool { return n.Data == "text" && textOf(n) == "NaN" })
		Expect(nanLabels).To(HaveLen(3))
		Expect(textOf(chart)).To(ContainSubstring("no check returned a value"))
		// The resolved query, as sent, then the same against the primary.
		pre := findAll(ratio, elem("pre", "promql"))
		Expect(pre).To(HaveLen(2))
		Expect(textOf(pre[0])).To(HavePrefix(`sum(rate(user_profile_legacy_record_reads_total{namespace="profiles", pod=~"user-profile-service-[0-9a-zA-Z]+`))
		Expect(textOf(pre[0])).To(HaveSuffix("or on() vector(0)"))
		Expect(hasClass(pre[1], "baseline")).To(BeTrue())
		Expect(textOf(pre[1])).To(HavePrefix(`sum(rate(user_profile_legacy_record_reads_total{namespace="profiles", pod=~"user-profile-service-primary-[0-9a-zA-Z]+`))
		// The primary's values are drawn and labelled: the old version reads 30% from the legacy store.
		Expect(textOf(ratio)).To(ContainSubstring("baseline: the same query against the primary at each tick"))
		Expect(textOf(ratio)).To(ContainSubstring("primary: the same query at the same time (baseline)"))
		var ticks []string
		for _, t := range findAll(chart, elem("text")) {
			ticks = append(ticks, textOf(t))
		}
		Expect(ticks).To(ContainElement("0.3"), "the value axis is scaled to the primary's values")
	})

	It("marks no-data, NaN, error and out-of-range checks distinctly, and shows a changed query", func() {
		v := func(f float64) *float64 { return &f }
		tick := func(min int, m analysis.Result) engine.TickRecord {
			return engine.TickRecord{At: scenario.Epoch.Add(time.Duration(min) * time.Minute), Phase: "Progressing", PhaseBefore: "Progressing", Metrics: []analysis.Result{m}}
		}
		r := &scenario.Result{Scenario: "made-up", Mode: "fast", Phase: "Progressing", Until: scenario.Offset(10 * time.Minute), Ticks: stored(
			tick(1, analysis.Result{Name: "m", Kind: "query", Query: "a", Value: v(5), Max: v(10), Outcome: analysis.OutcomePass}),
			tick(2, analysis.Result{Name: "m", Kind: "query", Query: "a", Value: v(15), Max: v(10), Outcome: analysis.OutcomeFail}),
			tick(3, analysis.Result{Name: "m", Kind: "query", Query: "b", NaN: true, Outcome: analysis.OutcomeNoData}),
			tick(4, analysis.Result{Name: "m", Kind: "query", Query: "b", Outcome: analysis.OutcomeNoData}),
			tick(5, analysis.Result{Name: "m", Kind: "query", Outcome: analysis.OutcomeError, Message: "render error"}),
			tick(6, analysis.Result{Name: "m", Kind: "query", Query: "b", Value: v(math.Inf(1)), Max: v(10), Outcome: analysis.OutcomeFail}),
		)}
		_, doc := renderHTML([]*scenario.Result{r}, reports.HTMLOptions{})
		fig := findAll(doc, elem("figure", "metric"))[0]
		text := textOf(fig)
		Expect(text).To(ContainSubstring("6 checks: 1 passed, 2 failed, 1 NaN, 1 no data, 1 error"))
		for _, legend := range []string{"pass", "fail (out of range)", "NaN (treated as no data: failed check)", "no data (failed check)", "error (failed check)", "accepted range", "threshold"} {
			Expect(text).To(ContainSubstring(legend))
		}
		chart := findAll(fig, elem("svg", "chart"))[0]
		var labels []string
		for _, t := range findAll(chart, elem("text")) {
			labels = append(labels, textOf(t))
		}
		Expect(labels).To(ContainElements("NaN", "no data", "error", "+Inf", "max 10"))
		Expect(findAll(fig, elem("pre", "promql"))).To(HaveLen(2))
		Expect(text).To(ContainSubstring("Query changed at 3m"))
		Expect(textOf(findAll(doc, elem("div", "callout"))[0])).To(HavePrefix("No decision by 10m: final phase Progressing"))
	})

	It("draws the share of user requests the canary served, which in A/B testing is not its route's weight", func() {
		share := func(f float64) *float64 { return &f }
		var ticks []engine.TickRecord
		var exposure []scenario.TickExposure
		for min := 0; min <= 6; min++ {
			t := engine.TickRecord{At: scenario.Epoch.Add(time.Duration(min) * time.Minute), Phase: "Progressing", PhaseBefore: "Progressing",
				PrimaryWeight: 0, CanaryWeight: 100, Iterations: min}
			e := scenario.TickExposure{At: t.At, PrimaryRequests: 5400, CanaryRequests: 600, CanaryShare: share(10)}
			if min == 0 {
				e = scenario.TickExposure{At: t.At}
			}
			if min == 3 {
				e.MirroredRequests = 3000
			}
			ticks, exposure = append(ticks, t), append(exposure, e)
		}
		r := &scenario.Result{Scenario: "ab", Mode: "fast", Phase: "Progressing", Until: scenario.Offset(6 * time.Minute), Ticks: stored(ticks...), Exposure: exposure}
		_, doc := renderHTML([]*scenario.Result{r}, reports.HTMLOptions{})
		timeline := findAll(doc, elem("figure", "timeline"))[0]
		Expect(textOf(timeline)).To(ContainSubstring("user requests the canary served (% since the previous tick)"))
		Expect(textOf(timeline)).To(ContainSubstring("mirrored copies to the canary (% of user requests; answers discarded, not exposure)"))
		svg := renderedText(timeline)
		Expect(svg).To(ContainSubstring("stroke:#0B7285"), "the exposure line")

		// A record written before exposure was recorded has neither line nor legend.
		r.Exposure = nil
		_, doc = renderHTML([]*scenario.Result{r}, reports.HTMLOptions{})
		timeline = findAll(doc, elem("figure", "timeline"))[0]
		Expect(textOf(timeline)).NotTo(ContainSubstring("user requests the canary served"))
		Expect(renderedText(timeline)).NotTo(ContainSubstring("stroke:#0B7285"))
	})

	It("references nothing outside itself", func() {
		Expect(externalReferences(doc)).To(BeEmpty())
		// The check itself catches what it is meant to catch.
		bad, err := html.Parse(strings.NewReader(`<html><head><link rel="stylesheet" href="https://cdn.example/x.css"><style>@import "x.css"; b{background:url(https://x/y.png)}</style></head>
			<body><img src="//cdn.example/a.png"><svg><image href="http://x/i.png"/></svg><div style="background:url('http://x')"></div><a href="https://example.com">x</a><script src="app.js"></script><pre>https://fine.example</pre></body></html>`))
		Expect(err).NotTo(HaveOccurred())
		Expect(externalReferences(bad)).To(ConsistOf(
			"<link>", "<link href=https://cdn.example/x.css>",
			"<style> url(https://x/y.png)", "<style> @import",
			"<img>", "<img src=//cdn.example/a.png>",
			"<image href=http://x/i.png>", "style attribute url(http://x)",
			"<a href=https://example.com>", "<script src=app.js>",
		))
	})

	It("is deterministic", func() {
		again, _ := renderHTML(suite(), reports.HTMLOptions{})
		Expect(again).To(Equal(page))
	})

	It("renders an empty suite and a run without ticks", func() {
		_, doc := renderHTML(nil, reports.HTMLOptions{})
		Expect(textOf(doc)).To(ContainSubstring("0 scenarios: 0 passed, 0 failed"))
		_, doc = renderHTML([]*scenario.Result{{Scenario: "empty", Mode: "fast"}}, reports.HTMLOptions{})
		Expect(findAll(doc, elem("svg", "chart"))).To(HaveLen(1))
		Expect(textOf(doc)).To(ContainSubstring("No metric was checked."))
	})

	It("lists scenarios that could not be run", func() {
		_, doc := renderHTML(library[:1], reports.HTMLOptions{Title: "nightly", Errors: []reports.RunError{{Scenario: "broken", File: "x.yaml", Err: "setup: boom"}}})
		Expect(textOf(findAll(doc, elem("title"))[0])).To(Equal("nightly"))
		Expect(textOf(doc)).To(ContainSubstring("Scenarios that could not be run Scenario File Error broken x.yaml setup: boom"))
	})
})

func findAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func find(results []*scenario.Result, name string) *scenario.Result {
	for _, r := range results {
		if r.Scenario == name {
			return r
		}
	}
	Fail("no result for scenario " + name)
	return nil
}

// cssURL matches url(...) and @import in CSS; the reference must be a fragment (#id)
// or inline data to stay inside the file.
var (
	cssURL    = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)`)
	cssImport = regexp.MustCompile(`(?i)@import`)
)

// externalReferences lists every way the page could load something from outside:
// elements that load resources (<link>, <script src>, <img>, <iframe>, ...),
// attributes holding a URL that is not a #fragment (href, src, xlink:href, srcset,
// action, poster, data, ...), CSS url() and @import in <style> and style attributes.
// Text (a webhook URL in a table, PromQL in <pre>) is not a reference.
func externalReferences(doc *html.Node) []string {
	var out []string
	urlAttrs := map[string]bool{"href": true, "src": true, "srcset": true, "action": true, "formaction": true,
		"poster": true, "data": true, "background": true, "manifest": true, "ping": true, "cite": true, "longdesc": true, "usemap": true}
	checkCSS := func(where, css string) {
		for _, m := range cssURL.FindAllStringSubmatch(css, -1) {
			if !strings.HasPrefix(m[1], "#") {
				out = append(out, where+" url("+m[1]+")")
			}
		}
		if cssImport.MatchString(css) {
			out = append(out, where+" @import")
		}
	}
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		switch n.Data {
		case "link", "iframe", "frame", "embed", "object", "img", "video", "audio", "source", "track", "base":
			out = append(out, "<"+n.Data+">")
		case "meta":
			if strings.EqualFold(attr(n, "http-equiv"), "refresh") {
				out = append(out, "<meta http-equiv=refresh>")
			}
		case "style":
			checkCSS("<style>", textOf(n))
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			val := strings.TrimSpace(a.Val)
			switch {
			case key == "style":
				checkCSS("style attribute", val)
			case urlAttrs[key] && val != "" && !strings.HasPrefix(val, "#"):
				out = append(out, "<"+n.Data+" "+a.Key+"="+val+">")
			case strings.Contains(val, "://") && key != "content":
				out = append(out, "<"+n.Data+" "+a.Key+"="+val+">")
			}
		}
	}
	return out
}

// renderedText is n rendered back to HTML.
func renderedText(n *html.Node) string {
	var b strings.Builder
	Expect(html.Render(&b, n)).To(Succeed())
	return b.String()
}
