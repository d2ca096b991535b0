package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aviary.dev/aviary/sim/scenario"
)

// FuzzLoadScenario feeds arbitrary bytes to the loader as a scenario file: it must
// never panic, and every error must name the file. The seeds are the loader's
// fixtures; every policy file of the fixtures (good and bad: manifests, HPAs of old
// APIs, refused kinds and versions) is available both as policies/<name> and
// ../policies/<name>, so the seeds load and reach the policy paths.
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
	policies, _ := filepath.Glob(filepath.Join(loadData, "policies", "*.yaml"))
	badPolicies, _ := filepath.Glob(filepath.Join(loadData, "bad", "policies", "*.yaml"))
	root := f.TempDir()
	dir := filepath.Join(root, "scenarios")
	for _, d := range []string{filepath.Join(root, "policies"), filepath.Join(dir, "policies")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
		for _, p := range append(policies, badPolicies...) {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, filepath.Base(p)), data, 0o644); err != nil {
				f.Fatal(err)
			}
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

// FuzzConvert feeds arbitrary bytes to `aviary convert`: it must never panic, an error
// must name the file, and what it prints must be YAML again.
func FuzzConvert(f *testing.F) {
	for _, p := range []string{
		filepath.Join("..", "..", "cmd", "aviary", "testdata", "convert", "podinfo-2018.yaml"),
		filepath.Join(loadData, "policies", "manifests.yaml"),
		filepath.Join(loadData, "bad", "policies", "deployment-v1beta1.yaml"),
		filepath.Join(loadData, "bad", "policies", "canary-analysis.yaml"),
		filepath.Join(loadData, "bad", "policies", "hpa-unknown-field.yaml"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := scenario.Convert("in.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, _, err := scenario.Convert("out.yaml", out); err != nil {
			t.Fatalf("the output is not YAML: %v\n%s", err, out)
		}
	})
}
