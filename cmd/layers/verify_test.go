package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// needStandin returns the stand-in build image, skipping (failing in CI)
// without it or the engine, and points the build at the host's CA bundle
// and a fresh cache.
func needStandin(t *testing.T) string {
	t.Helper()
	image := dockertest.Image(t, dockertest.Engine(t))
	if ca := dockertest.HostCABundle(); ca != "" {
		t.Setenv("LAYERS_CA_BUNDLE", ca)
	}
	t.Setenv("LAYERS_CACHE", t.TempDir())
	return image
}

// TestVerifyForgottenDependency builds a hand-pinned requirements file
// that forgot urllib3, requests' dependency: `verify --offline` must name
// the function, the distribution and the requirement, and exit 1; so must
// `build --verify`, whose imports then fail too. `report` draws the result.
func TestVerifyForgottenDependency(t *testing.T) {
	standinImage := needStandin(t)
	dir := writeFiles(t, map[string]string{
		"layers.toml": "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n[build]\nimage = \"" + standinImage + "\"\n" +
			"[verify]\nimage = \"" + standinImage + "\"\n[function.api]\nhandler = \"app.handler\"\n",
		"functions/api/requirements.txt": "requests==2.32.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n",
		"functions/api/app.py":           "import requests\n\ndef handler(event, context):\n    return 1\n",
	})
	code, stdout, stderr := runCLI(t, "build", "--dir", dir, "--verify")
	if code != exitFailure {
		t.Fatalf("build --verify: exit %d, want %d\n%s", code, exitFailure, stderr)
	}
	if stdout != "" {
		t.Errorf("build --verify wrote to stdout: %q", stdout)
	}
	for _, want := range []string{
		"function api: requests 2.32.3 requires urllib3<3,>=1.21.1, which the function does not receive",
		"function api: import requests (requests) failed: ModuleNotFoundError: No module named 'urllib3'",
		"function api: import app (the handler's module) failed: ModuleNotFoundError: No module named 'urllib3'",
		"layers: verification failed for 1 function(s): api (python3.11/x86_64)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("build --verify: stderr lacks %q:\n%s", want, stderr)
		}
	}

	code, stdout, stderr = runCLI(t, "verify", "--dir", dir, "--offline", "--json")
	if code != exitFailure {
		t.Fatalf("verify --offline: exit %d\n%s", code, stderr)
	}
	var res struct {
		Functions []struct {
			Name     string
			Problems []struct{ Kind, Distribution, Requirement string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("verify --offline --json: %v\n%s", err, stdout)
	}
	if len(res.Functions) != 1 || len(res.Functions[0].Problems) != 1 {
		t.Fatalf("results %+v", res)
	}
	if p := res.Functions[0].Problems[0]; res.Functions[0].Name != "api" || p.Kind != "missing" || p.Distribution != "requests" || p.Requirement != "urllib3<3,>=1.21.1" {
		t.Errorf("problem %+v", p)
	}

	code, stdout, stderr = runCLI(t, "report", "--dir", dir)
	page := filepath.Join(dir, ".layers", "report.html")
	if code != exitOK || strings.TrimSpace(stdout) != page {
		t.Fatalf("report: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(data), "FAILED") || !strings.Contains(string(data), "urllib3&lt;3,&gt;=1.21.1") {
		t.Errorf("report: %v\n%.500s", err, data)
	}
}

func TestVerifyWithoutBuild(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"verify", "--dir", dir, "--offline"}, {"report", "--dir", dir}} {
		code, _, stderr := runCLI(t, args...)
		if code != exitFailure || !strings.Contains(stderr, "no build manifest: run `layers build` first") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}
