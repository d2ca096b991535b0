package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

//go:embed templates/*.html templates/*.css templates/*.js
var templateFS embed.FS

var pageTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"swatch": swatch,
}).ParseFS(templateFS, "templates/*.html"))

// HTMLOptions are the parts of an HTML report that are not in the run records.
type HTMLOptions struct {
	// Title is the page title; "aviary report" when empty.
	Title string
	// Errors are scenarios that could not be run, listed after the summary.
	Errors []RunError
}

// WriteHTML writes one self-contained HTML page for results: inline CSS, inline SVG
// charts (drawn with gonum/plot) and a small inline script for expanding and
// collapsing scenarios; it references nothing outside itself and prints well.
//
// The page has a suite summary (failed scenarios first) and, per scenario: the
// description; what was decided and why (the failed checks that led to a rollback,
// by metric and tick); every expectation with expected and observed; a timeline of
// canary and primary weight with phase bands and markers for new revisions, gates,
// promotions and rollbacks, and the share of user requests the canary actually
// served (mirrored copies apart); one chart per metric, its value at each analysis
// tick against the threshold band, with NaN, no-data and error checks marked and
// labelled, and the same query against the primary when the record has baselines;
// each metric's resolved PromQL; the event log; the webhook calls; the alerts and
// where Flagger routes them; the traffic each version served. The output depends
// only on results and opts.
func WriteHTML(w io.Writer, results []*scenario.Result, opts HTMLOptions) error {
	page, err := buildPage(results, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&buf, "report.html", page); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

type pageView struct {
	Title     string
	Subtitle  string
	Passed    int
	Failed    int
	Summary   []*scenarioView
	Errors    []RunError
	Scenarios []*scenarioView
	CSS       template.CSS
	Script    template.JS
}

type scenarioView struct {
	Anchor, Name, File, Mode, Description string
	Passed                                bool
	Open                                  bool
	Phase, Decided, Until                 string
	MaxCanaryWeight                       int
	FailedRequests                        string
	ExpectationsFailed, ExpectationsTotal int
	Callout                               callout
	Warnings                              []string
	Expectations                          []scenario.ExpectationResult
	Timeline                              template.HTML
	TimelineLegend                        []legendItem
	Routes                                string
	Metrics                               []*metricView
	Events                                []eventView
	Hooks                                 []hookView
	Alerts                                []alertView
	Traffic                               []trafficView
	Errors                                []eventView
}

type legendItem struct {
	Swatch template.HTML
	Text   string
}

type metricView struct {
	Anchor    string
	Name      string
	Kind      string
	Threshold string
	Tally     string
	Chart     template.HTML
	Legend    []legendItem
	Queries   []queryView
	NoQuery   string
	// Baseline says what the baseline is or why there is none; BaselineQuery is the
	// first query sent for the primary.
	Baseline      string
	BaselineQuery string
}

type queryView struct {
	From  string
	Query string
}

type eventView struct {
	At, Type, Message, Phase string
	Warning                  bool
}

type hookView struct {
	At, Type, Name, URL, Phase, Result string
	OK                                 bool
}

// alertView is one alert: when, its severity and message, the fields its message
// carries and where Flagger routes it.
type alertView struct {
	At, Severity, Message, Fields string
	To                            []alertRecipientView
	// Global is routed to the operator's global notifier; Nowhere to no entry.
	Global, Nowhere, Error bool
}

type alertRecipientView struct {
	Alert, Provider, Detail string
	NotSent                 bool
}

type trafficView struct {
	Image, Requests, Failed, Rate string
	New                           bool
}

func buildPage(results []*scenario.Result, opts HTMLOptions) (*pageView, error) {
	p := &pageView{Title: opts.Title, Errors: opts.Errors}
	if p.Title == "" {
		p.Title = "aviary report"
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	js, err := templateFS.ReadFile("templates/script.js")
	if err != nil {
		return nil, err
	}
	p.CSS, p.Script = template.CSS(css), template.JS(js)
	anchors := map[string]int{}
	for _, r := range results {
		if r == nil {
			continue
		}
		v, err := buildScenario(r, len(results) == 1)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", r.Scenario, err)
		}
		v.Anchor = uniqueAnchor(anchors, "s-"+slug(r.Scenario))
		metricAnchors := map[string]int{}
		for _, m := range v.Metrics {
			m.Anchor = uniqueAnchor(metricAnchors, v.Anchor+"-m-"+slug(m.Name))
		}
		if r.Passed {
			p.Passed++
		} else {
			p.Failed++
		}
		p.Scenarios = append(p.Scenarios, v)
	}
	// Failed scenarios first, otherwise in suite order, in the summary and below it.
	sort.SliceStable(p.Scenarios, func(i, j int) bool { return !p.Scenarios[i].Passed && p.Scenarios[j].Passed })
	p.Summary = p.Scenarios
	modes := map[string]bool{}
	for _, r := range results {
		if r != nil {
			modes[r.Mode] = true
		}
	}
	var ms []string
	for m := range modes {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	p.Subtitle = fmt.Sprintf("%s: %d passed, %d failed", plural(len(p.Scenarios), "scenario"), p.Passed, p.Failed)
	if len(opts.Errors) > 0 {
		p.Subtitle += fmt.Sprintf(", %d could not be run", len(opts.Errors))
	}
	if len(ms) > 0 {
		p.Subtitle += " · cluster mode " + strings.Join(ms, ", ")
	}
	p.Subtitle += fmt.Sprintf(" · results format v%d · all times are virtual (since the start of each run)", scenario.ResultFormatVersion)
	return p, nil
}

func buildScenario(r *scenario.Result, only bool) (*scenarioView, error) {
	v := &scenarioView{
		Name:            r.Scenario,
		File:            r.File,
		Mode:            r.Mode,
		Description:     strings.TrimSpace(r.Description),
		Passed:          r.Passed,
		Open:            !r.Passed || only,
		Phase:           orDash(r.Phase),
		Decided:         "-",
		Until:           engine.FormatDuration(time.Duration(r.Until)),
		MaxCanaryWeight: r.MaxCanaryWeight,
		FailedRequests:  thousands(r.FailedUserRequests),
		Callout:         explain(r),
		Warnings:        r.Warnings,
		Expectations:    r.Expectations,
		Routes:          routesText(r.Routes),
	}
	if r.DecidedAt != nil {
		v.Decided = engine.FormatDuration(time.Duration(*r.DecidedAt))
	}
	for _, e := range r.Expectations {
		v.ExpectationsTotal++
		if !e.OK {
			v.ExpectationsFailed++
		}
	}
	xr := timeRange{min: 0, max: minutes(time.Duration(r.Until))}
	for i := range r.Ticks {
		xr.max = math.Max(xr.max, minutes(r.Ticks[i].Last().Sub(scenario.Epoch)))
	}
	if xr.max <= xr.min {
		xr.max = xr.min + 1
	}
	// The report draws and lists every tick: a compact record's repeats are ticks
	// of their own (scenario.TickList).
	ticks := scenario.NewTickList(r.Ticks)
	var err error
	v.Timeline, err = timelineChart(ticks, r.Exposure, xr, "Traffic weights, phases and the canary's share of user requests of "+r.Scenario)
	if err != nil {
		return nil, err
	}
	v.TimelineLegend = timelineLegend(ticks, r.Exposure)
	if v.Metrics, err = buildMetrics(r, ticks, xr); err != nil {
		return nil, err
	}
	for t := range ticks.All() {
		when := clockTime(at(t))
		for _, e := range t.Events {
			v.Events = append(v.Events, eventView{At: when, Type: e.Type, Message: e.Message, Phase: e.Phase, Warning: e.Type == "Warning"})
		}
		for _, h := range t.Hooks {
			hv := hookView{At: when, Type: h.Type, Name: h.Name, URL: h.URL, Phase: h.Phase, OK: h.OK, Result: "ok"}
			if !h.OK {
				hv.Result = "failed"
				if h.Error != "" {
					hv.Result += ": " + truncate(h.Error, 300)
				}
			}
			v.Hooks = append(v.Hooks, hv)
		}
		for _, a := range t.Alerts {
			v.Alerts = append(v.Alerts, buildAlert(when, a))
		}
		if t.Error != "" {
			v.Errors = append(v.Errors, eventView{At: when, Message: t.Error, Phase: t.Phase})
		}
	}
	for _, tr := range r.Traffic {
		tv := trafficView{Image: tr.Image, New: tr.New, Requests: thousands(int64(math.Round(tr.Requests))), Failed: thousands(int64(math.Round(tr.Failed)))}
		if tr.Requests > 0 {
			tv.Rate = formatFloat(100*tr.Failed/tr.Requests) + "%"
		}
		v.Traffic = append(v.Traffic, tv)
	}
	return v, nil
}

func buildAlert(when string, a engine.Alert) alertView {
	av := alertView{At: when, Severity: a.Severity, Message: a.Message, Global: a.Global,
		Nowhere: !a.Global && len(a.Recipients) == 0, Error: a.Severity == "error"}
	fields := make([]string, len(a.Fields))
	for i, f := range a.Fields {
		fields[i] = f.Name + ": " + f.Value
	}
	av.Fields = strings.Join(fields, " · ")
	for _, r := range a.Recipients {
		av.To = append(av.To, alertRecipientView{Alert: r.Alert, Provider: r.Provider, Detail: recipientText(r), NotSent: r.Error != ""})
	}
	return av
}

func timelineLegend(ticks scenario.TickList, exposure []scenario.TickExposure) []legendItem {
	items := []legendItem{{swatch("primary"), "primary weight"}, {swatch("canary"), "canary weight"}}
	if served, mirrored := exposureLines(exposure); len(served) > 0 {
		items = append(items, legendItem{swatch("exposure"), "user requests the canary served (% since the previous tick)"})
		if len(mirrored) > 0 {
			items = append(items, legendItem{swatch("mirrored"), "mirrored copies to the canary (% of user requests; answers discarded, not exposure)"})
		}
	}
	seen := map[string]bool{}
	for t := range ticks.All() {
		if t.Phase == "" || seen["phase "+t.Phase] {
			continue
		}
		seen["phase "+t.Phase] = true
		key := "phase-" + t.Phase
		if _, ok := phaseColours[t.Phase]; !ok {
			key = "phase-other"
		}
		items = append(items, legendItem{swatch(key), t.Phase})
	}
	for _, m := range timelineMarkers(ticks) {
		seen["marker "+m.kind] = true
	}
	for _, k := range markerOrder {
		if seen["marker "+k] {
			items = append(items, legendItem{swatch("marker-" + k), k})
		}
	}
	return items
}

var kindLegend = map[string]string{
	"pass":   "pass",
	"fail":   "fail (out of range)",
	"nan":    "NaN (treated as no data: failed check)",
	"nodata": "no data (failed check)",
	"error":  "error (failed check)",
}

// buildMetrics groups the metric results of every tick by metric (name and kind, in
// order of first appearance) and draws one chart each.
func buildMetrics(r *scenario.Result, ticks scenario.TickList, xr timeRange) ([]*metricView, error) {
	type series struct {
		name, kind string
		points     []metricPoint
		baseline   []baselinePoint
		// baselineQuery is the first query sent for the primary; missing the
		// first reason a check had no baseline value.
		baselineQuery, missing string
		baselines              int
	}
	var order []*series
	byKey := map[string]*series{}
	names := map[string]int{}
	for t := range ticks.All() {
		for _, m := range t.Metrics {
			key := m.Name + "\x00" + m.Kind
			s := byKey[key]
			if s == nil {
				s = &series{name: metricName(m), kind: m.Kind}
				byKey[key] = s
				order = append(order, s)
				names[s.name]++
			}
			s.points = append(s.points, metricPoint{x: minutes(at(t)), r: m})
		}
	}
	// Metrics with failed checks first: they are the ones a reader is looking for.
	failing := func(s *series) bool {
		for _, p := range s.points {
			if p.r.Outcome != analysis.OutcomePass {
				return true
			}
		}
		return false
	}
	for _, b := range r.Baselines {
		s := byKey[b.Name+"\x00"+b.Kind]
		if s == nil {
			continue
		}
		s.baselines++
		s.baseline = append(s.baseline, baselinePoint{x: minutes(b.At.Sub(scenario.Epoch)), value: b.Value})
		if s.baselineQuery == "" {
			s.baselineQuery = b.Query
		}
		if b.Value == nil && s.missing == "" {
			s.missing = b.Missing
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return failing(order[i]) && !failing(order[j]) })
	interval := analysisInterval(ticks)
	var out []*metricView
	for _, s := range order {
		title := s.name
		if names[s.name] > 1 && s.kind != "" {
			title += " (" + s.kind + ")"
		}
		mv := &metricView{Name: title, Kind: kindText(s.kind)}
		counts := map[string]int{}
		for _, p := range s.points {
			counts[outcomeKind(p.r)]++
		}
		var tally []string
		for _, k := range kindOrder {
			if counts[k] == 0 {
				continue
			}
			tally = append(tally, fmt.Sprintf("%d %s", counts[k], map[string]string{"pass": "passed", "fail": "failed", "nan": "NaN", "nodata": "no data", "error": "error"}[k]))
			mv.Legend = append(mv.Legend, legendItem{swatch("outcome-" + k), kindLegend[k]})
		}
		mv.Tally = fmt.Sprintf("%s: %s", plural(len(s.points), "check"), strings.Join(tally, ", "))
		history := thresholdHistory(s.points)
		if len(history) > 0 {
			var parts []string
			for i, h := range history {
				t := thresholdText(h)
				if i > 0 {
					t += " from " + engine.FormatDuration(time.Duration(h.x*float64(time.Minute)))
				}
				parts = append(parts, t)
			}
			mv.Threshold = strings.Join(parts, ", then ")
			mv.Legend = append(mv.Legend, legendItem{swatch("band"), "accepted range"}, legendItem{swatch("bound"), "threshold"})
		} else {
			mv.Threshold = "not recorded (no check produced a value)"
		}
		for _, p := range s.points {
			if p.r.Query == "" {
				continue
			}
			if n := len(mv.Queries); n > 0 && mv.Queries[n-1].Query == p.r.Query {
				continue
			}
			mv.Queries = append(mv.Queries, queryView{From: engine.FormatDuration(time.Duration(p.x * float64(time.Minute))), Query: p.r.Query})
		}
		if len(mv.Queries) == 0 {
			mv.NoQuery = "No query was sent"
			for _, p := range s.points {
				if p.r.Message != "" {
					mv.NoQuery += ": " + p.r.Message
					break
				}
			}
		}
		mv.Baseline, mv.BaselineQuery = baselineText(s.baseline, s.baselineQuery, s.missing, len(r.Baselines) > 0)
		if mv.BaselineQuery != "" {
			mv.Legend = append(mv.Legend, legendItem{swatch("baseline"), "primary: the same query at the same time (baseline)"})
		}
		var err error
		mv.Chart, err = metricChart(s.points, s.baseline, xr, unitLabel(s.kind), fmt.Sprintf("%s of %s at each analysis tick", title, r.Scenario), interval)
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}

// baselineText says what a metric's baseline is, or why it has none; recorded is
// false for a record made without baselines.
func baselineText(points []baselinePoint, query, missing string, recorded bool) (text, shownQuery string) {
	if !recorded {
		return "", ""
	}
	valued := 0
	for _, p := range points {
		if finite(p.value) {
			valued++
		}
	}
	switch {
	case len(points) == 0:
		return "", ""
	case valued == 0 && query == "":
		return missing, ""
	case valued == 0:
		return "the query against the primary returned no value (" + missing + ")", query
	case valued < len(points):
		return fmt.Sprintf("the same query against the primary, %d of %d ticks with a value", valued, len(points)), query
	}
	return "the same query against the primary at each tick", query
}

// analysisInterval is the most common spacing of consecutive ticks, in minutes.
func analysisInterval(ticks scenario.TickList) float64 {
	counts := map[time.Duration]int{}
	best, bestN := time.Duration(0), 0
	var prev time.Time
	i := 0
	for t := range ticks.All() {
		d := t.At.Sub(prev)
		prev, i = t.At, i+1
		if i == 1 {
			continue
		}
		counts[d]++
		if counts[d] > bestN || (counts[d] == bestN && d < best) {
			best, bestN = d, counts[d]
		}
	}
	return minutes(best)
}

func thresholdText(h boundsChange) string {
	var s string
	switch {
	case h.min != nil && h.max != nil:
		s = fmt.Sprintf("between %s and %s", formatFloat(*h.min), formatFloat(*h.max))
	case h.min != nil:
		s = "at least " + formatFloat(*h.min)
	case h.max != nil:
		s = "at most " + formatFloat(*h.max)
	}
	return s
}

func kindText(kind string) string {
	switch kind {
	case "request-success-rate":
		return "builtin: request success rate (%)"
	case "request-duration":
		return "builtin: request duration (ms)"
	case "query":
		return "inline query"
	case "template":
		return "MetricTemplate"
	case "":
		return "metrics server"
	}
	return kind
}

func unitLabel(kind string) string {
	switch kind {
	case "request-success-rate":
		return "success rate %"
	case "request-duration":
		return "duration ms"
	}
	return "value"
}

func routesText(routes []int) string {
	if len(routes) == 0 {
		return "none"
	}
	parts := make([]string, len(routes))
	for i, w := range routes {
		parts[i] = fmt.Sprint(w)
	}
	return strings.Join(parts, " → ")
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}

func uniqueAnchor(seen map[string]int, a string) string {
	seen[a]++
	if n := seen[a]; n > 1 {
		return fmt.Sprintf("%s-%d", a, n)
	}
	return a
}
