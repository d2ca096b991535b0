package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/reports"
	"aviary.dev/aviary/sim/scenario"
)

func newReportCommand(stdout, stderr io.Writer) *cobra.Command {
	var out, junitOut, title string
	cmd := &cobra.Command{
		Use:   "report RESULTS.json",
		Short: "Render saved run results as an HTML report (and JUnit XML)",
		Long: `Render the results saved by "aviary test --json FILE" as one self-contained
HTML page: a suite summary, and per scenario what was decided and why, every
expectation, a timeline of traffic weights and phases with the share of user
requests the canary actually served, one chart per metric against its threshold
(NaN, no-data and error checks marked) with the same query against the primary
as a baseline, the resolved PromQL, the event log and the webhook calls. The
page needs no network access.

RESULTS.json "-" reads standard input. Without -o the page is written next to
RESULTS.json with the extension .html.

Exit status: 0 when the report was written (whatever the scenarios' verdicts),
2 when RESULTS.json cannot be read or is not an aviary results file.`,
		Example: `  aviary test scenarios/ --json results.json
  aviary report results.json -o report.html
  aviary report results.json -o report.html --junit junit.xml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := args[0]
			if out == "" {
				if in == "-" {
					return invalid(fmt.Errorf("-o FILE is required when reading standard input"))
				}
				out = strings.TrimSuffix(in, filepath.Ext(in)) + ".html"
			}
			results, err := readResults(in)
			if err != nil {
				return invalid(err)
			}
			if err := writeArtifact(out, func(w io.Writer) error {
				return reports.WriteHTML(w, results, reports.HTMLOptions{Title: title})
			}); err != nil {
				return invalid(fmt.Errorf("-o %s: %w", out, err))
			}
			fmt.Fprintf(stdout, "wrote %s (%s)\n", out, plural(len(results), "scenario"))
			if junitOut != "" {
				if err := writeArtifact(junitOut, func(w io.Writer) error {
					return reports.WriteJUnit(w, results, reports.JUnitOptions{})
				}); err != nil {
					return invalid(fmt.Errorf("--junit %s: %w", junitOut, err))
				}
				fmt.Fprintf(stdout, "wrote %s\n", junitOut)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "HTML file to write (default: RESULTS with the extension .html)")
	cmd.Flags().StringVar(&junitOut, "junit", "", "also write JUnit XML to this file")
	cmd.Flags().StringVar(&title, "title", "", `page title (default "aviary report")`)
	return cmd
}

// readResults reads a results document from a file, or from standard input for "-".
func readResults(path string) ([]*scenario.Result, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := scenario.OpenRegular(path)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	results, err := reports.ReadJSON(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return results, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
