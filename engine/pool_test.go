package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// twoEngines returns the default engine and the second one, with the
// stand-in build image's ID on the first.
func twoEngines(t *testing.T) (d, d2 *engine.Docker, image, id string) {
	t.Helper()
	d = dockertest.Engine(t)
	image = dockertest.Image(t, d)
	d2 = dockertest.Second(t)
	id, err := d.ImageID(context.Background(), image, dockertest.Platform)
	if err != nil {
		t.Fatal(err)
	}
	return d, d2, image, id
}

func pool(t *testing.T, members ...engine.Member) *engine.Pool {
	t.Helper()
	var pm []engine.PoolMember
	for _, m := range members {
		pm = append(pm, engine.PoolMember{Engine: m, Platforms: []string{dockertest.Platform}, Slots: 1})
	}
	p, err := engine.NewPool(pm)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPoolSpreadsRuns: an engine that lacks the build image gets it
// copied under the same ID, and runs started together go to both engines.
func TestPoolSpreadsRuns(t *testing.T) {
	ctx := context.Background()
	d, d2, image, id := twoEngines(t)
	if err := d2.Untag(ctx, id); err != nil {
		t.Fatal(err)
	}
	p := pool(t, d, d2)
	var logged []string
	p.Log = func(s string) { logged = append(logged, s) }
	got, err := p.ImageID(ctx, image, dockertest.Platform)
	if err != nil || got != id {
		t.Fatalf("pool ImageID = %q, %v; want %s", got, err, id)
	}
	if got, err := d2.ImageID(ctx, id, dockertest.Platform); err != nil || got != id {
		t.Fatalf("second engine: %q, %v; want the image copied as %s", got, err, id)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "copied from engine "+d.Host()+" to engine "+d2.Host()) {
		t.Errorf("logged %q", logged)
	}

	errs := make(chan error, 4)
	for range 4 {
		go func() {
			errs <- p.Run(ctx, engine.RunSpec{Image: id, Platform: dockertest.Platform, Cmd: []string{"sleep", "1"}})
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range p.Usage() {
		if u.Runs != 2 || u.Down != nil {
			t.Errorf("engine %s: %d runs, down %v; want 2 each", u.Host, u.Runs, u.Down)
		}
	}
}

// TestPoolEngineVanishes: a container's non-zero exit is the run's
// failure and keeps the engine; an engine that vanishes mid-run is taken
// out with a *FailedError, and a platform with no engine left fails with
// a *NoEngineError naming them.
func TestPoolEngineVanishes(t *testing.T) {
	ctx := context.Background()
	d, d2, image, id := twoEngines(t)
	proxy := dockertest.NewCutProxy(t, d2.Host())
	t.Cleanup(func() { dockertest.RemoveOwnContainers(t, d2.Host()) })
	viaProxy, err := engine.DialHost(ctx, proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer viaProxy.Close()
	// The second engine gets the image, untagged, from the first.
	if _, err := pool(t, d, d2).ImageID(ctx, image, dockertest.Platform); err != nil {
		t.Fatal(err)
	}
	p := pool(t, viaProxy)

	var exit *engine.ExitError
	if err := p.Run(ctx, engine.RunSpec{Image: id, Platform: dockertest.Platform, Cmd: []string{"sh", "-c", "exit 3"}}); !errors.As(err, &exit) {
		t.Fatalf("exit 3: %v, want an *ExitError", err)
	}
	proxy.CutAfterStarts(1, time.Second)
	err = p.Run(ctx, engine.RunSpec{Image: id, Platform: dockertest.Platform, Cmd: []string{"sleep", "30"}})
	var failed *engine.FailedError
	if !errors.As(err, &failed) || failed.Host != proxy.Host {
		t.Fatalf("run on a vanished engine: %v, want a *FailedError naming %s", err, proxy.Host)
	}
	u := p.Usage()[0]
	if u.Down == nil || u.Lost != 1 || u.Runs != 2 {
		t.Errorf("usage %+v; want down, 1 of 2 runs lost", u)
	}
	calls := 0
	err = engine.Retry(ctx, func(ctx context.Context) error {
		calls++
		return p.Run(ctx, engine.RunSpec{Image: id, Platform: dockertest.Platform, Cmd: []string{"true"}})
	})
	var none *engine.NoEngineError
	if !errors.As(err, &none) || calls != 1 || !strings.Contains(err.Error(), "every engine for linux/amd64 failed: "+proxy.Host) {
		t.Errorf("run with no engine left: %v after %d calls, want a *NoEngineError naming %s", err, calls, proxy.Host)
	}

	// An engine for another platform only is no engine for this one.
	other, err := engine.NewPool([]engine.PoolMember{{Engine: d, Platforms: []string{"linux/arm64"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Run(ctx, engine.RunSpec{Image: id, Platform: dockertest.Platform, Cmd: []string{"true"}}); !errors.As(err, &none) {
		t.Errorf("run for a platform no engine builds for: %v", err)
	}
}

// TestResolveEndpoint reads Docker contexts from the CLI's store, as the
// docker CLI writes them.
func TestResolveEndpoint(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DOCKER_CONFIG": dir, "DOCKER_HOST": "unix:///run/env.sock"}
	getenv := func(k string) string { return env[k] }
	write := func(id, meta string) {
		t.Helper()
		p := filepath.Join(dir, "contexts", "meta", id)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "meta.json"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Folders are named by the sha256 of the context's name, as the CLI does.
	sha := func(name string) string {
		sum := sha256.Sum256([]byte(name))
		return hex.EncodeToString(sum[:])
	}
	write(sha("builder"), `{"Name":"builder","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://me@builder","SkipTLSVerify":false}}}`)
	write(sha("broken"), `{"Name":"broken","Endpoints":{}}`)

	cases := []struct {
		addr, host, err string
	}{
		{"unix:///var/run/docker.sock", "unix:///var/run/docker.sock", ""},
		{"tcp://10.0.0.5:2376", "tcp://10.0.0.5:2376", ""},
		{"default", "unix:///run/env.sock", ""},
		{"builder", "ssh://me@builder", ""},
		{"broken", "", `docker context "broken" has no docker endpoint`},
		{"missing", "", `no docker context "missing" on this machine`},
	}
	for _, tc := range cases {
		e, err := engine.ResolveEndpoint(tc.addr, getenv)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want %q", tc.addr, err, tc.err)
		case tc.err == "" && (err != nil || e.Host != tc.host):
			t.Errorf("%s: %+v, %v; want host %s", tc.addr, e, err, tc.host)
		}
	}
}
