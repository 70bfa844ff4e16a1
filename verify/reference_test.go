package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/layers-dev/layers/verify"
)

// referenceModules must import, with status ok, in every function that
// needs them.
var referenceModules = map[string][]string{
	"api":    {"requests", "urllib3", "idna", "certifi", "charset_normalizer", "pydantic", "pydantic_core", "annotated_types", "typing_extensions", "app"},
	"ingest": {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3", "pydantic", "pydantic_core", "app"},
	"report": {"pandas", "numpy", "dateutil", "pytz", "tzdata", "boto3", "botocore", "app"},
	"parse":  {"cryptography", "_cffi_backend", "cffi", "pycparser", "yaml", "_yaml", "lxml", "orjson", "app"},
}

// TestVerifyReferenceSet builds the reference set (testdata/reference)
// with default pruning (byte code compiled), with tests = true and with
// strip = true and no byte code, sharing one unit cache, and verifies each
// build: every module of every function
// must import in the stand-in runtime, and the metadata must be
// consistent. Then a pruning rule that removes a module PyYAML needs
// must fail verification, naming the function and the module.
func TestVerifyReferenceSet(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 100 MB of wheels and builds three times; skipped with -short")
	}
	d, image := standin(t)
	files := readTree(t, "testdata/reference")
	extra := files["layers.toml"]
	delete(files, "layers.toml")
	cacheDir := t.TempDir()
	for _, prune := range []string{"", "\n[prune]\ntests = true\n", "\n[prune]\nstrip = true\nbytecode = \"strip\"\n"} {
		compiled := !strings.Contains(prune, "bytecode")
		name := strings.TrimSpace(strings.ReplaceAll(prune, "\n", " "))
		if name == "" {
			name = "default pruning"
		}
		t.Run(name, func(t *testing.T) {
			cfg := writeRepo(t, image, extra+prune, files)
			built := build(t, d, cfg, cacheDir)
			for _, l := range built.Manifest.Targets[0].Layers {
				if compiled != (l.ByteCodeBytes > 0) {
					t.Errorf("layer %s: %d bytes of byte code", l.Name, l.ByteCodeBytes)
				}
			}
			res, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d, Progress: func(s string) { t.Log(s) }})
			var text strings.Builder
			if res != nil {
				res.WriteText(&text, false)
			}
			t.Logf("%s:\n%s", name, text.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Functions) != len(referenceModules) {
				t.Fatalf("%d functions verified, want %d", len(res.Functions), len(referenceModules))
			}
			for _, f := range res.Functions {
				status := map[string]string{}
				for _, m := range f.Modules {
					status[m.Module] = m.Status
				}
				for _, m := range referenceModules[f.Name] {
					if status[m] != verify.StatusOK {
						t.Errorf("function %s: module %s: status %q, want ok", f.Name, m, status[m])
					}
				}
				if len(f.Problems) != 0 {
					t.Errorf("function %s: unsatisfied requirements %v", f.Name, f.Problems)
				}
				if f.ImportMicros == nil || *f.ImportMicros <= 0 || len(f.Slowest) == 0 {
					t.Errorf("function %s: no import time measured", f.Name)
				}
				if f.SourceImportMicros == nil || *f.SourceImportMicros <= 0 {
					t.Errorf("function %s: no import time measured without byte code", f.Name)
				}
			}
		})
	}

	t.Run("broken", func(t *testing.T) {
		cfg := writeRepo(t, image, "\n[function.parse]\nhandler = \"app.handler\"\n\n[prune]\npatterns = [\"yaml/constructor.py\"]\n",
			map[string]string{
				"functions/parse/requirements.txt": "PyYAML==6.0.2\n",
				"functions/parse/app.py":           "import yaml\n\ndef handler(event, context):\n    return yaml.safe_load(event)\n",
			})
		build(t, d, cfg, cacheDir)
		res, err := verify.Run(context.Background(), cfg, verify.Options{Engine: d})
		var fe *verify.FailedError
		if !errors.As(err, &fe) || !errors.Is(err, verify.ErrFailed) || len(fe.Functions) != 1 || !strings.HasPrefix(fe.Functions[0], "parse ") {
			t.Fatalf("error %v, want a *FailedError naming function parse", err)
		}
		var text strings.Builder
		if err := res.WriteText(&text, false); err != nil {
			t.Fatal(err)
		}
		out := text.String()
		t.Log(out)
		for _, want := range []string{
			"function parse: import yaml (pyyaml) failed: ModuleNotFoundError: No module named 'yaml.constructor'",
			"function parse: import app (the handler's module) failed: ModuleNotFoundError: No module named 'yaml.constructor'",
			"yaml/__init__.py", // the traceback's last lines
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		for _, m := range res.Functions[0].Modules {
			if m.Module == "yaml" && m.Status != verify.StatusFailed {
				t.Errorf("yaml: status %q, want failed (a pruned module of the package itself is never optional)", m.Status)
			}
		}
	})
}
