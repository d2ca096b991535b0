package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"aviary.dev/aviary/version"
)

// Revision is the source an image is built from: its commit, and the commit's
// time, which is the image's creation time and every file's modification time, so
// that the same source gives the same image digest.
type Revision struct {
	Commit string
	Time   time.Time
}

// RevisionOf reads HEAD's commit and time from the git checkout at dir, "-dirty"
// appended when tracked files differ from it; outside a checkout (or without
// git) it is version.Unknown at the Unix epoch.
func RevisionOf(ctx context.Context, dir string) Revision {
	unknown := Revision{Commit: version.Unknown, Time: time.Unix(0, 0).UTC()}
	git := func(args ...string) (string, bool) {
		out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	head, ok := git("log", "-1", "--format=%H %ct")
	commit, at, _ := strings.Cut(head, " ")
	secs, err := strconv.ParseInt(at, 10, 64)
	if !ok || commit == "" || err != nil {
		return unknown
	}
	if changes, ok := git("status", "--porcelain", "--untracked-files=no"); !ok || changes != "" {
		commit += "-dirty"
	}
	return Revision{Commit: commit, Time: time.Unix(secs, 0).UTC()}
}

// BuildBinary builds aviary for linux/arch from the module at moduleRoot into out
// (GoBuild's flags), with commit linked in.
func BuildBinary(ctx context.Context, moduleRoot, out, commit, arch string) error {
	env, args := GoBuild(commit, out, arch)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
	}
	return nil
}

// file is one entry of the image's layer.
type file struct {
	path     string // without the leading slash, as in a layer
	mode     int64  // permission bits, and the sticky bit
	uid, gid int
	body     []byte // nil for a directory
}

// accounts are /etc/passwd and /etc/group: root, nobody and the non-root user
// (distroless' set), so that the user the image runs as has a name and a home.
func accounts() (passwd, group []byte) {
	passwd = fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\n"+
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"+
		"nonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", UID, GID, Home)
	group = fmt.Appendf(nil, "root:x:0:\nnobody:x:65534:\nnonroot:x:%d:\n", GID)
	return passwd, group
}

// nsswitch makes Go's resolver read /etc/hosts before DNS, as glibc would.
const nsswitch = "hosts: files dns\n"

// files are the layer's entries, directories before what they hold: the binary
// (root's, executable by everyone, writable by no one else), the accounts, the
// CA bundle, the user's home and a world-writable /tmp (under a read-only root
// filesystem an emptyDir is mounted there).
func files(binary, caCerts []byte) []file {
	dir := func(path string, mode int64, uid, gid int) file {
		return file{path: path + "/", mode: mode, uid: uid, gid: gid}
	}
	reg := func(path string, mode int64, body []byte) file { return file{path: path, mode: mode, body: body} }
	passwd, group := accounts()
	return []file{
		reg(strings.TrimPrefix(Binary, "/"), 0o755, binary),
		dir("etc", 0o755, 0, 0),
		reg("etc/group", 0o644, group),
		reg("etc/nsswitch.conf", 0o644, []byte(nsswitch)),
		reg("etc/passwd", 0o644, passwd),
		dir("etc/ssl", 0o755, 0, 0),
		dir("etc/ssl/certs", 0o755, 0, 0),
		reg(strings.TrimPrefix(CACertsFile, "/"), 0o644, caCerts),
		dir("home", 0o755, 0, 0),
		dir(strings.TrimPrefix(Home, "/"), 0o700, UID, GID),
		dir("tmp", 0o1777, 0, 0),
	}
}

// layerTar writes fs as a tar stream with every time at mtime.
func layerTar(fs []file, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range fs {
		h := &tar.Header{Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: mtime, Format: tar.FormatPAX}
		if f.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", f.path, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", f.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}

// Build is the image of binary (aviary for linux/arch) with caCerts as the CA
// bundle, built from rev: one layer on an empty base, Config's configuration.
func Build(binary, caCerts []byte, rev Revision, arch string) (v1.Image, error) {
	tarBytes, err := layerTar(files(binary, caCerts), rev.Time)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	created := v1.Time{Time: rev.Time}
	// OCI media types: the OCI layout holds them as written, and docker load and
	// podman load read the tarball whatever its media types.
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: created, CreatedBy: "deploy/image: aviary " + version.Version + " (" + rev.Commit + "), accounts, CA certificates, /tmp",
	}})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Config = Config(rev.Commit)
	cfg.Created, cfg.OS, cfg.Architecture = created, "linux", arch
	return mutate.ConfigFile(img, cfg)
}

// Options say where Make builds from and writes to.
type Options struct {
	// ModuleRoot is aviary's source: the module's root, a git checkout.
	ModuleRoot string
	// Out is the tarball to write.
	Out string
	// OCILayout, if set, is a directory to write the image to as an OCI image
	// layout too (replacing what it held), the reference as its
	// org.opencontainers.image.ref.name.
	OCILayout string
	// CACerts is the CA bundle to copy into the image (Debian's
	// ca-certificates: /etc/ssl/certs/ca-certificates.crt).
	CACerts string
	// Arch is the GOARCH to build for.
	Arch string
}

// Result is what Make built.
type Result struct {
	Image    v1.Image
	Revision Revision
	// Digest is the image manifest's (the OCI layout's, a registry's after a push).
	Digest v1.Hash
	// ID is the config's digest: the image ID `docker load` and `docker images` show.
	ID v1.Hash
	// LayerSize is the compressed layer's size in bytes (what a pull transfers).
	LayerSize int64
}

// Make builds the binary from o.ModuleRoot at its revision, the image around it,
// and writes it to o.Out as a tarball tagged Ref().
func Make(ctx context.Context, o Options) (Result, error) {
	caCerts, err := os.ReadFile(o.CACerts)
	if err != nil {
		return Result{}, fmt.Errorf("CA certificates (Debian's ca-certificates package installs %s): %w", CACertsFile, err)
	}
	rev := RevisionOf(ctx, o.ModuleRoot)
	dir, err := os.MkdirTemp("", "aviary-image-")
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "aviary")
	if err := BuildBinary(ctx, o.ModuleRoot, bin, rev.Commit, o.Arch); err != nil {
		return Result{}, err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return Result{}, err
	}
	img, err := Build(binary, caCerts, rev, o.Arch)
	if err != nil {
		return Result{}, err
	}
	tag, err := name.NewTag(Ref())
	if err != nil {
		return Result{}, fmt.Errorf("image reference: %w", err)
	}
	if err := tarball.WriteToFile(o.Out, tag, img); err != nil {
		return Result{}, fmt.Errorf("write %s: %w", o.Out, err)
	}
	if o.OCILayout != "" {
		if err := writeLayout(o.OCILayout, img); err != nil {
			return Result{}, err
		}
	}
	res := Result{Image: img, Revision: rev}
	if res.Digest, err = img.Digest(); err != nil {
		return Result{}, err
	}
	if res.ID, err = img.ConfigName(); err != nil {
		return Result{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return Result{}, err
	}
	res.LayerSize, err = layers[0].Size()
	return res, err
}

// writeLayout writes img to dir as an OCI image layout holding it alone.
func writeLayout(dir string, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": Ref()})); err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return nil
}
