package reports_test

import (
	"bytes"
	"encoding/xml"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// The JUnit schema as CI test reporters read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Error     *junitFailure `xml:"error"`
	SystemOut string        `xml:"system-out"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func parseJUnit(b []byte) junitSuites {
	var s junitSuites
	Expect(xml.Unmarshal(b, &s)).To(Succeed())
	return s
}

var _ = Describe("JUnit XML", func() {
	It("has one testcase per scenario and one failure per failed scenario, carrying the failed expectations", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, suite(), reports.JUnitOptions{Elapsed: 1500 * time.Millisecond})).To(Succeed())
		Expect(buf.String()).To(HavePrefix(`<?xml version="1.0" encoding="UTF-8"?>`))
		s := parseJUnit(buf.Bytes())
		Expect(s.Tests).To(Equal(len(suite())))
		Expect(s.Failures).To(Equal(len(wrong)))
		Expect(s.Suites).To(HaveLen(1))
		ts := s.Suites[0]
		Expect(ts.Name).To(Equal("aviary"))
		Expect(ts.Time).To(Equal("1.500"))
		Expect(ts.Cases).To(HaveLen(len(suite())))

		failures := 0
		for i, r := range suite() {
			tc := ts.Cases[i]
			Expect(tc.Name).To(Equal(r.Scenario))
			Expect(tc.Classname).To(Equal(r.File))
			Expect(tc.Time).To(Equal("0.000"))
			Expect(tc.SystemOut).To(ContainSubstring("final phase " + r.Phase))
			if r.Passed {
				Expect(tc.Failure).To(BeNil(), r.Scenario)
				continue
			}
			failures++
			Expect(tc.Failure).NotTo(BeNil(), r.Scenario)
			for _, e := range r.Expectations {
				if e.OK {
					continue
				}
				Expect(tc.Failure.Message).To(ContainSubstring(e.Name))
				Expect(tc.Failure.Body).To(ContainSubstring(e.Name + "\n  expected: " + e.Expected + "\n  observed: " + e.Observed))
			}
		}
		Expect(failures).To(Equal(len(wrong)))
		Expect(ts.Cases[0].Failure.Message).To(Equal("2 of 7 expectations failed: phase, maxCanaryWeight"))
		Expect(ts.Cases[0].Failure.Body).To(ContainSubstring("legacy-read-ratio returned NaN (treated as no data) at 4m, 5m, 6m"))
	})

	It("reports scenarios that could not run as errors, with text XML can carry", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, library[:1], reports.JUnitOptions{Errors: []reports.RunError{
			{Scenario: "broken", File: "scenarios/broken.yaml", Err: "setup: \x1b[31mboom\x00 ]]> end"},
		}})).To(Succeed())
		s := parseJUnit(buf.Bytes())
		Expect(s.Tests).To(Equal(2))
		Expect(s.Errors).To(Equal(1))
		tc := s.Suites[0].Cases[1]
		Expect(tc.Classname).To(Equal("scenarios/broken.yaml"))
		Expect(tc.Error).NotTo(BeNil())
		Expect(tc.Error.Body).To(Equal("setup: \uFFFD[31mboom\uFFFD ]]> end"))
	})

	It("is deterministic", func() {
		var a, b bytes.Buffer
		Expect(reports.WriteJUnit(&a, suite(), reports.JUnitOptions{})).To(Succeed())
		Expect(reports.WriteJUnit(&b, suite(), reports.JUnitOptions{})).To(Succeed())
		Expect(a.Bytes()).To(Equal(b.Bytes()))
	})

	It("names the scenario when there is no file", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, []*scenario.Result{{Scenario: "in-code", Passed: true}}, reports.JUnitOptions{})).To(Succeed())
		Expect(parseJUnit(buf.Bytes()).Suites[0].Cases[0].Classname).To(Equal("in-code"))
	})
})
