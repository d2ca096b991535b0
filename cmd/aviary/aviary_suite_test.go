package main

import (
	"bytes"
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestAviaryCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aviary CLI")
}

// cliResult is what one in-process invocation of the CLI produced.
type cliResult struct {
	code   int
	stdout string
	stderr string
}

// invokeCLI runs the CLI in-process through run, as main does, and captures its
// exit code and both output streams.
func invokeCLI(args ...string) cliResult {
	GinkgoHelper()
	// main passes os.Args[1:], which is never nil. run(ctx, nil, ...) is not the same
	// thing: cobra reads a nil argument list from os.Args, i.e. from the test
	// binary's own flags (-ginkgo.v makes it exit 2).
	if args == nil {
		args = []string{}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// scenarioDir is the project's scenario library, relative to this package.
const scenarioDir = "../../scenarios"
