package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// libraryRun is one library scenario, loaded and run in fast mode.
type libraryRun struct {
	file   string
	loaded *scenario.Loaded
	result *scenario.Result
}

// library is every scenario of the library with its normal run.
type library struct {
	runs   []libraryRun // in the order of files
	byName map[string]libraryRun
	byFile map[string]libraryRun
}

// theLibrary loads and runs the library once for the specs below. It returns an error
// rather than failing, so that one broken scenario fails every spec that needs the
// library with the same message.
var theLibrary = sync.OnceValues(func() (*library, error) {
	lib := &library{byName: map[string]libraryRun{}, byFile: map[string]libraryRun{}}
	for _, f := range files {
		l, err := scenario.LoadFile(f)
		if err != nil {
			return nil, err
		}
		res, err := sim.Run(context.Background(), l, sim.RunOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r := libraryRun{file: f, loaded: l, result: res}
		lib.runs = append(lib.runs, r)
		lib.byName[l.Scenario.Metadata.Name] = r
		lib.byFile[f] = r
	}
	return lib, nil
})

func libraryOrFail() *library {
	GinkgoHelper()
	lib, err := theLibrary()
	Expect(err).NotTo(HaveOccurred())
	return lib
}

// controlVerdict is what the negative control of a scenario's expectations showed.
type controlVerdict struct {
	// Control says which control ran: "derived: ...", "scenario NAME (FILE)", or
	// "none: REASON".
	Control string
	// Failed are the stated expectations that fail on the control's run, each as
	// "name: expected X, observed Y"; empty for control.none.
	Failed []string
	// None is spec.expect.control.none: no control ran, for the reason given.
	None string
}

// errControlHolds is returned (wrapped) when every stated expectation holds on the
// negative control: the expectations do not tell the scenario's world from one
// without what it is about.
var errControlHolds = errors.New("every stated expectation also holds on the negative control")

// controlFails checks that the expectations of l (whose own run is res) fail on their
// negative control: the scenario named by spec.expect.control.scenario (its library
// run), or else the control scenario.NegativeControl derives, run here. It returns
// which control ran and what failed on it, or an error that says why the check
// fails: no control applies and none is named, the named scenario is not in the
// library, the control does not run, or every expectation holds on it. A
// spec.expect.control.none is accepted when the derived control (if any) does not
// already make an expectation fail: then the reason is not needed.
func controlFails(l *scenario.Loaded, res *scenario.Result, lib *library) (controlVerdict, error) {
	name := l.Scenario.Metadata.Name
	exp := l.Scenario.Spec.Expect
	if exp == nil {
		return controlVerdict{}, fmt.Errorf("%s states no expectations", name)
	}
	var v controlVerdict
	var controlRes *scenario.Result
	switch c := exp.Control; {
	case c != nil && c.Scenario != "":
		if c.Scenario == name {
			return v, fmt.Errorf("%s: spec.expect.control.scenario names the scenario itself", name)
		}
		sib, ok := lib.byName[c.Scenario]
		if !ok {
			return v, fmt.Errorf("%s: spec.expect.control.scenario names %q, which is not a scenario of the library", name, c.Scenario)
		}
		v.Control = fmt.Sprintf("scenario %s (%s)", c.Scenario, sib.file)
		controlRes = sib.result
	default:
		ctl, ok, why := scenario.NegativeControl(l, res.Phase)
		if c != nil && c.None != "" {
			v.Control, v.None = "none: "+c.None, c.None
			if !ok {
				return v, nil
			}
			derived, err := runControl(ctl)
			if err != nil {
				return v, fmt.Errorf("%s: derived negative control (%s): %w", name, why, err)
			}
			if failed := failedOn(exp, derived); len(failed) > 0 {
				return v, fmt.Errorf("%s: spec.expect.control.none is not needed: the derived negative control (%s) already fails %s; leave control out",
					name, why, strings.Join(failed, "; "))
			}
			return v, nil
		}
		if !ok {
			return v, fmt.Errorf("%s: no negative control derives (%s); name a counterpart whose run must fail these expectations "+
				"in spec.expect.control.scenario, or say why none applies in spec.expect.control.none", name, why)
		}
		v.Control = "derived: " + why
		var err error
		if controlRes, err = runControl(ctl); err != nil {
			return v, fmt.Errorf("%s: negative control (%s): %w", name, v.Control, err)
		}
	}
	checked := scenario.Check(exp, controlRes)
	if len(checked) == 0 {
		return v, fmt.Errorf("%s states no expectation that is checked", name)
	}
	v.Failed = failedOn(exp, controlRes)
	if len(v.Failed) == 0 {
		var held []string
		for _, e := range checked {
			held = append(held, fmt.Sprintf("%s: expected %s, observed %s", e.Name, e.Expected, e.Observed))
		}
		return v, fmt.Errorf("%s: %w, %s, so they do not tell this world from one without what the scenario is about:\n  %s",
			name, errControlHolds, v.Control, strings.Join(held, "\n  "))
	}
	return v, nil
}

func runControl(l *scenario.Loaded) (*scenario.Result, error) {
	return sim.Run(context.Background(), l, sim.RunOptions{})
}

// failedOn lists the expectations that fail on a run, as "name: expected X, observed Y".
func failedOn(exp *scenario.Expectations, res *scenario.Result) []string {
	var out []string
	for _, e := range scenario.Check(exp, res) {
		if !e.OK {
			out = append(out, fmt.Sprintf("%s: expected %s, observed %s", e.Name, e.Expected, e.Observed))
		}
	}
	return out
}

// unmatchedAbsentEvents lists the absentEvents patterns of the given scenarios that
// match no event of any of the runs: patterns that could not fail anywhere.
func unmatchedAbsentEvents(scenarios []libraryRun, runs []*scenario.Result) []string {
	var out []string
	for _, s := range scenarios {
		for i, p := range s.loaded.Scenario.Spec.Expect.AbsentEvents {
			seen := false
			for _, r := range runs {
				// An absentEvents expectation fails exactly when the pattern matches an event.
				for _, e := range scenario.Check(&scenario.Expectations{AbsentEvents: []string{p}}, r) {
					seen = seen || !e.OK
				}
			}
			if !seen {
				out = append(out, fmt.Sprintf("%s (%s): spec.expect.absentEvents[%d] %q matches no event of any library run",
					s.loaded.Scenario.Metadata.Name, s.file, i, p))
			}
		}
	}
	return out
}

// unmatchedAbsentAlerts lists the expect.alerts absentMessages patterns of the given
// scenarios that match no alert raised in any of the runs (sent anywhere or not):
// patterns that could not fail anywhere.
func unmatchedAbsentAlerts(scenarios []libraryRun, runs []*scenario.Result) []string {
	// The alerts of every run as events of one record, so that Check applies the
	// pattern rule of absentEvents to their messages.
	raised := &scenario.Result{}
	for _, r := range runs {
		for t := range r.EachTick() {
			rec := engine.TickRecord{At: t.At}
			for _, a := range t.Alerts {
				rec.Events = append(rec.Events, engine.Event{Message: a.Message})
			}
			raised.Ticks = append(raised.Ticks, scenario.Tick{TickRecord: rec})
		}
	}
	var out []string
	for _, s := range scenarios {
		alerts := s.loaded.Scenario.Spec.Expect.Alerts
		for _, name := range slices.Sorted(maps.Keys(alerts)) {
			for i, p := range alerts[name].AbsentMessages {
				seen := false
				for _, e := range scenario.Check(&scenario.Expectations{AbsentEvents: []string{p}}, raised) {
					seen = seen || !e.OK
				}
				if !seen {
					out = append(out, fmt.Sprintf("%s (%s): spec.expect.alerts.%s.absentMessages[%d] %q matches no alert of any library run",
						s.loaded.Scenario.Metadata.Name, s.file, name, i, p))
				}
			}
		}
	}
	return out
}

func resultsOf(lib *library) []*scenario.Result {
	out := make([]*scenario.Result, len(lib.runs))
	for i, r := range lib.runs {
		out[i] = r.result
	}
	return out
}

var _ = Describe("no expectation of the library is vacuous", func() {
	DescribeTable("the expectations fail on the scenario's negative control",
		func(file string) {
			lib := libraryOrFail()
			run := lib.byFile[file]
			v, err := controlFails(run.loaded, run.result, lib)
			if err != nil {
				Fail(fmt.Sprintf("%s: %v", file, err))
			}
			if v.None != "" {
				// Accepted, and always shown: a scenario without a control is visible.
				AddReportEntry("no negative control", v.None, ReportEntryVisibilityAlways)
				return
			}
			Expect(v.Failed).NotTo(BeEmpty(), "%s: control %s", file, v.Control)
			AddReportEntry("negative control", fmt.Sprintf("%s\nfailed on it:\n  %s", v.Control, strings.Join(v.Failed, "\n  ")),
				ReportEntryVisibilityFailureOrVerbose)
		},
		entries(),
	)

	It("every absentEvents pattern matches an event somewhere in the library's runs", func() {
		lib := libraryOrFail()
		patterns := 0
		for _, r := range lib.runs {
			patterns += len(r.loaded.Scenario.Spec.Expect.AbsentEvents)
		}
		Expect(patterns).To(BeNumerically(">", 0), "the library has absentEvents to check")
		Expect(unmatchedAbsentEvents(lib.runs, resultsOf(lib))).To(BeEmpty())
	})

	It("every alerts absentMessages pattern matches an alert somewhere in the library's runs", func() {
		lib := libraryOrFail()
		patterns := 0
		for _, r := range lib.runs {
			for _, a := range r.loaded.Scenario.Spec.Expect.Alerts {
				patterns += len(a.AbsentMessages)
			}
		}
		Expect(patterns).To(BeNumerically(">", 0), "the library has absentMessages to check")
		Expect(unmatchedAbsentAlerts(lib.runs, resultsOf(lib))).To(BeEmpty())
	})

	It("no library scenario has an expectation the loader says cannot fail", func() {
		lib := libraryOrFail()
		for _, r := range lib.runs {
			Expect(r.loaded.Warnings).NotTo(ContainElement(ContainSubstring(": spec.expect.")), "%s", r.file)
		}
	})
})

var _ = Describe("the negative-control check", func() {
	// vacuous are expectations that assert nothing: any message, any blast radius, a
	// decision by the end of the run, no phase.
	vacuous := func(l *scenario.Loaded) *scenario.Expectations {
		huge := int64(1_000_000_000)
		zero := int64(0)
		return &scenario.Expectations{
			Events:         []string{"re:."},
			FailedRequests: &scenario.Count{Min: &zero, Max: &huge},
			Within:         l.Scenario.Spec.Until,
		}
	}
	load := func(file string) *scenario.Loaded {
		GinkgoHelper()
		l, err := scenario.LoadFile(file)
		Expect(err).NotTo(HaveOccurred())
		return l
	}
	run := func(l *scenario.Loaded) *scenario.Result {
		GinkgoHelper()
		res, err := sim.Run(context.Background(), l, sim.RunOptions{})
		Expect(err).NotTo(HaveOccurred())
		return res
	}

	// rollback are expectations that do assert something about podinfo-500-burst's
	// world (set here, so that these specs do not depend on how the file is written).
	rollback := func() *scenario.Expectations {
		return &scenario.Expectations{Phase: "Failed", Events: []string{"Rolling back podinfo.test failed checks threshold reached 5"}}
	}

	It("passes expectations that tell the world from its control, naming the control and what failed on it", func() {
		lib := libraryOrFail()
		l := load("podinfo-500-burst.yaml")
		l.Scenario.Spec.Expect = rollback()
		v, err := controlFails(l, run(l), lib)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Control).To(HavePrefix("derived: podinfo-500-burst without spec.world.faults (1 fault) (expect.phase is Failed)"))
		Expect(v.Failed).To(ConsistOf(
			"phase: expected Failed, observed Succeeded",
			HavePrefix(`events[0]: expected event "Rolling back podinfo.test failed checks threshold reached 5", observed not found`)))
	})

	It("reports a library scenario whose expectations are replaced by ones that assert nothing", func() {
		lib := libraryOrFail()
		l := load("podinfo-500-burst.yaml")
		l.Scenario.Spec.Expect = vacuous(l)
		res := run(l)
		Expect(res.Passed).To(BeTrue(), "vacuous expectations hold on the scenario's own run")
		Expect(res.Phase).To(Equal("Failed"), "with no expect.phase the derived control uses the observed phase")

		_, err := controlFails(l, res, lib)
		Expect(err).To(MatchError(errControlHolds))
		Expect(err.Error()).To(ContainSubstring("derived: podinfo-500-burst without spec.world.faults (1 fault) (the run's final phase is Failed)"))
		Expect(err.Error()).To(ContainSubstring(`events[0]: expected event matching /./`))
	})

	It("reports vacuous expectations against a named counterpart too", func() {
		lib := libraryOrFail()
		l := load("user-profile-nan-division.yaml")
		l.Scenario.Spec.Expect = vacuous(l)
		l.Scenario.Spec.Expect.Control = &scenario.Control{Scenario: "user-profile-nan-guarded"}
		_, err := controlFails(l, run(l), lib)
		Expect(err).To(MatchError(errControlHolds))
		Expect(err.Error()).To(ContainSubstring("scenario user-profile-nan-guarded (user-profile-nan-guarded.yaml)"))
	})

	It("reports a scenario without a derivable control that names none", func() {
		lib := libraryOrFail()
		l := load("user-profile-nan-division.yaml")
		l.Scenario.Spec.Expect.Control = nil
		_, err := controlFails(l, run(l), lib)
		Expect(err).To(MatchError(ContainSubstring("no negative control derives (expect.phase is Failed but the scenario has no spec.world.faults and no spec.hooks")))
		Expect(err).To(MatchError(ContainSubstring("spec.expect.control.scenario")))
	})

	It("reports a control scenario that is not in the library", func() {
		lib := libraryOrFail()
		l := load("user-profile-nan-division.yaml")
		l.Scenario.Spec.Expect.Control = &scenario.Control{Scenario: "user-profile-nan-guardd"}
		_, err := controlFails(l, run(l), lib)
		Expect(err).To(MatchError(ContainSubstring(`names "user-profile-nan-guardd", which is not a scenario of the library`)))
	})

	It("reports a control.none where the derived control already makes an expectation fail", func() {
		lib := libraryOrFail()
		l := load("podinfo-500-burst.yaml")
		l.Scenario.Spec.Expect = rollback()
		l.Scenario.Spec.Expect.Control = &scenario.Control{None: "no reason"}
		_, err := controlFails(l, run(l), lib)
		Expect(err).To(MatchError(ContainSubstring("spec.expect.control.none is not needed: the derived negative control (podinfo-500-burst without spec.world.faults (1 fault)")))
		Expect(err).To(MatchError(ContainSubstring("already fails phase: expected Failed, observed Succeeded")))
	})

	It("reports an alerts absentMessages pattern that matches no alert of any run", func() {
		lib := libraryOrFail()
		l := load("podinfo-alerts-on-call.yaml")
		l.Scenario.Spec.Expect.Alerts = map[string]scenario.AlertExpectation{
			"on-call": {AbsentMessages: []string{"re:^New revision", "re:^Promotion failed"}}}
		unmatched := unmatchedAbsentAlerts([]libraryRun{{file: "podinfo-alerts-on-call.yaml", loaded: l}}, resultsOf(lib))
		Expect(unmatched).To(ConsistOf(
			`podinfo-alerts-on-call (podinfo-alerts-on-call.yaml): spec.expect.alerts.on-call.absentMessages[1] "re:^Promotion failed" matches no alert of any library run`))
	})

	It("reports an absentEvents pattern that matches no event of any run", func() {
		lib := libraryOrFail()
		l := load("podinfo-500-burst.yaml")
		l.Scenario.Spec.Expect.AbsentEvents = []string{"re:^Promotion completed", "Promotion completed! Scaling down podinfo.tset"}
		unmatched := unmatchedAbsentEvents([]libraryRun{{file: "podinfo-500-burst.yaml", loaded: l}}, resultsOf(lib))
		Expect(unmatched).To(ConsistOf(
			`podinfo-500-burst (podinfo-500-burst.yaml): spec.expect.absentEvents[1] "Promotion completed! Scaling down podinfo.tset" matches no event of any library run`))
	})
})
