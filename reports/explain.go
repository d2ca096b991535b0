package reports

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// at is a tick's virtual time.
func at(t engine.TickRecord) time.Duration { return t.At.Sub(scenario.Epoch) }

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

// callout is the explanation of a scenario's decision: one paragraph for the HTML
// report and JUnit, and its short form for the terminal's table. Both come from the
// same facts (explain), so that they never disagree.
type callout struct {
	// Kind is "rollback", "promotion" or "undecided" (CSS class).
	Kind string
	// Headline is e.g. "Rolled back at 7m: failed checks threshold reached (3 failed checks)".
	Headline string
	// Reasons are the failed checks that led there, one sentence each, e.g.
	// "legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m", and
	// what else held the analysis (gates, suspension).
	Reasons []string
	// Short is the explanation in a few words: "rolled back: legacy-read-ratio NaN ×3".
	Short string
}

// Text is the explanation as one sentence (for templates).
func (c callout) Text() string { return c.text() }

func (c callout) text() string {
	if len(c.Reasons) == 0 {
		return c.Headline + "."
	}
	return c.Headline + ": " + strings.Join(c.Reasons, "; ") + "."
}

// fact is one reason in its two forms: a sentence for the callout and a few words
// for the short form.
type fact struct{ long, short string }

func longs(fs []fact) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.long
	}
	return out
}

func shorts(fs []fact) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.short
	}
	return strings.Join(out, "; ")
}

var thresholdReachedRE = regexp.MustCompile(`failed checks threshold reached (\d+)`)

// explain says what the run decided, when, and because of which checks.
// The explanations look back and forth over a run's ticks by position: they read a
// compact record's repeats as ticks of their own (scenario.TickList), so that a
// record stored compactly explains the same as one tick at a time.
func explain(r *scenario.Result) callout {
	ticks := scenario.NewTickList(r.Ticks)
	decision, i := -1, 0
	for t := range ticks.All() {
		if t.PhaseBefore != t.Phase && (t.Phase == "Failed" || t.Phase == "Succeeded") {
			decision = i // the last decision wins (a later revision can decide again)
		}
		i++
	}
	if decision < 0 {
		return explainUndecided(r, ticks)
	}
	t := ticks.At(decision)
	when := engine.FormatDuration(at(t))
	checks := failedCheckFacts(ticks, decision)
	if t.Phase == "Succeeded" {
		c := callout{Kind: "promotion", Headline: fmt.Sprintf("Promoted at %s (max canary weight %d%%)", when, r.MaxCanaryWeight)}
		c.Short = "promoted: " + progressText(ticks, decision)
		if len(checks) == 0 {
			c.Headline += ", every check passed"
			c.Short += ", every check passed"
		} else {
			c.Headline += fmt.Sprintf(", with %s below the threshold", plural(countFailedChecks(ticks, decision), "failed check"))
			c.Reasons = longs(checks)
			c.Short += " with failed checks " + shorts(checks)
		}
		held := append(approvals(ticks, decision), suspensions(ticks, decision)...)
		c.Reasons = append(c.Reasons, longs(held)...)
		if len(held) > 0 {
			c.Short += "; " + shorts(held)
		}
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
	c.Reasons = longs(checks)
	switch {
	case len(checks) > 0:
		c.Short = "rolled back: " + shorts(checks)
	case t.Step == "canary-ready":
		c.Short = "rolled back: canary not ready within its progress deadline"
	case len(other) > 0:
		c.Short = "rolled back: " + other[0]
	default:
		c.Short = "rolled back"
	}
	return c
}

// explainUndecided says why a run ended without a decision: no new revision, a
// gate, a suspension, a canary that is not ready, or an analysis still going.
func explainUndecided(r *scenario.Result, ticks scenario.TickList) callout {
	c := callout{Kind: "undecided", Headline: fmt.Sprintf("No decision by %s: final phase %s", engine.FormatDuration(time.Duration(r.Until)), orDash(r.Phase))}
	end := ticks.Len() - 1
	var why fact
	if end >= 0 {
		why = undecidedCause(ticks)
	}
	if why.long != "" {
		c.Reasons = append(c.Reasons, why.long)
	}
	checks := failedCheckFacts(ticks, end)
	c.Reasons = append(c.Reasons, longs(checks)...)
	c.Short = "no decision"
	if why.short != "" {
		c.Short += ": " + why.short
	}
	if len(checks) > 0 {
		if why.short == "" {
			c.Short += ": " + shorts(checks)
		} else {
			c.Short += ", " + shorts(checks)
		}
	}
	return c
}

// undecidedCause is what the last ticks of an undecided run show.
func undecidedCause(ticks scenario.TickList) fact {
	last := ticks.At(ticks.Len() - 1)
	since := func(pred func(engine.TickRecord) bool) string {
		i := ticks.Len() - 1
		for i > 0 && pred(ticks.At(i-1)) {
			i--
		}
		return engine.FormatDuration(at(ticks.At(i)))
	}
	revised := false
	for t := range ticks.All() {
		for _, e := range t.Events {
			revised = revised || markerOf(e.Message) == markNewRevision
		}
	}
	switch {
	case last.Step == "suspend":
		from := since(func(t engine.TickRecord) bool { return t.Step == "suspend" })
		return fact{"suspended (spec.suspend) since " + from, "suspended since " + from}
	case lastGate(ticks) != nil:
		g := lastGate(ticks)
		return fact{fmt.Sprintf("held since %s: %s", engine.FormatDuration(g.since), g.msg), g.short()}
	case last.Phase == "Initializing":
		msg := lastWarning(last)
		return fact{"still initializing: " + msg, "still initializing: " + msg}
	case !revised:
		return fact{"no new revision of the target was detected", "no new revision"}
	case last.Step == "canary-ready":
		from := since(func(t engine.TickRecord) bool { return t.Step == "canary-ready" })
		return fact{"the canary has not been ready since " + from + ": " + lastWarning(last), "canary not ready since " + from}
	case last.Phase == "Progressing" && last.Iterations > 0:
		return sameFact(fmt.Sprintf("analysis in progress at iteration %d", last.Iterations))
	case last.Phase == "Progressing":
		return sameFact(fmt.Sprintf("analysis in progress at %d%%", last.CanaryWeight))
	}
	return fact{}
}

// sameFact is a fact whose sentence is short enough for both forms.
func sameFact(s string) fact { return fact{s, s} }

// lastWarning is the message of a tick's last Warning event, "" when none.
func lastWarning(t engine.TickRecord) string {
	msg := ""
	for _, e := range t.Events {
		if e.Type == "Warning" {
			msg = e.Message
		}
	}
	return msg
}

// progressText is how far the analysis that ends at tick end went: "5 steps to
// 50%", "10 iterations", "analysis skipped".
func progressText(ticks scenario.TickList, end int) string {
	steps, weight, top, iterations := 0, 0, 0, 0
	for i := analysisStart(ticks, end); i <= end && i < ticks.Len(); i++ {
		for _, e := range ticks.At(i).Events {
			if strings.HasPrefix(e.Message, "Promotion completed! Canary analysis was skipped") {
				return "analysis skipped"
			}
		}
		for _, rc := range ticks.At(i).Routes {
			if rc.Canary > weight {
				steps++
			}
			weight, top = rc.Canary, max(top, rc.Canary)
		}
		iterations = max(iterations, ticks.At(i).Iterations)
	}
	switch {
	case iterations > 0:
		return plural(iterations, "iteration")
	case steps == 0:
		return "no traffic step"
	}
	return fmt.Sprintf("%s to %d%%", plural(steps, "step"), top)
}

var (
	waitingRE = regexp.MustCompile(`waiting for (.*approval) (\S+)$`)
	passedRE  = regexp.MustCompile(`^Confirm-[a-z-]+ check (\S+) passed$`)
)

// approvals describes the approval gates the analysis that ends at tick end waited
// at: "waited for promotion approval (gate release-manager) from 6m until 9m".
func approvals(ticks scenario.TickList, end int) []fact {
	type wait struct {
		what, gate string
		from       time.Duration
	}
	var out []fact
	open := map[string]*wait{}
	var order []string
	for i := analysisStart(ticks, end); i <= end && i < ticks.Len(); i++ {
		for _, e := range ticks.At(i).Events {
			if m := waitingRE.FindStringSubmatch(e.Message); m != nil && strings.HasPrefix(e.Message, "Halt ") {
				if open[m[2]] == nil {
					open[m[2]] = &wait{what: m[1], gate: m[2], from: at(ticks.At(i))}
					order = append(order, m[2])
				}
				continue
			}
			if m := passedRE.FindStringSubmatch(e.Message); m != nil && open[m[1]] != nil {
				w := open[m[1]]
				from, until := engine.FormatDuration(w.from), engine.FormatDuration(at(ticks.At(i)))
				out = append(out, fact{
					fmt.Sprintf("waited for %s (gate %s) from %s until %s", w.what, w.gate, from, until),
					fmt.Sprintf("gate %s held %s–%s", w.gate, from, until)})
				delete(open, m[1])
			}
		}
	}
	for _, g := range order {
		if w := open[g]; w != nil {
			from := engine.FormatDuration(w.from)
			out = append(out, fact{fmt.Sprintf("waited for %s (gate %s) from %s", w.what, w.gate, from),
				fmt.Sprintf("gate %s held from %s", w.gate, from)})
		}
	}
	return out
}

// suspensions describes the stretches of the analysis that ends at tick end that
// spec.suspend skipped: "suspended from 5m until 9m".
func suspensions(ticks scenario.TickList, end int) []fact {
	var out []fact
	from := -1
	for i := analysisStart(ticks, end); i <= end && i < ticks.Len(); i++ {
		suspended := ticks.At(i).Step == "suspend"
		switch {
		case suspended && from < 0:
			from = i
		case !suspended && from >= 0:
			a, b := engine.FormatDuration(at(ticks.At(from))), engine.FormatDuration(at(ticks.At(i)))
			out = append(out, fact{fmt.Sprintf("suspended from %s until %s", a, b), fmt.Sprintf("suspended %s–%s", a, b)})
			from = -1
		}
	}
	return out
}

// gate is the gate a run was last held at.
type gate struct {
	since time.Duration
	msg   string
}

// short words a gate: "waiting for promotion approval (gate release-manager) since 6m".
func (g *gate) short() string {
	if m := waitingRE.FindStringSubmatch(g.msg); m != nil {
		return fmt.Sprintf("waiting for %s (gate %s) since %s", m[1], m[2], engine.FormatDuration(g.since))
	}
	return fmt.Sprintf("held since %s: %s", engine.FormatDuration(g.since), g.msg)
}

// lastGate is the gate the run was last held at, if it ended held, else nil.
func lastGate(ticks scenario.TickList) *gate {
	var since time.Duration
	msg := ""
	for t := range ticks.All() {
		found := ""
		for _, e := range t.Events {
			if markerOf(e.Message) == markGate {
				found = e.Message
			}
		}
		if found == "" {
			if !t.Quiet() || t.Phase != "WaitingPromotion" && t.Phase != "Waiting" {
				msg = ""
			}
			continue
		}
		if msg == "" {
			since = at(t)
		}
		msg = found
	}
	if msg == "" {
		return nil
	}
	return &gate{since: since, msg: msg}
}

// analysisStart is the index of the first tick of the analysis that tick end belongs
// to: the tick after the last reset of the failed-checks counter (a new revision
// or a restart) before end.
func analysisStart(ticks scenario.TickList, end int) int {
	start := 0
	for i := 1; i <= end && i < ticks.Len(); i++ {
		if ticks.At(i).FailedChecks < ticks.At(i-1).FailedChecks && i < end {
			start = i
		}
		for _, e := range ticks.At(i).Events {
			if markerOf(e.Message) == markNewRevision {
				start = i
			}
		}
	}
	return start
}

func countFailedChecks(ticks scenario.TickList, end int) int {
	n := 0
	for i := analysisStart(ticks, end); i <= end && i < ticks.Len(); i++ {
		if checkFailed(ticks, i) {
			n++
		}
	}
	return n
}

// checkFailed is true when tick i added a failed check.
func checkFailed(ticks scenario.TickList, i int) bool {
	prev := 0
	if i > 0 {
		prev = ticks.At(i - 1).FailedChecks
	}
	return ticks.At(i).FailedChecks > prev
}

// checkGroup is the failed checks of one cause in one analysis: a metric out of
// range, NaN, no data or an error, a failed webhook, or another failure.
type checkGroup struct {
	cause string // "fail", "nan", "nodata", "error", "hook", "other"
	// name is the metric's, or for a hook "<type> webhook <name>".
	name   string
	times  []string
	fails  []analysis.Result // the out-of-range results
	detail string            // the first error or message
}

// failedCheckFacts groups the failed checks of the analysis that ends at tick end
// by cause: "legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m",
// in short "legacy-read-ratio NaN ×3".
func failedCheckFacts(ticks scenario.TickList, end int) []fact {
	var groups []*checkGroup
	byKey := map[string]*checkGroup{}
	add := func(key, cause, name, when, detail string, r *analysis.Result) {
		g := byKey[key]
		if g == nil {
			g = &checkGroup{cause: cause, name: name, detail: detail}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.times = append(g.times, when)
		if r != nil {
			g.fails = append(g.fails, *r)
		}
	}
	for i := analysisStart(ticks, end); i <= end && i < ticks.Len(); i++ {
		t := ticks.At(i)
		if !checkFailed(ticks, i) {
			continue
		}
		when := engine.FormatDuration(at(t))
		found := false
		for _, m := range t.Metrics {
			if m.Outcome == analysis.OutcomePass {
				continue
			}
			found = true
			name := metricName(m)
			switch {
			case m.NaN:
				add(name+"/nan", "nan", name, when, "", nil)
			case m.Outcome == analysis.OutcomeNoData:
				add(name+"/nodata", "nodata", name, when, "", nil)
			case m.Outcome == analysis.OutcomeError:
				add(name+"/error", "error", name, when, m.Message, nil)
			default:
				add(name+"/fail", "fail", name, when, "", &m)
			}
		}
		for _, h := range t.Hooks {
			if h.OK || (h.Type != "pre-rollout" && h.Type != "rollout") {
				continue
			}
			found = true
			add("hook/"+h.Type+"/"+h.Name, "hook", fmt.Sprintf("%s webhook %s", h.Type, h.Name), when, h.Error, nil)
		}
		if !found {
			msg := lastWarning(t)
			add("other/"+msg, "other", "check", when, msg, nil)
		}
	}
	out := make([]fact, len(groups))
	for i, g := range groups {
		out[i] = fact{g.long(), g.short()}
	}
	return out
}

func (g *checkGroup) long() string {
	at := " at " + strings.Join(g.times, ", ")
	var s string
	switch g.cause {
	case "fail":
		return failText(g.name, g.times, g.fails)
	case "nan":
		s = g.name + " returned NaN (treated as no data)" + at
	case "nodata":
		s = g.name + " returned no data" + at
	case "error":
		s = g.name + " could not be evaluated" + at
	case "hook":
		s = g.name + " failed" + at
	default:
		s = "check failed" + at
	}
	if g.detail != "" {
		s += ": " + truncate(g.detail, 200)
	}
	return s
}

// short words the group in a few words: "request-success-rate 70 < 99 ×5",
// "legacy-read-ratio NaN ×3", "pre-rollout webhook db-migration failed ×3".
func (g *checkGroup) short() string {
	n := fmt.Sprintf(" ×%d", len(g.times))
	switch g.cause {
	case "fail":
		return g.name + " " + valueRange(g.fails) + " " + boundText(g.fails[len(g.fails)-1]) + n
	case "nan":
		return g.name + " NaN" + n
	case "nodata":
		return g.name + " no data" + n
	case "error":
		return g.name + " error" + n
	case "hook":
		return g.name + " failed" + n
	}
	return "check failed" + n
}

// valueRange is the failed values: "70", or "53–81.14" when they differ.
func valueRange(rs []analysis.Result) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		if r.Value != nil {
			lo, hi = math.Min(lo, *r.Value), math.Max(hi, *r.Value)
		}
	}
	if lo > hi {
		return "-"
	}
	if a, b := formatFloat(lo), formatFloat(hi); a != b {
		return a + "–" + b
	}
	return formatFloat(lo)
}

// boundText is the side of the threshold a failed value was on: "< 99", "> 500",
// "outside [1, 5]".
func boundText(m analysis.Result) string {
	switch {
	case m.Value != nil && m.Min != nil && *m.Value < *m.Min:
		return "< " + formatFloat(*m.Min)
	case m.Value != nil && m.Max != nil && *m.Value > *m.Max:
		return "> " + formatFloat(*m.Max)
	}
	return "outside " + bounds(m)
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
func failText(name string, times []string, fails []analysis.Result) string {
	details := make([]string, len(fails))
	same := true
	for i, f := range fails {
		details[i] = outOfRange(f)
		same = same && details[i] == details[0]
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
