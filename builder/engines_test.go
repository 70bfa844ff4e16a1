package builder_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
	"github.com/layers-dev/layers/pipeline"
)

// engineRepo has nine units: uv puts at least eight in a container
// (uvParallel), so two engines get a container each.
var engineRepo = map[string]string{
	"functions/a/requirements.txt": "six==1.16.0\nattrs==24.2.0\nrequests==2.32.3\nurllib3==2.2.3\ncertifi==2024.8.30\ncharset-normalizer==3.4.0\npackaging==24.1\n",
	"functions/a/app.py":           "import six, attr, requests, packaging\n",
	"functions/b/requirements.txt": "idna==3.10\ntyping-extensions==4.12.2\nsix==1.16.0\n",
	"functions/b/app.py":           "import idna, typing_extensions\n",
}

// TestBuildTwoEngines builds engineRepo cold on the default engine alone,
// then on two real engines ([build] engines: the default one and the
// second dockerd .ci/docker2.sh starts, which lacks the build image until
// the build copies it), then on two engines of which the second vanishes
// while its containers run. Units must go to both engines, the failed
// engine's batches must be retried on the other and the summary must name
// it, and every build's zips must be byte-identical.
func TestBuildTwoEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds real packages on two engines; run without -short")
	}
	ctx := context.Background()
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	d2 := dockertest.Second(t)
	id, err := d.ImageID(ctx, image, dockertest.Platform)
	if err != nil {
		t.Fatal(err)
	}
	// The second engine starts without the build image: the pool copies
	// it, and its ID must stay the one cache keys hold.
	if err := d2.Untag(ctx, id); err != nil {
		t.Fatal(err)
	}

	type run struct {
		cfg     *config.Config
		res     *pipeline.BuildResult
		summary string
		lines   []string
	}
	buildWith := func(t *testing.T, engines string) run {
		t.Helper()
		files := copyMap(engineRepo)
		files["layers.toml"] = engines // lands in [build]
		cfg := writeRepo(t, image, files)
		cacheDir := t.TempDir()
		var (
			mu    sync.Mutex
			lines []string
		)
		res, err := pipeline.Build(ctx, cfg, pipeline.BuildOptions{
			CacheDir: cacheDir, Tool: "test", Getenv: dockertest.Getenv(cacheDir),
			Progress: func(line string) {
				t.Log(line)
				mu.Lock()
				lines = append(lines, line)
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var sum bytes.Buffer
		if err := res.WriteSummary(&sum); err != nil {
			t.Fatal(err)
		}
		t.Log(sum.String())
		if res.UnitsBuilt != 9 || res.UnitsCached != 0 {
			t.Errorf("%d units built, %d cached; want 9 and 0", res.UnitsBuilt, res.UnitsCached)
		}
		return run{cfg, res, sum.String(), lines}
	}
	sameZips := func(t *testing.T, want, got run) {
		t.Helper()
		a, b := zips(t, want.cfg, want.res.Manifest), zips(t, got.cfg, got.res.Manifest)
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("%d layers, then %d", len(a), len(b))
		}
		for name, data := range a {
			if !bytes.Equal(b[name], data) {
				t.Errorf("layer %s differs from the one-engine build's", name)
			}
		}
	}

	one := buildWith(t, "") // DOCKER_HOST, as without [build] engines
	if one.res.Engines != nil || strings.Contains(one.summary, "engines") {
		t.Errorf("a build without [build] engines reports engines: %+v", one.res.Engines)
	}

	t.Run("both", func(t *testing.T) {
		two := buildWith(t, "[build.engines]\nx86_64 = [\""+d.Host()+"\", \""+d2.Host()+"\"]\n")
		sameZips(t, one, two)
		if len(two.res.Engines) != 2 {
			t.Fatalf("engines %+v, want two", two.res.Engines)
		}
		for _, u := range two.res.Engines {
			if u.Runs == 0 || u.Down != nil {
				t.Errorf("engine %s: %d containers, down %v; want units on both engines", u.Host, u.Runs, u.Down)
			}
		}
		if !strings.Contains(strings.Join(two.lines, "\n"), "copied from engine "+d.Host()+" to engine "+d2.Host()) {
			t.Error("the build image was not copied to the second engine")
		}
		if got, err := d2.ImageID(ctx, id, dockertest.Platform); err != nil || got != id {
			t.Errorf("second engine's image: %q, %v; want %s", got, err, id)
		}
		if !strings.Contains(two.summary, "engines (containers run): "+d.Host()) {
			t.Errorf("the summary does not say what each engine ran:\n%s", two.summary)
		}
	})

	t.Run("second vanishes", func(t *testing.T) {
		proxy := dockertest.NewCutProxy(t, d2.Host())
		// uv installs a small batch in under two seconds: cut soon after
		// the start, while the container surely still runs.
		proxy.CutAfterStarts(1, 250*time.Millisecond)
		t.Cleanup(func() { dockertest.RemoveOwnContainers(t, dockertest.SecondHost()) })
		three := buildWith(t, "engines = [\""+d.Host()+"\", \""+proxy.Host+"\"]\n")
		if !proxy.IsCut() {
			t.Fatal("no container started on the second engine, so it never vanished")
		}
		sameZips(t, one, three)
		u := three.res.Engines
		if len(u) != 2 || u[0].Down != nil || u[1].Down == nil || u[1].Lost == 0 {
			t.Fatalf("engines %+v; want the second down with its containers lost", u)
		}
		want := "engine " + proxy.Host + " failed mid-build ("
		if !strings.Contains(three.summary, want) || !strings.Contains(three.summary, "retried on "+d.Host()) {
			t.Errorf("the summary does not name the failed engine and where its work went:\n%s", three.summary)
		}
	})
}
