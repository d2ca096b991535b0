package image

import (
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"aviary.dev/aviary/version"
)

// The image's fixed values (the Dockerfile states the same; its test compares).
const (
	// Repository is where the image is published; the tag is version.Version.
	Repository = "ghcr.io/aviary-dev/aviary"
	// SourceURL is the repository the image is built from (org.opencontainers.image.source).
	SourceURL = "https://github.com/aviary-dev/aviary"
	// Binary is the path of aviary in the image and its entrypoint.
	Binary = "/aviary"
	// UID and GID are the non-root user's, distroless' "nonroot" (the chart's
	// runAsUser/runAsGroup).
	UID, GID = 65532, 65532
	// Home is the user's home directory and the working directory.
	Home = "/home/nonroot"
	// CACertsFile is where the CA bundle is in the image (Debian's path, the first
	// Go's crypto/x509 looks at on Linux).
	CACertsFile = "/etc/ssl/certs/ca-certificates.crt"
	// MainPackage is the Go package built into Binary.
	MainPackage = "./cmd/aviary"
)

// Ref is the image's reference: Repository tagged with aviary's version.
func Ref() string { return Repository + ":" + version.Version }

// User is the image's user, numeric so that Kubernetes' runAsNonRoot can check it.
func User() string { return strconv.Itoa(UID) + ":" + strconv.Itoa(GID) }

// Labels are the image's OCI annotations for commit.
func Labels(commit string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "aviary",
		"org.opencontainers.image.description": "aviary's live controller and CLI: Flagger " + version.FlaggerVersion + " canary semantics, tested in simulation",
		"org.opencontainers.image.version":     version.Version,
		"org.opencontainers.image.revision":    commit,
		"org.opencontainers.image.source":      SourceURL,
	}
}

// Config is the image's run configuration for commit.
func Config(commit string) v1.Config {
	return v1.Config{
		Entrypoint: []string{Binary},
		User:       User(),
		WorkingDir: Home,
		Env:        []string{"SSL_CERT_FILE=" + CACertsFile},
		Labels:     Labels(commit),
	}
}

// GoBuild is how the binary for arch is built: the environment besides the
// caller's and the arguments of `go`, writing out. The commit is linked in and the VCS stamp
// left out (-buildvcs=false), so the binary depends only on the source and the
// toolchain, not on the state of a .git directory (a Docker build context has
// none); -trimpath drops the build machine's paths; -s -w the symbol tables.
func GoBuild(commit, out, arch string) (env, args []string) {
	return []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch},
		[]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags(commit), "-o", out, MainPackage}
}

// ldflags are the linker flags of the binary for commit.
func ldflags(commit string) string {
	return "-s -w -X aviary.dev/aviary/version.Commit=" + commit
}
