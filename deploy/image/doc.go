// Package image builds aviary's container image without a daemon or a registry:
// the static binary (go build, CGO off, -trimpath, the commit linked in), a user
// 65532 in /etc/passwd and /etc/group, a writable /tmp, CA certificates, in one
// layer on an empty base, written as a tarball `docker load` and `podman load`
// read (`make image`: bin/aviary-image.tar). It also holds the values the
// repository's Dockerfile must agree with (Config, Labels, GoBuild): its test
// checks the Dockerfile against them.
//
// It must not know the controller or anything it runs: the image is a binary, a
// user and certificates; what the binary does is the chart's and the CLI's.
package image
