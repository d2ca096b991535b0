package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aviary.dev/aviary/sim/scenario"
)

// FuzzLoadScenario feeds arbitrary bytes to the loader as a scenario file: it must
// never panic, and every error must name the file. The policy fixture is available
// both as policies/podinfo.yaml and ../policies/podinfo.yaml, so the seeds load.
func FuzzLoadScenario(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(loadData, "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(loadData, "*", "*.y*ml"))
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	policy, err := os.ReadFile(filepath.Join(loadData, "policies", "podinfo.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	root := f.TempDir()
	dir := filepath.Join(root, "scenarios")
	for _, d := range []string{filepath.Join(root, "policies"), filepath.Join(dir, "policies")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "podinfo.yaml"), policy, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	file := filepath.Join(dir, "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ld, err := scenario.LoadFile(file)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, file) {
					t.Fatalf("error does not name the file %s: %q", file, line)
				}
			}
			if ld != nil {
				t.Fatalf("a Loaded and an error: %v", err)
			}
			return
		}
		if ld.Canary == nil || ld.Scenario == nil || ld.Scenario.Spec.Target.Replicas == nil || ld.Scenario.Spec.World.RPS == nil {
			t.Fatalf("loaded without a Canary or defaults: %+v", ld)
		}
	})
}
