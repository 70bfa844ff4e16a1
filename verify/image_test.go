package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/verify"
)

// TestVerifyImage verifies functions packaged as images in a hand-made
// image: the stand-in with a handler module in /var/task and an
// entrypoint that fails, as Lambda's images start their emulator: verify
// must run its own. One function's handler exists, the other's does not.
func TestVerifyImage(t *testing.T) {
	d, image := standin(t)
	ctx := context.Background()
	tag := "layers-verify-test/image:1"
	_, err := d.Commit(ctx, engine.CommitSpec{
		Base: image, Platform: dockertest.Platform, Ref: tag,
		In: []engine.CopyIn{{Dir: "/", Files: []archive.File{
			archive.FromBytes("var/task/app.py", []byte("import json\n\ndef handler(event, context):\n    return json.dumps(event)\n"), false),
		}}},
		Entrypoint: []string{"/bin/false"}, Cmd: []string{"app.handler"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Untag(context.Background(), tag) })

	root := t.TempDir()
	m := &manifest.Manifest{Format: manifest.Format, InputsSHA256: "x", Targets: []manifest.Target{{
		Runtime: "python3.11", Architecture: "x86_64",
		Functions: []manifest.Function{
			{Name: "bad", PackageType: planner.PackageImage},
			{Name: "good", PackageType: planner.PackageImage},
			{Name: "unbuilt", PackageType: planner.PackageImage},
		},
		Images: []manifest.Image{
			{Function: "good", Tag: tag, Handler: "app.handler"},
			{Function: "bad", Tag: tag, Handler: "app.missing"},
			{Function: "unbuilt"},
		},
	}}}
	if err := manifest.Write(root, m); err != nil {
		t.Fatal(err)
	}
	res, err := verify.Run(ctx, config.Default(root), verify.Options{Engine: d})
	var fe *verify.FailedError
	if !errors.As(err, &fe) || len(fe.Functions) != 1 || fe.Functions[0] != "bad (python3.11/x86_64)" {
		t.Fatalf("error %v, want a *FailedError naming bad only", err)
	}
	var b strings.Builder
	if err := res.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	t.Log(b.String())
	byName := map[string]verify.FunctionResult{}
	for _, f := range res.Functions {
		byName[f.Name] = f
	}
	if g := byName["good"]; len(g.Modules) != 1 || g.Modules[0].Status != verify.StatusOK || !g.Modules[0].Handler || g.Image != tag {
		t.Errorf("good: %+v", g)
	}
	if bad := byName["bad"]; len(bad.Modules) != 1 || bad.Modules[0].Status != verify.StatusFailed ||
		!strings.Contains(bad.Modules[0].Error, "module 'app' has no attribute 'missing'") {
		t.Errorf("bad: %+v", bad)
	}
	if u := byName["unbuilt"]; len(u.Modules) != 0 || u.Unverified != "its image is not built" {
		t.Errorf("unbuilt: %+v", u)
	}
}

// TestVerifyBuiltImage verifies a function that `layers build` turned
// into an image (its closure is over a lowered limit): its handler imports
// in the image the build tagged. After its code gains an import of a
// module it does not ship, the rebuilt image fails verification, naming
// the function and the module.
func TestVerifyBuiltImage(t *testing.T) {
	d, image := standin(t)
	ctx := context.Background()
	base := dockertest.LambdaImage(t, d)
	cfg := writeRepo(t, image, "\n[limits]\nfunction_unzipped_bytes = 200000\n\n[function.big]\nhandler = \"app.handler\"\n\n"+
		"[image]\nrepository = \"verify-test\"\nbase = \""+base+"\"\n", map[string]string{
		"functions/big/requirements.txt": "six==1.16.0\nidna==3.10\n",
		"functions/big/app.py":           "import idna, six\n\n\ndef handler(event, context):\n    return idna.encode('example.invalid')\n",
	})
	cacheDir := t.TempDir()
	verifyImage := func() (*verify.Result, error) {
		t.Helper()
		res := build(t, d, cfg, cacheDir)
		if len(res.Manifest.Targets[0].Images) != 1 || res.Manifest.Targets[0].Images[0].Tag == "" {
			t.Fatalf("big is not a built image: %+v", res.Manifest.Targets[0].Images)
		}
		tag := res.Manifest.Targets[0].Images[0].Tag
		t.Cleanup(func() { d.Untag(context.Background(), tag) })
		return verify.Run(ctx, cfg, verify.Options{Engine: d, Runs: 1})
	}
	res, err := verifyImage()
	if err != nil {
		t.Fatalf("verify of the built image: %v", err)
	}
	if f := res.Functions[0]; f.Name != "big" || f.Image == "" || len(f.Modules) != 1 || f.Modules[0].Status != verify.StatusOK || !f.Modules[0].Handler {
		t.Errorf("big: %+v, want its handler imported in its image", f)
	}

	app := filepath.Join(cfg.Root, "functions", "big", "app.py")
	if err := os.WriteFile(app, []byte("import idna, six, yaml\n\n\ndef handler(event, context):\n    return 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = verifyImage()
	var fe *verify.FailedError
	if !errors.As(err, &fe) || len(fe.Functions) != 1 || !strings.HasPrefix(fe.Functions[0], "big ") {
		t.Fatalf("verify after big imports yaml = %v, want big failing", err)
	}
	saved, err := verify.ReadResult(cfg.Root)
	if err != nil || saved == nil || len(saved.Functions) != 1 || len(saved.Functions[0].Modules) != 1 ||
		!strings.Contains(saved.Functions[0].Modules[0].Error, "No module named 'yaml'") {
		t.Errorf("saved results: %+v, %v; want the missing yaml named", saved, err)
	}
}
