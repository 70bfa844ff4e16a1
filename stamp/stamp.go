// Package stamp owns the build stamp: the digest of everything a build's
// output depends on that can be seen without an engine, which `layers
// build` records in the manifest, and the check that a manifest is still
// fresh for the repository as it is now, which publish makes before it
// uploads anything.
package stamp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/resolver"
)

// ErrStaleManifest is returned when the inputs changed since the build.
var ErrStaleManifest = errors.New("the build manifest is stale (layers.toml or a function's inputs changed since it was built): run `layers build`")

// ReadFresh reads the manifest of cfg's repository and refuses it, with
// ErrStaleManifest, when the inputs changed since it was written: the
// stamp, or the own code of a function shipped as an image.
func ReadFresh(ctx context.Context, cfg *config.Config, tool string, getenv func(string) string) (*manifest.Manifest, error) {
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		return nil, err
	}
	tool = buildinfo.Tool(tool) // as pipeline.Build defaults it
	sum, err := Current(ctx, cfg, tool, getenv)
	if err != nil {
		return nil, fmt.Errorf("check the build manifest: %w", err)
	}
	if sum != m.InputsSHA256 {
		return nil, ErrStaleManifest
	}
	// Inputs do not cover an image function's own code, which its image
	// holds: an image built from older code is stale too.
	for _, t := range m.Targets {
		for _, im := range t.Images {
			if im.SourceSHA256 == "" {
				continue
			}
			i := slices.IndexFunc(t.Functions, func(f manifest.Function) bool { return f.Name == im.Function })
			if i < 0 {
				return nil, fmt.Errorf("%s: image function %s is not among the functions of %s/%s: run `layers build`", manifest.File, im.Function, t.Runtime, t.Architecture)
			}
			dir := filepath.Join(cfg.Root, filepath.FromSlash(t.Functions[i].Path))
			sum, err := digest.Function(cfg.Root, dir, cfg.For(im.Function).Source)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", im.Function, err)
			}
			if sum != im.SourceSHA256 {
				return nil, fmt.Errorf("function %s: its source changed since its image was built: %w", im.Function, ErrStaleManifest)
			}
		}
	}
	return m, nil
}

// Current returns the stamp of the repository as it is now, resolving its
// functions from their input files alone.
func Current(ctx context.Context, cfg *config.Config, tool string, getenv func(string) string) (string, error) {
	epoch, err := archive.SourceDateEpoch(getenv)
	if err != nil {
		return "", err
	}
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		return "", err
	}
	return Inputs(cfg, res, tool, epoch)
}

// Inputs returns the stamp of a build: the digest of everything its output
// depends on that can be seen without an engine: the tool version, the zip
// time, layers.toml, every function's input files and its local packages'
// sources. res must be as resolver.Resolve returned it, before any
// resolution in the build image filled its closures.
func Inputs(cfg *config.Config, res *resolver.Result, tool string, epoch time.Time) (string, error) {
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
		data, err := repofs.ReadPath(f) // as the resolver read it: regular and bounded
		if err != nil {
			return "", fmt.Errorf("inputs digest: %w", err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "file %s %x\n", filepath.ToSlash(f), sum)
	}
	for _, p := range slices.Sorted(maps.Keys(locals)) {
		sum, err := digest.LocalPackage(cfg.Root, p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "local %s %s\n", p, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
