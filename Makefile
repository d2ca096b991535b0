# aviary — the two commands in the README are `go run ./cmd/aviary test scenarios/`
# and `make test`. Everything the tests need is built here from Go modules.
SHELL := /usr/bin/env bash
GO ?= go
GINKGO_FLAGS ?=
BENCHSTAT_VERSION ?= v0.0.0-20260908200009-22c9c6c9d4da

## envtest-assets: build envtest's kube-apiserver and etcd into bin/k8s/<version> (cached; ~5 min cold)
include hack/envtest.mk

.PHONY: all build test unit scenarios bench bench-scale vet fmt-check fuzz clean help browser prometheus flagger helm kustomize e2e e2e-flagger

all: build

## build: compile the aviary CLI into bin/aviary
build:
	$(GO) build -o bin/aviary ./cmd/aviary

## image: aviary's OCI image without a daemon, as a tarball `docker load` / `podman load` read: bin/aviary-image.tar, tagged ghcr.io/aviary-dev/aviary:<version>, and as an OCI image layout in bin/aviary-image.oci (deploy/image; the Dockerfile builds the same with Docker)
.PHONY: image
image:
	$(GO) run ./hack/image -o bin/aviary-image.tar -oci bin/aviary-image.oci

## test: vet, gofmt check, every Go test (unit, scenario suite, envtest parity, CLI, HTML report in headless Chromium, the end-to-end test with a real Prometheus, a smoke run of the real Flagger v1.44.0, the Helm chart rendered, linted and installed on envtest) and the scenario suite through the CLI in both cluster modes
# AVIARY_REQUIRE_BROWSER=1 turns a missing browser into a failure of the browser
# test (plain `go test` skips it); CHROMIUM is the browser `make browser` found.
# AVIARY_REQUIRE_E2E=1 does the same for the end-to-end test's Prometheus and
# Flagger, and for the Helm and kustomize the chart's tests (deploy/) run.
test: vet fmt-check envtest-assets browser prometheus flagger helm kustomize
	AVIARY_REQUIRE_BROWSER=1 AVIARY_REQUIRE_E2E=1 CHROMIUM="$$(bash hack/chromium/install.sh 2>/dev/null)" $(GO) test -count=1 -timeout 30m ./...
	$(GO) run ./cmd/aviary test scenarios/
	$(GO) run ./cmd/aviary test --cluster envtest --parallel 2 scenarios/

## prometheus: the Prometheus server the end-to-end test runs, built from the Go module at the root go.mod's version into bin/prometheus/<version>/ (cached; ~5 min cold)
prometheus:
	@bash hack/tool-assets.sh prometheus

## flagger: Flagger v1.44.0 built from the Go module proxy into bin/flagger/<version>/ (cached; ~4 min cold)
flagger:
	@bash hack/tool-assets.sh flagger

## helm: Helm v4 built from its Go module into bin/helm/<version>/, to render and lint the chart in tests (cached; ~3 min cold)
helm:
	@bash hack/tool-assets.sh helm

## kustomize: kustomize v5 built from its Go module into bin/kustomize/<version>/, to build deploy/kustomize in tests (cached; ~1 min cold)
kustomize:
	@bash hack/tool-assets.sh kustomize

## chart-crds: the Helm chart's CRDs (deploy/charts/aviary/files/crds/<group>/) from aviary's API (fixtures.CRDsInGroup); deploy's tests fail when they are stale
.PHONY: chart-crds kustomize-base
chart-crds:
	$(GO) run ./hack/deploy-gen -crds

## kustomize-base: deploy/kustomize from the chart's default render (helm template) without Helm's labels; deploy's tests fail when it is stale
kustomize-base: helm chart-crds
	$(GO) run ./hack/deploy-gen -kustomize -helm "$$(bash hack/tool-assets.sh --print-path helm)"

## e2e: only the end-to-end test (e2e/), with aviary's controller
e2e: envtest-assets prometheus flagger helm
	AVIARY_REQUIRE_E2E=1 $(GO) test -count=1 -timeout 30m -v ./e2e/ -ginkgo.v

## e2e-flagger: the end-to-end test with the real Flagger v1.44.0 as the controller under test; where it and aviary's controller decide differently goes to bin/e2e-flagger.txt
e2e-flagger: envtest-assets prometheus flagger helm
	AVIARY_REQUIRE_E2E=1 AVIARY_E2E_CONTROLLER=flagger AVIARY_E2E_REPORT=$(CURDIR)/bin/e2e-flagger.txt $(GO) test -count=1 -timeout 30m -v ./e2e/ -ginkgo.v

## browser: headless Chromium for the HTML report's browser test (hack/chromium/install.sh: as root, installs Debian's chromium with apt-get when missing; otherwise says what to install and fails)
browser:
	@bash hack/chromium/install.sh >/dev/null

## vet: go vet
vet:
	$(GO) vet ./...

## fmt-check: fail when gofmt would change a file
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: performance figures (median of 5 runs each; see README), envtest's included (API server start, scenario median, suite with --parallel 2), the peak heap of long runs (BenchmarkLongRun: 30 min, 24 h, 30 days; per virtual day) and the speed-up of `aviary test --parallel 2` over `--parallel 1` (BenchmarkSuiteParallel: speedup-x)
bench: envtest-assets
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./sim/... ./cmd/aviary/ ./policytest/ ./lint/ | tee bin/bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION) bin/bench.txt

## bench-scale: `aviary controller`, a process of its own, over 1,000 Canaries on envtest, 50 of them in analysis against a stub Prometheus, in real time (~5 min; not in `make bench`; e2e/scale BenchmarkScale): its peak and steady resident memory, Go heap, CPU, every tick's wall time p50/p99 (aviary_controller_tick_seconds), time to initialize every Canary, API requests per second and their latency
bench-scale: envtest-assets
	$(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -count 1 -timeout 20m ./e2e/scale/ | tee bin/bench-scale.txt

## fuzz: a short fuzzing session (FUZZTIME, 30s) of each fuzz target: one per file aviary reads (scenario, policy, convert input, series notation, results JSON)
# Two settings keep the sessions fuzzing (README, Project layout):
# -fuzzminimizetime 0: the engine minimizes every input that finds new coverage, for
# 60 s by default, showing 0 execs/s meanwhile; a loader input is kilobytes and finds
# new coverage several times a second, so the sessions did little else. A crasher is
# kept as found (testdata/fuzz/FuzzX/ID: go test -run 'FuzzX/ID' replays it).
# -test.fuzzcachedir (the corpus the engine keeps; cmd/go passes the build cache's):
# every session starts from the seeds. The engine replays its whole corpus before
# fuzzing, about 20 inputs a second, and a loader target adds hundreds a minute, so
# a kept corpus soon takes all of a 30 s session.
FUZZTIME ?= 30s
FUZZCACHE = $(CURDIR)/bin/fuzz
fuzz_target = $(GO) test -run '^$$' -fuzz '^$(1)$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 $(2) -args -test.fuzzcachedir=$(FUZZCACHE)
fuzz:
	rm -rf $(FUZZCACHE)
	$(call fuzz_target,FuzzLoadScenario,./sim/scenario/)
	$(call fuzz_target,FuzzLoadPolicy,./sim/scenario/)
	$(call fuzz_target,FuzzConvert,./sim/scenario/)
	$(call fuzz_target,FuzzParseRawSeries,./sim/world/)
	$(call fuzz_target,FuzzReadJSON,./reports/)

## report-fixture: regenerate reports/testdata/results.json, the frozen run records the report tests render (after a change of the run record's format or of the library's results; reports/testdata/README.md)
.PHONY: report-fixture
report-fixture:
	$(GO) run ./hack/report-fixture

## clean: remove build outputs (keeps the envtest binaries cache in bin/k8s)
clean:
	rm -rf bin/aviary bin/aviary-image.tar bin/aviary-image.oci bin/bench.txt bin/bench-scale.txt bin/fuzz

## help: list targets
help:
	@grep -h '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

# controller-gen is run from the module proxy at a pinned version (no tools module needed).
CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN ?= go run sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)

.PHONY: generate deepcopy crds

## generate: regenerate api/v1beta1 deepcopy code, the CRDs in fixtures/crds, the chart's CRDs and the kustomize base
generate: deepcopy crds
	$(MAKE) kustomize-base

## deepcopy: api/v1beta1/zz_generated.deepcopy.go
deepcopy:
	$(CONTROLLER_GEN) object paths=./api/...

## crds: fixtures/crds/aviary.dev_*.yaml (floats are Flagger's: thresholds are float64)
crds:
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./api/... output:crd:dir=fixtures/crds
