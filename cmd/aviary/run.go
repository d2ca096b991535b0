package main

import (
	"io"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

func newRunCommand(stdout, stderr io.Writer) *cobra.Command {
	var f suiteFlags
	var view reports.RunView
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run one scenario and print it tick by tick",
		Long: `Run one scenario and print every analysis tick: virtual time, phase, router
weights, each metric's value against its threshold, webhook calls and events;
then the expectations.

--until-decided prints the ticks up to and including the one that decides
(Succeeded or Failed), then only the ticks after it that do something (a new
revision, events, checks, route changes); each stretch of idle ticks left out is
one line that says how many. An idle tick is one whose record shows nothing but
reading the API: the ticks the simulator repeats instead of running again.
The expectations are checked on the whole run either way.

Exit status as for "aviary test": 0 when every expectation holds, 1 when any
fails, 2 on invalid input.`,
		Example: `  aviary run scenarios/podinfo-500-burst.yaml
  aviary run scenarios/podinfo-second-release.yaml --until-decided`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := f.validate(); err != nil {
				return err
			}
			l, err := scenario.LoadFileWith(args[0], f.loadOptions())
			if err != nil {
				return invalid(err)
			}
			writeWarnings(stderr, []*scenario.Loaded{l}, reports.Style{Color: colorEnabled(stderr)})
			cl, err := startCluster(cmd.Context(), f.cluster)
			if err != nil {
				return err
			}
			defer cl.stop()
			res, err := sim.Run(cmd.Context(), l, cl.runOptions(l, f.keepSeries))
			if err != nil {
				return &exitError{code: exitInvalid, err: err}
			}
			if err := reports.WriteRun(stdout, res, reports.Style{Color: colorEnabled(stdout)}, view); err != nil {
				return err
			}
			if !res.Passed {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.cluster, "cluster", sim.ModeFast, clusterModeHelp)
	cmd.Flags().BoolVar(&view.UntilDecided, "until-decided", false, "after the decision, leave out the idle ticks (saying how many)")
	cmd.Flags().BoolVar(&f.keepSeries, "keep-series", false, keepSeriesHelp)
	f.registerCanary(cmd)
	return cmd
}
