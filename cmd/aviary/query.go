package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/spf13/cobra"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/explore"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// queryOutputs are the formats of `aviary query -o`.
var queryOutputs = []string{"text", "json"}

// queryFlags are `aviary query`'s flags.
type queryFlags struct {
	at, between, step, output string
}

func newQueryCommand(stdout, stderr io.Writer) *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query SCENARIO EXPR",
		Short: "Evaluate PromQL against a scenario's world at a virtual time, as the policy saw it",
		Long: `Play a scenario (as "aviary run" does, keeping every sample) and evaluate a
PromQL expression against its world's series with Prometheus' own PromQL engine,
configured as the simulator's checks are (5m lookback delta): a query at the time
of an analysis tick answers what a check at that tick read.

Times are virtual offsets from the scenario's start, written as the scenario
format writes them (30s, 4m, 1h30m), from 0 to spec.until.

  --at T             an instant query at T (default: the scenario's end)
  --range A:B        a range query from A to B, every --step (default 1m)

Output: an instant vector is one line per series, "metric{labels} value"; a range
query's series each come with "t=OFFSET value" rows; a scalar is "scalar value".
-o json prints the Prometheus HTTP API's answer ({"status":"success","data":
{"resultType":...,"result":...}}), with times in Unix seconds from the scenario's
start at ` + scenarioStart + `.

Exit status: 0 when the query was answered, 2 on invalid input (a scenario that
does not load, PromQL that does not parse, a time outside the run).`,
		Example: `  # Why did request-success-rate read 70 at 6m ("aviary run" shows the value; the
  # check's query is in the record: aviary test --json, metrics[].query)? Ask
  # for its parts at that tick, e.g. the canary's request rate per response code:
  aviary query scenarios/podinfo-500-burst.yaml --at 6m \
    'sum by (response_code) (rate(istio_requests_total{destination_workload="podinfo"}[1m]))'
  #   {response_code="200"} 20.999999999999996
  #   {response_code="500"} 9                   -> 21 / 30 = 70%
  # The same for a ratio of 1.037: query its numerator and denominator at the tick.
  # How the canary's request rate grew through the analysis, minute by minute:
  aviary query scenarios/podinfo-500-burst.yaml --range 0m:20m --step 1m \
    'sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, expr := args[0], args[1]
			if err := f.validate(); err != nil {
				return invalid(err)
			}
			if err := explore.Parse(expr); err != nil {
				return invalid(fmt.Errorf("query %q: %w", expr, err))
			}
			_, w, err := playWorld(cmd.Context(), file, stderr)
			if err != nil {
				return invalid(err)
			}
			a, err := f.query(cmd, w, expr)
			if err != nil {
				return invalid(fmt.Errorf("%s: %w", file, err))
			}
			defer a.Close()
			warnings, infos := a.Warnings.AsStrings(expr, 10, 10)
			for _, s := range append(warnings, infos...) {
				fmt.Fprintln(stderr, "aviary: warning:", s)
			}
			if f.output == "json" {
				return writeQueryJSON(stdout, a, warnings, infos)
			}
			return writeQueryText(stdout, w, a.Value)
		},
	}
	cmd.Flags().StringVar(&f.at, "at", "", "virtual time of an instant query, e.g. 4m (default: the scenario's end)")
	cmd.Flags().StringVar(&f.between, "range", "", "virtual times START:END of a range query, e.g. 0m:20m")
	cmd.Flags().StringVar(&f.step, "step", "", "a range query's resolution (default 1m)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", fmt.Sprintf("format: %q", queryOutputs))
	return cmd
}

// scenarioStart is virtual time zero, as the help texts give it.
var scenarioStart = scenario.Epoch.Format(time.RFC3339) + " (Unix " + strconv.FormatInt(scenario.Epoch.Unix(), 10) + ")"

// validate checks the flags that need no scenario.
func (f *queryFlags) validate() error {
	switch {
	case f.output != "text" && f.output != "json":
		return fmt.Errorf("-o %q: the formats are %q", f.output, queryOutputs)
	case f.at != "" && f.between != "":
		return fmt.Errorf("--at and --range: give one (an instant or a range query)")
	case f.step != "" && f.between == "":
		return fmt.Errorf("--step is a range query's: give --range too")
	}
	for _, t := range []struct{ flag, v string }{{"--at", f.at}, {"--step", f.step}} {
		if t.v != "" {
			if _, err := parseOffset(t.v); err != nil {
				return fmt.Errorf("%s: %w", t.flag, err)
			}
		}
	}
	if f.between != "" {
		if _, _, err := f.rangeOffsets(); err != nil {
			return err
		}
	}
	return nil
}

// rangeOffsets are --range's start and end.
func (f *queryFlags) rangeOffsets() (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(f.between, ":")
	if !ok {
		return 0, 0, fmt.Errorf("--range %q: want START:END, e.g. 0m:20m", f.between)
	}
	if start, err = parseOffset(a); err == nil {
		end, err = parseOffset(b)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("--range %q: %w", f.between, err)
	}
	return start, end, nil
}

// parseOffset reads a virtual time as the scenario format writes durations: a Go
// duration such as 30s or 4m, or a bare 0.
func parseOffset(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad time %q (want a Go duration such as 30s or 4m)", s)
	}
	return d, nil
}

// query runs the instant or range query the flags ask for.
func (f *queryFlags) query(cmd *cobra.Command, w *explore.World, expr string) (*explore.Answer, error) {
	if f.between == "" {
		at := w.End.Sub(w.Start)
		if f.at != "" {
			at, _ = parseOffset(f.at) // validated
		}
		t, err := w.At(at)
		if err != nil {
			return nil, fmt.Errorf("--at: %w", err)
		}
		return w.Query(cmd.Context(), expr, t)
	}
	a, b, _ := f.rangeOffsets() // validated
	start, err := w.At(a)
	if err == nil {
		var end time.Time
		if end, err = w.At(b); err == nil {
			step := time.Minute
			if f.step != "" {
				step, _ = parseOffset(f.step)
			}
			return w.QueryRange(cmd.Context(), expr, start, end, step)
		}
	}
	return nil, fmt.Errorf("--range: %w", err)
}

// writeQueryText writes a query's value, times as virtual offsets.
func writeQueryText(out io.Writer, w *explore.World, v parser.Value) error {
	offset := func(ms int64) time.Duration { return time.UnixMilli(ms).Sub(w.Start) }
	var b strings.Builder
	switch v := v.(type) {
	case promql.Vector:
		if len(v) == 0 {
			b.WriteString("no series\n")
		}
		for _, s := range v {
			fmt.Fprintf(&b, "%s %s\n", seriesName(s.Metric), formatValue(s.F))
		}
	case promql.Matrix:
		if len(v) == 0 {
			b.WriteString("no series\n")
		}
		for _, s := range v {
			fmt.Fprintln(&b, seriesName(s.Metric))
			for _, p := range s.Floats {
				fmt.Fprintf(&b, "  t=%s %s\n", offset(p.T), formatValue(p.F))
			}
		}
	case promql.Scalar:
		fmt.Fprintf(&b, "scalar %s\n", formatValue(v.V))
	case promql.String:
		fmt.Fprintf(&b, "string %q\n", v.V)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// seriesName is a series as Prometheus writes it, "{}" for one without labels.
func seriesName(l labels.Labels) string {
	if l.IsEmpty() {
		return "{}"
	}
	return l.String()
}

// formatValue writes a sample value as the Prometheus HTTP API does.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// writeQueryJSON writes the Prometheus HTTP API's answer to the query.
func writeQueryJSON(out io.Writer, a *explore.Answer, warnings, infos []string) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(promstore.APIResponse{
		Status:   "success",
		Data:     promstore.APIQueryData{ResultType: a.Value.Type(), Result: a.Value},
		Warnings: warnings,
		Infos:    infos,
	})
}

// playWorld loads file, writes its load-time warnings to stderr and plays it,
// keeping every sample: the world aviary query and aviary serve read.
func playWorld(ctx context.Context, file string, stderr io.Writer) (*scenario.Loaded, *explore.World, error) {
	l, err := scenario.LoadFile(file)
	if err != nil {
		return nil, nil, err
	}
	writeWarnings(stderr, []*scenario.Loaded{l}, reports.Style{Color: colorEnabled(stderr)})
	w, err := explore.Play(ctx, l, sim.RunOptions{})
	if err != nil {
		return nil, nil, err
	}
	return l, w, nil
}
