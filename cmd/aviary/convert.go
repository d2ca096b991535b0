package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/sim/scenario"
)

func newConvertCommand(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "convert FILE...",
		Short: "Print policy files written for older Flagger and Kubernetes APIs as Flagger 1.44 reads them",
		Long: `Print the objects of policy files written for APIs that are no longer served, as
Flagger 1.44 and a current Kubernetes serve them, following Flagger's upgrade
guide:

  Canary flagger.app/v1alpha1..3   -> flagger.app/v1beta1: canaryAnalysis becomes
                                      analysis (interval 1m when none was given);
                                      istio_requests_total becomes request-success-rate
                                      and its threshold thresholdRange.min (percent);
                                      istio_request_duration_seconds_bucket becomes
                                      request-duration and its threshold
                                      thresholdRange.max (milliseconds); any other
                                      threshold becomes thresholdRange.max;
                                      autoscalerRef names autoscaling/v2
  HorizontalPodAutoscaler          -> autoscaling/v2, from v2beta1, v2beta2 or v1, as
                                      the API server converted them
  Deployment apps/v1beta1, v1beta2,
  extensions/v1beta1               -> apps/v1, with spec.selector from the pod
                                      template's labels when missing

Every other object is printed as it is. Keys keep their order and comments. The
result goes to standard output as multi-document YAML (the files one after the
other); what was changed is listed on standard error as FILE:LINE: notes.

Exit status: 0 when every file was converted, 2 when a file cannot be read or is
not YAML.`,
		Example: `  aviary convert policies/podinfo.yaml > policies/podinfo-v1beta1.yaml`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, file := range args {
				data, err := scenario.ReadFile(file)
				if err != nil {
					return invalid(err)
				}
				out, notes, err := scenario.Convert(file, data)
				if err != nil {
					return invalid(err)
				}
				if i > 0 {
					fmt.Fprintln(stdout, "---")
				}
				if _, err := stdout.Write(out); err != nil {
					return err
				}
				for _, n := range notes {
					fmt.Fprintln(stderr, "aviary: note:", n)
				}
			}
			return nil
		},
	}
}
