package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/sim/cluster"
)

var _ = Describe("envtest binaries", func() {
	It("are looked up at the version hack/envtest-assets.sh builds", func() {
		script, err := os.ReadFile(filepath.Join("..", "..", "hack", "envtest-assets.sh"))
		Expect(err).NotTo(HaveOccurred())
		m := regexp.MustCompile(`(?m)^K8S_VERSION=(\S+)`).FindSubmatch(script)
		Expect(m).NotTo(BeNil())
		Expect(cluster.EnvtestK8sVersion).To(Equal(string(m[1])))
	})

	It("when missing, are reported with how to build them", func() {
		dir := GinkgoT().TempDir()
		_, err := cluster.FindEnvtestAssets(dir)
		var missing *cluster.MissingAssetsError
		Expect(errors.As(err, &missing)).To(BeTrue())
		Expect(missing.Missing).To(Equal([]string{"kube-apiserver", "etcd"}))
		Expect(err.Error()).To(ContainSubstring("make envtest-assets"))
		Expect(missing.Searched).To(Equal([]string{dir}))
		Expect(err.Error()).To(ContainSubstring(dir))

		GinkgoT().Setenv("KUBEBUILDER_ASSETS", dir)
		_, err = cluster.StartEnvtest(context.Background(), cluster.EnvtestOptions{})
		Expect(errors.As(err, &missing)).To(BeTrue())
		Expect(err.Error()).To(ContainSubstring("KUBEBUILDER_ASSETS"))
		Expect(err.Error()).To(ContainSubstring("make envtest-assets"))
	})
})
