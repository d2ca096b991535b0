package reports

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// at is a tick's virtual time.
func at(t engine.TickRecord) time.Duration { return t.At.Sub(scenario.Epoch) }

// shortDuration renders a virtual time compactly: "0s", "4m", "6m30s", "1h2m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Marker kinds on the timeline.
const (
	markNewRevision = "new revision"
	markGate        = "gate"
	markPromotion   = "promoted"
	markRollback    = "rolled back"
)

// markerOf classifies an event message as a timeline marker ("" for none).
func markerOf(msg string) string {
	switch {
	case strings.HasPrefix(msg, "New revision detected!"):
		return markNewRevision
	case strings.HasPrefix(msg, "Promotion completed!"):
		return markPromotion
	case strings.HasPrefix(msg, "Rolling back "), strings.HasPrefix(msg, "Canary failed!"):
		return markRollback
	case strings.HasPrefix(msg, "Halt ") && strings.Contains(msg, "approval"),
		strings.HasPrefix(msg, "Halt ") && strings.Contains(msg, "pre-rollout check"),
		strings.HasPrefix(msg, "Halt ") && strings.Contains(msg, "external check"):
		return markGate
	}
	return ""
}

// callout is the one-paragraph explanation of a scenario's decision.
type callout struct {
	// Kind is "rollback", "promotion" or "undecided" (CSS class).
	Kind string
	// Headline is e.g. "Rolled back at 7m: failed checks threshold reached (3 failed checks)".
	Headline string
	// Reasons are the failed checks that led there, one sentence each, e.g.
	// "legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m".
	Reasons []string
}

// Text is the explanation as one sentence (for templates).
func (c callout) Text() string { return c.text() }

func (c callout) text() string {
	if len(c.Reasons) == 0 {
		return c.Headline + "."
	}
	return c.Headline + ": " + strings.Join(c.Reasons, "; ") + "."
}

var thresholdReachedRE = regexp.MustCompile(`failed checks threshold reached (\d+)`)

// explain says what the run decided, when, and because of which checks.
func explain(r *scenario.Result) callout {
	decision := -1
	for i, t := range r.Ticks {
		if t.PhaseBefore != t.Phase && (t.Phase == "Failed" || t.Phase == "Succeeded") {
			decision = i // the last decision wins (a later revision can decide again)
		}
	}
	if decision < 0 {
		c := callout{Kind: "undecided", Headline: fmt.Sprintf("No decision by %s: final phase %s", shortDuration(time.Duration(r.Until)), orDash(r.Phase))}
		if g := lastGate(r.Ticks); g != "" {
			c.Reasons = append(c.Reasons, g)
		}
		c.Reasons = append(c.Reasons, failedCheckReasons(r.Ticks, len(r.Ticks)-1)...)
		return c
	}
	t := r.Ticks[decision]
	when := shortDuration(at(t))
	if t.Phase == "Succeeded" {
		c := callout{Kind: "promotion", Headline: fmt.Sprintf("Promoted at %s (max canary weight %d%%)", when, r.MaxCanaryWeight)}
		reasons := failedCheckReasons(r.Ticks, decision)
		if len(reasons) == 0 {
			c.Headline += ", every check passed"
		} else {
			c.Headline += fmt.Sprintf(", with %s below the threshold", plural(countFailedChecks(r.Ticks, decision), "failed check"))
			c.Reasons = reasons
		}
		c.Reasons = append(c.Reasons, approvals(r.Ticks, decision)...)
		return c
	}
	c := callout{Kind: "rollback", Headline: "Rolled back at " + when}
	var other []string
	for _, e := range t.Events {
		if m := thresholdReachedRE.FindStringSubmatch(e.Message); m != nil {
			c.Headline += fmt.Sprintf(": failed checks threshold reached (%s failed checks)", m[1])
			continue
		}
		if e.Type == "Warning" && !strings.HasPrefix(e.Message, "Canary failed!") {
			other = append(other, e.Message)
		}
	}
	if len(other) > 0 && !strings.Contains(c.Headline, "threshold") {
		c.Headline += ": " + strings.Join(other, "; ")
	}
	c.Reasons = failedCheckReasons(r.Ticks, decision)
	return c
}

var (
	waitingRE = regexp.MustCompile(`waiting for (.*approval) (\S+)$`)
	passedRE  = regexp.MustCompile(`^Confirm-[a-z-]+ check (\S+) passed$`)
)

// approvals describes the approval gates the analysis that ends at tick end waited
// at: "waited for promotion approval (gate release-manager) from 6m until 9m".
func approvals(ticks []engine.TickRecord, end int) []string {
	type wait struct {
		what, gate string
		from       time.Duration
	}
	var out []string
	open := map[string]*wait{}
	var order []string
	for i := analysisStart(ticks, end); i <= end && i < len(ticks); i++ {
		for _, e := range ticks[i].Events {
			if m := waitingRE.FindStringSubmatch(e.Message); m != nil && strings.HasPrefix(e.Message, "Halt ") {
				if open[m[2]] == nil {
					open[m[2]] = &wait{what: m[1], gate: m[2], from: at(ticks[i])}
					order = append(order, m[2])
				}
				continue
			}
			if m := passedRE.FindStringSubmatch(e.Message); m != nil && open[m[1]] != nil {
				w := open[m[1]]
				out = append(out, fmt.Sprintf("waited for %s (gate %s) from %s until %s", w.what, w.gate, shortDuration(w.from), shortDuration(at(ticks[i]))))
				delete(open, m[1])
			}
		}
	}
	for _, g := range order {
		if w := open[g]; w != nil {
			out = append(out, fmt.Sprintf("waited for %s (gate %s) from %s", w.what, w.gate, shortDuration(w.from)))
		}
	}
	return out
}

// lastGate describes the gate the run was last held at, if it ended held.
func lastGate(ticks []engine.TickRecord) string {
	if len(ticks) == 0 {
		return ""
	}
	var since time.Duration
	msg := ""
	for _, t := range ticks {
		found := ""
		for _, e := range t.Events {
			if markerOf(e.Message) == markGate {
				found = e.Message
			}
		}
		if found == "" {
			msg = ""
			continue
		}
		if msg == "" {
			since = at(t)
		}
		msg = found
	}
	if msg == "" {
		return ""
	}
	return fmt.Sprintf("held since %s: %s", shortDuration(since), msg)
}

// analysisStart is the index of the first tick of the analysis that tick end belongs
// to: the tick after the last reset of the failed-checks counter (a new revision
// or a restart) before end.
func analysisStart(ticks []engine.TickRecord, end int) int {
	start := 0
	for i := 1; i <= end && i < len(ticks); i++ {
		if ticks[i].FailedChecks < ticks[i-1].FailedChecks && i < end {
			start = i
		}
		for _, e := range ticks[i].Events {
			if markerOf(e.Message) == markNewRevision {
				start = i
			}
		}
	}
	return start
}

func countFailedChecks(ticks []engine.TickRecord, end int) int {
	n := 0
	for i := analysisStart(ticks, end); i <= end && i < len(ticks); i++ {
		if checkFailed(ticks, i) {
			n++
		}
	}
	return n
}

// checkFailed is true when tick i added a failed check.
func checkFailed(ticks []engine.TickRecord, i int) bool {
	prev := 0
	if i > 0 {
		prev = ticks[i-1].FailedChecks
	}
	return ticks[i].FailedChecks > prev
}

// failedCheckReasons groups the failed checks of the analysis that ends at tick end
// by cause: "legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m".
func failedCheckReasons(ticks []engine.TickRecord, end int) []string {
	type group struct {
		key    string
		prefix string
		times  []string
		detail []string
	}
	var groups []*group
	byKey := map[string]*group{}
	add := func(key, prefix, when, detail string) {
		g := byKey[key]
		if g == nil {
			g = &group{key: key, prefix: prefix}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.times = append(g.times, when)
		g.detail = append(g.detail, detail)
	}
	for i := analysisStart(ticks, end); i <= end && i < len(ticks); i++ {
		t := ticks[i]
		if !checkFailed(ticks, i) {
			continue
		}
		when := shortDuration(at(t))
		found := false
		for _, m := range t.Metrics {
			if m.Outcome == analysis.OutcomePass {
				continue
			}
			found = true
			name := metricName(m)
			switch {
			case m.NaN:
				add(name+"/nan", name+" returned NaN (treated as no data)", when, "")
			case m.Outcome == analysis.OutcomeNoData:
				add(name+"/nodata", name+" returned no data", when, "")
			case m.Outcome == analysis.OutcomeError:
				add(name+"/error", name+" could not be evaluated", when, m.Message)
			default:
				add(name+"/fail", name, when, outOfRange(m))
			}
		}
		for _, h := range t.Hooks {
			if h.OK || (h.Type != "pre-rollout" && h.Type != "rollout") {
				continue
			}
			found = true
			add("hook/"+h.Type+"/"+h.Name, fmt.Sprintf("%s webhook %s failed", h.Type, h.Name), when, h.Error)
		}
		if !found {
			msg := ""
			for _, e := range t.Events {
				if e.Type == "Warning" {
					msg = e.Message
				}
			}
			add("other/"+msg, "check failed", when, msg)
		}
	}
	var out []string
	for _, g := range groups {
		s := g.prefix + " at " + strings.Join(g.times, ", ")
		switch {
		case strings.HasSuffix(g.key, "/fail"):
			s = failText(g.prefix, g.times, g.detail)
		case g.detail[0] != "":
			s += ": " + truncate(g.detail[0], 200)
		}
		out = append(out, s)
	}
	return out
}

// outOfRange describes a failed value as "value|side bound", e.g. "1875|above the maximum 500".
func outOfRange(m analysis.Result) string {
	v := metricValue(m)
	switch {
	case m.Value != nil && m.Min != nil && *m.Value < *m.Min:
		return v + "|below the minimum " + formatFloat(*m.Min)
	case m.Value != nil && m.Max != nil && *m.Value > *m.Max:
		return v + "|above the maximum " + formatFloat(*m.Max)
	}
	return v + "|outside " + bounds(m)
}

// failText words out-of-range checks: "request-duration was 1875 (above the maximum
// 500) at 6m, 7m" when every value is the same, else "request-success-rate was below
// the minimum 99 at 5m (93.2), 6m (92.1)".
func failText(name string, times, details []string) string {
	same := true
	for _, d := range details {
		same = same && d == details[0]
	}
	value, side, _ := strings.Cut(details[0], "|")
	if same {
		return fmt.Sprintf("%s was %s (%s) at %s", name, value, side, strings.Join(times, ", "))
	}
	parts := make([]string, len(times))
	for i := range times {
		v, _, _ := strings.Cut(details[i], "|")
		parts[i] = times[i] + " (" + v + ")"
	}
	return fmt.Sprintf("%s was %s at %s", name, side, strings.Join(parts, ", "))
}

// metricName names a metric result; the unnamed one is spec.metricsServer's failure.
func metricName(m analysis.Result) string {
	if m.Name == "" {
		return "metrics server"
	}
	return m.Name
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
