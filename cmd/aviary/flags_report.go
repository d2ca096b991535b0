package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

// reportFlags are the artifact flags of "aviary test": --report, --junit, --json.
type reportFlags struct {
	html, junit, json string
}

func (f *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.html, "report", "", "write a self-contained HTML report to this file")
	cmd.Flags().StringVar(&f.junit, "junit", "", "write a JUnit XML report (one testcase per scenario) to this file")
	cmd.Flags().StringVar(&f.json, "json", "", `write the full run records, baselines included, as JSON to this file (render it later with "aviary report")`)
	// Fail before running anything when an artifact cannot be written where asked.
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(cmd, args); err != nil {
				return err
			}
		}
		return f.validate()
	}
}

// validate checks that each requested artifact's directory exists.
func (f *reportFlags) validate() error {
	for _, a := range f.artifacts() {
		if a.path == "" {
			continue
		}
		dir := filepath.Dir(a.path)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return invalid(fmt.Errorf("--%s %s: directory %s does not exist", a.flag, a.path, dir))
		}
	}
	return nil
}

type artifact struct {
	flag, path string
	write      func(w io.Writer) error
}

func (f *reportFlags) artifacts() []artifact {
	return []artifact{{flag: "json", path: f.json}, {flag: "junit", path: f.junit}, {flag: "report", path: f.html}}
}

// write writes every requested artifact, whatever the scenarios' verdicts.
// results[i] and errs[i] belong to loaded[i] (as returned by sim.RunSuite); elapsed
// is the suite's wall time (JUnit's time attribute).
func (f *reportFlags) write(stdout io.Writer, loaded []*scenario.Loaded, results []*scenario.Result, errs []error, elapsed time.Duration) error {
	var ok []*scenario.Result
	var failed []reports.RunError
	for i, err := range errs {
		if err != nil {
			failed = append(failed, reports.RunError{Scenario: loaded[i].Scenario.Metadata.Name, File: loaded[i].Scenario.File, Err: err.Error()})
			continue
		}
		ok = append(ok, results[i])
	}
	arts := f.artifacts()
	arts[0].write = func(w io.Writer) error { return reports.WriteJSON(w, ok) }
	arts[1].write = func(w io.Writer) error {
		return reports.WriteJUnit(w, ok, reports.JUnitOptions{Elapsed: elapsed, Errors: failed})
	}
	arts[2].write = func(w io.Writer) error { return reports.WriteHTML(w, ok, reports.HTMLOptions{Errors: failed}) }
	for _, a := range arts {
		if a.path == "" {
			continue
		}
		if err := writeArtifact(a.path, a.write); err != nil {
			return invalid(fmt.Errorf("--%s %s: %w", a.flag, a.path, err))
		}
		fmt.Fprintf(stdout, "wrote %s\n", a.path)
	}
	return nil
}

// writeArtifact renders into memory first, so a rendering error leaves no half file.
func writeArtifact(path string, render func(w io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
