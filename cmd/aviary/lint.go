package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/lint"
)

// lintOutputs are the formats of `aviary lint -o`; lintFailOn the values of --fail-on.
var (
	lintOutputs = []string{"text", "json", "sarif"}
	lintFailOn  = []string{"error", "warning", "info", "never"}
)

// lintFlags are `aviary lint`'s flags.
type lintFlags struct {
	output, failOn, file string
	scrape               time.Duration
}

func newLintCommand(stdout io.Writer) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint PATH...",
		Short: "Check canary policies without running them: each finding says what goes wrong at run time and the fix",
		Long: `Check Canary, MetricTemplate and AlertProvider files (or scenario files) for the
policy bugs Flagger users hit: queries that do not render or parse with Flagger's
variables, divisions that turn into NaN, "NaN guards" that do not guard, rate
windows too short for the scrape interval, canary selectors that match the
primary's pods, ratios that measure the complement of what their threshold bounds,
metric names Flagger does not know, and the analysis, webhook and alerting rules.
Nothing is run; every finding names its rule, file:line, object and field, says
what Flagger does with it at run time and what to write instead. The rules and
the library scenario that shows each one's consequence are in README.md ("Lint a
policy"); -o json lists them too.

PATHs are files or directories (searched recursively for *.yaml and *.yml). A
scenario file (kind: Scenario) is linted through its own policy; every Canary of
the other files is linted with the objects those files hold (MetricTemplates,
AlertProviders, Secrets, its Deployment and HorizontalPodAutoscaler); documents of
kinds a policy cannot hold (Kustomizations, VirtualServices, ...) are skipped, and
so are YAML files that are not Kubernetes manifests. MetricTemplates no linted
Canary references are linted with a placeholder Canary (the messages say so).

  -o text|json|sarif   text: "file:line: severity rule: Object: field: message",
                       the fix below it, then a summary line; json: {"findings":
                       [...], "rules": [...]}; sarif: SARIF 2.1.0 for code scanning
  --output FILE        write the output to FILE (stdout gets the summary line)
  --fail-on LEVEL      exit 1 when a finding is at or above LEVEL: error,
                       warning (default), info, or never
  --scrape-interval D  Prometheus' scrape interval rate windows are judged by
                       (default 15s; 30s or more for many Istio and managed
                       setups); for a scenario file, its spec.world.scrapeInterval
                       unless given

Exit status: 0 when no finding is at or above --fail-on, 1 when some is, 2 on
invalid input (a path that cannot be read, invalid YAML, a policy the loader
refuses for another reason than an apiVersion no longer served).`,
		Example: `  aviary lint deploy/canary.yaml deploy/metric-templates.yaml
  aviary lint scenarios/
  aviary lint --fail-on error -o sarif --output aviary.sarif deploy/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(lintOutputs, f.output) {
				return invalid(fmt.Errorf("-o %s: want one of %s", f.output, strings.Join(lintOutputs, ", ")))
			}
			if !slices.Contains(lintFailOn, f.failOn) {
				return invalid(fmt.Errorf("--fail-on %s: want one of %s", f.failOn, strings.Join(lintFailOn, ", ")))
			}
			cfg := lint.Config{}
			if cmd.Flags().Changed("scrape-interval") {
				if f.scrape <= 0 {
					return invalid(fmt.Errorf("--scrape-interval %s: must be positive", f.scrape))
				}
				cfg.ScrapeInterval = f.scrape
			}
			report, err := lint.Lint(args, cfg)
			if err != nil {
				return invalid(err)
			}
			write := map[string]func(io.Writer) error{"text": report.WriteText, "json": report.WriteJSON, "sarif": report.WriteSARIF}[f.output]
			if f.file != "" {
				if err := writeArtifact(f.file, write); err != nil {
					return invalid(fmt.Errorf("--output %s: %w", f.file, err))
				}
				fmt.Fprintf(stdout, "%s; wrote %s\n", report.Summary(), f.file)
			} else if err := write(stdout); err != nil {
				return err
			}
			if f.failOn != "never" {
				level, _ := lint.ParseSeverity(f.failOn)
				if report.Count(level) > 0 {
					return &exitError{code: exitFailed}
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output-format", "o", "text", "output format: "+strings.Join(lintOutputs, ", "))
	fl.StringVar(&f.file, "output", "", "write the output to this file")
	fl.StringVar(&f.failOn, "fail-on", "warning", "exit 1 on a finding at or above: "+strings.Join(lintFailOn, ", "))
	fl.DurationVar(&f.scrape, "scrape-interval", lint.DefaultScrapeInterval, "Prometheus' scrape interval (a scenario file's own when not given)")
	return cmd
}
