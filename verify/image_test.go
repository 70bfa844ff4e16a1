package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/layers-dev/layers/builder/archive"
	"github.com/layers-dev/layers/builder/engine"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/dockertest"
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
