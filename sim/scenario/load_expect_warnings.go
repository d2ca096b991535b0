package scenario

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"aviary.dev/aviary/sim/world"
)

// ---------------------------------------------------------------------------------
// Expectations that cannot fail
//
// An expectation that holds on every run a scenario's world can produce asserts
// nothing: the scenario passes whatever the policy decides. The loader warns about
// the forms that can be recognised from the scenario alone:
//
//   - an events pattern that matches any message (anyMessage);
//   - a failedRequests count that admits 0 and every count the world can reach
//     (reachableFailedRequests);
//   - a hookCalls or alerts count {min: 0} without max;
//   - an alerts messages pattern that matches any message;
//   - within at or after spec.until: a decision comes by the end of the run or not
//     at all, so it says no more than "Succeeded or Failed", which phase says.
//
// An absentEvents (or alerts absentMessages) pattern that matches any message is reported too: it can fail, but
// it cannot hold on a run that emits any event at all, so it tests nothing either.

// anyMessageProbes are dissimilar event messages: one letter, one digit, and Flagger
// messages of every stage of a rollout. A "re:" pattern that matches every one of them
// tells no message from another: `.`, `.*`, `\S`, `\w`, `^`, `$`, `x*`, `(?s).` all
// do. The empty message is deliberately not a probe: Flagger never emits one, and
// `re:.` (the commonest match-anything pattern) does not match it. An exact message
// (no "re:") never matches both "x" and "0", so it is never reported.
var anyMessageProbes = []string{
	"x",
	"0",
	"New revision detected! Scaling up podinfo.test",
	"Halt podinfo.test advancement success rate 69.85% < 99%",
	"Rolling back podinfo.test failed checks threshold reached 5",
	"Promotion completed! Scaling down podinfo.test",
}

// anyMessage reports whether an events pattern matches every probe message.
func anyMessage(pattern string) bool {
	p, err := compileEventPattern(pattern)
	if err != nil || p.re == nil {
		return false
	}
	for _, m := range anyMessageProbes {
		if !p.re.MatchString(m) {
			return false
		}
	}
	return true
}

// reachable is an upper bound of Result.FailedUserRequests for a world that runs
// until the given time, and how it was computed. Failed user requests are at most
// the user requests served (mirrored and direct load are not user requests):
//
//   - without rps faults, the users send spec.world.rps in all, split between the
//     primary and the canary, so at most rps × until;
//   - an rps fault sets the rate one version receives in total, and both the primary
//     and the canary may serve new versions at once (after a first promotion), so
//     with rps faults at most 2 × max(rps, every fault's rps) × until;
//   - with noise, counts are Poisson draws around those means: the bound adds ten
//     standard deviations and 10 more, which no run exceeds in practice.
type reachable struct {
	n   int64
	how string
}

func reachableFailedRequests(w *world.Spec, until time.Duration) reachable {
	rps := world.DefaultRPS
	if w.RPS != nil {
		rps = *w.RPS
	}
	faultRPS, hasRPSFault := 0.0, false
	for _, f := range w.Faults {
		if f.RPS != nil {
			faultRPS, hasRPSFault = math.Max(faultRPS, *f.RPS), true
		}
	}
	perSecond := rps
	how := fmt.Sprintf("rps %s × until %s", fmtRate(rps), until)
	if hasRPSFault {
		perSecond = 2 * math.Max(rps, faultRPS)
		how = fmt.Sprintf("2 versions × max(rps %s, fault rps %s) × until %s", fmtRate(rps), fmtRate(faultRPS), until)
	}
	mean := perSecond * until.Seconds()
	if w.Noise {
		mean += 10*math.Sqrt(mean) + 10
		how += ", plus ten standard deviations of noise"
	}
	return reachable{n: int64(math.Ceil(mean)), how: how}
}

func fmtRate(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// expectWarnings reports the expectations of s that cannot fail (defaults applied).
func (l *loader) expectWarnings(s *Scenario) []string {
	e := s.Spec.Expect
	if e == nil {
		return nil
	}
	var out []string
	warn := func(path, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s:%d: %s: ", l.file, l.lineOf(path), path)+fmt.Sprintf(format, args...))
	}
	until := s.Spec.Until.Duration
	if w := e.Within.Duration; w > 0 && w >= until {
		warn("spec.expect.within", "%s is not before spec.until %s: every decision comes by the end of the run, "+
			"so within says no more than that the run ends Succeeded or Failed, which phase says more precisely. "+
			"Give the latest time the decision may come, earlier than until, or leave within out and state phase", w, until)
	}
	for i, ev := range e.Events {
		if anyMessage(ev) {
			warn(fmt.Sprintf("spec.expect.events[%d]", i), "%q matches any message, so it cannot fail once the run emits an event. "+
				"Write the message you expect, exactly or as an anchored pattern such as \"re:^Rolling back\"", ev)
		}
	}
	for i, ev := range e.AbsentEvents {
		if anyMessage(ev) {
			warn(fmt.Sprintf("spec.expect.absentEvents[%d]", i), "%q matches any message, so it says the run emits no event at all, "+
				"which no run that does anything satisfies: it tells nothing about the policy. "+
				"Write the message that must not occur, such as \"re:^Rolling back\"", ev)
		}
	}
	for _, typ := range sortedMapKeys(e.HookCalls) {
		c := e.HookCalls[typ]
		if c.Exact == nil && c.Max == nil && (c.Min == nil || *c.Min <= 0) {
			warn(world.JoinKey("spec.expect.hookCalls", typ), "{min: 0} admits every number of calls, so it cannot fail. "+
				"Give the number of calls (0 for none), a minimum above 0, or a max")
		}
	}
	for _, name := range sortedMapKeys(e.Alerts) {
		a, p := e.Alerts[name], world.JoinKey("spec.expect.alerts", name)
		if c := a.Count; c != nil && c.Exact == nil && c.Max == nil && (c.Min == nil || *c.Min <= 0) {
			warn(p+".count", "{min: 0} admits every number of alerts, so it cannot fail. "+
				"Give the number of alerts (0 for none), a minimum above 0, or a max")
		}
		for i, m := range a.Messages {
			if anyMessage(m) {
				warn(fmt.Sprintf("%s.messages[%d]", p, i), "%q matches any message, so it cannot fail once %s is sent an alert. "+
					"Write the message you expect, exactly or as an anchored pattern such as \"re:^Failed checks threshold\"", m, name)
			}
		}
		for i, m := range a.AbsentMessages {
			if anyMessage(m) {
				warn(fmt.Sprintf("%s.absentMessages[%d]", p, i), "%q matches any message, so it says %s is sent no alert at all; "+
					"say that with count: 0, or write the message that must not reach it", m, name)
			}
		}
	}
	if c := e.FailedRequests; c != nil {
		r := reachableFailedRequests(&s.Spec.World, until)
		if c.Holds(0) && c.Holds(r.n) {
			warn("spec.expect.failedRequests", "%s admits 0 and every reachable count, so it cannot fail: "+
				"the world sends at most %d user requests in the run (%s). "+
				"Give the blast radius you expect, such as {max: 100} or {min: 1000, max: 20000}, or leave failedRequests out",
				countPhrase(*c, "failed user request"), r.n, r.how)
		}
	}
	return out
}
