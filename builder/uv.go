package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/wheeltag"
	"github.com/layers-dev/layers/remote"
)

// UVVersion is the uv release that installs wheels in the build container
// when [build] installer is "uv". Part of every such unit's key, through
// the tool version that pins it.
const UVVersion = "0.13.9"

// uvParallel is how many units one container installs at once with uv:
// downloads wait on the network, so more than the cores.
const uvParallel = 8

// maxUVBatch bounds the units of one uv container. uv installs them in
// parallel, so a container can take many more than pip's maxBatch.
const maxUVBatch = 64

// uvPath is where the uv binary goes in the build container.
const uvPath = "/layers-uv/uv"

// uvCacheDir is uv's cache in the container, shared by its parallel
// installs (UV_CACHE_DIR; uv hard-links from it, UV_LINK_MODE).
const uvCacheDir = scratchDir + "/uv-cache"

// usesUV reports whether a unit is installed by uv: a wheel, with the uv
// installer, from index options uv takes the way pip does. Find-links
// pages and --no-index have no uv equivalent that keeps credentials out of
// the command line, so those units stay with pip.
func (b *Builder) usesUV(s UnitSpec) bool {
	return b.o.Installer == config.InstallerUV && kind(s) == "wheel" &&
		len(s.Index.FindLinks) == 0 && !s.Index.NoIndex
}

// uvPlatform is uv's --python-platform for a target: the newest manylinux
// uv can name that the runtime's glibc loads. uv names no tag between
// manylinux_2_17 and manylinux_2_28, so the Amazon Linux 2 runtimes
// (glibc 2.26) get manylinux_2_17; a release whose only wheels need 2.18
// to 2.26 falls back to pip in the container (uvFallback).
func uvPlatform(t config.Target) (string, error) {
	rt, err := wheeltag.RuntimeFor(t.Runtime, t.Architecture)
	if err != nil {
		return "", err
	}
	glibc := rt.Glibc
	if glibc < 28 {
		glibc = 17
	}
	return fmt.Sprintf("%s-manylinux_2_%d", rt.Machine, glibc), nil
}

// uvArgs are uv's arguments that install unit n's wheel into target for
// the runtime's tags, never the build image's.
func uvArgs(s UnitSpec, target string, hashFile string, ca bool) ([]string, error) {
	args, err := uvInstallArgs(s, target, ca)
	if err != nil {
		return nil, err
	}
	if hashFile != "" {
		return append(args, "--require-hashes", "-r", hashFile), nil
	}
	return append(args, fmt.Sprintf("%s==%s", s.Package.Name, s.Package.Version)), nil
}

// uvInstallArgs are uv's arguments that install wheels into target for
// s's target, index options and CA bundle, without the requirements.
func uvInstallArgs(s UnitSpec, target string, ca bool) ([]string, error) {
	plat, err := uvPlatform(s.Target)
	if err != nil {
		return nil, err
	}
	args := []string{uvPath, "pip", "install", "--no-deps", "--no-config", "--target", target,
		"--python", "python3", "--python-platform", plat, "--python-version", s.Target.PythonVersion(),
		"--only-binary", ":all:", "--no-progress"}
	if ca {
		args = append(args, "--cert", caPath)
	}
	if len(s.Index.ExtraIndexURLs) > 0 {
		// pip takes the best match over every index; uv's default takes
		// the first index that has the name.
		args = append(args, "--index-strategy", "unsafe-best-match")
	}
	if s.Index.Pre {
		args = append(args, "--prerelease", "allow")
	}
	return args, nil
}

// prefetchedFlag exists in the container once uvPrefetch succeeded: every
// wheel of the batch is in uv's cache, and the units install offline.
const prefetchedFlag = scratchDir + "/prefetched"

// uvPrefetch returns the script (prefetch.sh) and requirements that fill
// uv's cache with every wheel of a uv batch in one uv run, before the
// units install one by one: one uv downloads them all at once over one connection pool, where each
// unit's uv would fetch its own index page and wheel (measured for 23
// wheels: 1.4 s, then 0.8 s for the units' offline installs, against 4.0
// s without it). The requirements carry their hashes, which uv checks
// when they are given. It installs into a folder removed at once: the
// units' installs hard-link the same cached files. When it fails (a
// release with no wheel uv can select makes the whole run fail), the
// units install online, each on its own, as without it.
func uvPrefetch(batch []*job, ca bool) ([]archive.File, error) {
	var reqs strings.Builder
	for _, j := range batch {
		p := j.spec.Package
		fmt.Fprintf(&reqs, "%s==%s", p.Name, p.Version)
		for _, h := range p.Hashes {
			reqs.WriteString(" \\\n    --hash=" + h)
		}
		reqs.WriteString("\n")
	}
	target := scratchDir + "/prefetch"
	args, err := uvInstallArgs(batch[0].spec, target, ca)
	if err != nil {
		return nil, err
	}
	file := path.Join(inDir, "prefetch.txt")
	args = append(args, "-r", file)
	script := fmt.Sprintf("%s > %s/prefetch 2>&1 && touch %s\nrm -rf %s\n", shellJoin(args), logDir, prefetchedFlag, target)
	return []archive.File{inFile("prefetch.txt", []byte(reqs.String())), inFile("prefetch.sh", []byte(script))}, nil
}

// uvIndexEnv turns index options into uv's environment variables, as
// indexEnv does for pip: URLs may carry credentials.
func uvIndexEnv(pip []string) []string {
	var env []string
	for _, kv := range pip {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PIP_INDEX_URL":
			env = append(env, "UV_DEFAULT_INDEX="+v)
		case "PIP_EXTRA_INDEX_URL":
			env = append(env, "UV_INDEX="+v)
		}
	}
	return env
}

// uvFallback is the shell test that a uv run failed because no wheel of
// the release matches the platform uv can name: pip, which names every
// manylinux tag the runtime loads, then tries (and fails for good, with
// its own message, when no wheel loads at all).
const uvFallback = "grep -q -e 'has no usable wheels' -e 'for the current platform'"

// uvTools installs uv once per build image and keeps it in the unit cache.
type uvTools struct {
	mu   sync.Mutex
	done map[string]*uvTool // by cache key digest
}

// uvTool is one image's uv. A failed install is not kept: when its
// engine failed mid-run, the batch's retry on another engine tries again.
type uvTool struct {
	mu  sync.Mutex
	bin string
}

// uvKey is the cache key of the uv binary for an image: a tool unit.
func (b *Builder) uvKey(s UnitSpec) cache.Key {
	return cache.Key{Distribution: "uv", Version: UVVersion, Runtime: "tool", Architecture: s.Target.Architecture,
		ImageID: s.Image.ID, Prune: "none", Tool: b.o.Tool, Installer: config.InstallerPip}
}

// uvBinary returns the file that puts uv into a container of s's image:
// from the unit cache, else installed there once by pip from the index
// pip is configured with.
func (b *Builder) uvBinary(ctx context.Context, s UnitSpec) (archive.File, error) {
	k := b.uvKey(s)
	b.uv.mu.Lock()
	if b.uv.done == nil {
		b.uv.done = map[string]*uvTool{}
	}
	t, ok := b.uv.done[k.Digest()]
	if !ok {
		t = &uvTool{}
		b.uv.done[k.Digest()] = t
	}
	b.uv.mu.Unlock()
	t.mu.Lock()
	if t.bin == "" {
		bin, err := b.installUV(ctx, s, k)
		if err != nil {
			t.mu.Unlock()
			return archive.File{}, err
		}
		t.bin = bin
	}
	bin := t.bin
	t.mu.Unlock()
	info, err := os.Stat(bin)
	if err != nil {
		return archive.File{}, fmt.Errorf("uv in the unit cache: %w", err)
	}
	return archive.File{Name: strings.TrimPrefix(uvPath, "/"), Exec: true, Size: info.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(bin) }}, nil
}

// installUV installs uv with pip in s's build image and caches its binary,
// in the remote tier too: a fresh runner then skips the install.
func (b *Builder) installUV(ctx context.Context, s UnitSpec, k cache.Key) (string, error) {
	if e, ok := b.o.Cache.Get(k); ok {
		return filepath.Join(e.Dir, "uv"), nil
	}
	if b.o.Remote != nil {
		e, err := b.o.Cache.Put(k, func(dir string) error {
			return b.o.Remote.FetchUnit(ctx, k.Digest(), dir)
		})
		if err == nil {
			return filepath.Join(e.Dir, "uv"), nil
		} else if !errors.Is(err, remote.ErrMiss) {
			return "", fmt.Errorf("uv from the remote cache: %w", err)
		}
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("install uv %s in the build image %s (set [build] installer = %q to install with pip alone): %w",
			UVVersion, s.Image.Ref, config.InstallerPip, err)
	}
	bin, err := binaryArgs(s.Target)
	if err != nil {
		return fail(err)
	}
	args := append([]string{"python3", "-m", "pip", "install", "--no-deps", "--target", "/out/uv",
		"--root-user-action=ignore", "--disable-pip-version-check", "--no-input", "--no-compile", "--progress-bar", "off"}, bin...)
	args = append(args, "uv=="+UVVersion)
	out, release, err := b.o.Cache.TempDir("uv")
	if err != nil {
		return fail(err)
	}
	defer release()
	files, env := withCA(nil, b.o.Env, b.o.CABundle)
	tail := engine.NewTailBuffer(8 << 10)
	spec := engine.RunSpec{
		Image: s.Image.ID, Platform: s.Image.Platform, Env: env,
		Cmd:    []string{"sh", "-c", shellJoin(args) + " && mkdir /out/tool && mv /out/uv/bin/uv /out/tool/uv"},
		Labels: map[string]string{"layers.target": s.Target.String()},
		Stdout: tail, Stderr: tail,
		Out: []engine.CopyOut{{Path: "/out/tool", Extract: func(r io.Reader) error {
			_, err := archive.ExtractTar(r, out)
			return err
		}}},
	}
	if len(files) > 0 {
		spec.In = []engine.CopyIn{{Dir: "/", Files: files}}
	}
	if err := b.o.Engine.Run(ctx, spec); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var exit *engine.ExitError
		switch {
		case diagnosePip(tail.String()) == pipTLS:
			return fail(errors.New(tlsAdvice))
		case errors.As(err, &exit):
			return fail(fmt.Errorf("%w\npip's last lines:\n%s", err, indent(lastLines(tail.String(), 10))))
		}
		return fail(err) // pip succeeded: storing its file failed
	}
	e, err := b.o.Cache.Put(k, func(dir string) error {
		return os.Rename(filepath.Join(out, "uv"), filepath.Join(dir, "uv"))
	})
	if err != nil {
		return fail(err)
	}
	if b.o.Remote.Writes() {
		b.o.Remote.StoreUnit(ctx, k.Digest(), e.Dir)
	}
	return filepath.Join(e.Dir, "uv"), nil
}
