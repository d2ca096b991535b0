package deploy_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/e2e"
)

func TestDeploy(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "deploy")
}

// requireTools: `make test` sets AVIARY_REQUIRE_E2E=1 and builds helm and kustomize
// first, so that a missing tool fails these specs there; a plain `go test ./...`
// skips the specs that need one and says how to build it.
var requireTools = os.Getenv("AVIARY_REQUIRE_E2E") == "1"

// root is the module root: the chart's and the tools' paths are relative to it.
var root string

var _ = BeforeSuite(func() {
	var err error
	root, err = e2e.ModuleRoot()
	Expect(err).NotTo(HaveOccurred())
})

// tool is the binary hack/tool-assets.sh builds from the Go module hack/<name>/go.mod
// requires ($AVIARY_<NAME> when set); when it is missing, it fails if required and
// otherwise skips, saying how to build it.
func tool(name, module string) string {
	GinkgoHelper()
	version, err := e2e.Required(filepath.Join(root, "hack", name, "go.mod"), module)
	Expect(err).NotTo(HaveOccurred())
	path, err := e2e.Tool("AVIARY_"+strings.ToUpper(name), name, version)
	var missing *e2e.MissingToolError
	if errors.As(err, &missing) && !requireTools {
		Skip(fmt.Sprintf("%v; `make test` builds it and runs this spec", err))
	}
	Expect(err).NotTo(HaveOccurred())
	return path
}

func helm() string      { return tool("helm", "helm.sh/helm/v4") }
func kustomize() string { return tool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5") }

// chartDir is the chart's directory.
func chartDir() string { return filepath.Join(root, "deploy", "charts", "aviary") }
