package e2e

import (
	"fmt"
	"net/url"
	"sort"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKubeconfig writes a kubeconfig for cfg's user (client certificate or bearer
// token) to path; hostPort, when not "", replaces the API server's host and port
// (to go through a CutProxy; the certificate is still checked against 127.0.0.1).
func WriteKubeconfig(cfg *rest.Config, hostPort, path string) error {
	return WriteKubeconfigAs(cfg, hostPort, path, "")
}

// WriteKubeconfigAs is WriteKubeconfig whose user, when as is not "", impersonates
// the user as (users[].user.as: every request is made as that user, with its
// permissions only).
func WriteKubeconfigAs(cfg *rest.Config, hostPort, path, as string) error {
	server := cfg.Host
	if hostPort != "" {
		u, err := url.Parse(cfg.Host)
		if err != nil {
			return fmt.Errorf("kubeconfig: API server URL %q: %w", cfg.Host, err)
		}
		u.Host = hostPort
		server = u.String()
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken, Impersonate: as}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
