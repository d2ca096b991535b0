package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Release and Namespace are the release the kustomize base is rendered as, and the
// tests install: `helm upgrade -i aviary ... --namespace aviary-system`.
const (
	Release   = "aviary"
	Namespace = "aviary-system"
)

// Render runs `helm template` of the chart in chartDir as Release in Namespace, with
// extra arguments (--set, -f), and decodes what it prints.
func Render(ctx context.Context, helm, chartDir string, args ...string) ([]*unstructured.Unstructured, error) {
	out, err := Run(ctx, helm, append([]string{"template", Release, chartDir, "--namespace", Namespace}, args...)...)
	if err != nil {
		return nil, err
	}
	return Decode(out)
}

// Run runs a tool and returns its standard output; the error holds its standard error.
func Run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Decode reads a stream of YAML documents (what `helm template` and `kustomize
// build` print); empty documents are skipped.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		obj := map[string]any{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("document %d: no kind or name", i)
		}
		out = append(out, u)
	}
}

// Key names an object: "Deployment aviary-system/aviary", "CustomResourceDefinition canaries.flagger.app".
func Key(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// helmLabels are the labels only Helm sets (the chart's aviary.labels); every
// annotation under helm.sh/ is Helm's too (helm.sh/resource-policy).
var helmLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by"}

// WithoutHelmMetadata is a copy of u without Helm's labels and annotations: what the
// kustomize base holds of a rendered object, and what the tests compare.
func WithoutHelmMetadata(u *unstructured.Unstructured) *unstructured.Unstructured {
	u = u.DeepCopy()
	labels := u.GetLabels()
	for _, l := range helmLabels {
		delete(labels, l)
	}
	u.SetLabels(labels)
	annotations := u.GetAnnotations()
	for a := range annotations {
		if strings.HasPrefix(a, "helm.sh/") {
			delete(annotations, a)
		}
	}
	u.SetAnnotations(annotations)
	return u
}

// Sorted orders objects by kind, then namespace and name: CRDs, then the rest.
func Sorted(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), objs...)
	sort.SliceStable(out, func(i, j int) bool {
		ci, cj := out[i].GetKind() == "CustomResourceDefinition", out[j].GetKind() == "CustomResourceDefinition"
		if ci != cj {
			return ci
		}
		return Key(out[i]) < Key(out[j])
	})
	return out
}

// KustomizeDir is the kustomize base, relative to the module root.
const KustomizeDir = "deploy/kustomize"

// KustomizeBase is the kustomize base's files, by name in KustomizeDir, made from the
// chart's default render (rendered): crds.yaml (the CRDs), aviary.yaml (the rest),
// both without Helm's metadata; namespace.yaml (the Namespace `helm
// --create-namespace` makes), and kustomization.yaml listing them.
func KustomizeBase(rendered []*unstructured.Unstructured) (map[string][]byte, error) {
	var crds, rest bytes.Buffer
	for _, u := range Sorted(rendered) {
		if u.GetNamespace() != "" && u.GetNamespace() != Namespace {
			return nil, fmt.Errorf("%s: the default render has objects in %s only", Key(u), Namespace)
		}
		data, err := yaml.Marshal(WithoutHelmMetadata(u).Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Key(u), err)
		}
		w := &rest
		if u.GetKind() == "CustomResourceDefinition" {
			w = &crds
		}
		fmt.Fprintf(w, "---\n%s", data)
	}
	header := fmt.Sprintf(generatedHeader, "kustomize-base", "the chart's default render ("+ChartDir+")")
	return map[string][]byte{
		"crds.yaml":      []byte(header + crds.String()),
		"aviary.yaml":    []byte(header + rest.String()),
		"namespace.yaml": []byte(header + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + Namespace + "\n"),
		"kustomization.yaml": []byte(header + "# `kubectl apply -k deploy/kustomize`; an overlay may set another namespace.\n" +
			"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + Namespace + "\n" +
			"resources:\n  - namespace.yaml\n  - crds.yaml\n  - aviary.yaml\n"),
	}, nil
}
