package pipeline

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/planner"
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

	plans []*planner.Plan // one per target, for Explain
	limit int64           // bytes a function may have unzipped
}

// TargetDocument is one target's part of a PlanDocument.
type TargetDocument struct {
	Runtime      string             `json:"runtime"`
	Architecture string             `json:"architecture"`
	Functions    []FunctionDocument `json:"functions"`
	Layers       []planner.Layer    `json:"layers"`
}

// FunctionDocument is one function of a target: its closure and its plan.
type FunctionDocument struct {
	Name        string                `json:"name"`
	Path        string                `json:"path"`
	Packages    []PackageDocument     `json:"packages"`
	Unresolved  []resolver.Unresolved `json:"unresolved,omitempty"`
	Layers      []string              `json:"layers"`
	PackageType planner.PackageType   `json:"package_type,omitempty"`
	Reason      string                `json:"reason,omitempty"`
	// UnzippedBytes is code plus layers (or image content); nil when a
	// size is unknown.
	UnzippedBytes *int64 `json:"unzipped_bytes"`
	Estimated     bool   `json:"estimated,omitempty"`
	CodeBytes     int64  `json:"code_bytes"`
	// ClosureBytes is the size of the packages the function needs; nil
	// when a size is unknown.
	ClosureBytes *int64 `json:"closure_bytes"`
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
			d.URL = redact(p.URL)
		}
		out = append(out, d)
	}
	return out
}

// redact drops the user information of a URL: requirement files may
// expand credentials into it from the environment.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User("***")
	return u.String()
}

// Plan resolves every function of cfg and splits their packages into
// layers. It changes nothing on disk.
func Plan(ctx context.Context, cfg *config.Config) (*PlanDocument, error) {
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		return nil, err
	}
	doc := &PlanDocument{Targets: []TargetDocument{}, limit: cfg.Limits.FunctionUnzippedBytes}
	for _, tr := range res.Targets {
		in := plannerInput(cfg, tr)
		plan, err := planner.Split(in)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", tr.Target, err)
		}
		doc.plans = append(doc.plans, plan)
		td := TargetDocument{Runtime: tr.Runtime, Architecture: tr.Arch, Layers: []planner.Layer{}}
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
				fd.UnzippedBytes, fd.Estimated = f.UnzippedBytes, f.Estimated
				fd.ClosureBytes = f.ClosureBytes
			}
			td.Functions = append(td.Functions, fd)
		}
		doc.Targets = append(doc.Targets, td)
	}
	return doc, nil
}

// plannerInput turns one target's closures into the planner's input, with
// sizes estimated from the lock files' wheels. Functions whose closure is
// not resolved yet are left out: there is nothing to plan for them.
func plannerInput(cfg *config.Config, tr resolver.TargetResult) planner.Input {
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
		f := planner.Function{Name: c.Name, Target: t, CodeBytes: c.CodeBytes}
		for _, p := range c.Packages {
			f.Closure = append(f.Closure, planner.Dist{Name: p.Name, Version: p.Version, Source: string(p.Source), Local: p.Source == resolver.SourceLocal})
			u := planner.Unit{Target: t, Name: p.Name, Version: p.Version, Source: string(p.Source)}
			if _, done := in.Sizes[u]; done {
				continue
			}
			if w, ok := resolver.BestWheel(p.Wheels, tr.Runtime, tr.Arch); ok && w.Size > 0 {
				in.Sizes[u] = planner.Size{Bytes: w.Size * wheelExpansion, Kind: planner.SizeEstimated}
			} else if p.SourceBytes > 0 {
				in.Sizes[u] = planner.Size{Bytes: p.SourceBytes, Kind: planner.SizeEstimated}
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
