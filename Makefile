# Make targets for layers. `make test` is what CI runs (through .ci/run).
GO       ?= go
PKGS     := ./...
FUZZTIME ?= 60s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test lint bench fuzz demo dist dist-check

build:
	$(GO) build -o bin/layers ./cmd/layers

# The whole suite under the race detector, with -short; then the tests
# that build real reference packages (hundreds of MB of wheels, numpy's
# zips), which -short skips: they are container- and I/O-bound, and the
# race detector only multiplies their zip time. The Arm64 ones run pip,
# imports and handlers in arm64 stand-ins under qemu (several times
# slower than native); the Python313 ones use the Debian trixie stand-ins.
# TestBuildTwoEngines builds on the default engine and the second one
# .ci/docker2.sh starts, and cuts the second mid-build.
LONG_TESTS := ^(TestBuildReferenceSet|TestFallbackHeavy|TestVerifyReferenceSet|TestStability|TestStabilityShapes|TestPreviousDrift|TestFreshRunner|$\
	TestBuildArm64ReferenceSet|TestBuildPython313|TestBuildDemoBothArchitectures|$\
	TestVerifyArm64|TestVerifyPython313|TestFallbackArm64|TestFallbackPython313|TestBuildTwoEngines)$$
LONG_PKGS  := ./builder/ ./builder/lambdaimage/ ./verify/ ./planner/ ./e2e/

test:
	$(GO) test -race -short -count=1 -timeout 30m $(PKGS)
	$(GO) test -count=1 -timeout 60m -run '$(LONG_TESTS)' $(LONG_PKGS)

lint:
	test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

demo: build
	./bin/layers plan --dir testdata/demo

# Release binaries, built the way .goreleaser.yaml builds them: static
# (CGO_ENABLED=0), no local paths (-trimpath), no build ID, version and
# commit stamped for `layers --version`, file times at the commit's time.
# dist/ then holds layers_OS_ARCH and SHA256SUMS, as a release does.
# VERSION is the v-tag on HEAD (1.2.3, or 1.2.3-4-gabc1234 past it), else dev.
PLATFORMS   := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
VERSION     ?= $(or $(shell git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//'),dev)
COMMIT      ?= $(shell git rev-parse --short HEAD)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
COMMIT_TIME ?= $(shell git log -1 --format=%ct)
DIST        ?= dist
DIST_LDFLAGS = -s -w -buildid= -X github.com/layers-dev/layers/internal/buildinfo.Version=$(VERSION) -X github.com/layers-dev/layers/internal/buildinfo.Commit=$(COMMIT)

dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/layers_$${os}_$${arch}; \
	  echo "== $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
	    -ldflags '$(DIST_LDFLAGS)' -o $$out ./cmd/layers || exit 1; \
	  touch -d @$(COMMIT_TIME) $$out; \
	done
	cd $(DIST) && sha256sum layers_* > SHA256SUMS
	cat $(DIST)/SHA256SUMS

# Two builds of the same commit must give the same bytes. The second builds
# a copy of the tracked tree in another folder with an empty build cache, so
# neither the path nor a cached object can make them agree by accident.
dist-check: dist
	@tmp=$$(mktemp -d) && trap 'chmod -R u+w $$tmp; rm -rf $$tmp' EXIT && \
	git ls-files -z | xargs -0 cp --parents -t $$tmp && \
	$(MAKE) -s -C $$tmp dist VERSION='$(VERSION)' COMMIT='$(COMMIT)' COMMIT_TIME='$(COMMIT_TIME)' \
	  GOCACHE=$$tmp/.gocache > /dev/null && \
	if cmp -s $(DIST)/SHA256SUMS $$tmp/$(DIST)/SHA256SUMS; then \
	  echo "dist-check: reproducible"; \
	else \
	  diff $(DIST)/SHA256SUMS $$tmp/$(DIST)/SHA256SUMS; echo "dist-check: the two builds differ"; exit 1; \
	fi
