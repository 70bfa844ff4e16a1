package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/verify"
)

// runtimeSet is the runtime-fidelity reference set: requests,
// pydantic-core, orjson, numpy and cryptography, pinned to versions with
// wheels for python3.11 and python3.13 on x86_64 and aarch64. Functions
// api and crypto ship as layers; sign, with a part of it, ships as an
// image (package = "image"), built on the stand-in Lambda base.
var runtimeSet = map[string]string{
	"layers.toml": "\n[function.api]\nhandler = \"app.handler\"\n\n[function.crypto]\nhandler = \"app.handler\"\n\n" +
		"[function.sign]\nhandler = \"app.handler\"\npackage = \"image\"\n\n[image]\nrepository = \"verify-runtimes\"\n",
	"functions/api/requirements.txt": "requests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n" +
		"pydantic==2.9.2\npydantic-core==2.23.4\nannotated-types==0.7.0\ntyping-extensions==4.12.2\norjson==3.10.11\n",
	"functions/api/app.py": "import orjson, pydantic, requests\n\n\ndef handler(event, context):\n    return orjson.dumps(event)\n",
	"functions/crypto/requirements.txt": "cryptography==43.0.3\ncffi==1.17.1\npycparser==2.22\nnumpy==2.1.3\norjson==3.10.11\n" +
		"requests==2.32.3\nurllib3==2.2.3\nidna==3.10\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\n",
	"functions/crypto/app.py":         "import numpy\nfrom cryptography.fernet import Fernet\n\n\ndef handler(event, context):\n    return Fernet.generate_key()\n",
	"functions/sign/requirements.txt": "cryptography==43.0.3\ncffi==1.17.1\npycparser==2.22\norjson==3.10.11\n",
	"functions/sign/app.py":           "import orjson\nfrom cryptography.hazmat.primitives.asymmetric import ed25519\n\n\ndef handler(event, context):\n    return orjson.dumps(event)\n",
}

// runtimeModules must import, with status ok, in the function that needs
// them: every compiled extension of the set among them.
var runtimeModules = map[string][]string{
	"api":    {"requests", "urllib3", "idna", "certifi", "charset_normalizer", "pydantic", "pydantic_core", "annotated_types", "typing_extensions", "orjson", "app"},
	"crypto": {"cryptography", "_cffi_backend", "cffi", "pycparser", "numpy", "orjson", "requests", "app"},
	"sign":   {"app"}, // an image: its handler's module, in the image
}

// verifyRuntime builds runtimeSet for s's runtime and architecture in s's
// build image, with the image function on s's Lambda base, then runs
// `layers verify` in s's Lambda base: every module must import, the
// interpreter must be s's, the metadata must be consistent, and the image
// function's handler must import in its own image.
func verifyRuntime(t *testing.T, s dockertest.Standin) {
	t.Helper()
	d := dockertest.Engine(t)
	files := map[string]string{}
	for k, v := range runtimeSet {
		files[k] = v
	}
	files["layers.toml"] = s.Config() + strings.Replace(files["layers.toml"], "[image]\n", "[image]\nbase = \""+s.Lambda+"\"\n", 1)
	dir := testfs.Tree(t, files)
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	res := build(t, d, cfg, t.TempDir())
	for _, tm := range res.Manifest.Targets {
		for _, img := range tm.Images {
			t.Cleanup(func() { d.Untag(context.Background(), img.Tag) })
		}
	}
	vres, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d, Runs: 1, Progress: func(s string) { t.Log(s) }})
	var text strings.Builder
	if vres != nil {
		vres.WriteText(&text, false)
	}
	t.Logf("verify %s/%s:\n%s", s.Runtime, s.Architecture, text.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(vres.Functions) != len(runtimeModules) {
		t.Fatalf("%d functions verified, want %d", len(vres.Functions), len(runtimeModules))
	}
	python := strings.TrimPrefix(s.Runtime, "python")
	for _, f := range vres.Functions {
		if f.Runtime != s.Runtime || f.Architecture != s.Architecture {
			t.Errorf("function %s verified for %s/%s", f.Name, f.Runtime, f.Architecture)
		}
		if f.Python != python && !strings.HasPrefix(f.Python, python+".") {
			t.Errorf("function %s: imported by Python %s, want %s", f.Name, f.Python, python)
		}
		if f.Unverified != "" {
			t.Errorf("function %s: unverified: %s", f.Name, f.Unverified)
		}
		status := map[string]string{}
		for _, m := range f.Modules {
			status[m.Module] = m.Status
		}
		for _, m := range runtimeModules[f.Name] {
			if status[m] != verify.StatusOK {
				t.Errorf("function %s: module %s: status %q, want ok", f.Name, m, status[m])
			}
		}
		if len(f.Problems) != 0 {
			t.Errorf("function %s: unsatisfied requirements %v", f.Name, f.Problems)
		}
		switch f.Name {
		case "sign":
			if f.PackageType != "image" || !strings.HasPrefix(f.Image, "layers/sign:") {
				t.Errorf("sign: %s in image %q, want its own built image", f.PackageType, f.Image)
			}
		default:
			if f.Image != s.Lambda {
				t.Errorf("function %s: imported in %s, want the stand-in %s", f.Name, f.Image, s.Lambda)
			}
		}
	}
}

// TestVerifyArm64 builds the runtime reference set for python3.11 on arm64
// and verifies it in the arm64 stand-in Lambda base, under qemu: a layer
// holding an x86_64 extension would fail to import there.
func TestVerifyArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 40 MB of wheels and imports every module under qemu; skipped with -short")
	}
	verifyRuntime(t, dockertest.Arm64(t, dockertest.Engine(t)))
}

// TestVerifyPython313 builds the runtime reference set for python3.13 on
// x86_64 and verifies it in the python3.13 stand-in Lambda base (Debian
// trixie): cp313 extensions import in a 3.13 interpreter.
func TestVerifyPython313(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 40 MB of wheels; skipped with -short")
	}
	verifyRuntime(t, dockertest.Python313(t, dockertest.Engine(t)))
}
