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
	"strings"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/buildinfo"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/resolver"
)

// ErrStaleManifest is returned (wrapped, with what changed when the
// manifest says enough to tell) when the inputs changed since the build.
var ErrStaleManifest = errors.New("the build manifest is stale: run `layers build`")

// staleError is ErrStaleManifest saying what changed.
type staleError struct{ changed []string }

func (e *staleError) Error() string {
	return fmt.Sprintf("the build manifest is stale (since it was built, %s): run `layers build`", strings.Join(e.changed, "; "))
}

func (e *staleError) Is(target error) bool { return target == ErrStaleManifest }

// ReadFresh reads the manifest of cfg's repository and refuses it, with
// ErrStaleManifest, when the inputs changed since it was written: the
// stamp, or the own code of a function shipped as an image.
func ReadFresh(ctx context.Context, cfg *config.Config, tool string, getenv func(string) string) (*manifest.Manifest, error) {
	m, err := manifest.Read(cfg.Root)
	if err != nil {
		return nil, err
	}
	tool = buildinfo.Tool(tool) // as pipeline.Build defaults it
	epoch, err := archive.SourceDateEpoch(getenv)
	if err != nil {
		return nil, fmt.Errorf("check the build manifest: %w", err)
	}
	sum, parts, err := current(ctx, cfg, tool, epoch)
	if err != nil {
		return nil, fmt.Errorf("check the build manifest: %w", err)
	}
	if sum != m.InputsSHA256 {
		return nil, &staleError{changed(m, parts, tool, epoch.Unix())}
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
	sum, _, err := current(ctx, cfg, tool, epoch)
	return sum, err
}

func current(ctx context.Context, cfg *config.Config, tool string, epoch time.Time) (string, *manifest.Stamp, error) {
	res, err := resolver.Resolve(ctx, cfg, resolver.Options{})
	if err != nil {
		return "", nil, err
	}
	return Compute(cfg, res, tool, epoch)
}

// Inputs returns the stamp of a build: Compute's digest.
func Inputs(cfg *config.Config, res *resolver.Result, tool string, epoch time.Time) (string, error) {
	sum, _, err := Compute(cfg, res, tool, epoch)
	return sum, err
}

// Compute returns the stamp of a build, the digest of everything its
// output depends on that can be seen without an engine (the tool version,
// the zip time, layers.toml, every function's input files and its local
// packages' sources), and those parts for the manifest. res must be as
// resolver.Resolve returned it, before any resolution in the build image
// filled its closures.
func Compute(cfg *config.Config, res *resolver.Result, tool string, epoch time.Time) (string, *manifest.Stamp, error) {
	parts := &manifest.Stamp{Functions: []string{}, Files: map[string]string{}, LocalPackages: map[string]string{}}
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
			parts.Functions = append(parts.Functions, fmt.Sprintf("%s %s %s", tr.Target, c.Name, c.Path))
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
	// The digest keeps the form older versions wrote, so that their
	// manifests stay comparable; the parts name files as users know them.
	for _, f := range slices.Sorted(maps.Keys(files)) {
		data, err := repofs.ReadPath(f) // as the resolver read it: regular and bounded
		if err != nil {
			return "", nil, fmt.Errorf("inputs digest: %w", err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "file %s %x\n", filepath.ToSlash(f), sum)
		parts.Files[relative(cfg.Root, f)] = hex.EncodeToString(sum[:])
	}
	for _, p := range slices.Sorted(maps.Keys(locals)) {
		sum, err := digest.LocalPackage(cfg.Root, p)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprintf(h, "local %s %s\n", p, sum)
		parts.LocalPackages[p] = sum
	}
	return hex.EncodeToString(h.Sum(nil)), parts, nil
}

// relative returns path relative to root, with forward slashes, or as it
// is when outside root.
func relative(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}

// maxChanges bounds what a stale error lists.
const maxChanges = 3

// changed says what differs between the build m records and the
// repository now: the tool, the zip time, and (when m has its stamp's
// parts) which functions, files and local packages.
func changed(m *manifest.Manifest, now *manifest.Stamp, tool string, epoch int64) []string {
	var out []string
	if m.Tool != tool {
		out = append(out, fmt.Sprintf("the layers version changed (built by %s, this is %s)", m.Tool, tool))
	}
	if m.SourceDateEpoch != epoch {
		out = append(out, fmt.Sprintf("SOURCE_DATE_EPOCH changed (the build used %d, now %d)", m.SourceDateEpoch, epoch))
	}
	if m.Stamp == nil {
		if len(out) == 0 {
			out = append(out, "layers.toml or a function's inputs changed")
		}
		return out
	}
	var inputs []string
	if !slices.Equal(m.Stamp.Functions, now.Functions) {
		inputs = append(inputs, "the functions or their targets changed")
	}
	for _, f := range slices.Sorted(maps.Keys(now.Files)) {
		switch was, ok := m.Stamp.Files[f]; {
		case !ok:
			inputs = append(inputs, f+" is new")
		case was != now.Files[f]:
			inputs = append(inputs, f+" changed")
		}
	}
	for _, f := range slices.Sorted(maps.Keys(m.Stamp.Files)) {
		if _, ok := now.Files[f]; !ok {
			inputs = append(inputs, f+" is no longer an input")
		}
	}
	for _, p := range slices.Sorted(maps.Keys(now.LocalPackages)) {
		switch was, ok := m.Stamp.LocalPackages[p]; {
		case !ok:
			inputs = append(inputs, "local package "+p+" is new")
		case was != now.LocalPackages[p]:
			inputs = append(inputs, "the source of local package "+p+" changed")
		}
	}
	for _, p := range slices.Sorted(maps.Keys(m.Stamp.LocalPackages)) {
		if _, ok := now.LocalPackages[p]; !ok {
			inputs = append(inputs, "local package "+p+" is no longer used")
		}
	}
	if len(inputs) > maxChanges {
		inputs = append(inputs[:maxChanges], fmt.Sprintf("%d more", len(inputs)-maxChanges))
	}
	out = append(out, inputs...)
	if len(out) == 0 {
		out = append(out, "the repository moved") // file paths are absolute in the digest
	}
	return out
}
