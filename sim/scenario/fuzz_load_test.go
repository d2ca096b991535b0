package scenario_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/davecgh/go-spew/spew"

	"aviary.dev/aviary/sim/scenario"
)

// The loader's fuzz targets, one per file a scenario run reads: the scenario file
// (FuzzLoadScenario), a policy file it names (FuzzLoadPolicy), and a policy file
// given to `aviary convert` (FuzzConvert). The series notation a scenario holds has
// its own in sim/world (FuzzParseRawSeries), the results file `aviary report` reads
// its own in reports (FuzzReadJSON). `make fuzz` runs each for a short session.
//
// Each asserts what every input must get from the loader (checkLoad): no panic, a
// Loaded or errors but not both, every error a LoadError that names the scenario
// file and, for a field or object of a file it read, the line; the same outcome
// when loaded again.

// libraryDir is the scenario library, relative to this package.
const libraryDir = "../../scenarios"

// fuzzTree lays out what the fuzzed files may name: every policy file of the
// loader's fixtures (good and bad: manifests, HPAs of old APIs, refused kinds and
// versions) as policies/<name> and ../policies/<name> of the returned directory,
// as the fixtures name them, and the library's policy files as library/<name>.
func fuzzTree(f *testing.F) (dir string) {
	root := f.TempDir()
	dir = filepath.Join(root, "scenarios")
	fixtures := append(glob(f, loadData, "policies", "*.yaml"), glob(f, loadData, "bad", "policies", "*.yaml")...)
	for _, d := range []string{filepath.Join(root, "policies"), filepath.Join(dir, "policies")} {
		copyFiles(f, d, fixtures)
	}
	copyFiles(f, filepath.Join(dir, "library"), glob(f, libraryDir, "policies", "*.yaml"))
	return dir
}

// librarySeed is a library scenario as the fuzzed file under fuzzTree: its
// policies/<name> are library/<name> there.
func librarySeed(data []byte) []byte {
	return bytes.ReplaceAll(data, []byte("policies/"), []byte("library/"))
}

// FuzzLoadScenario feeds arbitrary bytes to the loader as a scenario file. The
// seeds are the loader's fixtures and the library's scenarios. Run it as `make fuzz`
// does (its comment says why: without -fuzzminimizetime 0 a session stalls).
func FuzzLoadScenario(f *testing.F) {
	for _, p := range append(glob(f, loadData, "*.yaml"), glob(f, loadData, "*", "*.y*ml")...) {
		f.Add(readFile(f, p))
	}
	for _, p := range glob(f, libraryDir, "*.yaml") {
		f.Add(librarySeed(readFile(f, p)))
	}
	file := filepath.Join(fuzzTree(f), "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkLoad(t, file, file)
	})
}

// policyScenario is the scenario FuzzLoadPolicy loads: it names the fuzzed policy
// file and nothing else a policy could contradict.
const policyScenario = `apiVersion: aviary.dev/v1alpha1
kind: Scenario
metadata:
  name: fuzz-policy
spec:
  policy:
    files: [fuzz-policy.yaml]
  until: 10m
`

// FuzzLoadPolicy feeds arbitrary bytes to the loader as the policy file (a
// multi-document manifest of the kinds sim/scenario's policyKinds admit) a scenario
// names. The seeds are the library's policy files and the loader's fixtures.
func FuzzLoadPolicy(f *testing.F) {
	for _, p := range glob(f, libraryDir, "policies", "*.yaml") {
		f.Add(readFile(f, p))
	}
	for _, p := range append(glob(f, loadData, "policies", "*.yaml"), glob(f, loadData, "bad", "policies", "*.yaml")...) {
		f.Add(readFile(f, p))
	}
	dir := fuzzTree(f)
	file, policy := filepath.Join(dir, "fuzz-scenario.yaml"), filepath.Join(dir, "fuzz-policy.yaml")
	if err := os.WriteFile(file, []byte(policyScenario), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(policy, data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkLoad(t, file, policy)
	})
}

// checkLoad loads the scenario file twice and fails unless the loader kept its
// promises for it (see the top of this file); fuzzed is the file the fuzzer wrote.
func checkLoad(t *testing.T, file, fuzzed string) {
	t.Helper()
	ld, err := scenario.LoadFile(file)
	again, errAgain := scenario.LoadFile(file)
	if errText(err) != errText(errAgain) {
		t.Fatalf("loaded twice, two outcomes:\n%s\n---\n%s", errText(err), errText(errAgain))
	}
	if a, b := exported(ld), exported(again); !reflect.DeepEqual(a, b) && dump.Sdump(a) != dump.Sdump(b) {
		t.Fatalf("loaded twice, two results:\n%s\n---\n%s", dump.Sdump(a), dump.Sdump(b))
	}
	if err == nil {
		if ld == nil || ld.Canary == nil || ld.Scenario == nil || ld.Scenario.Spec.Target.Replicas == nil || ld.Scenario.Spec.World.RPS == nil {
			t.Fatalf("loaded without a Canary or defaults: %+v", ld)
		}
		return
	}
	if ld != nil {
		t.Fatalf("a Loaded and an error: %v", err)
	}
	for _, e := range leaves(err) {
		var le *scenario.LoadError
		if !errors.As(e, &le) {
			t.Fatalf("not a LoadError: %v", e)
		}
		if le.ScenarioFile != file || !strings.Contains(e.Error(), file) {
			t.Fatalf("error does not name the scenario file %s: %q", file, e.Error())
		}
		if le.File == fuzzed && (le.Path != "" || le.Object != "") && le.Line <= 0 {
			t.Fatalf("error about a field or object of %s without its line: %q", fuzzed, e.Error())
		}
	}
}

// exported is what a Loaded shows its users: its exported fields by name. The
// unexported ones hold where each field was written (a method value, a map keyed by
// the objects' addresses), which differ between two loads of one file by address only.
func exported(l *scenario.Loaded) map[string]any {
	if l == nil {
		return nil
	}
	v := reflect.ValueOf(l).Elem()
	out := map[string]any{}
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() {
			out[f.Name] = v.Field(i).Interface()
		}
	}
	return out
}

// dump prints a Loaded in full: values, not addresses, and NaN the same as NaN
// (which reflect.DeepEqual does not find equal).
var dump = spew.ConfigState{DisablePointerAddresses: true, DisableCapacities: true, SortKeys: true}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// leaves are the errors joined in err (errors.Join), or err itself.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// FuzzConvert feeds arbitrary bytes to `aviary convert`: it must never panic, an error
// must name the file, the same input must give the same output, and what it prints
// must be YAML again.
func FuzzConvert(f *testing.F) {
	for _, p := range []string{
		filepath.Join("..", "..", "cmd", "aviary", "testdata", "convert", "podinfo-2018.yaml"),
		filepath.Join(loadData, "policies", "manifests.yaml"),
		filepath.Join(loadData, "bad", "policies", "deployment-v1beta1.yaml"),
		filepath.Join(loadData, "bad", "policies", "canary-analysis.yaml"),
		filepath.Join(loadData, "bad", "policies", "hpa-unknown-field.yaml"),
	} {
		f.Add(readFile(f, p))
	}
	for _, p := range glob(f, libraryDir, "policies", "*.yaml") {
		f.Add(readFile(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, notes, err := scenario.Convert("in.yaml", data)
		out2, notes2, err2 := scenario.Convert("in.yaml", data)
		if errText(err) != errText(err2) || !bytes.Equal(out, out2) || strings.Join(notes, "\n") != strings.Join(notes2, "\n") {
			t.Fatalf("converted twice, two outcomes:\n%s\n%s\n---\n%s\n%s", errText(err), out, errText(err2), out2)
		}
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

func glob(f *testing.F, elem ...string) []string {
	files, err := filepath.Glob(filepath.Join(elem...))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds %s: %v", filepath.Join(elem...), err)
	}
	return files
}

func readFile(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func copyFiles(f *testing.F, dir string, files []string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), readFile(f, p), 0o644); err != nil {
			f.Fatal(err)
		}
	}
}
