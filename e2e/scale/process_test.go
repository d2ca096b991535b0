package scale_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// controllerBinary is the aviary binary under test: $AVIARY_SCALE_AVIARY, else aviary
// built from this module into a temporary directory. It inherits the benchmark's
// environment (GOGC, GOMEMLIMIT).
func controllerBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("AVIARY_SCALE_AVIARY"); p != "" {
		return p
	}
	path := filepath.Join(b.TempDir(), "aviary")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/aviary")
	cmd.Dir = moduleRoot(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/aviary: %v\n%s", err, out)
	}
	if out, err := exec.Command(path, "controller", "--help").CombinedOutput(); err != nil {
		b.Fatalf("%s has no working `controller` command: %v\n%s", path, err, out)
	}
	return path
}

// moduleRoot is the directory of go.mod, above the working directory.
func moduleRoot(b *testing.B) string {
	b.Helper()
	wd, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			b.Fatalf("no go.mod in %s or a parent", wd)
		}
	}
}

// writeKubeconfig writes a kubeconfig for cfg's user to path.
func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*kc, path)
}

// freePort is a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
