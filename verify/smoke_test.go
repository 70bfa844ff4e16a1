package verify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/verify"
)

// TestVerifyResults verifies a small build with a handler: every module
// and the handler import, the results land in .layers/verify.json, and a
// run limited to one function keeps the other's results there.
func TestVerifyResults(t *testing.T) {
	d, image := standin(t)
	cfg := writeRepo(t, image, "\n[function.worker]\nhandler = \"app.handler\"\n", map[string]string{
		"functions/worker/requirements.txt": "six==1.16.0\nPyYAML==6.0.2\n",
		"functions/worker/app.py":           "import yaml, six\n\ndef handler(event, context):\n    return yaml.safe_dump(event)\n",
		"functions/worker/.venv/junk.py":    "raise SystemExit('a virtual environment is no function code')\n",
		"functions/other/requirements.txt":  "six==1.16.0\n",
	})
	build(t, d, cfg, t.TempDir())
	res, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d, Runs: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, f := range res.Functions {
		got[f.Name] = map[string]string{}
		for _, m := range f.Modules {
			got[f.Name][m.Module] = m.Status
		}
		if f.ImportMicros == nil || f.Python == "" {
			t.Errorf("%s: import time %v, python %q", f.Name, f.ImportMicros, f.Python)
		}
	}
	want := map[string]map[string]string{
		"worker": {"yaml": "ok", "_yaml": "ok", "six": "ok", "app": "ok"},
		"other":  {"six": "ok"},
	}
	for fn, mods := range want {
		for m, s := range mods {
			if got[fn][m] != s {
				t.Errorf("%s: %s: %q, want %q (all: %v)", fn, m, got[fn][m], s, got[fn])
			}
		}
		if len(got[fn]) != len(mods) {
			t.Errorf("%s: modules %v, want %v", fn, got[fn], mods)
		}
	}

	if _, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d, Runs: 1, Function: "worker"}); err != nil {
		t.Fatal(err)
	}
	saved, err := verify.ReadResult(cfg.Root)
	if err != nil || saved == nil {
		t.Fatalf("read results: %v", err)
	}
	if len(saved.Functions) != 2 || saved.Functions[0].Name != "other" || saved.Functions[1].Name != "worker" || saved.InputsSHA256 == "" {
		t.Errorf("saved results after a --function run: %+v", saved)
	}

	// Layers for another Python than the image's: the extensions would
	// fail in confusing ways, so verify names the mismatch instead.
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		t.Fatal(err)
	}
	m.Targets[0].Runtime = "python3.12"
	if err := manifest.Write(cfg.Root, m); err != nil {
		t.Fatal(err)
	}
	_, err = verify.Run(context.Background(), cfg, verify.Options{Engine: d, Runs: 1, Function: "other"})
	if err == nil || !strings.Contains(err.Error(), "runs Python 3.11") || !strings.Contains(err.Error(), "layers are for Python 3.12") {
		t.Errorf("verify of python3.12 layers in a 3.11 image = %v, want the mismatch named", err)
	}
}
