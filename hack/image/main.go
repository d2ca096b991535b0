// Command image builds aviary's daemonless OCI image (deploy/image) and writes it
// as a tarball that `docker load` and `podman load` read, tagged
// ghcr.io/aviary-dev/aviary:<version>:
//
//	make image      # = go run ./hack/image -o bin/aviary-image.tar, from the repository root
//
// It builds the binary from the checkout it runs in (the commit and its time from
// git; the same commit gives the same image digest) and copies the CA bundle of
// this machine's ca-certificates package into the image.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"time"

	"aviary.dev/aviary/deploy/image"
)

func main() {
	var o image.Options
	flag.StringVar(&o.Out, "o", "bin/aviary-image.tar", "tarball to write")
	flag.StringVar(&o.OCILayout, "oci", "", "directory to write an OCI image layout to as well")
	flag.StringVar(&o.CACerts, "ca-certs", image.CACertsFile, "CA bundle to copy into the image (Debian's ca-certificates)")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "GOARCH of the image")
	flag.StringVar(&o.ModuleRoot, "C", ".", "aviary's module root")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := image.Make(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s, commit %s, image ID %s, manifest digest %s, layer %.1f MB compressed, built in %s\n",
		o.Out, image.Ref(), res.Revision.Commit, res.ID, res.Digest, float64(res.LayerSize)/1e6, time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("load it with: docker load -i %s   (or podman load -i %s)\n", o.Out, o.Out)
	if o.OCILayout != "" {
		fmt.Printf("%s: the same image as an OCI image layout (skopeo copy oci:%s docker://...)\n", o.OCILayout, o.OCILayout)
	}
}
