package pipeline

import (
	"context"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/cache"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/remote"
	"github.com/layers-dev/layers/resolver"
)

// UnitDocument is one unit of a target in a plan: a package at its
// version, and its size and where that size comes from.
type UnitDocument struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Source  resolver.Source `json:"source"`
	// Bytes is the unzipped size; nil when unknown.
	Bytes *int64 `json:"bytes"`
	// Size says where Bytes comes from: "measured" (an earlier build of
	// the same unit, from the local or the remote cache), "estimated"
	// (the lock's wheel, or a local package's folder) or "unknown".
	Size string `json:"size"`
}

// Size kinds of a UnitDocument.
const (
	SizeMeasured  = "measured"
	SizeEstimated = "estimated"
	SizeUnknown   = "unknown"
)

// Estimated reports whether some unit size of the plan is not measured:
// until every unit was built once, layer names and counts may change at
// the first build.
func (d *PlanDocument) Estimated() bool {
	for _, t := range d.Targets {
		for _, u := range t.Units {
			if u.Size != SizeMeasured {
				return true
			}
		}
	}
	return false
}

// unitDocuments lists the units of tr's resolved closures with their
// sizes; local packages shipped with the function code are no units.
func unitDocuments(cfg *config.Config, tr resolver.TargetResult, sizes map[planner.Unit]planner.Size) []UnitDocument {
	t := planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}
	seen := map[planner.Unit]bool{}
	out := []UnitDocument{}
	for _, c := range tr.Functions {
		if len(c.Unresolved) > 0 {
			continue
		}
		for _, p := range c.Packages {
			u := unitOf(t, p)
			if seen[u] || p.Source == resolver.SourceLocal && cfg.Layers.LocalInCode {
				continue
			}
			seen[u] = true
			d := UnitDocument{Name: p.Name, Version: p.Version, Source: p.Source, Size: SizeUnknown}
			if s, ok := sizes[u]; ok && s.Kind != planner.SizeUnknown {
				n := s.Bytes
				d.Bytes = &n
				d.Size = SizeEstimated
				if s.Kind == planner.SizeMeasured {
					d.Size = SizeMeasured
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// measuredSizes looks up the size of every unit of tr that an earlier
// build measured: in the local unit cache, else in the remote tier, under
// the cache key a build would use now with each of the build images in
// imageIDs (tried in order).
func measuredSizes(ctx context.Context, cfg *config.Config, tr resolver.TargetResult, imageIDs []string,
	units *cache.Cache, tier *remote.Tier, tool string) map[planner.Unit]planner.Size {
	out := map[planner.Unit]planner.Size{}
	if len(imageIDs) == 0 {
		return out
	}
	t := planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}
	type todo struct {
		u       planner.Unit
		digests []string
	}
	var remoteTodo []todo
	seen := map[planner.Unit]bool{}
	pruning := pruneOptions(cfg)
	for _, c := range tr.Functions {
		for _, p := range c.Packages {
			u := unitOf(t, p)
			if seen[u] {
				continue
			}
			seen[u] = true
			var digests []string
			found := false
			for _, id := range imageIDs {
				k, err := builder.UnitKey(builder.UnitSpec{Package: p, Target: tr.Target, Image: builder.Image{ID: id}}, cfg.Root, pruning, tool, cfg.Build.Installer)
				if err != nil {
					break // a local package that cannot be read: the build will say why
				}
				if e, ok := units.Peek(k); ok {
					out[u] = planner.Size{Bytes: e.Bytes, Kind: planner.SizeMeasured}
					found = true
					break
				}
				digests = append(digests, k.Digest())
			}
			if !found && len(digests) > 0 && tier != nil {
				remoteTodo = append(remoteTodo, todo{u, digests})
			}
		}
	}
	found := make([]planner.Size, len(remoteTodo))
	_ = parallel.ForEach(ctx, 8, len(remoteTodo), func(ctx context.Context, i int) error {
		for _, d := range remoteTodo[i].digests {
			if s, ok := builder.RemoteUnitSize(ctx, tier, d); ok {
				found[i] = planner.Size{Bytes: s.Bytes, Kind: planner.SizeMeasured}
				return nil
			}
		}
		return nil
	})
	for i, s := range found {
		if s.Kind == planner.SizeMeasured {
			out[remoteTodo[i].u] = s
		}
	}
	return out
}

// buildImageIDs returns, per target, the IDs of the build images a build
// would use: the engine's, when one answers and has the image (plan never
// pulls), then the last build's, from its manifest.
func buildImageIDs(ctx context.Context, cfg *config.Config, res *resolver.Result, e engine.Engine) map[config.Target][]string {
	out := map[config.Target][]string{}
	last := map[config.Target]manifest.BuildImage{}
	if m, err := manifest.Read(cfg.Root); err == nil {
		for _, t := range m.Targets {
			last[config.Target{Runtime: t.Runtime, Architecture: t.Architecture}] = t.Image
		}
	}
	for _, tr := range res.Targets {
		ref, err := imageFor(cfg, tr)
		if err != nil {
			continue
		}
		if e != nil {
			if id, err := e.ImageID(ctx, ref, tr.Target.Platform()); err == nil {
				out[tr.Target] = append(out[tr.Target], id)
			}
		}
		if img, ok := last[tr.Target]; ok && img.Ref == ref && img.ID != "" && (len(out[tr.Target]) == 0 || out[tr.Target][0] != img.ID) {
			out[tr.Target] = append(out[tr.Target], img.ID)
		}
	}
	return out
}
