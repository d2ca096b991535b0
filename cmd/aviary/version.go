package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/version"
)

// versionOutputs are the formats of `aviary version -o`.
var versionOutputs = []string{"text", "json"}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print aviary's version, commit and the Flagger release whose semantics it reproduces",
		Long: `Print aviary's version, the commit it was built from ("unknown" when the build
carries none) and the Flagger release whose decisions, metrics and log lines it
reproduces, as "aviary --version" does. -o json prints the same as a JSON object
(version, commit, flaggerVersion, goVersion).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			switch output {
			case "text":
				_, err := fmt.Fprintln(stdout, info)
				return err
			case "json":
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			return invalid(fmt.Errorf("-o %q: the formats are %q", output, versionOutputs))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", fmt.Sprintf("format: %q", versionOutputs))
	return cmd
}
