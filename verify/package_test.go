package verify_test

import (
	"context"
	"testing"

	"github.com/layers-dev/layers/verify"
)

// TestVerifyPackageFunction builds a function that is itself a package (a
// uv project with a build backend and a src layout, which `uv sync`
// installs) and checks its distribution ships in its layers: its handler,
// inside the package, imports in the runtime and finds its own version
// with importlib.metadata.
func TestVerifyPackageFunction(t *testing.T) {
	d, image := standin(t)
	cfg := writeRepo(t, image, "\n[function.signer]\nhandler = \"signer.app.handler\"\n", map[string]string{
		"functions/signer/pyproject.toml": `[project]
name = "signer"
version = "0.4.0"
requires-python = ">=3.11"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
`,
		"functions/signer/uv.lock": `version = 1
requires-python = ">=3.11"

[[package]]
name = "signer"
version = "0.4.0"
source = { editable = "." }
`,
		"functions/signer/src/signer/__init__.py": "",
		"functions/signer/src/signer/app.py": `import importlib.metadata

VERSION = importlib.metadata.version("signer")
assert VERSION == "0.4.0", VERSION


def handler(event, context):
    return VERSION
`,
	})
	build(t, d, cfg, t.TempDir())
	res, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Functions) != 1 {
		t.Fatalf("verified %d functions, want signer alone", len(res.Functions))
	}
	f := res.Functions[0]
	got := map[string]string{}
	for _, m := range f.Modules {
		got[m.Module] = m.Status
		if m.Status != verify.StatusOK {
			t.Errorf("%s: %s: %s", m.Module, m.Status, m.Tail)
		}
	}
	if got["signer"] != verify.StatusOK || got["signer.app"] != verify.StatusOK {
		t.Errorf("modules %v, want signer and its handler signer.app imported", got)
	}
	for _, p := range f.Problems {
		t.Errorf("metadata problem: %s", p)
	}
}
