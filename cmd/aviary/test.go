package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// suiteFlags are the flags shared by commands that load scenarios.
type suiteFlags struct {
	cluster    string
	parallel   int
	filter     string
	keepSeries bool
	canary     string
}

func (f *suiteFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.cluster, "cluster", sim.ModeFast, clusterModeHelp)
	cmd.Flags().IntVarP(&f.parallel, "parallel", "p", 0, "scenarios to run at once (0 = one per CPU)")
	cmd.Flags().StringVar(&f.filter, "run", "", "only run scenarios whose name matches this regular expression")
	cmd.Flags().BoolVar(&f.keepSeries, "keep-series", false, keepSeriesHelp)
	f.registerCanary(cmd)
}

// registerCanary adds --canary, which loads every scenario with a Canary file of the
// user's in place of the scenario's own Canary.
func (f *suiteFlags) registerCanary(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.canary, "canary", "", canaryHelp)
}

const canaryHelp = "a YAML file whose Canary replaces each scenario's (its other documents, e.g. MetricTemplates, are added to the policy)"

// loadOptions are the options scenarios are loaded with.
func (f *suiteFlags) loadOptions() scenario.LoadOptions {
	return scenario.LoadOptions{CanaryFile: f.canary}
}

// validate checks the flags; errors are bad input.
func (f *suiteFlags) validate() (*regexp.Regexp, error) {
	if err := validCluster(f.cluster); err != nil {
		return nil, err
	}
	if f.parallel < 0 {
		return nil, invalid(fmt.Errorf("--parallel %d: must not be negative", f.parallel))
	}
	if f.filter == "" {
		return nil, nil
	}
	re, err := regexp.Compile(f.filter)
	if err != nil {
		return nil, invalid(fmt.Errorf("--run %q: %v", f.filter, err))
	}
	return re, nil
}

func newTestCommand(stdout, stderr io.Writer) *cobra.Command {
	var f suiteFlags
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "test PATH...",
		Short: "Run scenario files or directories and check their expectations",
		Long: `Run every scenario under the given files or directories (recursively) and check
what each one expects: final phase, time to decision, routes, events, webhook
calls, blast radius. Prints one row per scenario, ending with why in a few
words (what the HTML report's explanation says), and, for each failed
expectation, what was expected and what happened.

With --report or --json, each metric check's query is also evaluated against the
primary at the same virtual time (a baseline, drawn in the report next to the
canary's values; nothing is decided on it). It costs about as much PromQL again
as the checks, so runs without those artifacts skip it.

A run keeps only the samples its queries can still read (their longest range,
offset and subquery, plus PromQL's 5m lookback) and stores a stretch of ticks
with the same record as one record with a repeat count, so a long run's memory
does not grow with virtual time. --keep-series keeps every sample instead.

--canary runs the scenarios with your own Canary: the file's Canary replaces
each scenario's, and its other documents (MetricTemplates, AlertProviders, ...)
join the scenario's policy. Problems in it name the file and line.

Exit status: 0 when every expectation of every scenario holds, 1 when any fails,
2 on invalid input (unknown keys, wrong types, bad durations, values past their
limits, missing files, files that are not regular files, ...).`,
		Example: `  aviary test scenarios/
  aviary test scenarios/podinfo-500-burst.yaml --run 'burst'
  aviary test scenarios/ --report report.html --junit junit.xml --json results.json
  aviary test scenarios/podinfo-500-burst.yaml --canary deploy/podinfo/canary.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			filter, err := f.validate()
			if err != nil {
				return err
			}
			loaded, err := scenario.LoadPathsWith(args, f.loadOptions())
			if err != nil {
				return invalid(err)
			}
			total := len(loaded)
			loaded = selectScenarios(loaded, filter)
			if len(loaded) == 0 {
				if total > 0 {
					return invalid(fmt.Errorf("--run %q matches none of the %d scenarios", f.filter, total))
				}
				return invalid(errors.New("no scenarios found (a scenario is a YAML file with kind: Scenario)"))
			}
			st := reports.Style{Color: colorEnabled(stdout), Width: terminalWidth(stdout)}
			cl, err := startCluster(cmd.Context(), f.cluster)
			if err != nil {
				return err
			}
			defer cl.stop()
			fmt.Fprintf(stdout, "aviary: %d scenario(s), cluster mode %s\n\n", len(loaded), cl.describe())
			started := time.Now()
			writeWarnings(stderr, loaded, st)
			// Baselines cost about as much PromQL again as the checks; only the
			// artifacts show them (the HTML report draws them, and results.json is
			// what "aviary report" draws from later).
			results, errs := sim.RunSuite(cmd.Context(), loaded, f.parallel, cl.suiteOptions(loaded, rf.html != "" || rf.json != "", f.keepSeries))
			var ok []*scenario.Result
			for i, err := range errs {
				if err != nil {
					fmt.Fprintf(stderr, "aviary: %s: %v\n", loaded[i].Scenario.Metadata.Name, err)
					continue
				}
				ok = append(ok, results[i])
			}
			if err := reports.WriteSummary(stdout, ok, st); err != nil {
				return err
			}
			if err := rf.write(stdout, loaded, results, errs, time.Since(started)); err != nil {
				return err
			}
			if errors.Join(errs...) != nil {
				return &exitError{code: exitInvalid}
			}
			for _, r := range ok {
				if !r.Passed {
					return &exitError{code: exitFailed}
				}
			}
			return nil
		},
	}
	f.register(cmd)
	rf.register(cmd)
	return cmd
}

// selectScenarios keeps the scenarios whose name matches filter (all when nil).
func selectScenarios(loaded []*scenario.Loaded, filter *regexp.Regexp) []*scenario.Loaded {
	if filter == nil {
		return loaded
	}
	var out []*scenario.Loaded
	for _, l := range loaded {
		if filter.MatchString(l.Scenario.Metadata.Name) {
			out = append(out, l)
		}
	}
	return out
}

// colorEnabled is true when w is a terminal and NO_COLOR is unset.
func colorEnabled(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" { // no-color.org: set and non-empty
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is w's width in columns when it is a terminal, else 0.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// writeWarnings prints load-time warnings (e.g. a query that does not parse), one per
// line, before anything runs.
func writeWarnings(w io.Writer, loaded []*scenario.Loaded, st reports.Style) {
	for _, l := range loaded {
		for _, warn := range l.Warnings {
			fmt.Fprintf(w, "%s %s: %s\n", st.Paint("33", "warning:"), l.Scenario.Metadata.Name, warn)
		}
	}
}
