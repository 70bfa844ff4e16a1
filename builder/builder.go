// Package builder owns the build stage: installing each distinct
// distribution once per runtime and architecture into a unit (pip in the
// Lambda build image, through the engine package), pruning and caching it,
// and assembling layer zips from units.
//
// Subpackages hold the foundations: archive (deterministic zips, safe tar
// extraction), prune (the [prune] rules), cache (the unit cache) and engine
// (the container engine).
package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/internal/redact"
	"github.com/layers-dev/layers/internal/wheeltag"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
)

// maxBatch bounds the units one container installs, so that one slow
// container does not hold back the whole build.
const maxBatch = 16

// Options configure a Builder.
type Options struct {
	// Engine runs the build containers.
	Engine engine.Engine
	// Cache stores the units.
	Cache *cache.Cache
	// Remote, when not nil, is the remote tier behind Cache: units the
	// local cache lacks are looked up there before they are built, and
	// units built are uploaded to it.
	Remote *remote.Tier
	// Jobs bounds the containers running at once; 0 means runtime.NumCPU().
	Jobs int
	// Prune are the [prune] settings; they must have passed Validate.
	Prune prune.Options
	// CABundle, when set, is a PEM bundle pip trusts in the container.
	CABundle []byte
	// Env holds KEY=value pairs every container gets: private index
	// credentials (PIP_INDEX_URL and the like) and proxy settings. They
	// never reach a file, a cache key or a message.
	Env []string
	// Tool is the layers version, part of every cache key.
	Tool string
	// Root is the repository root that local packages' paths are relative to.
	Root string
	// Installer installs wheels: config.InstallerUV (the default) or
	// config.InstallerPip. Other units are always built by pip.
	Installer string
	// MemoryBytes bounds the in-memory output folder of a wheel batch's
	// container (engine.RunSpec.MemoryBytes); 0 is the engine's share of
	// its memory. A batch that outgrows it is built again on disk.
	MemoryBytes int64
	// Progress, when set, receives one Event per finished step. It is
	// called from several goroutines, one call at a time.
	Progress func(Event)
}

// Phases splits the time of a batch's container (Event.Took) by what it
// did, as its clock measured: the installs (Download of it: uv's fetch of
// every wheel before the installs), byte code, and the stream of its files
// out to the host. A phase it did not report is 0.
type Phases struct {
	Install, Download, Compile, Stream time.Duration
}

// Event is one finished step of a build, for progress output.
type Event struct {
	Unit   string // "six==1.16.0 (python3.11/x86_64)"
	Cached bool   // served from the cache
	Remote bool   // served from the remote tier (Cached too)
	Bytes  int64  // unzipped bytes after pruning
	Saved  int64  // bytes pruning and strip removed; 0 for cached units
	// ByteCode is the part of Bytes that is byte code.
	ByteCode int64
	// NotCompiled counts the unit's .py files that did not compile (so
	// ship without byte code); 0 for cached units.
	NotCompiled int
	Took        time.Duration // time of the container that built it
	// Phases is where the container's time went, as it measured it.
	Phases Phases
	// OnDisk says the unit's batch outgrew the container's memory
	// (Options.MemoryBytes) and was built again on disk.
	OnDisk bool
}

// UnitSpec is one unit to build: a distribution at one version for one
// target, installed in one build image.
type UnitSpec struct {
	Package resolver.Package
	Target  config.Target
	Image   Image
	// Index are the index options of the input file the package was
	// found in.
	Index resolver.IndexOptions
}

func (s UnitSpec) String() string {
	return fmt.Sprintf("%s (%s)", s.Package, s.Target)
}

// Unit is a built unit: a folder in the cache holding one distribution
// installed as a site-packages folder.
type Unit struct {
	Spec  UnitSpec
	Key   cache.Key
	Dir   string // the unit's files; read-only
	Files int
	Bytes int64 // unzipped, after pruning
	// ByteCode is the part of Bytes that is compiled byte code
	// (__pycache__/*.pyc).
	ByteCode int64
	Cached   bool
	Saved    prune.Result // what pruning removed; zero for cached units
	// Stripped is what strip removed from shared objects, in the
	// container; zero for cached units.
	Stripped int64
	// Compiled and NotCompiled count the .py files compiled to byte code
	// and those that did not compile (a package's Python 2 leftovers or
	// templates), in the container; zero for cached units.
	Compiled, NotCompiled int
}

// Builder builds units.
type Builder struct {
	o  Options
	mu sync.Mutex // serialises Progress calls
	uv uvTools
}

// New returns a Builder.
func New(o Options) (*Builder, error) {
	if o.Engine == nil || o.Cache == nil {
		return nil, errors.New("builder: an engine and a cache are needed")
	}
	if o.Tool == "" {
		return nil, errors.New("builder: the tool version is part of every cache key")
	}
	if err := o.Prune.Validate(); err != nil {
		return nil, err
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	switch o.Installer {
	case "":
		o.Installer = config.InstallerUV
	case config.InstallerUV, config.InstallerPip:
	default:
		return nil, fmt.Errorf("builder: unknown installer %q", o.Installer)
	}
	return &Builder{o: o}, nil
}

// UnitError is a unit whose install failed in its container.
type UnitError struct {
	Unit string // "name==version (runtime/arch)"
	Err  error
	// Tail holds the installer's last lines, credentials redacted.
	Tail string
	// Installer is "pip" or "uv": whose lines Tail holds.
	Installer string
	// tls: the installer's output says it failed on the index's TLS
	// certificate.
	tls bool
}

func (e *UnitError) Error() string {
	if e.tls {
		return fmt.Sprintf("install %s: %s", e.Unit, tlsAdvice)
	}
	msg := fmt.Sprintf("install %s: %v", e.Unit, e.Err)
	if e.Tail != "" {
		installer := e.Installer
		if installer == "" {
			installer = config.InstallerPip
		}
		msg += fmt.Sprintf("\n%s's last lines:\n%s", installer, indent(e.Tail))
	}
	return msg
}

func (e *UnitError) Unwrap() error { return e.Err }

// Key returns the cache key of spec's unit: a local package's key holds a
// digest of its source folder and a URL package's a digest of its URL,
// since their version alone does not fix their bytes.
func (b *Builder) Key(spec UnitSpec) (cache.Key, error) {
	return UnitKey(spec, b.o.Root, b.o.Prune, b.o.Tool, b.o.Installer)
}

// UnitKey is Builder.Key for a builder with root, prune settings, tool
// version and installer: what a plan needs to find the units an earlier
// build cached.
func UnitKey(spec UnitSpec, root string, pruning prune.Options, tool, installer string) (cache.Key, error) {
	var local string // a PEP 440 local label
	switch spec.Package.Source {
	case resolver.SourceLocal:
		files, err := digest.LocalPackageFiles(root, spec.Package.Path)
		if err != nil {
			return cache.Key{}, err
		}
		sum, err := digest.Files(files)
		if err != nil {
			return cache.Key{}, err
		}
		local = "src." + sum[:16]
	case resolver.SourceURL:
		local = "url." + hashString(redact.URL(spec.Package.URL))[:16]
	default:
		if spec.Package.URL != "" {
			local = "index." + hashString(redact.URL(spec.Package.URL))[:16]
		}
	}
	version := spec.Package.Version
	switch {
	case version == "":
		version = local // a version only the build can tell
	case local != "":
		version += "+" + local
	}
	return cache.Key{
		Distribution: spec.Package.Name,
		Version:      version,
		Runtime:      spec.Target.Runtime,
		Architecture: spec.Target.Architecture,
		ImageID:      spec.Image.ID,
		Prune:        pruning.Key(),
		Tool:         tool,
		Installer:    installer,
	}, nil
}

// job is one unit to build, with its key.
type job struct {
	spec UnitSpec
	key  cache.Key
	out  *Unit
}

// Units returns the unit of every spec, in order, building the ones the
// cache lacks. Specs with the same key are built once. Several units
// share a container; at most Jobs containers run at once.
func (b *Builder) Units(ctx context.Context, specs []UnitSpec) ([]Unit, error) {
	units := make([]Unit, len(specs))
	byDigest := map[string][]int{}
	var todo []*job
	for i, s := range specs {
		k, err := b.Key(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		units[i] = Unit{Spec: s, Key: k}
		d := k.Digest()
		if _, seen := byDigest[d]; !seen {
			if e, ok := b.o.Cache.Get(k); ok {
				units[i].Dir, units[i].Files, units[i].Bytes, units[i].ByteCode, units[i].Cached = e.Dir, e.Files, e.Bytes, e.ByteCode, true
				b.progress(Event{Unit: s.String(), Cached: true, Bytes: e.Bytes, ByteCode: e.ByteCode})
			} else {
				todo = append(todo, &job{spec: s, key: k, out: &units[i]})
			}
		}
		byDigest[d] = append(byDigest[d], i)
	}
	todo, err := b.fromRemote(ctx, todo)
	if err != nil {
		return nil, err
	}
	if err := b.run(ctx, batches(todo, b.o.Jobs, b.usesUV)); err != nil {
		return nil, err
	}
	b.toRemote(ctx, todo)
	for _, idx := range byDigest {
		for _, i := range idx[1:] {
			first := units[idx[0]]
			units[i].Dir, units[i].Files, units[i].Bytes, units[i].ByteCode, units[i].Cached = first.Dir, first.Files, first.Bytes, first.ByteCode, first.Cached
		}
	}
	return units, nil
}

// batches groups jobs that can share a container (same image, target,
// kind and index settings) and splits each group so that the work spreads
// over the jobs containers that may run at once. A group uv installs
// (parallel reports which) runs uvParallel units at once inside each
// container, so its containers get at least that many.
func batches(todo []*job, jobs int, parallel func(UnitSpec) bool) [][]*job {
	groups := map[string][]*job{}
	var order []string
	for _, j := range todo {
		k := strings.Join(append([]string{j.spec.Image.ID, j.spec.Target.String(), kind(j.spec)},
			indexEnv(j.spec.Index, lockIndex(j.spec))...), "\x00")
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	var out [][]*job
	for _, k := range order {
		g := groups[k]
		size := min(max((len(g)+jobs-1)/jobs, 1), maxBatch)
		if parallel(g[0].spec) {
			// Spread too (over several engines, jobs is all their
			// cores), but keep enough units in each container for its
			// parallel downloads.
			size = min(max((len(g)+jobs-1)/jobs, uvParallel), maxUVBatch)
		}
		for len(g) > 0 {
			n := min(size, len(g))
			out = append(out, g[:n])
			g = g[n:]
		}
	}
	return out
}

// kind says how a unit is installed: a wheel for the target, or built in
// the image from a source it is given.
//
// A registry package whose lock lists an sdist but no wheel that loads on
// the target (an sdist-only release, or wheels for other platforms only)
// is built from the sdist in the image, which has the runtime's compilers
// and glibc.
func kind(s UnitSpec) string {
	switch {
	case s.Package.Source == resolver.SourceLocal || s.Package.Source == resolver.SourceURL:
		return "source"
	case s.Package.Source == resolver.SourceRegistry && s.Package.Sdist:
		if _, ok := resolver.BestWheel(s.Package.Wheels, s.Target.Runtime, s.Target.Architecture); !ok {
			return "sdist"
		}
	}
	return "wheel"
}

// lockIndex is the index a lock names for a registry package
// (resolver.Package.LockIndex).
func lockIndex(s UnitSpec) string { return s.Package.LockIndex() }

// run runs the batches, at most Jobs at once, and stops them all at the
// first failure.
func (b *Builder) run(ctx context.Context, all [][]*job) error {
	return parallel.ForEach(ctx, b.o.Jobs, len(all), func(ctx context.Context, i int) error {
		return b.runBatch(ctx, all[i])
	})
}

// attemptBatch installs a batch's units in one container and stores them:
// in memory, or on disk when onDisk is set. An engine that fails mid-run
// ends it with an *engine.FailedError; a batch that outgrew its memory,
// with errOutgrewMemory.
func (b *Builder) attemptBatch(ctx context.Context, batch []*job, onDisk bool) error {
	spec, err := b.runSpec(ctx, batch, onDisk)
	if err != nil {
		return err
	}
	// In the cache's tmp/, locked: a run killed here leaves a folder the
	// next run removes.
	out, release, err := b.o.Cache.TempDir("batch")
	if err != nil {
		return err
	}
	defer release()
	tail := engine.NewTailBuffer(16 << 10)
	markers := &markerWatcher{}
	spec.Stderr = io.MultiWriter(tail, markers)
	// The units' files arrive on stdout as the container streams them,
	// and are extracted as they arrive.
	pr, pw := io.Pipe()
	spec.Stdout = pw
	extracted := make(chan error, 1)
	go func() {
		err := b.extractBatch(pr, out, batch)
		// Read on past the tar's end (a tar writer pads its last
		// record) or a refused entry, so that the container and its
		// output stream end as they would.
		_, _ = io.Copy(io.Discard, pr)
		extracted <- err
	}()
	start := time.Now()
	runErr := b.o.Engine.Run(ctx, spec)
	pw.Close() // the stream ends with the run
	extractErr := <-extracted
	if runErr != nil {
		var failed *engine.FailedError
		if ctx.Err() != nil {
			return ctx.Err()
		} else if errors.As(runErr, &failed) {
			return runErr // runBatch retries it on another engine
		}
		if len(spec.Memory) > 0 && strings.Contains(tail.String(), noSpace) {
			return errOutgrewMemory
		}
		return b.failure(batch, runErr, tail.String())
	}
	if extractErr != nil {
		return extractErr
	}
	took := time.Since(start)
	for i, j := range batch {
		src := filepath.Join(out, fmt.Sprint(i))
		if _, err := os.Lstat(src); err != nil {
			return &UnitError{Unit: j.spec.String(), Err: fmt.Errorf("its files did not come out of the build container: %w", err)}
		}
		saved, err := prune.Prune(src, b.o.Prune)
		if err != nil {
			return fmt.Errorf("%s: %w", j.spec, err)
		}
		e, err := b.o.Cache.Put(j.key, func(dir string) error {
			if err := os.Remove(dir); err != nil {
				return err
			}
			return os.Rename(src, dir)
		})
		if err != nil {
			return &UnitError{Unit: j.spec.String(), Err: fmt.Errorf("store it in the cache: %w", err)}
		}
		compiled, failed := markers.compiledFiles(i)
		*j.out = Unit{Spec: j.spec, Key: j.key, Dir: e.Dir, Files: e.Files, Bytes: e.Bytes, ByteCode: e.ByteCode, Saved: saved,
			Stripped: markers.stripped(i), Compiled: compiled, NotCompiled: failed}
		b.progress(Event{Unit: j.spec.String(), Bytes: e.Bytes, ByteCode: e.ByteCode, Saved: saved.Bytes + j.out.Stripped,
			NotCompiled: failed, Took: took, Phases: markers.phaseTimes(), OnDisk: onDisk})
	}
	return nil
}

// noSpace is what an installer, Python and the shell say when a write
// finds its file system full (ENOSPC).
const noSpace = "No space left on device"

// errOutgrewMemory is a batch whose in-memory output folder filled up.
var errOutgrewMemory = errors.New("the build container's memory folder is full")

// extractBatch extracts the tar a batch's container streams out into out,
// as <n>/..., checking every entry (unitCheck). An error while storing a
// unit's files names the unit: the installer succeeded, the host's disk
// did not.
func (b *Builder) extractBatch(r io.Reader, out string, batch []*job) error {
	check, current := unitCheck(batch), -1
	_, err := archive.ExtractTar(r, out, archive.WithEntryCheck(func(rel string, bytes int64) error {
		if n, err := strconv.Atoi(strings.SplitN(rel, "/", 2)[0]); err == nil && n >= 0 && n < len(batch) {
			current = n
		}
		return check(rel, bytes)
	}))
	var ue *UnitError
	if err != nil && current >= 0 && !errors.As(err, &ue) {
		return &UnitError{Unit: batch[current].spec.String(), Err: fmt.Errorf("store its files: %w", err)}
	}
	return err
}

// MaxUnitBytes bounds what one unit may install: the largest size Lambda
// could ever use, its limit for a container image (lambdaimage.MaxImageBytes,
// which imports this package). A package that writes more (a build backend
// that left a huge sparse file) is refused while the tar streams out of the
// container, before the cache stores anything.
const MaxUnitBytes int64 = 10_000_000_000

// unitCheck returns the archive.WithEntryCheck of a batch's output, whose
// paths are <n>/..., n being the unit's place in the batch: it bounds each
// unit's bytes and refuses file names a zip should not carry.
func unitCheck(batch []*job) func(rel string, bytes int64) error {
	sizes := make([]int64, len(batch))
	return func(rel string, bytes int64) error {
		first, inside, _ := strings.Cut(rel, "/")
		n, err := strconv.Atoi(first)
		if err != nil || n < 0 || n >= len(batch) {
			return fmt.Errorf("unexpected path %q in the build output", rel)
		}
		if i := strings.IndexFunc(inside, isControl); i >= 0 {
			return &UnitError{Unit: batch[n].spec.String(), Err: fmt.Errorf("installs a file whose name has a control character (%U): %q", inside[i], inside)}
		}
		sizes[n] += bytes
		if sizes[n] > MaxUnitBytes {
			return &UnitError{Unit: batch[n].spec.String(), Err: fmt.Errorf("installs more than %d bytes (at %q), more than Lambda could ever use", MaxUnitBytes, inside)}
		}
		return nil
	}
}

// isControl reports an ASCII control character: newlines, tabs and the like
// in a file name break listings, logs and the tools that read a zip.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// failure turns a failed container into a *UnitError naming the package
// whose install failed, from the marker the script prints.
func (b *Builder) failure(batch []*job, err error, output string) error {
	unit := batch[0].spec.String()
	if len(batch) > 1 {
		unit = fmt.Sprintf("one of %d units", len(batch))
	}
	var failed *job
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var n int
		if _, scanErr := fmt.Sscanf(lines[i], failMarker+"%d", &n); scanErr == nil && n >= 0 && n < len(batch) {
			failed = batch[n]
			unit = failed.spec.String()
			lines = lines[:i]
			break
		}
	}
	installer := config.InstallerPip
	if b.usesUV(batch[0].spec) {
		installer = config.InstallerUV
	}
	var ee *engine.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("%s failed (exit status %d)", installer, ee.Code)
	}
	if failed != nil && kind(failed.spec) == "wheel" && diagnosePip(output) == pipUnsatisfiable {
		// pip may only pick a wheel for the runtime (--only-binary): a
		// compiled package is never built from source here.
		if rt, rerr := wheeltag.RuntimeFor(failed.spec.Target.Runtime, failed.spec.Target.Architecture); rerr == nil {
			err = fmt.Errorf("no wheel of this release on the index loads on Lambda's %s (it needs %s): pin a release that has one: %w", rt, rt.Needs(), err)
		}
	}
	const keep = 15
	lines = slices.DeleteFunc(lines, func(s string) bool { return strings.TrimSpace(s) == "" })
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return &UnitError{Unit: unit, Err: err, Tail: redact.Text(strings.Join(lines, "\n")), Installer: installer, tls: diagnosePip(output) == pipTLS}
}

func (b *Builder) progress(e Event) {
	if b.o.Progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.o.Progress(e)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
