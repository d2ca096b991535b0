package scenario

import (
	"fmt"
	"sort"
	"strings"

	"aviary.dev/aviary/sim/world"
)

// entryAlerts are the alerts of a run as one analysis.alerts entry saw them.
type entryAlerts struct {
	// sent are the alerts Flagger would post to the entry's provider.
	sent []observedEvent
	// failed were routed to the entry but not sent, each with why.
	failed []failedAlert
	// passed were not routed to the entry (its severity does not admit them).
	passed []passedAlert
}

type failedAlert struct {
	observedEvent
	why string
}

type passedAlert struct {
	observedEvent
	severity string
}

func alertsOf(name string, r *Result) entryAlerts {
	var out entryAlerts
	for t := range r.EachTick() {
		at := t.At.Sub(Epoch)
		for _, a := range t.Alerts {
			e := observedEvent{at: at, msg: a.Message}
			routed := false
			for _, rc := range a.Recipients {
				if rc.Alert != name {
					continue
				}
				routed = true
				if rc.Error == "" {
					out.sent = append(out.sent, e)
				} else {
					out.failed = append(out.failed, failedAlert{e, rc.Error})
				}
			}
			if !routed {
				out.passed = append(out.passed, passedAlert{e, a.Severity})
			}
		}
	}
	return out
}

// checkAlerts checks spec.expect.alerts, by entry name: how many alerts each was
// sent, which messages in which order, and which not. An observed count or a
// missing message also says what the run raised that did not reach the entry.
func checkAlerts(want map[string]AlertExpectation, r *Result) []ExpectationResult {
	var out []ExpectationResult
	for _, name := range sortedMapKeys(want) {
		w := want[name]
		got := alertsOf(name, r)
		key := world.JoinKey("alerts", name)
		if c := w.Count; c != nil {
			out = append(out, ExpectationResult{
				Name: key + ".count", Expected: countPhrase(*c, "alert"),
				Observed: plural(int64(len(got.sent)), "alert") + got.elsewhere(name), OK: c.Holds(int64(len(got.sent))),
			})
		}
		seq := sequence{key: key + ".messages", noun: "alert", none: "no alerts were sent to " + name}
		out = append(out, checkSequence(seq, w.Messages, got.sent, func(p *eventPattern) string { return got.missed(name, p) })...)
		out = append(out, checkAbsent(sequence{key: key + ".absentMessages", noun: "alert"}, w.AbsentMessages, got.sent)...)
	}
	return out
}

// elsewhere summarises the alerts that did not reach the entry: those not sent
// (with the first reason) and those its severity did not admit (by severity).
func (g entryAlerts) elsewhere(name string) string {
	var b strings.Builder
	if n := len(g.failed); n > 0 {
		fmt.Fprintf(&b, "; %s routed to %s but not sent (%s)", plural(int64(n), "more alert"), name, g.failed[0].why)
	}
	if n := len(g.passed); n > 0 {
		fmt.Fprintf(&b, "; %s not routed to %s (severity %s)", plural(int64(n), "alert"), name, g.passedSeverities())
	}
	return b.String()
}

// passedSeverities lists the severities of the alerts not routed to the entry.
func (g entryAlerts) passedSeverities() string {
	seen := map[string]bool{}
	var out []string
	for _, p := range g.passed {
		if !seen[p.severity] {
			seen[p.severity] = true
			out = append(out, p.severity)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// missed says where an expected message went instead, when the run raised it.
func (g entryAlerts) missed(name string, p *eventPattern) string {
	for _, f := range g.failed {
		if p.match(f.msg) {
			return fmt.Sprintf("; raised %s but not sent to %s: %s", f.observedEvent, name, f.why)
		}
	}
	for _, a := range g.passed {
		if p.match(a.msg) {
			return fmt.Sprintf("; raised %s with severity %s, which %s's severity does not admit", a.observedEvent, a.severity, name)
		}
	}
	return ""
}
