// Package dockertest forwards to internal/dockertest, where the Docker
// test helpers moved so that packages outside builder (verify) share
// them; builder's tests may import that package directly.
package dockertest

import (
	"testing"

	"github.com/layers-dev/layers/builder/engine"
	shared "github.com/layers-dev/layers/internal/dockertest"
)

// DefaultImage is the stand-in build image .ci/docker.sh builds.
const DefaultImage = shared.DefaultImage

// Platform is the stand-in image's platform.
const Platform = shared.Platform

// Engine returns a connected engine, closed when the test ends.
func Engine(t testing.TB) *engine.Docker { t.Helper(); return shared.Engine(t) }

// Image returns the stand-in build image's reference after checking that
// e has it.
func Image(t testing.TB, e engine.Engine) string { t.Helper(); return shared.Image(t, e) }

// HostCA returns the copy and the environment that make pip in a
// container trust what the host trusts.
func HostCA(t testing.TB) ([]engine.CopyIn, []string) { t.Helper(); return shared.HostCA(t) }
