package reports

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"aviary.dev/aviary/sim/scenario"
)

// RunError is a scenario that could not be run (the simulation itself failed, as
// opposed to an expectation that did not hold).
type RunError struct {
	Scenario string `json:"scenario"`
	File     string `json:"file,omitempty"`
	Err      string `json:"error"`
}

// JUnitOptions are the parts of a JUnit report that are not in the run records.
type JUnitOptions struct {
	// Elapsed is the suite's wall time; it becomes the time attribute of the
	// <testsuites> and <testsuite> elements ("0.000" when zero). Testcases carry
	// time="0.000": scenarios run in parallel in virtual time, so a per-scenario wall
	// time would mean little, and the virtual time of the decision is not a
	// duration of the test (it is in the testcase's system-out instead).
	Elapsed time.Duration
	// Errors are scenarios that could not be run; each becomes a testcase with an
	// <error> element.
	Errors []RunError
}

// WriteJUnit writes results as JUnit XML, the schema GitLab, Jenkins and GitHub test
// reporters read: one <testsuite name="aviary"> with one <testcase> per scenario
// (classname = the scenario file, name = the scenario). A scenario with failed
// expectations gets a <failure> whose message lists the failed expectations and
// whose body says, for each, what was expected and what was observed. Every
// testcase's <system-out> holds the decision (final phase, time, max canary
// weight, blast radius) and every expectation.
func WriteJUnit(w io.Writer, results []*scenario.Result, opts JUnitOptions) error {
	suite := junit.Testsuite{Name: Tool, Time: seconds(opts.Elapsed)}
	suite.AddProperty("aviary.formatVersion", fmt.Sprint(scenario.ResultFormatVersion))
	for _, r := range results {
		suite.AddTestcase(junitCase(r))
	}
	for _, e := range opts.Errors {
		suite.AddTestcase(junit.Testcase{
			Name:      e.Scenario,
			Classname: classname(e.File, e.Scenario),
			Time:      seconds(0),
			Error:     &junit.Result{Message: "scenario could not be run", Type: "RunError", Data: xmlSafe(e.Err)},
		})
	}
	suites := junit.Testsuites{Name: Tool, Time: seconds(opts.Elapsed)}
	suites.AddSuite(suite)
	if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

func junitCase(r *scenario.Result) junit.Testcase {
	tc := junit.Testcase{
		Name:      r.Scenario,
		Classname: classname(r.File, r.Scenario),
		Time:      seconds(0),
		SystemOut: &junit.Output{Data: xmlSafe(junitSystemOut(r))},
	}
	if r.Passed {
		return tc
	}
	var names []string
	var body strings.Builder
	for _, e := range r.Expectations {
		if e.OK {
			continue
		}
		names = append(names, e.Name)
		fmt.Fprintf(&body, "%s\n  expected: %s\n  observed: %s\n", e.Name, e.Expected, e.Observed)
	}
	msg := fmt.Sprintf("%d of %d expectations failed: %s", len(names), len(r.Expectations), strings.Join(names, ", "))
	if len(names) == 0 {
		msg = "scenario did not pass"
	}
	fmt.Fprintf(&body, "\n%s\n", explain(r).text())
	tc.Failure = &junit.Result{Message: xmlSafe(msg), Type: "ExpectationFailed", Data: xmlSafe(body.String())}
	return tc
}

func junitSystemOut(r *scenario.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "final phase %s, decided %s, max canary weight %d, failed user requests %s\n",
		orDash(r.Phase), decided(r), r.MaxCanaryWeight, thousands(r.FailedUserRequests))
	fmt.Fprintln(&b, explain(r).text())
	for _, e := range r.Expectations {
		verdict := "PASS"
		if !e.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s: expected %s, observed %s\n", verdict, e.Name, e.Expected, e.Observed)
	}
	return b.String()
}

// classname is the scenario file, or the scenario's name for a scenario built in code.
func classname(file, scenario string) string {
	if file != "" {
		return file
	}
	return scenario
}

// xmlSafe replaces the characters XML 1.0 cannot carry (control characters, e.g.
// from a webhook's response body) with U+FFFD; encoding/xml writes CDATA as is.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
