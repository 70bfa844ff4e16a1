// Package e2e holds the end-to-end tests that span commands, as CI runs
// them: build and publish on one runner, then build on a fresh one.
package e2e

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/internal/testkit/motoserver"
	"github.com/layers-dev/layers/internal/testkit/testfs"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/publish"
)

const cacheURL = "s3://layers-cache/acme"

// project is a small monorepo: api and worker share six.
func project(image string) map[string]string {
	return map[string]string{
		"layers.toml": "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[build]\nimage = \"" + image + "\"\n\n" +
			"[publish]\nregion = \"" + motoserver.Region + "\"\n\n[cache]\nurl = \"" + cacheURL + "\"\n",
		"functions/api/requirements.txt":    "six==1.16.0\nidna==3.10\n",
		"functions/api/app.py":              "import six, idna\n",
		"functions/worker/requirements.txt": "six==1.16.0\nattrs==24.2.0\n",
		"functions/worker/app.py":           "import six, attrs\n",
	}
}

// runner is one CI runner: a checkout and a local cache of its own.
type runner struct {
	t      *testing.T
	cfg    *config.Config
	cache  string
	engine *dockertest.Counting
}

func newRunner(t *testing.T, e engine.Engine, files map[string]string) *runner {
	t.Helper()
	cfg, err := config.Load(testfs.Tree(t, files), "")
	if err != nil {
		t.Fatal(err)
	}
	return &runner{t: t, cfg: cfg, cache: t.TempDir(), engine: &dockertest.Counting{Engine: e}}
}

// build runs `layers build`; a warning fails the test unless it is the
// one expected, first.
func (r *runner) build(expected ...string) *pipeline.BuildResult {
	r.t.Helper()
	var notices []string
	res, err := pipeline.Build(context.Background(), r.cfg, pipeline.BuildOptions{
		Engine: r.engine, CacheDir: r.cache, Tool: "test", Getenv: dockertest.Getenv(r.cache),
		Progress: func(s string) { r.t.Log(s) },
		Notice:   func(s string) { notices = append(notices, s); r.t.Log(s) },
	})
	if err != nil {
		r.t.Fatal(err)
	}
	var warnings []string
	for _, n := range notices {
		if strings.HasPrefix(n, "warning:") {
			warnings = append(warnings, n)
		}
	}
	if len(warnings) != len(expected) {
		r.t.Errorf("build warned %q, want %d warnings %q", warnings, len(expected), expected)
	}
	for i := range min(len(warnings), len(expected)) {
		if !strings.Contains(warnings[i], expected[i]) {
			r.t.Errorf("warning %q, want one saying %q", warnings[i], expected[i])
		}
	}
	return res
}

func (r *runner) publish() *publish.Result {
	r.t.Helper()
	res, err := publish.Publish(context.Background(), r.cfg, publish.Options{Tool: "test", Getenv: dockertest.Getenv(r.cache),
		Progress: func(s string) { r.t.Log(s) }})
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// zips returns the layer zips' sha256 by layer name.
func zips(res *pipeline.BuildResult) map[string]string {
	out := map[string]string{}
	for _, tm := range res.Manifest.Targets {
		for _, l := range tm.Layers {
			out[l.Name] = l.SHA256
		}
	}
	return out
}

// TestFreshRunner is the CI story of issue 14: a runner builds and
// publishes with the remote cache; a fresh runner (new checkout, empty
// local cache) then builds the same commit without starting a container,
// to byte-identical zips; and after one function gains a package, a fresh
// runner rebuilds only that package and keeps the other function's layer
// versions.
func TestFreshRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("installs real packages in the build image; run without -short")
	}
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	s := motoserver.Start(t)
	s.Setenv(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(s.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("layers-cache")}); err != nil {
		t.Fatal(err)
	}

	// As on a CI runner: the first build, with no plan anywhere, says it
	// plans from scratch; the fresh runners after it start from the plan
	// publish stored, and say nothing.
	t.Setenv("CI", "true")
	files := project(image)
	first := newRunner(t, d, files)
	built := first.build("no previous plan")
	if built.UnitsBuilt != 3 || first.engine.Runs() == 0 {
		t.Fatalf("first runner: %d units built in %d containers", built.UnitsBuilt, first.engine.Runs())
	}
	if st := built.RemoteStats; st.Uploads != 7 {
		t.Errorf("first runner uploaded %d objects, want the 3 units, their sizes and uv: %+v", st.Uploads, st)
	}
	published := first.publish()
	if published.PlanStored != cacheURL+"/plans/default.json" {
		t.Errorf("the plan was stored at %q", published.PlanStored)
	}

	// A fresh runner, same commit: its plan knows the units' sizes from
	// the remote tier, and shows the layers the build made.
	fresh := newRunner(t, d, files)
	doc, err := pipeline.PlanWith(ctx, fresh.cfg, pipeline.PlanOptions{Engine: fresh.engine, CacheDir: fresh.cache, Tool: "test",
		Getenv: dockertest.Getenv(fresh.cache), Progress: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]bool{}
	for _, td := range doc.Targets {
		for _, l := range td.Layers {
			planned[l.Name] = true
		}
	}
	if doc.Estimated() || !maps.Equal(planned, layerNames(built)) {
		t.Errorf("a fresh runner's plan: layers %v (sizes estimated: %v); the build made %v", planned, doc.Estimated(), layerNames(built))
	}

	// Same commit: nothing to install.
	again := fresh.build()
	if n := fresh.engine.Runs(); n != 0 {
		t.Errorf("a fresh runner with a warm remote cache started %d containers", n)
	}
	if again.UnitsRemote != 3 || again.UnitsBuilt != 0 || again.PlanFrom != cacheURL+"/plans/default.json" {
		t.Errorf("fresh runner: %d units from the remote cache, %d built, plan from %q", again.UnitsRemote, again.UnitsBuilt, again.PlanFrom)
	}
	if a, b := zips(built), zips(again); !maps.Equal(a, b) {
		t.Errorf("zips differ between the runners:\n%v\n%v", a, b)
	}

	// api gains a package; a fresh runner builds the new commit.
	files["functions/api/requirements.txt"] += "certifi==2024.8.30\n"
	next := newRunner(t, d, files)
	changed := next.build()
	if changed.UnitsBuilt != 1 || changed.UnitsRemote != 3 {
		t.Errorf("after api gained certifi: %d units built, %d from the remote cache; want 1 and 3", changed.UnitsBuilt, changed.UnitsRemote)
	}
	// uv came from the remote cache too: one container, certifi's.
	if n := next.engine.Runs(); n != 1 {
		t.Errorf("after api gained certifi: %d containers, want 1 (uv from the remote cache, not installed again)", n)
	}
	republished := next.publish()
	before, after := published.Outputs.Functions["worker"]["x86_64"].Layers, republished.Outputs.Functions["worker"]["x86_64"].Layers
	if len(before) == 0 || !slices.Equal(before, after) {
		t.Errorf("worker's layer versions changed although worker did not:\n%v\n%v", before, after)
	}
	if api := republished.Outputs.Functions["api"]["x86_64"].Layers; slices.Equal(api, published.Outputs.Functions["api"]["x86_64"].Layers) {
		t.Errorf("api's layers did not change: %v", api)
	}
	if _, err := os.Stat(filepath.Join(next.cfg.Root, ".layers", "outputs.json")); err != nil {
		t.Error(err)
	}
}

func layerNames(res *pipeline.BuildResult) map[string]bool {
	out := map[string]bool{}
	for name := range zips(res) {
		out[name] = true
	}
	return out
}
