package pipeline

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/parallel"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/resolver"
)

// fillClosures resolves the closures whose inputs are neither pinned nor
// locked with pip in their target's build image (images), at most jobs at
// once. For a build every closure must resolve, and the first failing
// function's error is returned. For a plan, targets without an image ID
// are served from earlier resolutions only, and a closure that does not
// resolve stays unresolved, with a progress line saying why.
func fillClosures(ctx context.Context, cfg *config.Config, res *resolver.Result, images map[config.Target]builder.Image,
	rs *builder.PipResolver, forBuild bool, jobs int, rep *reporter) error {
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
	var mu sync.Mutex // serialises progress
	// A build stops the other resolutions at the first failure; the loop
	// below returns the first in todo's order, not ForEach's.
	_ = parallel.ForEach(ctx, jobs, len(todo), func(ctx context.Context, i int) error {
		w := todo[i]
		start := time.Now()
		pkgs, cached, err := resolveClosure(ctx, cfg, *w.c, w.t, images[w.t], rs)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && (forBuild || ctx.Err() != nil || diag.IsInput(err)):
			// A plan goes on without an engine, but not past bad input.
			w.err = err
			return err
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
		return nil
	})
	if err := ctx.Err(); err != nil {
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
// from the cache only (nil packages when it has none). When pip found no
// release that satisfies the inputs, that is an input error at the
// requirement pip names (else the closure's first unresolved one); a pip
// that failed on the network or on TLS is the machine's problem, and its
// error says so.
func resolveClosure(ctx context.Context, cfg *config.Config, c resolver.Closure, t config.Target, img builder.Image,
	rs *builder.PipResolver) ([]resolver.Package, bool, error) {
	if c.RequestErr != nil {
		return nil, false, c.RequestErr
	}
	if c.Request == nil {
		return nil, false, fmt.Errorf("function %s: no input to resolve", c.Name)
	}
	req := builder.PipRequest{Function: c.Name, Target: t, Image: img, Request: *c.Request}
	if img.ID == "" {
		return rs.Cached(ctx, req)
	}
	pkgs, cached, err := rs.Resolve(ctx, req)
	var re *builder.ResolveError
	if errors.As(err, &re) && re.Unsatisfiable() {
		u := culprit(c.Unresolved, re.Tail)
		msg := fmt.Sprintf("function %s: %s is %s, and pip could not resolve the inputs in the build image: %v", c.Name, u.Requirement, u.Reason, re.Err)
		if re.Tail != "" {
			msg += "\npip's last lines:\n    " + strings.ReplaceAll(re.Tail, "\n", "\n    ")
		}
		return nil, false, &diag.Error{Path: u.Path, Line: u.Line, Msg: msg, Err: err}
	}
	return pkgs, cached, err
}

// unitOf is the planner's unit of package p on target t.
func unitOf(t planner.Target, p resolver.Package) planner.Unit {
	return planner.Unit{Target: t, Name: p.Name, Version: p.Version, Source: p.Origin()}
}

// distOf is p as the planner sees it: its origin tells two artifacts of
// one name and version apart (two VCS URLs, two local folders).
func distOf(p resolver.Package) planner.Dist {
	return planner.Dist{Name: p.Name, Version: p.Version, Source: p.Origin(), Local: p.Source == resolver.SourceLocal}
}

// refOf is p as a manifest records it, the planner's way.
func refOf(p resolver.Package) planner.PackageRef {
	return planner.PackageRef(distOf(p))
}

// refUnit is the unit a recorded package stands for.
func refUnit(t planner.Target, r planner.PackageRef) planner.Unit {
	return planner.Unit{Target: t, Name: r.Name, Version: r.Version, Source: r.Source}
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
