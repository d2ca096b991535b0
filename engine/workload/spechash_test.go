package workload_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	sigsjson "sigs.k8s.io/json"

	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/engine/workload"
)

// mirrorDir holds the generated mirror of Flagger's Kubernetes types and the
// generator's sample; generatorDir is the module the generator runs in (Flagger's
// build: hack/flagger).
const (
	mirrorDir    = "internal/flaggerk8s"
	generatorDir = "../../hack/flagger"
)

// flaggerHash is one target whose hash Flagger v1.44.0 wrote: the pod template as
// the API server returned it, and status.lastAppliedSpec (testdata/flagger-hashes.json,
// written by the e2e migration spec with AVIARY_E2E_FLAGGER_HASHES set).
type flaggerHash struct {
	Name            string          `json:"name"`
	Template        json.RawMessage `json:"template"`
	LastAppliedSpec string          `json:"lastAppliedSpec"`
}

// decodeTemplate decodes a template as aviary's clients do.
func decodeTemplate(raw []byte) *corev1.PodTemplateSpec {
	GinkgoHelper()
	var t corev1.PodTemplateSpec
	Expect(sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &t)).To(Succeed())
	return &t
}

func templateHashOf(t *corev1.PodTemplateSpec) string {
	GinkgoHelper()
	h, err := workload.TemplateHash(t)
	Expect(err).NotTo(HaveOccurred())
	return h
}

// flaggerHashes reads the frozen hashes (at tree construction: a table's entries).
func flaggerHashes() ([]flaggerHash, error) {
	raw, err := os.ReadFile("testdata/flagger-hashes.json")
	if err != nil {
		return nil, err
	}
	var out []flaggerHash
	return out, json.Unmarshal(raw, &out)
}

// newFieldsOnly sets fields that k8s.io/api v0.37 has and Flagger v1.44.0's v0.36.2
// lacks, on every container's probes and mounts and every ConfigMap volume: Flagger's
// decoder drops them, so its hash is that of the template without them.
func newFieldsOnly(t *corev1.PodTemplateSpec) {
	for i := range t.Spec.Containers {
		c := &t.Spec.Containers[i]
		for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.HTTPGet != nil {
				p.HTTPGet.Protocol = ptr(corev1.HTTPProtocolHTTP2)
			}
		}
		for j := range c.VolumeMounts {
			c.VolumeMounts[j].BindMountOptions = []string{"noexec"}
		}
	}
	for i := range t.Spec.Volumes {
		if cm := t.Spec.Volumes[i].ConfigMap; cm != nil {
			cm.DefaultUser = ptr[int64](1000)
		}
	}
}

var _ = Describe("TemplateHash", func() {
	hashes, readErr := flaggerHashes()
	entries := []TableEntry{Entry("testdata/flagger-hashes.json is read", flaggerHash{}, readErr)}
	for _, h := range hashes {
		entries = append(entries, Entry(h.Name, h, nil))
	}
	DescribeTable("is the status.lastAppliedSpec the real Flagger v1.44.0 wrote",
		func(h flaggerHash, err error) {
			Expect(err).NotTo(HaveOccurred())
			if h.Name == "" {
				Expect(hashes).NotTo(BeEmpty())
				return
			}
			Expect(templateHashOf(decodeTemplate(h.Template))).To(Equal(h.LastAppliedSpec))
		}, entries)

	It("ignores the fields Flagger's k8s.io/api lacks, as Flagger's decoder drops them", func() {
		var rich *flaggerHash
		for _, h := range hashes {
			if h.Name == "migrate-initialized" {
				rich = &h
			}
		}
		Expect(rich).NotTo(BeNil(), "testdata/flagger-hashes.json holds migrate-initialized's target")
		t := decodeTemplate(rich.Template)
		before := hooks.ComputeHash(*t)
		newFieldsOnly(t)
		Expect(hooks.ComputeHash(*t)).NotTo(Equal(before), "the new fields are set, and a dump of aviary's types shows them")
		Expect(templateHashOf(t)).To(Equal(rich.LastAppliedSpec))
	})

	It("is Flagger's canary.ComputeHash of a template in which every field is set (the generator's sample)", func() {
		raw, err := os.ReadFile(filepath.Join(mirrorDir, "testdata", "sample.json"))
		Expect(err).NotTo(HaveOccurred())
		var sample struct {
			Template json.RawMessage `json:"template"`
			Hash     string          `json:"hash"`
		}
		Expect(json.Unmarshal(raw, &sample)).To(Succeed())
		Expect(sample.Hash).NotTo(BeEmpty())
		Expect(templateHashOf(decodeTemplate(sample.Template))).To(Equal(sample.Hash),
			"a type a template reaches has changed between Flagger's k8s.io modules and aviary's in a way the mirror does not cover "+
				"(a leaf type the generator references, such as resource.Quantity or metav1.Time)")
	})

	It("is generated from Flagger's build: hack/flagger/podtemplate writes the committed mirror", func() {
		if os.Getenv("AVIARY_REQUIRE_E2E") != "1" && !flaggerModulesCached() {
			Skip("Flagger's modules are not in the module cache: `make flagger` downloads them (and `make test` runs this check)")
		}
		out := GinkgoT().TempDir()
		abs, err := filepath.Abs(out)
		Expect(err).NotTo(HaveOccurred())
		cmd := exec.Command("go", "run", "./podtemplate", "-out", abs)
		cmd.Dir = generatorDir
		cmd.Env = generatorEnv()
		b, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go run ./podtemplate in hack/flagger:\n%s", b)
		generated, committed := files(out), files(mirrorDir)
		Expect(generated).NotTo(BeEmpty())
		Expect(slices.Sorted(maps.Keys(committed))).To(Equal(slices.Sorted(maps.Keys(generated))), "the mirror's files")
		for name, src := range generated {
			Expect(committed[name]).To(Equal(src), "%s is stale: run `cd hack/flagger && go run ./podtemplate -out ../../engine/workload/internal/flaggerk8s`", name)
		}
	})
})

// generatorEnv builds the generator as hack/tool-assets.sh builds Flagger (the same
// flags reuse its compiled packages from the build cache).
func generatorEnv() []string {
	return append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=mod -buildvcs=false -trimpath")
}

// flaggerModulesCached reports whether the generator builds without downloading.
func flaggerModulesCached() bool {
	cmd := exec.Command("go", "list", "-deps", "./podtemplate")
	cmd.Dir = generatorDir
	cmd.Env = append(generatorEnv(), "GOPROXY=off")
	return cmd.Run() == nil
}

// files maps every file under dir (slash paths relative to dir) to its contents.
func files(dir string) map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = string(bytes.TrimSpace(b))
		return nil
	})).To(Succeed())
	return out
}

// BenchmarkTemplateHash: Flagger's hash of the e2e migration's richest target, through
// the mirror (TemplateHash) and, for the cost of the round trip, straight over
// aviary's own types (hooks.ComputeHash: not Flagger's value).
func BenchmarkTemplateHash(b *testing.B) {
	hashes, err := flaggerHashes()
	if err != nil || len(hashes) == 0 {
		b.Fatalf("testdata/flagger-hashes.json: %v", err)
	}
	var t corev1.PodTemplateSpec
	for _, h := range hashes {
		if h.Name == "migrate-failed" {
			if err := sigsjson.UnmarshalCaseSensitivePreserveInts(h.Template, &t); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("TemplateHash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := workload.TemplateHash(&t); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ComputeHash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hooks.ComputeHash(t)
		}
	})
}
