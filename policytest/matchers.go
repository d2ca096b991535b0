package policytest

import (
	"fmt"
	"strings"
	"time"

	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// lastEvents is how many of a run's last events a failure message shows.
const lastEvents = 5

// BeRolledBack succeeds when the run ended rolled back (final phase Failed).
func BeRolledBack() types.GomegaMatcher {
	return &runMatcher{want: "to be rolled back", test: func(r *scenario.Result) (bool, string) {
		return rolledBack(r), "its final phase is " + phaseOf(r)
	}}
}

// BePromoted succeeds when the run ended promoted (final phase Succeeded).
func BePromoted() types.GomegaMatcher {
	return &runMatcher{want: "to be promoted", test: func(r *scenario.Result) (bool, string) {
		return promoted(r), "its final phase is " + phaseOf(r)
	}}
}

// BePromotedWithin succeeds when the run ended promoted and was decided at most d
// of virtual time after it started.
func BePromotedWithin(d time.Duration) types.GomegaMatcher {
	return &runMatcher{want: "to be promoted within " + engine.FormatDuration(d), test: func(r *scenario.Result) (bool, string) {
		if !promoted(r) || r.DecidedAt == nil {
			return false, "its final phase is " + phaseOf(r)
		}
		at := time.Duration(*r.DecidedAt)
		return at <= d, "it was promoted at " + engine.FormatDuration(at)
	}}
}

// HaveRoutes succeeds when the router's weights at the end of the run are primary
// and canary (e.g. HaveRoutes(100, 0) after a promotion or a rollback).
func HaveRoutes(primary, canary int) types.GomegaMatcher {
	return &runMatcher{want: fmt.Sprintf("to end with routes primary %d, canary %d", primary, canary),
		test: func(r *scenario.Result) (bool, string) {
			return routesMatch(r, time.Duration(r.Until), primary, canary)
		}}
}

// HaveRoutesAt succeeds when the router's weights at virtual time at (after the
// last engine tick at or before it) are primary and canary.
func HaveRoutesAt(at time.Duration, primary, canary int) types.GomegaMatcher {
	return &runMatcher{want: fmt.Sprintf("to have routes primary %d, canary %d at %s", primary, canary, engine.FormatDuration(at)),
		test: func(r *scenario.Result) (bool, string) {
			return routesMatch(r, at, primary, canary)
		}}
}

func routesMatch(r *scenario.Result, at time.Duration, primary, canary int) (bool, string) {
	p, c, ok := routesAt(r, at)
	if !ok {
		return false, "no engine tick ran by " + engine.FormatDuration(at)
	}
	return p == primary && c == canary, fmt.Sprintf("its routes at %s were primary %d, canary %d", engine.FormatDuration(at), p, c)
}

// HaveEvent succeeds when an event of the run has a message that contains want,
// when want is a string, or that want matches, when it is a Gomega matcher (e.g.
// MatchRegexp(`canary weight \d+`)).
func HaveEvent(want any) types.GomegaMatcher {
	var match func(string) (bool, error)
	var what string
	// onLast says what a matcher argument found wrong with the last event.
	onLast := func(string) string { return "" }
	switch w := want.(type) {
	case string:
		match = func(msg string) (bool, error) { return strings.Contains(msg, w), nil }
		what = fmt.Sprintf("containing %q", w)
	case types.GomegaMatcher:
		match = func(msg string) (bool, error) { return w.Match(msg) }
		// A matcher has no description of its own: what it says of the last event
		// shows what it wants, without format.Object's pointers.
		what = "whose message satisfies the matcher"
		onLast = func(msg string) string {
			return "; of the last, the matcher says:\n" + indent(w.FailureMessage(msg), "    ")
		}
	default:
		return &runMatcher{err: fmt.Errorf("HaveEvent wants a string or a Gomega matcher, got %s", format.Object(want, 0))}
	}
	return &runMatcher{want: "to have an event " + what, test: func(r *scenario.Result) (bool, string) {
		events := eventsOf(r)
		for _, e := range events {
			ok, err := match(e.Message)
			if err != nil {
				return false, "the matcher failed on " + e.String() + ": " + err.Error()
			}
			if ok {
				return true, "it had " + e.String()
			}
		}
		observed := fmt.Sprintf("none of its %d events does", len(events))
		if len(events) > 0 {
			observed += onLast(events[len(events)-1].Message)
		}
		return false, observed
	}}
}

// HaveFailedChecks succeeds when the most failed checks any analysis of the run
// counted (Record.FailedChecks) is n.
func HaveFailedChecks(n int) types.GomegaMatcher {
	return &runMatcher{want: fmt.Sprintf("to count %d failed checks", n), test: func(r *scenario.Result) (bool, string) {
		got := failedChecks(r)
		return got == n, fmt.Sprintf("its analyses counted at most %d", got)
	}}
}

// PassExpectations succeeds when every expectation of the scenario's own
// spec.expect holds, as `aviary test` checks them (scenario.Check). A scenario
// without expectations fails it: it would pass whatever happened.
func PassExpectations() types.GomegaMatcher {
	return &runMatcher{want: "to pass its expectations (spec.expect)", test: func(r *scenario.Result) (bool, string) {
		if len(r.Expectations) == 0 {
			return false, "it has none: spec.expect is empty"
		}
		failed := reports.FailedExpectations(r)
		if failed == "" {
			return true, fmt.Sprintf("all %d held", len(r.Expectations))
		}
		return false, "these failed:\n" + failed
	}}
}

// runMatcher is every matcher of a run: want is what it expects in words ("to be
// rolled back"), test says whether the run does, and what it did instead.
type runMatcher struct {
	want string
	test func(r *scenario.Result) (ok bool, observed string)
	// err, when set, is a mistake in the matcher's arguments, reported by Match.
	err error

	result   *scenario.Result
	observed string
}

// resultOf is the run record of a matcher's actual value.
func resultOf(actual any) (*scenario.Result, error) {
	switch a := actual.(type) {
	case *Record:
		if a != nil && a.Result != nil {
			return a.Result, nil
		}
	case *scenario.Result:
		if a != nil {
			return a, nil
		}
	}
	return nil, fmt.Errorf("policytest matchers want a *policytest.Record or a *scenario.Result, got %s", format.Object(actual, 1))
}

func (m *runMatcher) Match(actual any) (bool, error) {
	if m.err != nil {
		return false, m.err
	}
	r, err := resultOf(actual)
	if err != nil {
		return false, err
	}
	ok, observed := m.test(r)
	m.result, m.observed = r, observed
	return ok, nil
}

func (m *runMatcher) FailureMessage(actual any) string { return m.message("") }

func (m *runMatcher) NegatedFailureMessage(actual any) string { return m.message("not ") }

// message says what was expected, what happened instead, and what the run did:
// the outcome line and the why of `aviary test -v`, and the last events.
func (m *runMatcher) message(not string) string {
	r := m.result
	if r == nil {
		// Gomega asks for a message only after a Match that did not fail.
		return "policytest: no run record was matched (Match failed or was not called)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Expected scenario %s", r.Scenario)
	if r.File != "" {
		fmt.Fprintf(&b, " (%s)", r.File)
	}
	fmt.Fprintf(&b, " %s%s, but %s", not, m.want, m.observed)
	if !strings.HasSuffix(m.observed, "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  %s\n  why: %s\n", reports.Outcome(r), reports.Why(r))
	events := eventsOf(r)
	if len(events) > lastEvents {
		fmt.Fprintf(&b, "  last %d of %d events:\n", lastEvents, len(events))
		events = events[len(events)-lastEvents:]
	} else {
		fmt.Fprintf(&b, "  events:\n")
	}
	for _, e := range events {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	return b.String()
}

// indent prefixes every line of s with prefix and ends it with a newline.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func phaseOf(r *scenario.Result) string {
	if r.Phase == "" {
		return "none (no engine tick ran)"
	}
	return r.Phase
}
