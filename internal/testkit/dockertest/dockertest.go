// Package dockertest gives tests the real Docker engine and the
// stand-in images that .ci/docker.sh prepares. Without them a test
// fails when CI is set (a green CI run must have exercised the engine) and
// is skipped elsewhere, with a message saying what is missing.
package dockertest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/engine"
)

// DefaultImage is the stand-in build image .ci/docker.sh builds: Debian
// bookworm with python3 (3.11), pip and binutils, for linux/amd64.
const DefaultImage = "layers-standin/build-python3.11:bookworm"

// Platform is the stand-in image's platform.
const Platform = "linux/amd64"

// Engine returns a connected engine, closed when the test ends.
func Engine(t testing.TB) *engine.Docker {
	t.Helper()
	d, err := engine.Dial(context.Background())
	if err != nil {
		missing(t, "no Docker engine: %v (run .ci/docker.sh)", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Image returns the stand-in build image's reference
// ($LAYERS_STANDIN_IMAGE, else DefaultImage) after checking that e has it.
func Image(t testing.TB, e engine.Engine) string {
	t.Helper()
	return standin(t, e, "LAYERS_STANDIN_IMAGE", DefaultImage, "build image")
}

// DefaultLambdaImage is the stand-in Lambda base image .ci/docker.sh
// derives from the build stand-in: LAMBDA_TASK_ROOT=/var/task and an
// entrypoint that imports the handler, as the runtime images have.
const DefaultLambdaImage = "layers-standin/lambda-python3.11:bookworm"

// LambdaImage returns the stand-in Lambda base image's reference
// ($LAYERS_STANDIN_LAMBDA_IMAGE, else DefaultLambdaImage) after checking
// that e has it.
func LambdaImage(t testing.TB, e engine.Engine) string {
	t.Helper()
	return standin(t, e, "LAYERS_STANDIN_LAMBDA_IMAGE", DefaultLambdaImage, "Lambda base image")
}

// standin returns the image $env names, else def, after checking that e
// has it for Platform: missing, the test fails in CI and is skipped
// elsewhere.
func standin(t testing.TB, e engine.Engine, env, def, what string) string {
	t.Helper()
	return standinFor(t, e, env, def, what, Platform)
}

// standinFor is standin for an image of platform plat.
func standinFor(t testing.TB, e engine.Engine, env, def, what, plat string) string {
	t.Helper()
	ref := os.Getenv(env)
	if ref == "" {
		ref = def
	}
	_, err := e.ImageID(context.Background(), ref, plat)
	if errors.Is(err, engine.ErrImageNotFound) {
		missing(t, "no stand-in %s %s for %s: %v (run .ci/docker.sh)", what, ref, plat, err)
	} else if err != nil {
		t.Fatal(err)
	}
	return ref
}

// A Standin is a pair of stand-in images .ci/docker.sh builds for one
// Lambda runtime and architecture: a build image (Debian with python3,
// pip and binutils) and a Lambda base image derived from it, whose
// entrypoint runs a handler as the runtime images' does.
type Standin struct {
	Runtime      string // the Lambda runtime the images stand in for, like "python3.11"
	Architecture string // "x86_64" or "arm64"
	Platform     string // the images' platform, like "linux/arm64"
	Machine      string // platform.machine() in them, like "aarch64"
	Build        string // the build image's reference
	Lambda       string // the Lambda base image's reference
}

// Config returns the head of a layers.toml that builds, verifies and
// packages images for s's runtime and architecture in its images.
func (s Standin) Config() string {
	return "runtime = \"" + s.Runtime + "\"\narchitectures = [\"" + s.Architecture + "\"]\n\n[build]\nimage = \"" + s.Build +
		"\"\n\n[verify]\nimage = \"" + s.Lambda + "\"\n"
}

// Default stand-in references for Arm64 and Python313.
const (
	DefaultArm64Image           = "layers-standin/build-python3.11:bookworm-arm64"
	DefaultArm64LambdaImage     = "layers-standin/lambda-python3.11:bookworm-arm64"
	DefaultPython313Image       = "layers-standin/build-python3.13:trixie"
	DefaultPython313LambdaImage = "layers-standin/lambda-python3.13:trixie"
)

// X8664 returns the python3.11 x86_64 stand-ins: Image and LambdaImage.
func X8664(t testing.TB, e engine.Engine) Standin {
	t.Helper()
	return Standin{Runtime: "python3.11", Architecture: "x86_64", Platform: Platform, Machine: "x86_64",
		Build: Image(t, e), Lambda: LambdaImage(t, e)}
}

// Arm64 returns the python3.11 arm64 stand-ins: Debian bookworm for
// linux/arm64, run through qemu-user-static and binfmt_misc on an x86_64
// machine, so every container in them is several times slower than
// native ($LAYERS_STANDIN_ARM64_IMAGE and $LAYERS_STANDIN_ARM64_LAMBDA_IMAGE
// override the references).
func Arm64(t testing.TB, e engine.Engine) Standin {
	t.Helper()
	const plat = "linux/arm64"
	return Standin{Runtime: "python3.11", Architecture: "arm64", Platform: plat, Machine: "aarch64",
		Build:  standinFor(t, e, "LAYERS_STANDIN_ARM64_IMAGE", DefaultArm64Image, "arm64 build image", plat),
		Lambda: standinFor(t, e, "LAYERS_STANDIN_ARM64_LAMBDA_IMAGE", DefaultArm64LambdaImage, "arm64 Lambda base image", plat)}
}

// Python313 returns the python3.13 x86_64 stand-ins: Debian trixie, whose
// glibc (2.41) is newer than the python3.13 runtime's (2.34), so wheels
// that load in them need not load in Lambda: the builder's wheel tags, not
// the image, keep to manylinux_2_34 ($LAYERS_STANDIN_PY313_IMAGE and
// $LAYERS_STANDIN_PY313_LAMBDA_IMAGE override the references).
func Python313(t testing.TB, e engine.Engine) Standin {
	t.Helper()
	return Standin{Runtime: "python3.13", Architecture: "x86_64", Platform: Platform, Machine: "x86_64",
		Build:  standin(t, e, "LAYERS_STANDIN_PY313_IMAGE", DefaultPython313Image, "python3.13 build image"),
		Lambda: standin(t, e, "LAYERS_STANDIN_PY313_LAMBDA_IMAGE", DefaultPython313LambdaImage, "python3.13 Lambda base image")}
}

// HostCA returns the copy and the environment that make pip in a
// container trust what the host trusts: the host's CA bundle ($PIP_CERT,
// $SSL_CERT_FILE or Debian's bundle) at /layers-ca/ca.crt and PIP_CERT
// pointing at it. On networks whose egress re-signs TLS, as on the
// development machines and behind many corporate proxies, the image's own
// bundle cannot verify the package index. Without a host bundle both are nil.
func HostCA(t testing.TB) ([]engine.CopyIn, []string) {
	t.Helper()
	p := HostCABundle()
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil
	}
	files := []archive.File{archive.FromBytes("layers-ca/ca.crt", data, false)}
	return []engine.CopyIn{{Dir: "/", Files: files}}, []string{"PIP_CERT=/layers-ca/ca.crt"}
}

// HostCABundle returns the host's CA bundle pip in a container must trust
// on networks that re-sign TLS: $PIP_CERT, $SSL_CERT_FILE or Debian's
// bundle, the first that exists; "" for none.
func HostCABundle() string {
	for _, p := range []string{os.Getenv("PIP_CERT"), os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Getenv is the environment of a test build: the host's, with the unit
// cache at cacheDir, LAYERS_CA_BUNDLE at the host bundle (unless set),
// PIP_RETRIES at 10 (unless set) and no SOURCE_DATE_EPOCH, so builds are
// comparable whatever the host sets. pip in an arm64 stand-in runs under
// qemu on a busy machine: its TLS handshakes are slow enough that the
// network resets some connections, and pip's default 5 retries ran out.
func Getenv(cacheDir string) func(string) string {
	ca := os.Getenv("LAYERS_CA_BUNDLE")
	if ca == "" {
		ca = HostCABundle()
	}
	return func(k string) string {
		switch k {
		case "LAYERS_CA_BUNDLE":
			return ca
		case "LAYERS_CACHE":
			return cacheDir
		case "SOURCE_DATE_EPOCH":
			return ""
		case "PIP_RETRIES":
			if v := os.Getenv(k); v != "" {
				return v
			}
			return "10"
		}
		return os.Getenv(k)
	}
}

// missing fails the test in CI and skips it elsewhere.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
