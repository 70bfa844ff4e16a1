package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
)

// imageRepo is a repository whose function report is an image by
// configuration, with the rest of layers.toml given by the case.
func imageRepo(t *testing.T, toml string) map[string]string {
	t.Helper()
	return map[string]string{
		"layers.toml":                       "runtime = \"python3.11\"\n" + toml,
		"functions/report/requirements.txt": "six==1.16.0\n",
		"functions/report/app.py":           "",
		"functions/api/requirements.txt":    "six==1.16.0\n",
		"functions/api/app.py":              "",
	}
}

// TestPlanImageConfigErrors checks the input errors an image function
// meets at plan time: each names layers.toml (with the line when there is
// one), the function, and why it is an image.
func TestPlanImageConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, toml string
		line       int
		want       []string
	}{
		{"no repository", "[function.report]\npackage = \"image\"\nhandler = \"app.handler\"\n", 0,
			[]string{"function report must ship as a container image", `package = "image" in layers.toml`, "[image]", `repository = "NAME"`}},
		{"no repository, [image] present", "[function.report]\npackage = \"image\"\nhandler = \"app.handler\"\n\n[image]\nscan_on_push = true\n", 6,
			[]string{"no ECR repository is set for images"}},
		{"no handler", "[function.report]\npackage = \"image\"\n\n[image]\nrepository = \"repo\"\n", 2,
			[]string{"function report must ship as a container image", "needs a handler for its CMD", "[function.report]", `handler = "app.handler"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := repo(t, imageRepo(t, c.toml))
			_, err := Plan(context.Background(), cfg)
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("plan: %v, want an input error", err)
			}
			if filepath.Base(d.Path) != "layers.toml" || d.Line != c.line {
				t.Errorf("error at %s:%d, want layers.toml:%d", d.Path, d.Line, c.line)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestPlanImageText checks the plan text names the image function, why,
// its CMD and the repository.
func TestPlanImageText(t *testing.T) {
	cfg := repo(t, imageRepo(t, "[function.report]\npackage = \"image\"\nhandler = \"app.handler\"\n\n[image]\nrepository = \"acme/functions\"\n"))
	doc, err := Plan(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := doc.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"1 container image",
		"pushed to ECR repository acme/functions",
		`report: package = "image" in layers.toml; CMD app.handler`,
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("plan text lacks %q:\n%s", w, b.String())
		}
	}
}

// TestBuildImageNeedsHandler checks build stops on the same input error
// before any image is built, and writes no manifest.
func TestBuildImageNeedsHandler(t *testing.T) {
	cfg := repo(t, imageRepo(t, "[build]\nimage = \"standin:1\"\n[function.report]\npackage = \"image\"\n\n[image]\nrepository = \"repo\"\n"))
	_, err := testBuild(t, cfg, &pipEngine{}, t.TempDir(), nil)
	if !diag.IsInput(err) || !strings.Contains(err.Error(), "needs a handler for its CMD") {
		t.Fatalf("build: %v, want the missing handler", err)
	}
}

// TestBuildImageNeedsImageEngine checks an engine without image support
// (a fake) is refused with the function named, not a panic.
func TestBuildImageNeedsImageEngine(t *testing.T) {
	cfg := repo(t, imageRepo(t, "[build]\nimage = \"standin:1\"\n[function.report]\npackage = \"image\"\nhandler = \"app.handler\"\n\n[image]\nrepository = \"repo\"\n"))
	_, err := testBuild(t, cfg, &pipEngine{}, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot build container images (function report needs one)") {
		t.Fatalf("build: %v", err)
	}
}

// TestPlanImageDefaultHandler checks an image function without a handler
// of its own takes the top-level one, and its own wins over it.
func TestPlanImageDefaultHandler(t *testing.T) {
	for _, c := range []struct{ name, toml, want string }{
		{"inherited", "handler = \"main.lambda_handler\"\n\n[function.report]\npackage = \"image\"\n\n[image]\nrepository = \"acme/functions\"\n", "CMD main.lambda_handler"},
		{"its own wins", "handler = \"main.lambda_handler\"\n\n[function.report]\npackage = \"image\"\nhandler = \"report.run\"\n\n[image]\nrepository = \"acme/functions\"\n", "CMD report.run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Plan(context.Background(), repo(t, imageRepo(t, c.toml)))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := doc.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), c.want) {
				t.Errorf("plan text lacks %q:\n%s", c.want, b.String())
			}
		})
	}
}
