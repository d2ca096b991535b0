package image_test

import (
	"archive/tar"
	"crypto/x509"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"aviary.dev/aviary/deploy/image"
	"aviary.dev/aviary/version"
)

// moduleRoot is aviary's module root, relative to this package.
const moduleRoot = "../.."

// entry is what the test reads of one layer entry.
type entry struct {
	typ      byte
	mode     int64
	uid, gid int
	body     []byte
}

// layerEntries reads the single layer of img.
func layerEntries(img v1.Image) map[string]entry {
	GinkgoHelper()
	layers, err := img.Layers()
	Expect(err).NotTo(HaveOccurred())
	Expect(layers).To(HaveLen(1))
	rc, err := layers[0].Uncompressed()
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = rc.Close() }()
	out := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		body, err := io.ReadAll(tr)
		Expect(err).NotTo(HaveOccurred())
		out[h.Name] = entry{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, body: body}
	}
}

// The image is built once for the whole suite (one go build: the Go build cache
// makes it a link after the first run on a machine).
var _ = Describe("the daemonless image", Ordered, func() {
	var (
		res     image.Result
		loaded  v1.Image // the tarball, read back
		cfg     *v1.ConfigFile
		files   map[string]entry
		caCerts []byte
		out     string
		oci     string
	)
	BeforeAll(func(ctx SpecContext) {
		var err error
		caCerts, err = os.ReadFile(image.CACertsFile)
		Expect(err).NotTo(HaveOccurred(), "this machine's CA bundle (Debian's ca-certificates) goes into the image")
		dir := GinkgoT().TempDir()
		out, oci = filepath.Join(dir, "aviary-image.tar"), filepath.Join(dir, "aviary-image.oci")
		res, err = image.Make(ctx, image.Options{ModuleRoot: moduleRoot, Out: out, OCILayout: oci, CACerts: image.CACertsFile, Arch: runtime.GOARCH})
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("image %s: layer %d bytes compressed, commit %s\n", res.Digest, res.LayerSize, res.Revision.Commit)
		tag, err := name.NewTag(image.Ref())
		Expect(err).NotTo(HaveOccurred())
		loaded, err = tarball.ImageFromPath(out, &tag)
		Expect(err).NotTo(HaveOccurred())
		cfg, err = loaded.ConfigFile()
		Expect(err).NotTo(HaveOccurred())
		files = layerEntries(loaded)
	})

	It("is the tarball docker load reads, tagged with aviary's version, holding the image built", func() {
		m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(HaveLen(1))
		Expect(m[0].RepoTags).To(Equal([]string{"ghcr.io/aviary-dev/aviary:" + version.Version}))
		// A docker archive holds the config and the layers, not the manifest: the
		// image ID docker load shows is the config's digest.
		Expect(loaded.ConfigName()).To(Equal(res.ID))
		Expect(layerDigests(loaded)).To(Equal(layerDigests(res.Image)))
	})

	It("is in the OCI image layout too, under its reference", func() {
		p, err := layout.FromPath(oci)
		Expect(err).NotTo(HaveOccurred())
		idx, err := p.ImageIndex()
		Expect(err).NotTo(HaveOccurred())
		m, err := idx.IndexManifest()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Manifests).To(HaveLen(1))
		Expect(m.Manifests[0].Digest).To(Equal(res.Digest))
		Expect(m.Manifests[0].MediaType).To(Equal(types.OCIManifestSchema1))
		Expect(m.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", "ghcr.io/aviary-dev/aviary:"+version.Version))
	})

	It("runs /aviary as the non-root user 65532, with the working directory its home", func() {
		Expect(cfg.Config.Entrypoint).To(Equal([]string{"/aviary"}))
		Expect(cfg.Config.Cmd).To(BeEmpty())
		Expect(cfg.Config.User).To(Equal("65532:65532"))
		uid, gid, ok := strings.Cut(cfg.Config.User, ":")
		Expect(ok).To(BeTrue())
		Expect(uid).NotTo(Equal("0"))
		Expect(strconv.Atoi(uid)).To(BeNumerically(">", 0), "numeric, so that runAsNonRoot can check it")
		Expect(string(files["etc/passwd"].body)).To(ContainSubstring("nonroot:x:" + uid + ":" + gid + ":nonroot:" + cfg.Config.WorkingDir + ":"))
		Expect(string(files["etc/group"].body)).To(ContainSubstring("nonroot:x:" + gid + ":"))
		Expect(cfg.Config.WorkingDir).To(Equal("/home/nonroot"))
		Expect(cfg.Config.Env).To(Equal([]string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}))
		Expect(cfg.OS).To(Equal("linux"))
		Expect(cfg.Architecture).To(Equal(runtime.GOARCH))
	})

	It("carries the version and the commit in its labels, and the commit's time as its creation time", func() {
		head, err := exec.Command("git", "-C", moduleRoot, "rev-parse", "HEAD").Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Revision.Commit).To(HavePrefix(strings.TrimSpace(string(head))))
		Expect(cfg.Config.Labels).To(Equal(map[string]string{
			"org.opencontainers.image.title":       "aviary",
			"org.opencontainers.image.description": "aviary's live controller and CLI: Flagger 1.44.0 canary semantics, tested in simulation",
			"org.opencontainers.image.version":     version.Version,
			"org.opencontainers.image.revision":    res.Revision.Commit,
			"org.opencontainers.image.source":      "https://github.com/aviary-dev/aviary",
		}))
		Expect(cfg.Created.Time.Equal(res.Revision.Time)).To(BeTrue(), "created %s, commit time %s", cfg.Created, res.Revision.Time)
		Expect(res.Revision.Time.Year()).To(BeNumerically(">=", 2026), "the commit's time, not the epoch fallback")
	})

	It("holds exactly the binary, the accounts, the CA bundle, the user's home and /tmp: no shell", func() {
		type meta struct {
			typ      byte
			mode     int64
			uid, gid int
		}
		got := map[string]meta{}
		for p, e := range files {
			got[p] = meta{e.typ, e.mode, e.uid, e.gid}
		}
		Expect(got).To(Equal(map[string]meta{
			"aviary":                            {tar.TypeReg, 0o755, 0, 0},
			"etc/":                              {tar.TypeDir, 0o755, 0, 0},
			"etc/group":                         {tar.TypeReg, 0o644, 0, 0},
			"etc/nsswitch.conf":                 {tar.TypeReg, 0o644, 0, 0},
			"etc/passwd":                        {tar.TypeReg, 0o644, 0, 0},
			"etc/ssl/":                          {tar.TypeDir, 0o755, 0, 0},
			"etc/ssl/certs/":                    {tar.TypeDir, 0o755, 0, 0},
			"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0o644, 0, 0},
			"home/":                             {tar.TypeDir, 0o755, 0, 0},
			"home/nonroot/":                     {tar.TypeDir, 0o700, 65532, 65532},
			"tmp/":                              {tar.TypeDir, 0o1777, 0, 0},
		}))
		for p := range files {
			Expect(filepath.Base(p)).NotTo(BeElementOf("sh", "bash", "ash", "busybox"), "no shell: %s", p)
		}
	})

	It("trusts this machine's CA bundle, so TLS to Prometheus and Slack verifies", func() {
		bundle := files["etc/ssl/certs/ca-certificates.crt"].body
		Expect(bundle).To(Equal(caCerts))
		pool := x509.NewCertPool()
		Expect(pool.AppendCertsFromPEM(bundle)).To(BeTrue())
	})

	It("holds a static binary built without cgo, with -trimpath and no VCS stamp, that prints the version package's line", func() {
		bin := filepath.Join(GinkgoT().TempDir(), "aviary")
		Expect(os.WriteFile(bin, files["aviary"].body, 0o755)).To(Succeed())
		ef, err := elf.Open(bin)
		Expect(err).NotTo(HaveOccurred())
		for _, p := range ef.Progs {
			Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "static: no dynamic loader")
		}
		Expect(ef.Close()).To(Succeed())
		bi, err := buildinfo.ReadFile(bin)
		Expect(err).NotTo(HaveOccurred())
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"))
		Expect(settings).To(HaveKeyWithValue("-trimpath", "true"))
		// -ldflags is not recorded under -trimpath: --version below shows the commit linked in.
		Expect(settings).NotTo(HaveKey("vcs.revision"))

		cmd := exec.Command(bin, "--version")
		cmd.Dir = GinkgoT().TempDir()
		got, err := cmd.Output()
		Expect(err).NotTo(HaveOccurred())
		want := version.Info{Version: version.Version, Commit: res.Revision.Commit, FlaggerVersion: version.FlaggerVersion, GoVersion: runtime.Version()}
		Expect(string(got)).To(Equal(want.String() + "\n"))
	})

	It("is reproducible: the same binary and revision give the same digest, another commit another", func() {
		again, err := image.Build(files["aviary"].body, caCerts, res.Revision, runtime.GOARCH)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Digest()).To(Equal(res.Digest))
		Expect(again.ConfigName()).To(Equal(res.ID))
		other := res.Revision
		other.Commit += "x"
		differs, err := image.Build(files["aviary"].body, caCerts, other, runtime.GOARCH)
		Expect(err).NotTo(HaveOccurred())
		Expect(differs.Digest()).NotTo(Equal(res.Digest))
	})

	It("is what the Dockerfile builds: the same entrypoint, user, directory, environment, labels and go build", func() {
		df, err := parseDockerfile(filepath.Join(moduleRoot, "Dockerfile"))
		Expect(err).NotTo(HaveOccurred())
		df.config.Labels["org.opencontainers.image.revision"] = strings.ReplaceAll(df.config.Labels["org.opencontainers.image.revision"], "${COMMIT}", res.Revision.Commit)
		Expect(df.config).To(Equal(cfg.Config))
	})
})

// layerDigests are the compressed layers' digests of img.
func layerDigests(img v1.Image) []v1.Hash {
	GinkgoHelper()
	layers, err := img.Layers()
	Expect(err).NotTo(HaveOccurred())
	var out []v1.Hash
	for _, l := range layers {
		d, err := l.Digest()
		Expect(err).NotTo(HaveOccurred())
		out = append(out, d)
	}
	return out
}
