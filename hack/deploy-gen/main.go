// Command deploy-gen writes the generated parts of aviary's install manifests
// (package deploy), from the repository root:
//
//	go run ./hack/deploy-gen -crds                 # make chart-crds: deploy/charts/aviary/files/crds/
//	go run ./hack/deploy-gen -kustomize -helm PATH # make kustomize-base: deploy/kustomize/
//
// The kustomize base is the chart's default render (`helm template` with the Helm
// built by `make helm`), so the chart's CRDs must be current first. deploy's tests
// fail when what is committed differs from what this writes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"aviary.dev/aviary/deploy"
)

func main() {
	crds := flag.Bool("crds", false, "write the chart's CRDs ("+filepath.Join(deploy.ChartDir, deploy.ChartCRDsDir)+")")
	kustomize := flag.Bool("kustomize", false, "write the kustomize base ("+deploy.KustomizeDir+") from the chart's default render")
	helm := flag.String("helm", "", "the helm binary (-kustomize): bash hack/tool-assets.sh --print-path helm")
	flag.Parse()
	if err := run(*crds, *kustomize, *helm); err != nil {
		fmt.Fprintln(os.Stderr, "deploy-gen:", err)
		os.Exit(1)
	}
}

func run(crds, kustomize bool, helm string) error {
	if !crds && !kustomize {
		return fmt.Errorf("nothing to do: give -crds and/or -kustomize")
	}
	if crds {
		files, err := deploy.ChartCRDs()
		if err != nil {
			return err
		}
		if err := deploy.Write(filepath.Join(deploy.ChartDir, deploy.ChartCRDsDir), files); err != nil {
			return err
		}
	}
	if kustomize {
		if helm == "" {
			return fmt.Errorf("-kustomize needs -helm")
		}
		objs, err := deploy.Render(context.Background(), helm, deploy.ChartDir)
		if err != nil {
			return err
		}
		files, err := deploy.KustomizeBase(objs)
		if err != nil {
			return err
		}
		if err := deploy.Write(deploy.KustomizeDir, files); err != nil {
			return err
		}
	}
	return nil
}
