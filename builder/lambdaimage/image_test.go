package lambdaimage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/layers-dev/layers/builder/lambdaimage"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/pipeline"
	"github.com/layers-dev/layers/planner"
)

// countingEngine counts the containers a build runs and the images it
// commits.
type countingEngine struct {
	*engine.Docker
	runs, commits atomic.Int32
}

func (c *countingEngine) Run(ctx context.Context, spec engine.RunSpec) error {
	c.runs.Add(1)
	return c.Docker.Run(ctx, spec)
}

func (c *countingEngine) Commit(ctx context.Context, spec engine.CommitSpec) (string, error) {
	c.commits.Add(1)
	return c.Docker.Commit(ctx, spec)
}

// fixture copies testdata/name into a temporary repository with a
// layers.toml of head plus the stand-in images.
func fixture(t *testing.T, name, head, buildImage, base string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	toml := head + "\n[build]\nimage = \"" + buildImage + "\"\n\n[image]\nrepository = \"fallback\"\nbase = \"" + base + "\"\n"
	if err := os.WriteFile(filepath.Join(dir, "layers.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func build(t *testing.T, e engine.Engine, cfg *config.Config, cacheDir string) *pipeline.BuildResult {
	t.Helper()
	res, err := pipeline.Build(context.Background(), cfg, pipeline.BuildOptions{
		Engine: e, CacheDir: cacheDir, Tool: "test", Getenv: dockertest.Getenv(cacheDir),
		Progress: func(line string) { t.Log(line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// removeImages removes the local images of the functions of m, before
// and after a test: their tags are content keys, the same on every run,
// and a tag left by an earlier run would turn "built" into "unchanged".
func removeImages(t *testing.T, d *engine.Docker, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if err := d.Untag(context.Background(), tag); err != nil {
			t.Logf("remove %s: %v", tag, err)
		}
	}
}

// invoke runs the image's CMD (its handler) through the stand-in
// entrypoint and decodes the JSON the handler returned.
func invoke(t *testing.T, d engine.Engine, tag, event string, out any) {
	t.Helper()
	invokeOn(t, d, tag, dockertest.Platform, event, out)
}

// invokeOn is invoke for an image of platform plat.
func invokeOn(t *testing.T, d engine.Engine, tag, plat, event string, out any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := d.Run(context.Background(), engine.RunSpec{
		Image: tag, Platform: plat,
		Env:    []string{"LAYERS_EVENT=" + event, "PYTHONDONTWRITEBYTECODE=1"},
		Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatalf("invoke %s: %v\n%s", tag, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("invoke %s: %v in %q (stderr %s)", tag, err, stdout.String(), stderr.String())
	}
}

func onlyImage(t *testing.T, m *manifest.Manifest, function string) manifest.Image {
	t.Helper()
	if len(m.Targets) != 1 || len(m.Targets[0].Images) != 1 || m.Targets[0].Images[0].Function != function {
		t.Fatalf("want one image, of %s; manifest targets: %+v", function, m.Targets)
	}
	return m.Targets[0].Images[0]
}

// TestFallbackLoweredLimit builds a repository whose function big needs
// two small wheels that overflow a lowered limit: big becomes an image
// (its handler runs in it, importing both and its own module, without
// its tests), small keeps its layer, and a rebuild with nothing changed
// runs and commits nothing. A changed source file makes a new image
// without a single unit container.
func TestFallbackLoweredLimit(t *testing.T) {
	d := dockertest.Engine(t)
	buildImage := dockertest.Image(t, d)
	base := dockertest.LambdaImage(t, d)
	cfg := fixture(t, "fallback", "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[limits]\nfunction_unzipped_bytes = 200000\n\n[function.big]\nhandler = \"app.handler\"\n",
		buildImage, base)
	cacheDir := t.TempDir()

	res := build(t, d, cfg, cacheDir)
	img := onlyImage(t, res.Manifest, "big")
	t.Cleanup(func() { removeImages(t, d, img.Tag) })
	if res.ImagesBuilt != 1 {
		// A tag left by a killed earlier run: build again from scratch.
		removeImages(t, d, img.Tag)
		res = build(t, d, cfg, cacheDir)
		img = onlyImage(t, res.Manifest, "big")
		if res.ImagesBuilt != 1 {
			t.Fatalf("images built = %d, want 1", res.ImagesBuilt)
		}
	}
	for _, f := range res.Manifest.Targets[0].Functions {
		want := planner.PackageLayers
		if f.Name == "big" {
			want = planner.PackageImage
		}
		if f.PackageType != want {
			t.Errorf("function %s is %s, want %s", f.Name, f.PackageType, want)
		}
	}
	if !strings.HasPrefix(img.Tag, "layers/big:") || img.Tag != lambdaimage.Tag("big", img.ContentKey) {
		t.Errorf("tag %s does not name the content key %s", img.Tag, img.ContentKey)
	}
	if !strings.Contains(img.Reason, "exceeds the 200,000 B limit") {
		t.Errorf("reason %q does not give the limit", img.Reason)
	}
	if img.Handler != "app.handler" || img.Platform != dockertest.Platform || img.Base != base || img.ImageID == "" || img.BaseID == "" {
		t.Errorf("image record %+v", img)
	}
	if img.UnzippedBytes < 200000 || img.ImageBytes < img.UnzippedBytes {
		t.Errorf("image sizes: %d in /var/task, %d in all", img.UnzippedBytes, img.ImageBytes)
	}
	t.Logf("image %s: %d bytes in /var/task, %d bytes with the base", img.Tag, img.UnzippedBytes, img.ImageBytes)

	info, err := d.ImageInfo(context.Background(), img.Tag)
	if err != nil {
		t.Fatal(err)
	}
	baseInfo, err := d.ImageInfo(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Cmd, []string{"app.handler"}) || !slices.Equal(info.Entrypoint, baseInfo.Entrypoint) ||
		info.WorkingDir != "/var/task" || !slices.Contains(info.Env, "LAMBDA_TASK_ROOT=/var/task") || info.Platform != dockertest.Platform {
		t.Errorf("image config: cmd %v, entrypoint %v (base %v), workdir %s, env %v, platform %s",
			info.Cmd, info.Entrypoint, baseInfo.Entrypoint, info.WorkingDir, info.Env, info.Platform)
	}
	if info.Labels[engine.LabelBuild] == "1" || info.Labels[engine.LabelOwner] != "" {
		t.Errorf("the image carries the build container's labels: %v", info.Labels)
	}

	var got struct {
		Six, Idna, Helper string
		Event             map[string]any
		TaskRoot          []string `json:"task_root"`
	}
	invoke(t, d, img.Tag, `{"n": 1}`, &got)
	if got.Six != "1.16.0" || got.Idna != "3.10" || got.Helper != "helper" || got.Event["n"] != 1.0 {
		t.Errorf("handler returned %+v", got)
	}
	for _, want := range []string{"app.py", "lib", "six.py", "idna", "requirements.txt"} {
		if !slices.Contains(got.TaskRoot, want) {
			t.Errorf("/var/task lacks %s: %v", want, got.TaskRoot)
		}
	}
	if slices.Contains(got.TaskRoot, "tests") {
		t.Errorf("/var/task holds the function's tests: %v", got.TaskRoot)
	}

	counting := &countingEngine{Docker: d}
	again := build(t, counting, cfg, cacheDir)
	if n, c := counting.runs.Load(), counting.commits.Load(); n != 0 || c != 0 {
		t.Errorf("a rebuild with nothing changed ran %d containers and committed %d images", n, c)
	}
	if again.ImagesBuilt != 0 || again.ImagesReused != 1 {
		t.Errorf("rebuild: %d images built, %d unchanged", again.ImagesBuilt, again.ImagesReused)
	}
	if same := onlyImage(t, again.Manifest, "big"); same.Tag != img.Tag || same.ImageID != img.ImageID || same.UnzippedBytes != img.UnzippedBytes {
		t.Errorf("rebuild changed the image: %s %s %d bytes, was %s %s %d bytes", same.Tag, same.ImageID, same.UnzippedBytes,
			img.Tag, img.ImageID, img.UnzippedBytes)
	}

	app := filepath.Join(cfg.Root, "functions", "big", "lib", "helper.py")
	if err := os.WriteFile(app, []byte("NAME = \"changed\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	counting = &countingEngine{Docker: d}
	changed := build(t, counting, cfg, cacheDir)
	next := onlyImage(t, changed.Manifest, "big")
	t.Cleanup(func() { removeImages(t, d, next.Tag) })
	if next.Tag == img.Tag || changed.ImagesBuilt != 1 || counting.runs.Load() != 0 || counting.commits.Load() != 1 {
		t.Errorf("after a source change: tag %s (was %s), %d images built, %d containers run, %d commits",
			next.Tag, img.Tag, changed.ImagesBuilt, counting.runs.Load(), counting.commits.Load())
	}
	invoke(t, d, next.Tag, `{}`, &got)
	if got.Helper != "changed" {
		t.Errorf("the new image runs the old source: helper %q", got.Helper)
	}
}

// TestFallbackHeavy is the real case: numpy, pandas, scipy and pyarrow for
// python3.11 on x86_64 exceed the true 250 MiB limit, so the function
// ships as an image whose handler imports and uses all four. It downloads
// about 200 MB of wheels; -short skips it.
func TestFallbackHeavy(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 200 MB of wheels")
	}
	d := dockertest.Engine(t)
	buildImage := dockertest.Image(t, d)
	base := dockertest.LambdaImage(t, d)
	cfg := fixture(t, "heavy", "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n\n[function.analytics]\nhandler = \"app.handler\"\n",
		buildImage, base)
	res := build(t, d, cfg, t.TempDir())
	img := onlyImage(t, res.Manifest, "analytics")
	t.Cleanup(func() { removeImages(t, d, img.Tag) })
	if !strings.Contains(img.Reason, "exceeds the 262,144,000 B limit") {
		t.Errorf("reason %q", img.Reason)
	}
	if img.UnzippedBytes <= 262144000 {
		t.Errorf("/var/task holds %d bytes, not over 250 MiB", img.UnzippedBytes)
	}
	t.Logf("heavy image %s: %d bytes in /var/task, %d bytes with the base (%s in all)", img.Tag, img.UnzippedBytes, img.ImageBytes, res.Took)
	var got struct {
		Numpy, Pandas, Scipy, Pyarrow string
		Rows                          int
		Det                           float64
	}
	invoke(t, d, img.Tag, `{}`, &got)
	if got.Numpy != "1.26.4" || got.Pandas != "2.2.3" || got.Scipy != "1.14.1" || got.Pyarrow != "17.0.0" || got.Rows != 4 || got.Det != 1 {
		t.Errorf("handler returned %+v", got)
	}
}

// fallbackRuntime builds testdata/runtimes for s's runtime and
// architecture under a lowered limit, so that function sign (cryptography,
// cffi and orjson: compiled extensions) becomes an image on s's Lambda
// base, then runs its handler in that image: it must run on s's machine
// and Python, sign and verify with the image's extensions, and echo the
// event.
func fallbackRuntime(t *testing.T, s dockertest.Standin) {
	t.Helper()
	d := dockertest.Engine(t)
	head := "runtime = \"" + s.Runtime + "\"\narchitectures = [\"" + s.Architecture + "\"]\n\n[limits]\nfunction_unzipped_bytes = 200000\n\n" +
		"[function.sign]\nhandler = \"app.handler\"\n"
	cfg := fixture(t, "runtimes", head, s.Build, s.Lambda)
	res := build(t, d, cfg, t.TempDir())
	img := onlyImage(t, res.Manifest, "sign")
	t.Cleanup(func() { removeImages(t, d, img.Tag) })
	if !strings.Contains(img.Reason, "exceeds the 200,000 B limit") {
		t.Errorf("reason %q does not give the limit", img.Reason)
	}
	info, err := d.ImageInfo(context.Background(), img.Tag)
	if err != nil {
		t.Fatal(err)
	}
	if img.Platform != s.Platform || info.Platform != s.Platform || img.Base != s.Lambda || !slices.Equal(info.Cmd, []string{"app.handler"}) {
		t.Errorf("image %s: platform %s (engine: %s), base %s, cmd %v; want %s on %s", img.Tag, img.Platform, info.Platform, img.Base, info.Cmd, s.Platform, s.Lambda)
	}
	t.Logf("image %s for %s/%s: %d bytes in /var/task (%s in all)", img.Tag, s.Runtime, s.Architecture, img.UnzippedBytes, res.Took)
	var got struct {
		Machine, Python string
		Verified        bool
		Event           map[string]any
	}
	invokeOn(t, d, img.Tag, s.Platform, `{"b": 2, "a": 1}`, &got)
	if want := strings.TrimPrefix(s.Runtime, "python"); got.Machine != s.Machine || got.Python != want || !got.Verified || got.Event["a"] != 1.0 {
		t.Errorf("handler returned %+v, want machine %s, Python %s, verified, the event", got, s.Machine, want)
	}
}

// TestFallbackArm64 is fallbackRuntime for python3.11 on arm64: the image
// is for linux/arm64 and its handler runs, under qemu, on aarch64.
func TestFallbackArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pip and the handler under qemu; skipped with -short")
	}
	fallbackRuntime(t, dockertest.Arm64(t, dockertest.Engine(t)))
}

// TestFallbackPython313 is fallbackRuntime for python3.13 on x86_64, on
// the Debian trixie stand-in.
func TestFallbackPython313(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads cryptography's wheels; skipped with -short")
	}
	fallbackRuntime(t, dockertest.Python313(t, dockertest.Engine(t)))
}
