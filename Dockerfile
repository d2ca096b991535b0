# aviary's image for users with Docker (or BuildKit, buildah, kaniko):
#
#   docker build --build-arg COMMIT=$(git rev-parse HEAD) -t ghcr.io/aviary-dev/aviary:0.14.0 .
#
# The same image as `make image` builds without a daemon (deploy/image), on
# distroless instead of an empty base: the entrypoint, user, working directory,
# environment, labels and go build flags below are deploy/image's, and its test
# (deploy/image/dockerfile_test.go) fails when they differ. The version is
# version.Version. Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETARCH
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false -ldflags "-s -w -X aviary.dev/aviary/version.Commit=${COMMIT}" -o /out/aviary ./cmd/aviary

# distroless static: CA certificates, /etc/passwd with nonroot (65532), /tmp; no shell.
FROM gcr.io/distroless/static:nonroot
ARG COMMIT=unknown
COPY --from=build /out/aviary /aviary
USER 65532:65532
WORKDIR /home/nonroot
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="aviary"
LABEL org.opencontainers.image.description="aviary's live controller and CLI: Flagger 1.44.0 canary semantics, tested in simulation"
LABEL org.opencontainers.image.version="0.14.0"
LABEL org.opencontainers.image.revision="${COMMIT}"
LABEL org.opencontainers.image.source="https://github.com/aviary-dev/aviary"
ENTRYPOINT ["/aviary"]
