package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/sim/scaffold"
)

func newInitCommand(stdout, stderr io.Writer) *cobra.Command {
	var dir string
	var force bool
	cmd := &cobra.Command{
		Use:   "init POLICY.yaml...",
		Short: "Write a starting scenario set for your Canary, with expectations computed from it",
		Long: `Write five scenarios for the Canary in the policy files — a healthy promotion, a
5xx burst, a latency spike, no traffic, and a new revision mid-analysis — with
expectations computed from the policy as Flagger reads it: the steps to promotion
(stepWeight, maxWeight, stepWeights, or iterations), the analysis interval and
threshold, and which of its checks can see each fault.

Give the file that holds the Canary and those its MetricTemplates, AlertProviders,
Deployment, Services or ConfigMaps live in. The scenarios refer to them by a path
relative to the output directory (spec.policy.files), never copy them: the Canary
stays the one source. The world fits the provider (istio, traefik, kubernetes) and
gives the application counters the Canary's templates read values under which a
healthy version passes; what aviary cannot derive (a gauge of your application's)
is printed and written in the files, for you to add.

Every scenario is run once before it is written. For each, one line says what it
expects and why; a FINDING is a fault no check of the Canary sees (the scenario
then expects what Flagger will do: promote it).

Existing files are not overwritten without --force.

Exit status: 0 when the scenarios were written and their expectations hold when
run, 1 when written but some expectation does not hold as generated (a series only
you can give), 2 on invalid input (no Canary, a file that cannot be read, a file
that exists).`,
		Example: `  aviary init deploy/podinfo-canary.yaml -o scenarios/
  aviary init canary.yaml flagger-templates.yaml -o scenarios/ --force
  aviary test scenarios/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if info, err := os.Stat(dir); err == nil && !info.IsDir() {
				return invalid(fmt.Errorf("%s: not a directory (-o names the directory the scenarios go to)", dir))
			}
			set, err := scaffold.Generate(cmd.Context(), scaffold.Options{Files: args, Dir: dir})
			if err != nil {
				return invalid(err)
			}
			if !force {
				for _, f := range set.Files {
					if _, err := os.Lstat(f.Path); err == nil || !errors.Is(err, fs.ErrNotExist) {
						return invalid(fmt.Errorf("%s: exists (aviary init overwrites no file without --force)", f.Path))
					}
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return invalid(fmt.Errorf("output directory: %w", err))
			}
			for _, w := range set.Warnings {
				fmt.Fprintln(stderr, "warning:", w)
			}
			fmt.Fprintf(stdout, "Canary %s: %d scenarios in %s\n", set.Canary, len(set.Files), filepath.Clean(dir))
			for _, f := range set.Files {
				if err := os.WriteFile(f.Path, f.Data, 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", f.Path, err)
				}
				fmt.Fprintf(stdout, "  wrote %s: %s\n", f.Path, f.Summary)
			}
			var findings []string
			for _, f := range set.Files {
				for _, x := range f.Findings {
					if !slices.Contains(findings, x) {
						findings = append(findings, x)
						fmt.Fprintf(stdout, "FINDING: %s\n", x)
					}
				}
			}
			for _, n := range set.Notes {
				fmt.Fprintf(stdout, "note: %s\n", n)
			}
			problems := set.Problems()
			for _, p := range problems {
				fmt.Fprintf(stdout, "does not hold as generated: %s\n", p)
			}
			if len(problems) > 0 {
				return &exitError{code: exitFailed}
			}
			fmt.Fprintf(stdout, "Every expectation holds when run: aviary test %s\n", filepath.Clean(dir))
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "output", "o", "scenarios", "directory to write the scenarios to (created if missing)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing scenario files")
	return cmd
}
