package e2e

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// combinedPrefix is what client-go's event recorder puts before a message once an
// object has had many events with one reason (Flagger's are all "Synced"): the
// message is still the controller's.
const combinedPrefix = "(combined from similar events): "

// EventMessage is an Event's message as the controller wrote it.
func EventMessage(m string) string { return strings.TrimPrefix(m, combinedPrefix) }

// measured is the value a check measured in a halt message ("advancement success
// rate 70.45% < 99%", "advancement request duration 512ms > 500ms", "advancement
// error-rate 3.14 > 1"): the world's noise, reported with the metrics, not a decision.
var measured = regexp.MustCompile(`(advancement (?:success rate|request duration|\S+) )(\S+)( [<>] )`)

// Decision is a message with the measured value masked (#): what is compared.
func Decision(m string) string { return measured.ReplaceAllString(m, "${1}#${3}") }

// Diff is where a live run differs from its prediction; empty lists mean it decided
// the same.
type Diff struct {
	// Steps and Messages are the two sequences side by side when they differ.
	Steps    []string
	Messages []string
	// Counts are the decision messages emitted a different number of times.
	Counts []string
	// Metrics are the metric values outside the expected noise (reported only).
	Metrics []string
	// Live and Predicted are the sequences compared, for the report.
	LiveSteps, PredictedSteps       []Step
	LiveMessages, PredictedMessages []string
}

// Same reports whether the decisions are the same (metrics are not decisions).
func (d Diff) Same() bool { return len(d.Steps)+len(d.Messages)+len(d.Counts) == 0 }

// timingMessage reports whether a message's presence and count depend on how fast
// pods start and scrapes come, not on a decision: a controller waiting for a
// rollout says so on every tick it waits.
func timingMessage(m string) bool {
	return strings.Contains(m, "not ready") || strings.Contains(m, "waiting for rollout")
}

// Compare compares a live Canary's steps and Events with the prediction.
func Compare(p *Prediction, steps []Step, events []EventRecord) Diff {
	d := Diff{LiveSteps: steps, PredictedSteps: p.Steps()}
	if !slices.Equal(d.LiveSteps, d.PredictedSteps) {
		d.Steps = sideBySide(stepStrings(d.PredictedSteps), stepStrings(d.LiveSteps))
	}
	liveCount := map[string]int{}
	for _, e := range events {
		m := Decision(e.Message)
		if !timingMessage(m) && !slices.Contains(d.LiveMessages, m) {
			d.LiveMessages = append(d.LiveMessages, m)
		}
		liveCount[m] += int(e.Count)
	}
	predictedCount := map[string]int{}
	for _, e := range p.Events {
		m := Decision(e.Message)
		if !timingMessage(m) && !slices.Contains(d.PredictedMessages, m) {
			d.PredictedMessages = append(d.PredictedMessages, m)
		}
		predictedCount[m]++
	}
	if !slices.Equal(d.LiveMessages, d.PredictedMessages) {
		d.Messages = sideBySide(d.PredictedMessages, d.LiveMessages)
	}
	for m, n := range predictedCount {
		if !timingMessage(m) && liveCount[m] != n && liveCount[m] != 0 {
			d.Counts = append(d.Counts, fmt.Sprintf("%q: predicted %d, live %d", m, n, liveCount[m]))
		}
	}
	slices.Sort(d.Counts)
	return d
}

func stepStrings(s []Step) []string {
	out := make([]string, len(s))
	for i, st := range s {
		out[i] = st.String()
	}
	return out
}

// sideBySide lines two sequences up, marking the lines that differ.
func sideBySide(predicted, live []string) []string {
	var out []string
	for i := range max(len(predicted), len(live)) {
		a, b := "-", "-"
		if i < len(predicted) {
			a = predicted[i]
		}
		if i < len(live) {
			b = live[i]
		}
		mark := "  "
		if a != b {
			mark = "≠ "
		}
		out = append(out, fmt.Sprintf("%s%-60s | %s", mark, a, b))
	}
	return out
}

// MetricNoise is how far a live metric value may be from the simulator's before it
// is reported: 5% of the value, and at least 1 (a percentage point, a millisecond).
// The live world is scraped at wall-clock instants a little off the simulator's,
// and a check's window holds a scrape more or less.
func MetricNoise(v float64) float64 { return max(0.05*math.Abs(v), 1) }

// CheckValue is a flagger_canary_metric_analysis sample in the unit the check
// compares: Flagger sets the gauge of the builtin request-duration in seconds
// (its scheduler's val.Seconds()) while the check and its threshold are in
// milliseconds.
func CheckValue(kind string, gauge float64) float64 {
	if kind == "request-duration" {
		return gauge * 1000
	}
	return gauge
}

// CompareMetrics reports the metrics whose live values (the controller's
// flagger_canary_metric_analysis, sampled) differ from the predicted ones by more
// than MetricNoise: their ranges and means side by side.
func CompareMetrics(predicted, live map[string][]float64) []string {
	var out []string
	names := sortedKeys(predicted)
	for _, n := range sortedKeys(live) {
		if _, ok := predicted[n]; !ok {
			names = append(names, n)
		}
	}
	for _, n := range names {
		p, l := predicted[n], live[n]
		switch {
		case len(p) == 0:
			out = append(out, fmt.Sprintf("%s: live %s, never evaluated in the simulator", n, summary(l)))
		case len(l) == 0:
			out = append(out, fmt.Sprintf("%s: predicted %s, no live value", n, summary(p)))
		default:
			pm, lm := mean(p), mean(l)
			if math.Abs(pm-lm) > MetricNoise(pm) {
				out = append(out, fmt.Sprintf("%s: predicted %s, live %s (noise ±%.3g)", n, summary(p), summary(l), MetricNoise(pm)))
			}
		}
	}
	return out
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func summary(v []float64) string {
	if len(v) == 0 {
		return "none"
	}
	return fmt.Sprintf("mean %.4g in [%.4g, %.4g] (%d values)", mean(v), slices.Min(v), slices.Max(v), len(v))
}

// Table is a plain-text report of diffs by scenario, for the test output and
// bin/e2e-flagger.txt.
func Table(controller string, rows map[string]Diff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Live %s controller vs the simulator (sim.Run of the same file in virtual time)\n\n", controller)
	fmt.Fprintf(&b, "%-28s %-10s %-10s %-10s %s\n", "scenario", "steps", "events", "counts", "metrics (report only)")
	same := func(n int) string {
		if n == 0 {
			return "same"
		}
		return "DIFFER"
	}
	for _, name := range sortedKeys(rows) {
		d := rows[name]
		m := "within noise"
		if len(d.Metrics) > 0 {
			m = fmt.Sprintf("%d outside noise", len(d.Metrics))
		}
		fmt.Fprintf(&b, "%-28s %-10s %-10s %-10s %s\n", name, same(len(d.Steps)), same(len(d.Messages)), same(len(d.Counts)), m)
	}
	for _, name := range sortedKeys(rows) {
		d := rows[name]
		if d.Same() && len(d.Metrics) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n== %s\n", name)
		section := func(title string, lines []string) {
			if len(lines) > 0 {
				fmt.Fprintf(&b, "%s:\n  %s\n", title, strings.Join(lines, "\n  "))
			}
		}
		section("phase/canaryWeight (predicted | live)", d.Steps)
		section("event messages (predicted | live)", d.Messages)
		section("event counts", d.Counts)
		section("metrics", d.Metrics)
	}
	return b.String()
}
