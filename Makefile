# Make targets for layers. `make test` is what CI runs (through .ci/run).
GO       ?= go
PKGS     := ./...
FUZZTIME ?= 60s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test lint bench fuzz demo

build:
	$(GO) build -o bin/layers ./cmd/layers

# The whole suite under the race detector, with -short; then the tests
# that build real reference packages (hundreds of MB of wheels, numpy's
# zips), which -short skips: they are container- and I/O-bound, and the
# race detector only multiplies their zip time. The Arm64 ones run pip,
# imports and handlers in arm64 stand-ins under qemu (several times
# slower than native); the Python313 ones use the Debian trixie stand-ins.
LONG_TESTS := ^(TestBuildReferenceSet|TestFallbackHeavy|TestVerifyReferenceSet|TestStability|TestPreviousDrift|$\
	TestBuildArm64ReferenceSet|TestBuildPython313|TestBuildDemoBothArchitectures|$\
	TestVerifyArm64|TestVerifyPython313|TestFallbackArm64|TestFallbackPython313)$$
LONG_PKGS  := ./builder/ ./builder/lambdaimage/ ./verify/ ./planner/

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
