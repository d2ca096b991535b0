package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FlaggerVersion is the Flagger release `make e2e-flagger` runs; it equals
// FLAGGER_VERSION in hack/tool-assets.sh (a test checks).
const FlaggerVersion = "v1.44.0"

// PrometheusModule is the module the Prometheus server is built from, at the
// version the root go.mod requires.
const PrometheusModule = "github.com/prometheus/prometheus"

// ModuleRoot is the directory holding aviary's go.mod: the working directory or
// the nearest parent with one.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod in %s or a parent", wd)
		}
	}
}

// Required is the version gomod (a go.mod file) requires module at.
func Required(gomod, module string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == module {
			return fields[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", gomod, err)
	}
	return "", fmt.Errorf("%s does not require %s", gomod, module)
}

// MissingToolError says that a binary the harness runs has not been built.
type MissingToolError struct {
	Path, Make string
}

func (e *MissingToolError) Error() string {
	return fmt.Sprintf("%s not found: run `make %s` in the aviary repository to build it from its Go module "+
		"(several minutes the first time; hack/README.md)", e.Path, e.Make)
}

// Tool is the path of a tool hack/tool-assets.sh built: $env when set, else
// bin/<name>/<version>/<name> under the module root. The error is a
// *MissingToolError when the file is not there.
func Tool(env, name, version string) (string, error) {
	path := os.Getenv(env)
	if path == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		path = filepath.Join(root, "bin", name, version, name)
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && (st.IsDir() || st.Mode()&0o111 == 0) {
		return "", &MissingToolError{Path: path, Make: name}
	}
	return path, err
}

// PrometheusBinary is the Prometheus server: $AVIARY_PROMETHEUS, else
// bin/prometheus/<the root go.mod's version>/prometheus.
func PrometheusBinary() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	v, err := Required(filepath.Join(root, "go.mod"), PrometheusModule)
	if err != nil {
		return "", err
	}
	return Tool("AVIARY_PROMETHEUS", "prometheus", v)
}

// FlaggerBinary is Flagger: $AVIARY_FLAGGER, else bin/flagger/<FlaggerVersion>/flagger.
func FlaggerBinary() (string, error) { return Tool("AVIARY_FLAGGER", "flagger", FlaggerVersion) }

// HelmModule is the module hack/tool-assets.sh builds helm from, at the version
// hack/helm/go.mod requires.
const HelmModule = "helm.sh/helm/v4"

// HelmBinary is helm (the RBAC runs render the chart with it): $AVIARY_HELM, else
// bin/helm/<hack/helm/go.mod's version>/helm.
func HelmBinary() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	v, err := Required(filepath.Join(root, "hack", "helm", "go.mod"), HelmModule)
	if err != nil {
		return "", err
	}
	return Tool("AVIARY_HELM", "helm", v)
}
