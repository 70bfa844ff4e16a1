package pipeline

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/resolver"
)

// dialEngines connects to the engines the build runs on, unless the
// options brought one: the pool of [build] engines when the config names
// any, else the engine the environment names (DOCKER_HOST), as without
// the key. An architecture a [build.engines] table leaves out builds on
// the environment's engine. Only the engines of the build's targets are
// dialled. The returned func closes what was dialled.
func (r *buildRun) dialEngines(ctx context.Context, res *resolver.Result) (func(), error) {
	if r.engine != nil {
		return func() {}, nil
	}
	byArch := r.cfg.Build.EnginesByArch
	if byArch == nil {
		e, err := engine.Dial(ctx)
		if err != nil {
			return nil, err
		}
		r.engine = e
		return func() { e.Close() }, nil
	}
	var eps []engine.PoolEndpoint
	add := func(ep engine.Endpoint, plat string) {
		for i := range eps {
			if eps[i].Host == ep.Host { // one engine, listed for both architectures
				if !slices.Contains(eps[i].Platforms, plat) {
					eps[i].Platforms = append(eps[i].Platforms, plat)
				}
				return
			}
		}
		eps = append(eps, engine.PoolEndpoint{Endpoint: ep, Platforms: []string{plat}})
	}
	for _, arch := range config.Architectures {
		if !slices.ContainsFunc(res.Targets, func(t resolver.TargetResult) bool { return t.Target.Architecture == arch }) {
			continue
		}
		plat, err := engine.PlatformFor(arch)
		if err != nil {
			return nil, err
		}
		if len(byArch[arch]) == 0 {
			add(engine.EnvEndpoint(r.o.Getenv), plat)
			continue
		}
		for _, a := range byArch[arch] {
			ep, err := engine.ResolveEndpoint(a.Address, r.o.Getenv)
			if err != nil {
				return nil, diag.Errorf(r.cfg.Path, a.Line, "build.engines: %v", err)
			}
			ep.Source = fmt.Sprintf("%s:%d", r.cfg.Path, a.Line)
			add(ep, plat)
		}
	}
	pool, err := engine.DialPool(ctx, eps)
	if err != nil {
		return nil, err
	}
	pool.Log = r.rep.line
	r.engine, r.pool = pool, pool
	if r.o.Jobs == 0 {
		// Every engine's CPUs: the engines of one target's platform
		// build its units together.
		for _, t := range res.Targets {
			r.o.Jobs = max(r.o.Jobs, pool.Slots(t.Target.Platform()))
		}
	}
	return func() { pool.Close() }, nil
}

// engineFor returns the engine that work needing one engine of t's
// platform runs on (an image function's image): the first of the pool's,
// or the one engine.
func (r *buildRun) engineFor(t config.Target) engine.Engine {
	if r.pool != nil {
		if m := r.pool.First(t.Platform()); m != nil {
			return m
		}
	}
	return r.engine
}

// writeEngines writes what each engine of a pool did, and names the
// engines that failed mid-build and where their containers went.
func (r *BuildResult) writeEngines(w io.Writer) error {
	if len(r.Engines) == 0 {
		return nil
	}
	var parts []string
	for _, u := range r.Engines {
		parts = append(parts, fmt.Sprintf("%s %d", u.Host, u.Runs))
	}
	if _, err := fmt.Fprintf(w, "engines (containers run): %s\n", strings.Join(parts, ", ")); err != nil {
		return err
	}
	for _, u := range r.Engines {
		if u.Down == nil {
			continue
		}
		why, _, _ := strings.Cut(u.Down.Error(), "\n")
		on := "no other engine"
		if len(u.RetriedOn) > 0 {
			on = strings.Join(u.RetriedOn, ", ")
		}
		containers := "containers"
		if u.Lost == 1 {
			containers = "container"
		}
		if _, err := fmt.Fprintf(w, "engine %s failed mid-build (%s); %d %s retried on %s\n", u.Host, why, u.Lost, containers, on); err != nil {
			return err
		}
	}
	return nil
}
