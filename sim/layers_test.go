package sim_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const module = "aviary.dev/aviary/"

// forbidden lists, per package directory (relative to the module root; a trailing
// "/..." covers the subdirectories), the project packages its non-test code must not
// import: layers only point down (cmd → sim → sim/scenario, sim/world, sim/promstore,
// sim/cluster → engine → api, with sim/apicheck under sim/scenario and sim/cluster;
// docs/architecture.md), and the parts of a simulation meet only in the runner and in
// sim serve (sim/serve, beside the runner: it plays the runner's sim.Stage in wall-clock
// time, and knows nothing of the engine's decisions or a controller).
var forbidden = map[string][]string{
	"api/...":       {"engine/...", "sim/...", "controller/...", "reports/...", "cmd/..."},
	"engine/...":    {"sim/...", "reports/...", "cmd/...", "controller/..."},
	"sim/scenario":  {"sim/serve", "sim", "sim/cluster", "sim/promstore", "reports/...", "cmd/..."},
	"sim/apicheck":  {"sim/serve", "engine/...", "sim", "sim/cluster", "sim/scenario", "sim/world", "sim/promstore", "reports/...", "cmd/..."},
	"sim/world":     {"sim/serve", "sim", "sim/cluster", "sim/scenario", "engine/...", "reports/...", "cmd/..."},
	"sim/promstore": {"sim/serve", "sim", "sim/cluster", "sim/scenario", "sim/world", "reports/...", "cmd/..."},
	"sim/cluster":   {"sim/serve", "sim", "sim/scenario", "sim/world", "sim/promstore", "reports/...", "cmd/..."},
	"sim":           {"sim/serve", "sim/explore", "reports/...", "cmd/..."},
	// a played run's series under PromQL: what the run filled, nothing of how a
	// rollout decides or how the world is made
	"sim/explore": {"engine/...", "sim/world", "sim/cluster", "sim/serve", "controller/...", "reports/...", "cmd/..."},
	"sim/serve":   {"engine", "engine/analysis", "engine/router", "engine/workload", "controller/...", "reports/...", "cmd/..."},
	"reports/...": {"sim", "sim/cluster", "sim/promstore", "sim/world", "cmd/..."},
	// Go tests' way in: loads with sim/scenario, runs with sim, words with reports;
	// plays nothing itself and decides nothing
	"policytest": {"sim/apicheck", "engine/router", "engine/workload", "engine/hooks", "engine/analysis", "sim/serve", "sim/promstore", "sim/world", "controller/...", "cmd/..."},
	// aviary lint: policies checked without running them, through the loader and the
	// engine's own rules; nothing of how a run is played
	"lint": {"sim", "sim/world", "sim/cluster", "sim/promstore", "sim/serve", "sim/explore", "controller/...", "reports/...", "policytest", "deploy/...", "e2e/...", "cmd/..."},
	// the live controller: plugs the engine's live ports; nothing of the simulator
	"controller": {"sim/...", "reports/...", "cmd/..."},
	// the live controller's metric source and alert senders: ports of the engine,
	// nothing of the simulator or of the controller that plugs them in
	"controller/promapi": {"controller", "controller/notify", "sim/...", "reports/...", "cmd/..."},
	"controller/notify":  {"controller", "controller/promapi", "sim/...", "reports/...", "cmd/..."},
	// the install manifests' generators: manifests and aviary's API, nothing that runs
	"deploy": {"engine/...", "sim/...", "controller/...", "e2e/...", "reports/...", "cmd/..."},
	// the end-to-end harness runs the controller and sim serve as programs: it
	// compares what they leave on the API server, not their code
	"e2e": {"controller/...", "sim/serve", "reports/...", "cmd/..."},
	// the one version source: every package may import it, so it imports none
	"version": {"api/...", "engine/...", "sim/...", "controller/...", "reports/...", "cmd/...", "deploy/...", "e2e/..."},
	// the image builder: a binary, a user and certificates; what the binary does is not its concern
	"deploy/image": {"api/...", "engine/...", "sim/...", "controller/...", "reports/...", "cmd/...", "e2e/..."},
}

// covers reports whether pattern ("a/b" or "a/..." ) covers the package path rel.
func covers(pattern, rel string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// importsOf lists the project packages (relative to the module) the non-test Go
// files of dir import.
func importsOf(dir string) []string {
	GinkgoHelper()
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		Expect(err).NotTo(HaveOccurred())
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if rel, ok := strings.CutPrefix(path, module); ok {
				out = append(out, name+" imports "+rel)
			}
		}
	}
	return out
}

var _ = Describe("the packages' layers", func() {
	It("only point down, and the parts of a simulation meet only in the runner", func() {
		root := ".."
		var violations []string
		checked := 0
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if strings.HasPrefix(rel, "bin") || strings.HasPrefix(rel, "hack") || strings.Contains(rel, "testdata") || strings.HasPrefix(rel, ".") && rel != "." {
				return filepath.SkipDir
			}
			for pattern, bans := range forbidden {
				if !covers(pattern, rel) {
					continue
				}
				checked++
				for _, imp := range importsOf(path) {
					for _, ban := range bans {
						if covers(ban, imp[strings.LastIndex(imp, " ")+1:]) {
							violations = append(violations, rel+"/"+imp)
						}
					}
				}
			}
			return nil
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(checked).To(BeNumerically(">=", 12), "the walk reached the packages")
		Expect(violations).To(BeEmpty())
	})

	It("would report an upward import", func() {
		Expect(covers("sim/...", "sim/world")).To(BeTrue())
		Expect(covers("sim/...", "simulator")).To(BeFalse())
		Expect(covers("sim", "sim/world")).To(BeFalse())
		imps := importsOf("cluster")
		Expect(imps).NotTo(BeEmpty())
		Expect(imps).To(ContainElement(HaveSuffix(" imports engine/hooks")), "the walk sees the cluster's imports")
	})
})
