// Command aviary simulates and tests Flagger-style canary policies in virtual time.
//
//	aviary test scenarios/          run a scenario suite, exit 0 when every expectation holds
//	aviary run scenarios/x.yaml     show one run tick by tick
//	aviary query x.yaml --at 4m Q   evaluate PromQL against a scenario's world at a virtual time
//	aviary serve x.yaml             serve a scenario's world over the Prometheus HTTP API
//	aviary lint deploy/             check canary policies without running them
//	aviary convert old-canary.yaml  print a v1alpha Canary (and old HPAs, Deployments) as v1beta1
//	aviary sim serve e2e/scenarios/ play scenarios' worlds in wall-clock time for a live controller
//	aviary version                  print the version, commit and Flagger semantics version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"aviary.dev/aviary/version"
)

// Exit codes (docs/scenario-format.md#specexpect).
const (
	exitOK      = 0
	exitFailed  = 1
	exitInvalid = 2
)

// exitError carries an exit code out of a command; its message (if any) was printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// invalid marks an error as bad input (exit 2).
func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	restoreGC := tuneGC(ctx, os.Args[1:])
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	restoreGC()
	stop()
	os.Exit(code)
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	if args == nil {
		args = []string{} // cobra would fall back to os.Args
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "aviary:", ee.err)
		}
		return ee.code
	}
	// cobra's own usage errors (unknown flag, wrong argument count) are bad input.
	fmt.Fprintln(stderr, "aviary:", err)
	return exitInvalid
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "aviary",
		Short: "Simulate and test canary rollout policies before production",
		Long: `aviary runs a Flagger-exact rollout engine against Prometheus' own PromQL engine
fed synthetic time series, in virtual time, and checks what your canary policy
decides in the scenarios you describe: latency spikes, 5xx bursts, NaN ratios,
missing traffic, stuck gates, new revisions mid-analysis.

Exit status: 0 when every expectation of every scenario holds, 1 when any fails,
2 on invalid input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what `aviary version` prints.
		Version: version.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newTestCommand(stdout, stderr), newRunCommand(stdout, stderr), newQueryCommand(stdout, stderr), newServeCommand(stderr), newReportCommand(stdout, stderr), newConvertCommand(stdout, stderr), newLintCommand(stdout), newSimCommand(stderr), newControllerCommand(stdout, stderr), newVersionCommand(stdout))
	return root
}
