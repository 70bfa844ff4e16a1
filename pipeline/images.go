package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/lambdaimage"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/bytesize"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/tomlpos"
	"github.com/layers-dev/layers/manifest"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/resolver"
)

// checkImageConfig returns the input error that stops a function shipping
// as a container image: no [image] repository to push it to, or no
// handler for its CMD. Plan and build both check, so a plan that passes
// does not become a build or a publish that fails. why is the planner's
// reason, which the message repeats: the user may not know the function
// crossed a limit.
func checkImageConfig(cfg *config.Config, function, why string) error {
	file, data := configFile(cfg)
	if cfg.Image.Repository == "" {
		return diag.Errorf(file, lineOf(data, "image"),
			"function %s must ship as a container image (%s), and no ECR repository is set for images: add\n\n    [image]\n    repository = \"NAME\"\n\nto %s",
			function, why, filepath.Base(file))
	}
	// config.Validate has checked the form of a handler that is set.
	if cfg.For(function).Handler == "" {
		return diag.Errorf(file, lineOf(data, "function", function),
			"function %s must ship as a container image (%s), and its image needs a handler for its CMD: add\n\n    [function.%s]\n    handler = \"app.handler\"    # module.function\n\nto %s, or give every function the same one with handler = \"app.handler\" above its tables",
			function, why, function, filepath.Base(file))
	}
	return nil
}

// configFile returns the config file's path as errors name it, and its
// content for line look-ups (nil without a file).
func configFile(cfg *config.Config) (string, []byte) {
	if cfg.Path == "" {
		return filepath.Join(cfg.Root, config.FileName), nil
	}
	data, _ := os.ReadFile(cfg.Path)
	return cfg.Path, data
}

func lineOf(data []byte, key ...any) int {
	if data == nil {
		return 0
	}
	return tomlpos.Line(data, key...)
}

// checkImages checks the image settings of every image function of a
// target's plan.
func checkImages(cfg *config.Config, plan *planner.Plan) error {
	for _, p := range plan.Targets {
		for _, f := range p.Functions {
			if f.PackageType == planner.PackageImage {
				if err := checkImageConfig(cfg, f.Name, f.Reason); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// buildImages builds the image of every image function of a target, from
// the units the layers were built from (plus, with local_in_code, the
// local packages' units, which an image needs and layers do not), and
// fills in tm.Images.
func (r *buildRun) buildImages(ctx context.Context, tr resolver.TargetResult, tm *manifest.Target, byUnit map[planner.Unit]builder.Unit) error {
	if len(tm.Images) == 0 {
		return nil
	}
	cfg, out := r.cfg, r.out
	one := r.engineFor(tr.Target)
	eng, ok := one.(lambdaimage.Engine)
	if !ok {
		return fmt.Errorf("%s: the engine cannot build container images (function %s needs one)", tr.Target, tm.Images[0].Function)
	}
	baseRef := cfg.Image.Base
	if baseRef == "" {
		baseRef = tr.Target.LambdaImage()
	}
	base, err := builder.ResolveImage(ctx, one, baseRef, tr.Target, r.o.Pull)
	if err != nil {
		return fmt.Errorf("base image of container images ([image] base): %w", err)
	}
	closures := map[string]resolver.Closure{}
	for _, c := range tr.Functions {
		closures[c.Name] = c
	}
	r.rep.start(StageImages, tr.Target, len(tm.Images))
	for i := range tm.Images {
		im := &tm.Images[i]
		c := closures[im.Function]
		units, err := r.imageUnits(ctx, c, tr, byUnit)
		if err != nil {
			return err
		}
		src, err := digest.FunctionFiles(cfg.Root, filepath.Join(cfg.Root, filepath.FromSlash(c.Path)), cfg.For(c.Name).Source)
		if err != nil {
			return fmt.Errorf("function %s: %w", c.Name, err)
		}
		im.Handler = cfg.For(c.Name).Handler
		if im.SourceSHA256, err = digest.Files(src); err != nil {
			return fmt.Errorf("function %s: %w", c.Name, err)
		}
		spec := lambdaimage.Spec{Function: c.Name, Target: tr.Target, Base: base, Handler: im.Handler, Units: units, Source: src,
			StripByteCode: cfg.For(c.Name).Bytecode == config.BytecodeStrip}
		res, found, err := lambdaimage.Find(ctx, eng, spec)
		if err != nil {
			return err
		}
		im.Tag, im.Platform, im.Base, im.BaseID = res.Tag, res.Platform, base.Ref, base.ID
		im.ContentKey, im.UnzippedBytes = res.ContentKey, res.ContentBytes
		if !found {
			if im.Registry = r.inRegistry(ctx, tm, im); im.Registry != "" {
				out.ImagesInRegistry++
				r.rep.step(StageImages, tr.Target, fmt.Sprintf("image %s (%s): in the registry, %s, not built here", c.Name, tr.Target, im.Registry))
				continue
			}
			if res, err = lambdaimage.Build(ctx, eng, spec); err != nil {
				return err
			}
		}
		im.ImageID, im.ImageBytes = res.ID, res.ImageBytes
		state := "unchanged"
		if res.Built {
			out.ImagesBuilt++
			state = "built in " + res.Took.Round(100*time.Millisecond).String()
		} else {
			out.ImagesReused++
		}
		r.rep.step(StageImages, tr.Target, fmt.Sprintf("image %s (%s): %s, %s, %s in /var/task, %s with its base", c.Name, tr.Target, res.Tag, state,
			bytesize.Decimal(res.ContentBytes), bytesize.Decimal(res.ImageBytes)))
	}
	return nil
}

// imageUnits returns the units of a function's whole closure, building
// those the layers did not need.
func (r *buildRun) imageUnits(ctx context.Context, c resolver.Closure, tr resolver.TargetResult, byUnit map[planner.Unit]builder.Unit) ([]builder.Unit, error) {
	pt := planner.Target{Runtime: tr.Runtime, Architecture: tr.Arch}
	var (
		units   []builder.Unit
		missing []builder.UnitSpec
	)
	for _, p := range c.Packages {
		if u, ok := byUnit[unitOf(pt, p)]; ok {
			units = append(units, u)
			continue
		}
		missing = append(missing, builder.UnitSpec{Package: p, Target: tr.Target, Image: r.images[tr.Target], Index: c.Index})
	}
	if len(missing) == 0 {
		return units, nil
	}
	r.rep.start(StageUnits, tr.Target, len(missing))
	built, err := r.builder.Units(ctx, missing)
	if err != nil {
		return nil, err
	}
	r.rep.finish(StageUnits, tr.Target)
	for _, u := range built {
		byUnit[unitOf(pt, u.Spec.Package)] = u
	}
	return append(units, built...), nil
}

// ImageRegistry is the registry image functions' images are pushed to, as
// build asks it.
type ImageRegistry interface {
	// Holds returns the URI (repository@digest) of the image of img on t
	// (its content key set), or "" when the registry does not hold it.
	Holds(ctx context.Context, t manifest.Target, img manifest.Image) (string, error)
}

// inRegistry asks the registry for an image the engine lacks. A registry
// that cannot answer is a warning: the image is built here.
func (r *buildRun) inRegistry(ctx context.Context, tm *manifest.Target, im *manifest.Image) string {
	if r.o.Registry == nil || r.remote == nil {
		return ""
	}
	uri, err := r.o.Registry.Holds(ctx, *tm, *im)
	if err != nil {
		r.rep.warning(fmt.Sprintf("image %s: the registry could not say whether it holds the image (%v); building it here", im.Function, err))
		return ""
	}
	return uri
}
