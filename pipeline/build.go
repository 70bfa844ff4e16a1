package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/resolver"
)

// passEnv are the host variables every build container gets: a private
// index and its credentials, pip's network settings, proxies. Host paths
// (PIP_CERT, PIP_FIND_LINKS) mean nothing in a container and stay out.
var passEnv = []string{
	"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

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

	rep *reporter // set by Build: what buildTarget and buildImages report to
}

// Stage is a part of a build that progress events count steps of.
type Stage string

const (
	StageBuildImage Stage = "build image" // a target's build image found or pulled
	StageResolve    Stage = "resolve"     // unpinned closures resolved with pip
	StageUnits      Stage = "units"       // units installed, or found in the cache
	StageLayers     Stage = "layers"      // layer zips written, or kept unchanged
	StageImages     Stage = "images"      // container images built, or found unchanged
)

// Event is the progress of one stage of one target: Done of its Total
// steps have finished. A stage starts with an event without a Line and
// Done 0 (or Done unchanged when Total grows: a container image can need
// units the layers did not); each finished step then sends the Line
// Progress gets, and a finished stage has Done equal to Total.
type Event struct {
	Stage  Stage
	Target config.Target
	Done   int
	Total  int
	Line   string // "" for a stage's start
}

// stageOf keys the reporter's counters.
type stageOf struct {
	stage  Stage
	target config.Target
}

// reporter turns a build's steps into Events and Progress lines, one call
// at a time: the builder and the resolutions report from several
// goroutines.
type reporter struct {
	mu       sync.Mutex
	progress func(string)
	events   func(Event)
	done     map[stageOf]int
	total    map[stageOf]int
	// units is the target whose units the builder is installing: its
	// events do not name one, and targets are built one after another.
	units config.Target
}

// start adds n steps to a stage of t.
func (r *reporter) start(s Stage, t config.Target, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == StageUnits {
		r.units = t
	}
	k := r.key(s, t)
	r.total[k] += n
	r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k]})
}

// step counts one finished step of a stage of t, described by line.
func (r *reporter) step(s Stage, t config.Target, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stepLocked(s, t, line)
}

func (r *reporter) stepLocked(s Stage, t config.Target, line string) {
	k := r.key(s, t)
	r.done[k]++
	r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k], Line: line})
}

// unit counts one finished unit of the target being installed.
func (r *reporter) unit(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stepLocked(StageUnits, r.units, line)
}

// finish marks a stage of t finished: the builder reports a unit that
// several specs share once.
func (r *reporter) finish(s Stage, t config.Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.key(s, t)
	if r.done[k] < r.total[k] {
		r.done[k] = r.total[k]
		r.emit(Event{Stage: s, Target: t, Done: r.done[k], Total: r.total[k]})
	}
}

func (r *reporter) key(s Stage, t config.Target) stageOf {
	if r.done == nil {
		r.done, r.total = map[stageOf]int{}, map[stageOf]int{}
	}
	return stageOf{s, t}
}

func (r *reporter) emit(e Event) {
	if r.events != nil {
		r.events(e)
	}
	if e.Line != "" && r.progress != nil {
		r.progress(e.Line)
	}
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
	// found unchanged in the engine.
	ImagesBuilt  int
	ImagesReused int
	// Plan is the plan the layers were built from, every target's.
	Plan *planner.Plan
	Took time.Duration
}

// Build resolves every function, installs the units the cache lacks in the
// build images, plans the layers on the units' measured sizes and writes
// each layer zip under .layers/dist and the manifest at .layers/build.json.
// A failed build writes no manifest.
func Build(ctx context.Context, cfg *config.Config, o BuildOptions) (*BuildResult, error) {
	start := time.Now()
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	o.rep = &reporter{progress: o.Progress, events: o.Events}
	if o.Tool == "" {
		o.Tool = "dev"
	}
	epoch, err := archive.SourceDateEpoch(o.Getenv)
	if err != nil {
		return nil, err
	}
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		return nil, err
	}
	// Before resolution fills the closures: publish recomputes this
	// digest from the input files alone.
	inputs, err := inputsDigest(cfg, res, o.Tool, epoch)
	if err != nil {
		return nil, err
	}
	ca, err := caBundle(cfg, o.Getenv)
	if err != nil {
		return nil, err
	}
	if o.Engine == nil {
		d, err := engine.Dial(ctx)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		o.Engine = d
	}
	if _, err := o.Engine.RemoveLeftovers(ctx); err != nil {
		return nil, err
	}
	if o.CacheDir == "" {
		if o.CacheDir, err = cache.DefaultDir(o.Getenv); err != nil {
			return nil, err
		}
	}
	c, err := cache.Open(o.CacheDir)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, k := range passEnv {
		if v := o.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	images := map[config.Target]builder.Image{}
	for _, tr := range res.Targets {
		ref, err := imageFor(cfg, tr)
		if err != nil {
			return nil, err
		}
		o.rep.start(StageBuildImage, tr.Target, 1)
		img, err := builder.ResolveImage(ctx, o.Engine, ref, tr.Target, o.Pull)
		if err != nil {
			return nil, err
		}
		o.rep.step(StageBuildImage, tr.Target, fmt.Sprintf("image %s for %s: %.19s", ref, tr.Target, img.ID))
		images[tr.Target] = img
	}
	rs, err := builder.NewResolver(builder.ResolverOptions{Engine: o.Engine, CacheDir: o.CacheDir, CABundle: ca, Env: env, Tool: o.Tool, Root: cfg.Root})
	if err != nil {
		return nil, err
	}
	if err := fillClosures(ctx, cfg, res, images, rs, true, o.Jobs, o.rep); err != nil {
		return nil, err
	}
	if err := checkResolved(res); err != nil {
		return nil, err
	}
	out := &BuildResult{}
	b, err := builder.New(builder.Options{
		Engine: o.Engine, Cache: c, Jobs: o.Jobs, Prune: pruneOptions(cfg), CABundle: ca, Env: env,
		Tool: o.Tool, Root: cfg.Root,
		Progress: func(e builder.Event) {
			if e.Cached {
				out.UnitsCached++
				o.rep.unit(fmt.Sprintf("unit %s: cached, %s", e.Unit, humanBytes(e.Bytes)))
				return
			}
			out.UnitsBuilt++
			out.SavedBytes += e.Saved
			out.NotCompiled += e.NotCompiled
			o.rep.unit(fmt.Sprintf("unit %s: built, %s (pruned %s%s; container %s)", e.Unit, humanBytes(e.Bytes), humanBytes(e.Saved),
				byteCodeDetail(e), e.Took.Round(100*time.Millisecond)))
		},
	})
	if err != nil {
		return nil, err
	}

	m := &manifest.Manifest{Format: manifest.Format, Tool: o.Tool, InputsSHA256: inputs, SourceDateEpoch: epoch.Unix(), Targets: []manifest.Target{}}
	old, _ := manifest.Read(cfg.Root)
	previous := old.LayersByName()
	var hint *planner.Plan
	if !o.Fresh {
		hint = manifest.ReadPlan(cfg.PlanPath())
	}
	dist := filepath.Join(cfg.Root, filepath.FromSlash(manifest.DistDir))
	keep := map[string]bool{}
	for _, tr := range res.Targets {
		tm, err := buildTarget(ctx, cfg, tr, images[tr.Target], b, o, epoch, previous, hint, out)
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
	if err := manifest.WritePlan(cfg.PlanPath(), out.Plan); err != nil {
		return nil, err
	}
	removeStaleZips(dist, keep)
	out.Manifest, out.ManifestPath, out.Took = m, manifest.Path(cfg.Root), time.Since(start)
	return out, nil
}

// buildTarget builds one target's units and layers.
func buildTarget(ctx context.Context, cfg *config.Config, tr resolver.TargetResult, img builder.Image, b *builder.Builder,
	o BuildOptions, epoch time.Time, previous map[string]manifest.Layer, hint *planner.Plan, out *BuildResult) (*manifest.Target, error) {
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
			u := planner.Unit{Target: pt, Name: p.Name, Version: p.Version, Source: string(p.Source)}
			if seen[u] {
				continue
			}
			seen[u] = true
			specs = append(specs, builder.UnitSpec{Package: p, Target: tr.Target, Image: img, Index: c.Index})
		}
	}
	if len(specs) > 0 {
		o.rep.start(StageUnits, tr.Target, len(specs))
	}
	units, err := b.Units(ctx, specs)
	if err != nil {
		return nil, err
	}
	o.rep.finish(StageUnits, tr.Target)
	byUnit := map[planner.Unit]builder.Unit{}
	in := plannerInput(cfg, tr, hint)
	for _, u := range units {
		pu := planner.Unit{Target: pt, Name: u.Spec.Package.Name, Version: u.Spec.Package.Version, Source: string(u.Spec.Package.Source)}
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
		o.rep.start(StageLayers, tr.Target, nlayers)
	}
	for _, p := range plan.Targets {
		for _, l := range p.Layers {
			reused := out.LayersReused
			lm, err := writeLayer(cfg, l, pt, byUnit, epoch, previous, out)
			if err != nil {
				return nil, err
			}
			state := "written"
			if out.LayersReused > reused {
				state = "unchanged"
			}
			o.rep.step(StageLayers, tr.Target, fmt.Sprintf("layer %s: %s, %d packages, %s zipped, %s unzipped", lm.Name, state, len(lm.Packages),
				humanBytes(lm.ZippedBytes), humanBytes(lm.UnzippedBytes)))
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
				mf.Packages = append(mf.Packages, planner.PackageRef{Name: p.Name, Version: p.Version, Source: string(p.Source), Local: p.Source == resolver.SourceLocal})
			}
		}
		tm.Functions = append(tm.Functions, mf)
		if f.PackageType == planner.PackageImage {
			tm.Images = append(tm.Images, manifest.Image{Function: c.Name, Reason: f.Reason, Packages: f.Packages})
		}
	}
	if err := buildImages(ctx, cfg, tr, tm, byUnit, img, b, o, out); err != nil {
		return nil, err
	}
	return tm, nil
}

// writeLayer writes one layer's zip, or keeps the one an earlier build
// wrote when its content key and bytes still match.
func writeLayer(cfg *config.Config, l planner.Layer, pt planner.Target, byUnit map[planner.Unit]builder.Unit,
	epoch time.Time, previous map[string]manifest.Layer, out *BuildResult) (manifest.Layer, error) {
	var units []builder.Unit
	h := sha256.New()
	fmt.Fprintf(h, "layer %d %d\n", manifest.Format, epoch.Unix())
	for _, p := range l.Packages {
		u, ok := byUnit[planner.Unit{Target: pt, Name: p.Name, Version: p.Version, Source: p.Source}]
		if !ok {
			return manifest.Layer{}, fmt.Errorf("layer %s: no unit for %s==%s", l.Name, p.Name, p.Version)
		}
		units = append(units, u)
		fmt.Fprintf(h, "%s\n", u.Key.Digest())
	}
	key := hex.EncodeToString(h.Sum(nil))
	rel := manifest.DistDir + "/" + l.Name + ".zip"
	path := filepath.Join(cfg.Root, filepath.FromSlash(rel))
	lm := manifest.Layer{Name: l.Name, File: rel, Packages: l.Packages, Functions: l.Functions, ContentKey: key}
	if prev, ok := previous[l.Name]; ok && prev.ContentKey == key {
		if sum, b64, size, err := builder.FileDigest(path); err == nil && sum == prev.SHA256 {
			lm.SHA256, lm.CodeSha256, lm.ZippedBytes, lm.UnzippedBytes = sum, b64, size, prev.UnzippedBytes
			for _, u := range units {
				lm.ByteCodeBytes += u.ByteCode
			}
			out.LayersReused++
			return lm, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return manifest.Layer{}, err
	}
	lf, err := builder.WriteLayer(path, units, epoch)
	if err != nil {
		return manifest.Layer{}, err
	}
	for _, u := range units {
		lm.ByteCodeBytes += u.ByteCode
	}
	lm.SHA256, lm.CodeSha256, lm.ZippedBytes, lm.UnzippedBytes = lf.SHA256, lf.CodeSHA256, lf.ZippedBytes, lf.UnzippedBytes
	out.LayersWritten++
	return lm, nil
}

// fillClosures resolves the closures whose inputs are neither pinned nor
// locked with pip in their target's build image (images), at most jobs at
// once. For a build every closure must resolve, and the first failing
// function's error is returned. For a plan, targets without an image ID
// are served from earlier resolutions only, and a closure that does not
// resolve stays unresolved, with a progress line saying why.
func fillClosures(ctx context.Context, cfg *config.Config, res *resolver.Result, images map[config.Target]builder.Image,
	rs *builder.Resolver, forBuild bool, jobs int, rep *reporter) error {
	excluded := map[string]bool{}
	for _, x := range cfg.Exclude {
		excluded[x] = true
	}
	type work struct {
		c   *resolver.Closure
		t   config.Target
		err error
	}
	var todo []*work
	for ti := range res.Targets {
		tr := &res.Targets[ti]
		n := 0
		for ci := range tr.Functions {
			if len(tr.Functions[ci].Unresolved) > 0 {
				todo = append(todo, &work{c: &tr.Functions[ci], t: tr.Target})
				n++
			}
		}
		if n > 0 {
			rep.start(StageResolve, tr.Target, n)
		}
	}
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	// A build stops the other resolutions at the first failure.
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex // serialises progress
		sem = make(chan struct{}, jobs)
	)
	for _, w := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			pkgs, cached, err := resolveClosure(ctx, cfg, *w.c, w.t, images[w.t], rs)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && (forBuild || ctx.Err() != nil):
				w.err = err
				cancel()
			case err != nil:
				rep.step(StageResolve, w.t, fmt.Sprintf("resolve %s (%s): %v", w.c.Name, w.t, err))
			case pkgs != nil: // nil: a plan without an engine, and nothing cached
				w.c.Packages = w.c.Packages[:0]
				for _, p := range pkgs {
					if !excluded[p.Name] {
						w.c.Packages = append(w.c.Packages, p)
					}
				}
				w.c.Unresolved = nil
				how := "resolved with pip in the build image"
				if cached {
					how = "cached resolution"
				}
				rep.step(StageResolve, w.t, fmt.Sprintf("resolve %s (%s): %d packages, %s (%s)", w.c.Name, w.t, len(w.c.Packages), how,
					time.Since(start).Round(100*time.Millisecond)))
			}
		}()
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return err
	}
	for _, w := range todo {
		if w.err != nil && !errors.Is(w.err, context.Canceled) {
			return w.err
		}
	}
	return nil
}

// resolveClosure resolves one closure: with pip when img has an ID, else
// from the cache only (nil packages when it has none). A failed pip is an
// input error at the closure's first unresolved requirement: most often
// no version satisfies what the file asks.
func resolveClosure(ctx context.Context, cfg *config.Config, c resolver.Closure, t config.Target, img builder.Image,
	rs *builder.Resolver) ([]resolver.Package, bool, error) {
	req, err := builder.RequestFor(cfg, c, t, img)
	if err != nil {
		return nil, false, err
	}
	if img.ID == "" {
		return rs.Cached(req)
	}
	pkgs, cached, err := rs.Resolve(ctx, req)
	var re *builder.ResolveError
	if errors.As(err, &re) {
		u := culprit(c.Unresolved, re.Tail)
		msg := fmt.Sprintf("function %s: %s is %s, and pip could not resolve the inputs in the build image: %v", c.Name, u.Requirement, u.Reason, re.Err)
		if re.Tail != "" {
			msg += "\npip's last lines:\n    " + strings.ReplaceAll(re.Tail, "\n", "\n    ")
		}
		return nil, false, &diag.Error{Path: u.Path, Line: u.Line, Msg: msg, Err: err}
	}
	return pkgs, cached, err
}

// noMatch is pip's message for a requirement no release satisfies.
var noMatch = regexp.MustCompile(`No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)`)

// culprit returns the unresolved requirement pip's output names as the
// one it could not satisfy, else the first.
func culprit(un []resolver.Unresolved, pipOutput string) resolver.Unresolved {
	if m := noMatch.FindStringSubmatch(pipOutput); m != nil {
		name := pep508.NormalizeName(m[1])
		for _, u := range un {
			if r, err := pep508.ParseRequirement(u.Requirement); err == nil && r.Name == name {
				return u
			}
		}
	}
	return un[0]
}

// checkResolved rejects functions whose inputs are still neither pinned
// nor locked.
func checkResolved(res *resolver.Result) error {
	for _, tr := range res.Targets {
		for _, c := range tr.Functions {
			if len(c.Unresolved) > 0 {
				u := c.Unresolved[0]
				return diag.Errorf(u.Path, u.Line, "function %s: %s is %s; `layers build` needs pinned or locked inputs",
					c.Name, u.Requirement, u.Reason)
			}
		}
	}
	return nil
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

// caBundle reads the CA bundle LAYERS_CA_BUNDLE or [build] ca_bundle names.
func caBundle(cfg *config.Config, getenv func(string) string) ([]byte, error) {
	p := getenv("LAYERS_CA_BUNDLE")
	if p == "" && cfg.Build.CABundle != "" {
		p = cfg.Build.CABundle
		if !filepath.IsAbs(p) {
			p = filepath.Join(cfg.Root, filepath.FromSlash(p))
		}
	}
	if p == "" {
		return nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	if !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", p)
	}
	return data, nil
}

func pruneOptions(cfg *config.Config) prune.Options {
	return prune.Options{Tests: cfg.Prune.Tests, Patterns: cfg.Prune.Patterns, Keep: cfg.Prune.Keep, Strip: cfg.Prune.Strip, Bytecode: cfg.Prune.Bytecode}
}

// InputsDigest returns the digest of everything a build's output depends
// on that publish can see without an engine: the tool version, the zip
// time, layers.toml, every function's input files and its local packages'
// sources. Publish compares it with the manifest's to refuse stale output.
func InputsDigest(ctx context.Context, cfg *config.Config, tool string, getenv func(string) string) (string, error) {
	epoch, err := archive.SourceDateEpoch(getenv)
	if err != nil {
		return "", err
	}
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		return "", err
	}
	return inputsDigest(cfg, res, tool, epoch)
}

func inputsDigest(cfg *config.Config, res *resolver.Result, tool string, epoch time.Time) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "tool %s\nepoch %d\n", tool, epoch.Unix())
	files := map[string]bool{}
	if cfg.Path != "" {
		files[cfg.Path] = true
	}
	locals := map[string]bool{}
	for _, tr := range res.Targets {
		fmt.Fprintf(h, "target %s\n", tr.Target)
		for _, c := range tr.Functions {
			fmt.Fprintf(h, "function %s %s\n", c.Name, c.Path)
			for _, in := range c.Inputs {
				files[filepath.Join(cfg.Root, filepath.FromSlash(in))] = true
			}
			for _, p := range c.Packages {
				if p.Source == resolver.SourceLocal && p.Path != "" {
					locals[p.Path] = true
				}
			}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("inputs digest: %w", err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "file %s %x\n", filepath.ToSlash(f), sum)
	}
	for _, p := range slices.Sorted(maps.Keys(locals)) {
		sum, err := builder.SourceDigest(cfg.Root, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "local %s %s\n", p, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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

// humanBytes formats n for progress lines: 1.2 MB, 340 kB, 12 B.
func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// WriteSummary writes the table `layers build` ends with: every layer with
// its sizes, then unit cache hits and the time taken.
func (r *BuildResult) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tLAYER\tPACKAGES\tZIPPED\tUNZIPPED\tFUNCTIONS")
	for _, t := range r.Manifest.Targets {
		for _, l := range t.Layers {
			fmt.Fprintf(tw, "%s/%s\t%s\t%d\t%s\t%s\t%d\n", t.Runtime, t.Architecture, l.Name, len(l.Packages),
				humanBytes(l.ZippedBytes), humanBytes(l.UnzippedBytes), len(l.Functions))
		}
		for _, img := range t.Images {
			fmt.Fprintf(tw, "%s/%s\t(image) %s\t%d\t-\t%s\t1\n", t.Runtime, t.Architecture, img.Function, len(img.Packages),
				humanBytes(img.UnzippedBytes))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range r.Manifest.Targets {
		for _, img := range t.Images {
			fmt.Fprintf(w, "container image %s (%s/%s): %s, %s with its base; why: %s\n", img.Function, t.Runtime, t.Architecture,
				img.Tag, humanBytes(img.ImageBytes), img.Reason)
		}
	}
	if err := r.writeByteCode(w); err != nil {
		return err
	}
	images := ""
	if r.ImagesBuilt+r.ImagesReused > 0 {
		images = fmt.Sprintf("; images: %d built, %d unchanged", r.ImagesBuilt, r.ImagesReused)
	}
	_, err := fmt.Fprintf(w, "units: %d built, %d from cache (%.0f%% hits), %s pruned; layers: %d written, %d unchanged%s; %s in %s\n",
		r.UnitsBuilt, r.UnitsCached, hitRate(r.UnitsCached, r.UnitsBuilt), humanBytes(r.SavedBytes),
		r.LayersWritten, r.LayersReused, images, r.ManifestPath, r.Took.Round(time.Millisecond))
	return err
}

func hitRate(hits, misses int) float64 {
	if hits+misses == 0 {
		return 100
	}
	return 100 * float64(hits) / float64(hits+misses)
}
