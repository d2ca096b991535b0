package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/e2e"
	"aviary.dev/aviary/sim/cluster"
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "e2e")
}

// requireE2E: `make test` sets AVIARY_REQUIRE_E2E=1, so that a missing binary fails
// the end-to-end specs there; a plain `go test ./...` skips them and says why.
var requireE2E = os.Getenv("AVIARY_REQUIRE_E2E") == "1"

// tool returns a built tool's path; when it is missing, it fails if required and
// otherwise skips, saying how to build it.
func tool(find func() (string, error), required bool) string {
	GinkgoHelper()
	path, err := find()
	var missing *e2e.MissingToolError
	if errors.As(err, &missing) && !required {
		Skip(fmt.Sprintf("end-to-end test skipped: %v; `make test` builds it and runs this test", err))
	}
	Expect(err).NotTo(HaveOccurred())
	return path
}

// stack is what every end-to-end spec shares: one API server and the files to reach it.
type stack struct {
	env *cluster.Envtest
	// dir holds the logs, kubeconfigs and Prometheus' TSDBs; kept when a spec fails.
	dir        string
	kubeconfig string
	client     client.WithWatch
	// aviary and prometheus are the binaries the live runs start.
	aviary, prometheus string
}

var (
	shared     *stack
	sharedErr  error
	sharedOnce sync.Once
	// stacks are every stack started, stopped after the suite.
	stacks []*stack
)

// theStack starts the API server the first time a spec needs it, and finds or
// builds the binaries.
func theStack() *stack {
	GinkgoHelper()
	prom := tool(e2e.PrometheusBinary, requireE2E)
	sharedOnce.Do(func() {
		if shared, sharedErr = newStackWith(mainStackArgs()); sharedErr == nil {
			shared.prometheus = prom
			shared.aviary, sharedErr = aviaryBinary(shared.dir)
		}
	})
	Expect(sharedErr).NotTo(HaveOccurred())
	return shared
}

// newStack starts an API server of its own.
func newStack() (*stack, error) { return newStackWith(nil) }

// newStackWith is newStack with the kube-apiserver flags args makes for the
// stack's directory (nil: none).
func newStackWith(args func(dir string) (map[string]string, error)) (*stack, error) {
	dir, err := os.MkdirTemp("", "aviary-e2e-")
	if err != nil {
		return nil, err
	}
	var apiArgs map[string]string
	if args != nil {
		if apiArgs, err = args(dir); err != nil {
			return nil, err
		}
	}
	env, err := cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{APIGroup: v1beta1.FlaggerGroupVersion.Group, APIServerArgs: apiArgs})
	if err != nil {
		return nil, err
	}
	s := &stack{env: env, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig")}
	stacks = append(stacks, s)
	if err := e2e.WriteKubeconfig(env.Config, "", s.kubeconfig); err != nil {
		_ = env.Stop()
		return nil, err
	}
	scheme, err := cluster.NewSchemeIn(v1beta1.FlaggerGroupVersion.Group)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	if s.client, err = client.NewWithWatch(env.Config, client.Options{Scheme: scheme}); err != nil {
		_ = env.Stop()
		return nil, err
	}
	GinkgoWriter.Printf("e2e: API server up in %v; logs and kubeconfig in %s\n", env.Startup, dir)
	return s, nil
}

var failed bool

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		failed = true
	}
})

var _ = AfterSuite(func() {
	stopLives()
	for _, s := range stacks {
		Expect(s.env.Stop()).To(Succeed())
		if failed || os.Getenv("AVIARY_E2E_KEEP") == "1" {
			fmt.Fprintf(GinkgoWriter, "e2e: the processes' logs are kept in %s\n", s.dir)
			continue
		}
		Expect(os.RemoveAll(s.dir)).To(Succeed())
	}
})

// processes registers processes to stop when the spec ends, and prints where their
// logs are (with their last lines) when it failed.
func processes(ps ...*e2e.Process) {
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			var b strings.Builder
			for _, p := range ps {
				fmt.Fprintf(&b, "\n---- %s (%s), last lines:\n%s\n", p.Name, p.Log, p.Tail(3000))
			}
			AddReportEntry("process logs", b.String())
		}
		for _, p := range ps {
			Expect(p.Stop(5e9)).To(Succeed())
		}
	})
}
