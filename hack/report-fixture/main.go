// Command report-fixture writes reports/testdata/results.json, the frozen input of
// the reports package's tests.
//
// The fixture is a results document in exactly the format "aviary test --json"
// writes (reports.WriteJSON): first two deliberately wrong variants of library
// scenarios, so that the reports have failures to show, then every scenario of
// scenarios/ in fast mode, in suite order. The report tests render it instead of
// rerunning the library, so they pin the numbers in the fixture, not the live
// library's.
//
// Regenerate it after a change of the run record's format (scenario.Result and
// what it holds, scenario.ResultFormatVersion) or of the library's results (a
// scenario added, removed or changed, an engine or world change that moves a
// number), then review the diff and the report tests that pin the numbers:
//
//	make report-fixture      # = go run ./hack/report-fixture, from the repository root
//
// The output depends only on the scenarios and the code: two runs write the same
// bytes. -o writes elsewhere, e.g. to check that the committed fixture is current:
//
//	go run ./hack/report-fixture -o /tmp/results.json && diff reports/testdata/results.json /tmp/results.json
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// library is the scenario library, relative to the repository root. The results'
// "file" fields are these relative paths, as "aviary test scenarios/" writes them.
const library = "scenarios"

// fixtureOptions are the runs' options: baselines evaluated, as "aviary test --json"
// does, so that the reports have them to draw.
var fixtureOptions = sim.RunOptions{Baselines: true}

// minLibrary is the fewest scenarios the library may hold: fewer means the wrong
// directory or a loader problem, not a smaller library.
const minLibrary = 12

// variant is a library scenario run under another name with expectations that do
// not hold.
type variant struct {
	file, name string
	// what the variant gets wrong, for the error message when it passes
	why    string
	change func(*scenario.Expectations)
}

// wrong are the deliberately wrong variants, in the fixture's order. The report tests
// name them (reports/reports_suite_test.go's wrongNames).
var wrong = []variant{
	{
		file: "user-profile-nan-division.yaml", name: "user-profile-nan-division-expects-promotion",
		why: "expects a promotion to 50% where the policy rolls back at 10%: two failures",
		change: func(e *scenario.Expectations) {
			e.Phase = "Succeeded"
			fifty := 50
			e.MaxCanaryWeight = &fifty
		},
	},
	{
		file: "podinfo-500-burst.yaml", name: "podinfo-500-burst-tight-blast-radius",
		why: "a blast radius far below what the burst costs: one failure",
		change: func(e *scenario.Expectations) {
			hundred := int64(100)
			e.FailedRequests = &scenario.Count{Max: &hundred}
		},
	},
}

func main() {
	out := flag.String("o", filepath.Join("reports", "testdata", "results.json"), "file to write")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./hack/report-fixture [-o FILE]   (from the repository root)\n\n"+
			"Runs the scenario library and two deliberately wrong variants and writes their\n"+
			"results, as \"aviary test --json\" does, to the reports tests' fixture.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *out); err != nil {
		fmt.Fprintln(os.Stderr, "report-fixture:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string) error {
	if _, err := os.Stat(filepath.Join(library, "..", "go.mod")); err != nil {
		return fmt.Errorf("run from the repository root (no %s next to go.mod): %w", library, err)
	}
	var results []*scenario.Result
	for _, v := range wrong {
		res, err := runWrong(ctx, v)
		if err != nil {
			return err
		}
		results = append(results, res)
	}

	loaded, err := scenario.LoadPaths([]string{library})
	if err != nil {
		return err
	}
	if len(loaded) < minLibrary {
		return fmt.Errorf("%s holds %d scenarios, want at least %d", library, len(loaded), minLibrary)
	}
	lib, errs := sim.RunSuite(ctx, loaded, 0, func(int) sim.RunOptions { return fixtureOptions })
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, r := range lib {
		// The report tests show the library as passing and only the variants as failing.
		if !r.Passed {
			return fmt.Errorf("library scenario %s (%s) fails: fix it (aviary test %s) before regenerating the fixture", r.Scenario, r.File, r.File)
		}
	}
	results = append(results, lib...)

	var buf bytes.Buffer
	if err := reports.WriteJSON(&buf, results); err != nil {
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d wrong variants, %d library scenarios, %d bytes\n", out, len(wrong), len(lib), buf.Len())
	return nil
}

// runWrong runs a library scenario under another name with its expectations
// changed; the run must fail.
func runWrong(ctx context.Context, v variant) (*scenario.Result, error) {
	l, err := scenario.LoadFile(filepath.Join(library, v.file))
	if err != nil {
		return nil, err
	}
	l.Scenario.Metadata.Name = v.name
	if l.Scenario.Spec.Expect == nil {
		l.Scenario.Spec.Expect = &scenario.Expectations{}
	}
	v.change(l.Scenario.Spec.Expect)
	res, err := sim.Run(ctx, l, fixtureOptions)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.name, err)
	}
	if res.Passed {
		return nil, fmt.Errorf("%s should fail (%s) but passes", v.name, v.why)
	}
	return res, nil
}
