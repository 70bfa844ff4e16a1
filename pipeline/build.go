package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/bytesize"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
	"github.com/layers-dev/layers/stamp"
)

// BuildOptions configure Build.
type BuildOptions struct {
	// Engine runs the build containers; nil dials the engine the
	// environment names (DOCKER_HOST).
	Engine engine.Engine
	// Fresh plans from scratch, ignoring the last build's plan, which
	// otherwise keeps every layer that is still valid as it was.
	Fresh bool
	// CacheDir is the unit cache's folder; "" means cache.DefaultDir.
	CacheDir string
	// CacheURL and CacheReadOnly override [cache] url and write, and
	// LAYERS_CACHE_URL and LAYERS_CACHE_READ_ONLY: the remote tier.
	CacheURL      string
	CacheReadOnly bool
	// Jobs bounds the containers running at once; 0 means the CPUs.
	Jobs int
	// Pull pulls every build image even when the engine has it.
	Pull bool
	// Tool is the layers version, part of every cache key and of the
	// manifest.
	Tool string
	// Getenv reads the environment (SOURCE_DATE_EPOCH, LAYERS_CA_BUNDLE,
	// LAYERS_CACHE, PIP_INDEX_URL...); nil means os.Getenv.
	Getenv func(string) string
	// Progress receives one line per finished step; nil discards them.
	Progress func(string)
	// Events receives the same steps counted per stage and target, for a
	// progress display; nil discards them. It is called one event at a
	// time, before Progress gets the event's line.
	Events func(Event)
	// Registry, when not nil, is asked for an image function's image
	// before it is built, when the run has a remote cache tier: a fresh
	// runner need not build what an earlier run pushed. publish/ecr's
	// Publisher has it.
	Registry ImageRegistry
	// Notice receives the lines that belong to no stage and that the user
	// should see with or without progress: where the plan came from, and
	// warnings (a remote cache that failed, another run holding the
	// lock). nil sends them to Progress.
	Notice func(string)
}

// BuildResult is a finished build.
type BuildResult struct {
	Manifest *manifest.Manifest
	// ManifestPath is where the manifest was written.
	ManifestPath string
	UnitsBuilt   int
	UnitsCached  int
	// SavedBytes is what pruning removed from the units built this time.
	SavedBytes int64
	// NotCompiled counts the files of the units built this time that did
	// not compile to byte code (and ship without it).
	NotCompiled   int
	LayersWritten int
	LayersReused  int
	// ImagesBuilt and ImagesReused count the container images built and
	// found unchanged in the engine; ImagesInRegistry those found in the
	// registry instead.
	ImagesBuilt      int
	ImagesReused     int
	ImagesInRegistry int
	// Plan is the plan the layers were built from, every target's.
	Plan *planner.Plan
	// PlanFrom says which plan the build started from ("" for none).
	PlanFrom string
	// UnitsRemote counts the cached units the remote tier served.
	UnitsRemote int
	// Remote is the remote tier's location and what it did ("" and zero
	// without one).
	Remote      string
	RemoteStats remote.Stats
	// Engines says what each engine of [build] engines did; nil
	// without the key.
	Engines []engine.Usage
	Took    time.Duration
}

// buildRun is one build's state, handed from stage to stage: what the
// options and the repository settle at the start, and what the stages
// produce. Each stage reads what the earlier ones left here and never
// calls them.
type buildRun struct {
	cfg     *config.Config
	o       BuildOptions // defaults filled in
	engine  engine.Engine
	pool    *engine.Pool // the [build] engines; nil without
	pip     *builder.PipResolver
	remote  *remote.Tier // nil without a remote tier
	builder *builder.Builder
	epoch   time.Time // every zip entry's time
	// images are the build images, by target.
	images map[config.Target]builder.Image
	// previous are the last build's layers by name, whose zips are kept
	// when their content is unchanged; hint is its plan (nil with Fresh).
	previous map[string]manifest.Layer
	hint     *planner.Plan
	rep      *reporter
	out      *BuildResult
	// wheelsSeen are the packages built from source already reported.
	wheelsSeen map[string]bool
	// index checks the units about to be built whose inputs list no
	// files, with the index; units is the local unit cache.
	index *wheelCheck
	units *cache.Cache
}

// Build resolves every function, installs the units the cache lacks in the
// build images, plans the layers on the units' measured sizes and writes
// each layer zip under .layers/dist and the manifest at .layers/build.json.
// A failed build writes no manifest.
func Build(ctx context.Context, cfg *config.Config, o BuildOptions) (*BuildResult, error) {
	start := time.Now()
	d := runDefaults{Getenv: o.Getenv, Tool: o.Tool, CacheDir: o.CacheDir}
	if err := d.fill(); err != nil {
		return nil, err
	}
	o.Getenv, o.Tool, o.CacheDir = d.Getenv, d.Tool, d.CacheDir
	r := &buildRun{cfg: cfg, o: o, engine: o.Engine, out: &BuildResult{},
		rep: &reporter{progress: o.Progress, events: o.Events, notice: o.Notice}, images: map[config.Target]builder.Image{}}
	unlock, err := manifest.Lock(ctx, cfg.Root, func() {
		r.rep.warning(fmt.Sprintf("waiting for another layers run on %s to finish", manifest.Dir))
	})
	if err != nil {
		return nil, err
	}
	defer unlock()
	if r.epoch, err = archive.SourceDateEpoch(o.Getenv); err != nil {
		return nil, err
	}
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{Getenv: d.lookup})
	if err != nil {
		return nil, err
	}
	if len(res.LeftOut) > 0 {
		var dirs []string
		for _, c := range res.LeftOut {
			dirs = append(dirs, c.Dir)
		}
		r.rep.warning(fmt.Sprintf("not built, though they look like functions: %s; no functions glob finds them (`layers plan` says how to include them)", strings.Join(dirs, ", ")))
	}
	// Before any container: a package no wheel of which the runtime loads
	// would otherwise fail minutes later, in a compiler.
	ca, err := caBundle(cfg, o.Getenv)
	if err != nil {
		return nil, err
	}
	// The locks' files only here; the index is asked for the files of
	// pinned requirements when their units are about to be built.
	wheels := newWheelCheck(cfg, o.Getenv, false, true, false, ca, r.rep.line)
	r.index = newWheelCheck(cfg, o.Getenv, true, true, true, ca, r.rep.line)
	if err := r.checkWheels(ctx, res, wheels); err != nil {
		return nil, err
	}
	// Before resolution fills the closures: publish recomputes the stamp
	// from the input files alone.
	inputs, parts, err := stamp.Compute(cfg, res, o.Tool, r.epoch)
	if err != nil {
		return nil, err
	}
	closeEngines, err := r.dialEngines(ctx, res)
	if err != nil {
		return nil, err
	}
	defer closeEngines()
	if r.remote, err = remote.Open(ctx, remote.SettingsFor(cfg, o.CacheURL, o.CacheReadOnly, o.Getenv), r.rep.warning); err != nil {
		return nil, err
	}
	if err := r.prepare(ctx, res); err != nil {
		return nil, err
	}
	if err := fillClosures(ctx, cfg, res, r.images, r.pip, true, r.o.Jobs, r.rep); err != nil {
		return nil, err
	}
	if err := checkResolved(res); err != nil {
		return nil, err
	}
	if err := r.checkWheels(ctx, res, wheels); err != nil { // what pip resolved
		return nil, err
	}

	m := &manifest.Manifest{Format: manifest.Format, Tool: o.Tool, InputsSHA256: inputs, SourceDateEpoch: r.epoch.Unix(), Targets: []manifest.Target{}, Stamp: parts}
	old, _ := manifest.Read(cfg.Root)
	r.previous = old.LayersByName()
	if !o.Fresh {
		r.hint, r.out.PlanFrom = previousPlan(ctx, cfg, r.remote, o.Getenv, r.rep.warning)
		if r.hint != nil {
			r.rep.line("plan: starting from the plan in " + r.out.PlanFrom)
		}
	}
	dist := filepath.Join(cfg.Root, filepath.FromSlash(manifest.DistDir))
	keep := map[string]bool{}
	for _, tr := range res.Targets {
		tm, err := r.target(ctx, tr)
		if err != nil {
			return nil, err
		}
		for _, l := range tm.Layers {
			keep[filepath.Base(l.File)] = true
		}
		m.Targets = append(m.Targets, *tm)
	}
	if err := manifest.Write(cfg.Root, m); err != nil {
		return nil, err
	}
	if err := manifest.WritePlan(cfg.PlanPath(), r.out.Plan); err != nil {
		return nil, err
	}
	removeStaleZips(dist, keep)
	r.out.Manifest, r.out.ManifestPath, r.out.Took = m, manifest.Path(cfg.Root), time.Since(start)
	r.out.Remote, r.out.RemoteStats = r.remote.Location(), r.remote.Stats()
	if r.pool != nil {
		r.out.Engines = r.pool.Usage()
	}
	return r.out, nil
}

// checkWheels stops the build at the first target with a package that
// no wheel its runtime loads can install, and reports those that will be
// built from source. A package is reported once per run.
func (r *buildRun) checkWheels(ctx context.Context, res *resolver.Result, w *wheelCheck) error {
	if r.wheelsSeen == nil {
		r.wheelsSeen = map[string]bool{}
	}
	for i := range res.Targets {
		tr := &res.Targets[i]
		problems := w.problems(ctx, tr)
		if err := refusal(tr.Target, problems); err != nil {
			return err
		}
		for _, p := range problems {
			if key := tr.Target.String() + " " + p.Name + "==" + p.Version; !r.wheelsSeen[key] {
				r.wheelsSeen[key] = true
				r.rep.line("wheels: " + p.Message)
			}
		}
	}
	return nil
}

// checkIndexFiles asks the index which files the registry packages of
// specs whose inputs list none (a pinned requirements file) have, for the
// units the local cache lacks, and stops the build when one has no wheel
// the runtime loads. What it learns goes into specs, so that a release
// with only an sdist is built from it.
func (r *buildRun) checkIndexFiles(ctx context.Context, tr resolver.TargetResult, specs []builder.UnitSpec) error {
	ask := map[string]bool{} // name==version
	for _, s := range specs {
		p := s.Package
		if p.Source != resolver.SourceRegistry || len(p.Wheels) > 0 || p.Sdist {
			continue
		}
		if k, err := r.builder.Key(s); err == nil {
			if _, ok := r.units.Peek(k); ok {
				continue
			}
		}
		ask[p.Name+"=="+p.Version] = true
	}
	if len(ask) == 0 {
		return nil
	}
	part := resolver.TargetResult{Target: tr.Target, Runtime: tr.Runtime, Arch: tr.Arch}
	for _, c := range tr.Functions {
		cc := resolver.Closure{Name: c.Name, Path: c.Path, Index: c.Index}
		for _, p := range c.Packages {
			if ask[p.Name+"=="+p.Version] {
				cc.Packages = append(cc.Packages, p)
			}
		}
		if len(cc.Packages) > 0 {
			part.Functions = append(part.Functions, cc)
		}
	}
	problems := r.index.problems(ctx, &part)
	if err := refusal(tr.Target, problems); err != nil {
		return err
	}
	learned := map[string]resolver.Package{}
	for _, c := range part.Functions {
		for _, p := range c.Packages {
			if len(p.Wheels) > 0 || p.Sdist {
				learned[p.Name+"=="+p.Version] = p
			}
		}
	}
	for i := range specs {
		if p, ok := learned[specs[i].Package.Name+"=="+specs[i].Package.Version]; ok && specs[i].Package.Source == resolver.SourceRegistry {
			specs[i].Package.Wheels, specs[i].Package.Sdist = p.Wheels, p.Sdist
		}
	}
	for _, p := range problems {
		r.rep.line("wheels: " + p.Message)
	}
	return nil
}

// prepare readies what the installs need: the engine cleaned of a killed
// run's containers, the unit cache, every target's build image, the pip
// resolver and the builder.
func (r *buildRun) prepare(ctx context.Context, res *resolver.Result) error {
	cfg, o := r.cfg, r.o
	ca, err := caBundle(cfg, o.Getenv)
	if err != nil {
		return err
	}
	if _, err := r.engine.RemoveLeftovers(ctx); err != nil {
		return err
	}
	c, err := cache.Open(o.CacheDir)
	if err != nil {
		return err
	}
	r.units = c
	env := containerEnv(o.Getenv)
	for _, tr := range res.Targets {
		ref, err := imageFor(cfg, tr)
		if err != nil {
			return err
		}
		r.rep.start(StageBuildImage, tr.Target, 1)
		img, err := builder.ResolveImage(ctx, r.engine, ref, tr.Target, o.Pull)
		if err != nil {
			return err
		}
		r.rep.step(StageBuildImage, tr.Target, fmt.Sprintf("image %s for %s: %.19s", ref, tr.Target, img.ID))
		r.images[tr.Target] = img
	}
	if r.pip, err = builder.NewPipResolver(builder.PipResolverOptions{Engine: r.engine, CacheDir: o.CacheDir, CABundle: ca, Env: env, Tool: o.Tool,
		Root: cfg.Root, Remote: r.remote}); err != nil {
		return err
	}
	out := r.out
	r.builder, err = builder.New(builder.Options{
		Engine: r.engine, Cache: c, Remote: r.remote, Jobs: r.o.Jobs, Prune: pruneOptions(cfg), CABundle: ca, Env: env,
		Tool: o.Tool, Root: cfg.Root, Installer: cfg.Build.Installer,
		Progress: func(e builder.Event) {
			if e.Cached {
				out.UnitsCached++
				from := "cached"
				if e.Remote {
					out.UnitsRemote++
					from = "from the remote cache"
				}
				r.rep.unit(fmt.Sprintf("unit %s: %s, %s", e.Unit, from, bytesize.Decimal(e.Bytes)))
				return
			}
			out.UnitsBuilt++
			out.SavedBytes += e.Saved
			out.NotCompiled += e.NotCompiled
			where := ""
			if e.OnDisk {
				where = ", on disk: its batch outgrew the container's memory"
			}
			r.rep.unit(fmt.Sprintf("unit %s: built, %s (pruned %s%s; container %s%s%s)", e.Unit, bytesize.Decimal(e.Bytes), bytesize.Decimal(e.Saved),
				byteCodeDetail(e), e.Took.Round(100*time.Millisecond), phaseDetail(e.Phases), where))
		},
	})
	return err
}

// target builds one target's units and layers, and its images.
func (r *buildRun) target(ctx context.Context, tr resolver.TargetResult) (*manifest.Target, error) {
	cfg, img, out := r.cfg, r.images[tr.Target], r.out
	// One spec per planner unit; functions are sorted, so the first
	// function's index options win for a package several need.
	var specs []builder.UnitSpec
	seen := map[planner.Unit]bool{}
	pt := planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}
	for _, c := range tr.Functions {
		for _, p := range c.Packages {
			if p.Source == resolver.SourceLocal && cfg.Layers.LocalInCode {
				continue // shipped with the function code, not in layers
			}
			u := unitOf(pt, p)
			if seen[u] {
				continue
			}
			seen[u] = true
			specs = append(specs, builder.UnitSpec{Package: p, Target: tr.Target, Image: img, Index: c.Index})
		}
	}
	if len(specs) > 0 {
		r.rep.start(StageUnits, tr.Target, len(specs))
	}
	if err := r.checkIndexFiles(ctx, tr, specs); err != nil {
		return nil, err
	}
	units, err := r.builder.Units(ctx, specs)
	if err != nil {
		return nil, err
	}
	r.rep.finish(StageUnits, tr.Target)
	byUnit := map[planner.Unit]builder.Unit{}
	in := plannerInput(cfg, tr, r.hint)
	for _, u := range units {
		pu := unitOf(pt, u.Spec.Package)
		byUnit[pu] = u
		in.Sizes[pu] = planner.Size{Bytes: u.Bytes, Kind: planner.SizeMeasured}
	}
	plan, err := planner.Split(in)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", tr.Target, err)
	}
	if err := checkImages(cfg, plan); err != nil {
		return nil, err
	}
	if out.Plan == nil {
		out.Plan = &planner.Plan{Limits: plan.Limits, MaxExtra: plan.MaxExtra}
	}
	out.Plan.Targets = append(out.Plan.Targets, plan.Targets...)

	tm := &manifest.Target{Runtime: tr.Runtime, Architecture: tr.Arch, Image: manifest.BuildImage(img),
		Layers: []manifest.Layer{}, Functions: []manifest.Function{}, Images: []manifest.Image{}}
	fp := map[string]planner.FunctionPlan{}
	layerCode := layerByteCode(plan, pt, byUnit)
	nlayers := 0
	for _, p := range plan.Targets {
		nlayers += len(p.Layers)
	}
	if nlayers > 0 {
		r.rep.start(StageLayers, tr.Target, nlayers)
	}
	for _, p := range plan.Targets {
		for _, l := range p.Layers {
			reused := out.LayersReused
			lm, err := r.writeLayer(l, pt, byUnit)
			if err != nil {
				return nil, err
			}
			state := "written"
			if out.LayersReused > reused {
				state = "unchanged"
			}
			r.rep.step(StageLayers, tr.Target, fmt.Sprintf("layer %s: %s, %d packages, %s zipped, %s unzipped", lm.Name, state, len(lm.Packages),
				bytesize.Decimal(lm.ZippedBytes), bytesize.Decimal(lm.UnzippedBytes)))
			tm.Layers = append(tm.Layers, lm)
		}
		for _, f := range p.Functions {
			fp[f.Name] = f
		}
	}
	for _, c := range tr.Functions {
		f, ok := fp[c.Name]
		if !ok {
			continue
		}
		mf := manifest.Function{Name: c.Name, Path: c.Path, PackageType: f.PackageType,
			Layers: append([]string{}, f.Layers...), UnzippedBytes: f.UnzippedBytes,
			ByteCodeBytes: functionByteCode(cfg, f, c, pt, layerCode, byUnit)}
		for _, p := range c.Packages {
			if f.PackageType == planner.PackageLayers && !(p.Source == resolver.SourceLocal && cfg.Layers.LocalInCode) {
				mf.Packages = append(mf.Packages, refOf(p))
			}
		}
		tm.Functions = append(tm.Functions, mf)
		if f.PackageType == planner.PackageImage {
			tm.Images = append(tm.Images, manifest.Image{Function: c.Name, Reason: f.Reason, Packages: f.Packages})
		}
	}
	if err := r.buildImages(ctx, tr, tm, byUnit); err != nil {
		return nil, err
	}
	return tm, nil
}

// writeLayer writes one layer's zip, or keeps the one an earlier build
// wrote when its content key and bytes still match.
func (r *buildRun) writeLayer(l planner.Layer, pt planner.Target, byUnit map[planner.Unit]builder.Unit) (manifest.Layer, error) {
	var units []builder.Unit
	h := sha256.New()
	fmt.Fprintf(h, "layer %d %d\n", manifest.Format, r.epoch.Unix())
	for _, p := range l.Packages {
		u, ok := byUnit[refUnit(pt, p)]
		if !ok {
			return manifest.Layer{}, fmt.Errorf("layer %s: no unit for %s", l.Name, p)
		}
		units = append(units, u)
		fmt.Fprintf(h, "%s\n", u.Key.Digest())
	}
	key := hex.EncodeToString(h.Sum(nil))
	rel := manifest.DistDir + "/" + l.Name + ".zip"
	path := filepath.Join(r.cfg.Root, filepath.FromSlash(rel))
	lm := manifest.Layer{Name: l.Name, File: rel, Packages: l.Packages, Functions: l.Functions, ContentKey: key}
	if prev, ok := r.previous[l.Name]; ok && prev.ContentKey == key {
		if sum, b64, size, err := digest.File(path); err == nil && sum == prev.SHA256 {
			lm.SHA256, lm.CodeSha256, lm.ZippedBytes, lm.UnzippedBytes = sum, b64, size, prev.UnzippedBytes
			for _, u := range units {
				lm.ByteCodeBytes += u.ByteCode
			}
			r.out.LayersReused++
			return lm, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return manifest.Layer{}, err
	}
	lf, err := builder.WriteLayer(path, units, r.epoch)
	if err != nil {
		return manifest.Layer{}, err
	}
	for _, u := range units {
		lm.ByteCodeBytes += u.ByteCode
	}
	lm.SHA256, lm.CodeSha256, lm.ZippedBytes, lm.UnzippedBytes = lf.SHA256, lf.CodeSHA256, lf.ZippedBytes, lf.UnzippedBytes
	r.out.LayersWritten++
	return lm, nil
}

// imageFor returns the build image of a target: the one its functions
// name, else the runtime's SAM build image. Functions of one target share
// units, so they must agree.
func imageFor(cfg *config.Config, tr resolver.TargetResult) (string, error) {
	ref, by := "", ""
	for _, c := range tr.Functions {
		img := cfg.For(c.Name).Image
		if img == "" {
			img = builder.DefaultImage(tr.Target)
		}
		if ref != "" && img != ref {
			return "", fmt.Errorf("functions %s and %s of %s name different build images (%s, %s); functions sharing a runtime and architecture share units, so they need one image",
				by, c.Name, tr.Target, ref, img)
		}
		ref, by = img, c.Name
	}
	if ref == "" {
		ref = builder.DefaultImage(tr.Target)
	}
	return ref, nil
}

func pruneOptions(cfg *config.Config) prune.Options {
	return prune.Options{Tests: cfg.Prune.Tests, Patterns: cfg.Prune.Patterns, Keep: cfg.Prune.Keep, Strip: cfg.Prune.Strip, Bytecode: cfg.Prune.Bytecode}
}

// removeStaleZips deletes the zips of .layers/dist that the new manifest
// does not list, so the folder holds exactly one build's layers.
func removeStaleZips(dist string, keep map[string]bool) {
	entries, err := os.ReadDir(dist)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".zip") && !keep[e.Name()] {
			os.Remove(filepath.Join(dist, e.Name()))
		}
	}
}

// phaseDetail says where a container's time went: ": install 2.9s
// (downloads 2.2s), byte code 9.7s, out 5.4s", without the phases it did
// not report.
func phaseDetail(p builder.Phases) string {
	var parts []string
	for _, ph := range []struct {
		name string
		d    time.Duration
	}{{"install", p.Install}, {"byte code", p.Compile}, {"out", p.Stream}} {
		if ph.d > 0 {
			parts = append(parts, ph.name+" "+ph.d.Round(100*time.Millisecond).String())
		}
		if ph.name == "install" && p.Download > 0 && ph.d > 0 {
			parts[len(parts)-1] += " (downloads " + p.Download.Round(100*time.Millisecond).String() + ")"
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}
