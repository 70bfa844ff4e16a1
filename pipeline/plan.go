package pipeline

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/redact"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
)

// wheelExpansion turns a wheel's zipped size into an estimate of its
// installed size: Python wheels typically unpack to 2-5 times their size
// (botocore's JSON models far more). The builder replaces estimates with
// measured sizes.
const wheelExpansion = 3

// PlanDocument is what `layers plan --json` prints: per target, each
// function's closure and layers, and the layers themselves.
type PlanDocument struct {
	Targets []TargetDocument `json:"targets"`
	// LeftOut are folders that look like functions but that discovery
	// (the functions globs, or the defaults) does not find: not planned.
	LeftOut []resolver.Candidate `json:"left_out,omitempty"`
	// EstimatedUnits counts the packages (of all targets) whose sizes are
	// estimates or unknown, not measured by a build; Units counts them all.
	EstimatedUnits int `json:"estimated_units"`
	Units          int `json:"units"`

	plans []*planner.Plan // one per target, for Explain
	limit int64           // bytes a function may have unzipped
	// repository and handlers are the [image] repository and the image
	// functions' handlers, for the text's container image section.
	repository string
	handlers   map[string]string
	// globs are the functions globs of layers.toml; nil for discovery.
	globs []string
	// configured is set when a layers.toml exists.
	configured bool
}

// TargetDocument is one target's part of a PlanDocument.
type TargetDocument struct {
	Runtime      string             `json:"runtime"`
	Architecture string             `json:"architecture"`
	Functions    []FunctionDocument `json:"functions"`
	Layers       []planner.Layer    `json:"layers"`
	// Wheels are the packages no wheel of which the runtime loads: refused
	// by `layers build`, or built from source.
	Wheels []WheelProblem `json:"wheels,omitempty"`
	// Units are the target's units, each with its size and whether that
	// size was measured by an earlier build or is an estimate.
	Units []UnitDocument `json:"units"`

	target config.Target
}

// FunctionDocument is one function of a target: its closure and its plan.
type FunctionDocument struct {
	Name       string                `json:"name"`
	Path       string                `json:"path"`
	Packages   []PackageDocument     `json:"packages"`
	Unresolved []resolver.Unresolved `json:"unresolved,omitempty"`
	Layers     []string              `json:"layers"`
	// FreeLayerSlots is how many more layers the function can attach
	// (extensions, say) within Lambda's limit; nil for an image.
	FreeLayerSlots *int                `json:"free_layer_slots,omitempty"`
	PackageType    planner.PackageType `json:"package_type,omitempty"`
	Reason         string              `json:"reason,omitempty"`
	// UnzippedBytes is code plus layers (or image content); nil when a
	// size is unknown.
	UnzippedBytes *int64 `json:"unzipped_bytes"`
	Estimated     bool   `json:"estimated,omitempty"`
	CodeBytes     int64  `json:"code_bytes"`
	// ClosureBytes is the size of the packages the function needs; nil
	// when a size is unknown.
	ClosureBytes *int64 `json:"closure_bytes"`
	// ByteCodeBytes is the byte code in ClosureBytes, estimated; nil when
	// a size is unknown or byte code is stripped.
	ByteCodeBytes *int64 `json:"bytecode_bytes,omitempty"`
}

// PackageDocument is one package of a function's closure.
type PackageDocument struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Source  resolver.Source `json:"source"`
	// URL is the direct reference of a url package, without credentials.
	URL string `json:"url,omitempty"`
	// Path locates a local package, relative to the repository root.
	Path string `json:"path,omitempty"`
}

func packageDocuments(pkgs []resolver.Package) []PackageDocument {
	out := make([]PackageDocument, 0, len(pkgs))
	for _, p := range pkgs {
		d := PackageDocument{Name: p.Name, Version: p.Version, Source: p.Source, Path: p.Path}
		if p.Source == resolver.SourceURL {
			d.URL = redact.Text(p.URL)
		}
		out = append(out, d)
	}
	return out
}

// PlanOptions configure PlanWith.
type PlanOptions struct {
	// Fresh plans from scratch, ignoring the last build's plan (see
	// BuildOptions.Fresh).
	Fresh bool
	// Resolve fills the closures of functions whose inputs are not pinned
	// or locked: from earlier resolutions in the cache and, when an engine
	// answers, with pip in the build image. Without it such functions are
	// reported with their unresolved requirements.
	Resolve bool
	// Engine runs pip; nil dials the engine the environment names, giving
	// up quickly: plan never needs one.
	Engine engine.Engine
	// Offline serves unresolved closures from the cache only.
	Offline bool
	// CacheDir holds the resolution cache; "" means cache.DefaultDir.
	CacheDir string
	// Tool is the layers version, part of every resolution's cache key.
	Tool string
	// Getenv reads the environment (LAYERS_CACHE, LAYERS_CA_BUNDLE,
	// PIP_INDEX_URL...); nil means os.Getenv.
	Getenv func(string) string
	// CacheURL and CacheReadOnly select the remote tier, as in
	// BuildOptions: its resolutions and its published plan.
	CacheURL      string
	CacheReadOnly bool
	// Write writes the plan to [layers] plan_file, for teams that commit
	// it like a lock file.
	Write bool
	// Progress receives one line per resolution, and warnings; nil
	// discards them.
	Progress func(string)
}

// dialTimeout bounds how long plan waits for an engine it can do without.
const dialTimeout = 2 * time.Second

// Plan resolves every function of cfg from its input files alone and
// splits their packages into layers. It changes nothing on disk.
func Plan(ctx context.Context, cfg *config.Config) (*PlanDocument, error) {
	return PlanWith(ctx, cfg, PlanOptions{})
}

// PlanWith is Plan with options. It changes nothing in the repository
// but the plan file with Write; with Resolve set, resolutions made with
// the engine are cached.
func PlanWith(ctx context.Context, cfg *config.Config, o PlanOptions) (*PlanDocument, error) {
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{Getenv: resolver.Lookup(o.Getenv)})
	if err != nil {
		return nil, err
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	warn := func(s string) { o.Progress("warning: " + s) }
	tier, err := remote.Open(ctx, remote.SettingsFor(cfg, o.CacheURL, o.CacheReadOnly, o.Getenv), warn)
	if err != nil {
		return nil, err
	}
	d := runDefaults{Getenv: o.Getenv, Tool: o.Tool, CacheDir: o.CacheDir}
	if err := d.fill(); err != nil {
		return nil, err
	}
	o.Tool, o.CacheDir = d.Tool, d.CacheDir
	if o.Engine == nil && !o.Offline {
		// For the build images' IDs, which measured sizes are keyed on,
		// and for resolving; plan can do without one.
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		e, err := engine.Dial(dctx)
		cancel()
		if err == nil {
			defer e.Close()
			o.Engine = e
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if o.Resolve && unresolved(res) {
		if err := planResolve(ctx, cfg, res, tier, o); err != nil {
			return nil, err
		}
	}
	doc := &PlanDocument{Targets: []TargetDocument{}, limit: cfg.Limits.FunctionUnzippedBytes,
		repository: cfg.Image.Repository, handlers: map[string]string{},
		LeftOut: res.LeftOut, globs: cfg.Functions, configured: cfg.Path != ""}
	var hint *planner.Plan
	if !o.Fresh {
		var from string
		if hint, from = previousPlan(ctx, cfg, tier, o.Getenv, warn); hint != nil {
			o.Progress("plan: starting from the plan in " + from)
		}
	}
	ca, err := caBundle(cfg, o.Getenv)
	if err != nil {
		warn(err.Error())
	}
	var images map[config.Target][]string
	if o.Offline {
		images = buildImageIDs(ctx, cfg, res, nil)
	} else {
		images = buildImageIDs(ctx, cfg, res, o.Engine)
	}
	units := cache.OpenExisting(o.CacheDir)
	wheels := newWheelCheck(cfg, o.Getenv, !o.Offline, !o.Offline, false, ca, warn)
	for ti, tr := range res.Targets {
		in := plannerInput(cfg, tr, hint)
		// Measured sizes first: the first plan after a build plans the
		// layers that build made.
		for u, s := range measuredSizes(ctx, cfg, tr, images[tr.Target], units, tier, o.Tool) {
			in.Sizes[u] = s
		}
		doc.countEstimated(in)
		plan, err := planner.Split(in)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", tr.Target, err)
		}
		if err := checkImages(cfg, plan); err != nil {
			return nil, err
		}
		doc.plans = append(doc.plans, plan)
		td := TargetDocument{Runtime: tr.Runtime, Architecture: tr.Arch, Layers: []planner.Layer{}, target: tr.Target,
			Wheels: wheels.problems(ctx, &res.Targets[ti]), Units: unitDocuments(cfg, tr, in.Sizes)}
		fp := map[string]planner.FunctionPlan{}
		for _, p := range plan.Targets {
			td.Layers = append(td.Layers, p.Layers...)
			for _, f := range p.Functions {
				fp[f.Name] = f
			}
		}
		for _, c := range tr.Functions {
			fd := FunctionDocument{Name: c.Name, Path: c.Path, Packages: packageDocuments(c.Packages),
				Unresolved: c.Unresolved, Layers: []string{}, CodeBytes: c.CodeBytes}
			if f, ok := fp[c.Name]; ok {
				fd.Layers = append(fd.Layers, f.Layers...)
				fd.PackageType, fd.Reason = f.PackageType, f.Reason
				if f.PackageType == planner.PackageLayers {
					free := in.Limits.LayersPerFunction - len(f.Layers)
					fd.FreeLayerSlots = &free
				}
				fd.UnzippedBytes, fd.Estimated = f.UnzippedBytes, f.Estimated
				fd.ClosureBytes = f.ClosureBytes
				fd.ByteCodeBytes = planByteCode(cfg, c, planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}, in.Sizes)
				if f.PackageType == planner.PackageImage {
					doc.handlers[c.Name] = cfg.For(c.Name).Handler
				}
			}
			td.Functions = append(td.Functions, fd)
		}
		doc.Targets = append(doc.Targets, td)
	}
	if o.Write {
		if err := manifest.WritePlan(cfg.PlanPath(), doc.plan()); err != nil {
			return nil, err
		}
		o.Progress("plan: written to " + cfg.Layers.PlanFile)
	}
	return doc, nil
}

// countEstimated adds the units of one target's input, and those whose
// size no build has measured, to the document's counts.
func (d *PlanDocument) countEstimated(in planner.Input) {
	seen := map[planner.Unit]bool{}
	for _, f := range in.Functions {
		for _, p := range f.Closure {
			u := planner.Unit{Target: f.Target, Name: p.Name, Version: p.Version, Source: p.Source}
			if seen[u] {
				continue
			}
			seen[u] = true
			d.Units++
			if in.Sizes[u].Kind != planner.SizeMeasured {
				d.EstimatedUnits++
			}
		}
	}
}

// Refused is the error `layers build` would stop with: some package of
// some target has no wheel its runtime loads. nil when there is none.
func (d *PlanDocument) Refused() error {
	for _, t := range d.Targets {
		if err := refusal(t.target, t.Wheels); err != nil {
			return err
		}
	}
	return nil
}

// plan is every target's plan in one, as a build writes it.
func (d *PlanDocument) plan() *planner.Plan {
	out := &planner.Plan{Targets: []planner.TargetPlan{}}
	for _, p := range d.plans {
		out.Limits, out.MaxExtra = p.Limits, p.MaxExtra
		out.Targets = append(out.Targets, p.Targets...)
	}
	return out
}

// plannerInput turns one target's closures into the planner's input, with
// sizes estimated from the lock files' wheels and the last build's plan as
// the previous plan (nil for none). Functions whose closure is not resolved
// yet are left out: there is nothing to plan for them.
func plannerInput(cfg *config.Config, tr resolver.TargetResult, previous *planner.Plan) planner.Input {
	t := planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}
	in := planner.Input{
		Sizes: map[planner.Unit]planner.Size{},
		Limits: planner.Limits{
			LayersPerFunction:     cfg.Limits.LayersPerFunction,
			ReservedLayers:        cfg.Limits.ReservedLayers,
			FunctionUnzippedBytes: cfg.Limits.FunctionUnzippedBytes,
		},
		Rules: planner.Rules{
			Prefix:   cfg.Layers.Prefix,
			MaxExtra: cfg.Layers.MaxExtra,
		},
		LocalWithCode: cfg.Layers.LocalInCode,
		Previous:      previous,
	}
	for name, pkgs := range cfg.Layers.Groups {
		in.Rules.Groups = append(in.Rules.Groups, planner.Group{Name: name, Packages: pkgs})
	}
	for _, c := range tr.Functions {
		if len(c.Unresolved) > 0 {
			continue
		}
		if cfg.For(c.Name).Package == config.PackageImage {
			in.Rules.Images = append(in.Rules.Images, c.Name)
		}
		f := planner.Function{Name: c.Name, Target: t, CodeBytes: c.CodeBytes, Direct: c.Direct}
		for _, p := range c.Packages {
			f.Closure = append(f.Closure, distOf(p))
			u := unitOf(t, p)
			if _, done := in.Sizes[u]; done {
				continue
			}
			if w, ok := resolver.BestWheel(p.Wheels, tr.Runtime, tr.Arch); ok && w.Size > 0 {
				in.Sizes[u] = planner.Size{Bytes: withByteCode(w.Size*wheelExpansion, compiles(cfg)), Kind: planner.SizeEstimated}
			} else if p.SourceBytes > 0 {
				in.Sizes[u] = planner.Size{Bytes: withByteCode(p.SourceBytes, compiles(cfg)), Kind: planner.SizeEstimated}
			}
		}
		in.Functions = append(in.Functions, f)
	}
	return in
}

// Explain says where a package or a function's packages went and why, in
// every target.
func (d *PlanDocument) Explain(name string) (string, bool) {
	var parts []string
	for _, p := range d.plans {
		if s, ok := p.Explain(name); ok {
			parts = append(parts, strings.TrimRight(s, "\n")+"\n")
		}
	}
	return strings.Join(parts, "\n"), len(parts) > 0
}

func unresolved(res *resolver.Result) bool {
	for _, tr := range res.Targets {
		for _, c := range tr.Functions {
			if len(c.Unresolved) > 0 {
				return true
			}
		}
	}
	return false
}

// planResolve fills what it can of res's unresolved closures: with pip in
// the build image when an engine answers and has the image, else from the
// cache. o.Engine is the engine PlanWith dialled, nil when none answered.
// Only a cancelled context or an unknown cache folder fail it.
func planResolve(ctx context.Context, cfg *config.Config, res *resolver.Result, tier *remote.Tier, o PlanOptions) error {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	d := runDefaults{Getenv: o.Getenv, Tool: o.Tool, CacheDir: o.CacheDir}
	if err := d.fill(); err != nil {
		return err
	}
	o.Getenv, o.Tool, o.CacheDir = d.Getenv, d.Tool, d.CacheDir
	if o.Offline {
		o.Engine = nil // else PlanWith dialled it, if one answers
	}
	ro := builder.PipResolverOptions{CacheDir: o.CacheDir, Tool: o.Tool, Root: cfg.Root, Remote: tier}
	images := map[config.Target]builder.Image{}
	if o.Engine != nil {
		ca, err := caBundle(cfg, o.Getenv)
		if err != nil {
			o.Progress(fmt.Sprintf("resolve: %v; using cached resolutions only", err))
		} else {
			ro.Engine, ro.CABundle = o.Engine, ca
			ro.Env = containerEnv(o.Getenv)
			for _, tr := range res.Targets {
				ref, err := imageFor(cfg, tr)
				if err != nil {
					continue
				}
				// Plan never pulls: a missing image leaves the cache.
				if id, err := o.Engine.ImageID(ctx, ref, tr.Target.Platform()); err == nil {
					images[tr.Target] = builder.Image{Ref: ref, ID: id, Platform: tr.Target.Platform()}
				}
			}
		}
	}
	rs, err := builder.NewPipResolver(ro)
	if err != nil {
		return err
	}
	return fillClosures(ctx, cfg, res, images, rs, false, 0, &reporter{progress: o.Progress})
}
