package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/layers-dev/layers/planner"
)

// Shape is the structure of a generated monorepo. A planner tuned to one
// shape must not be taken for a good planner: the benchmarks report every
// figure on each of them.
type Shape uint8

// Shapes.
const (
	// ShapeServices is the default: services of a few functions taking 1-3
	// of many stacks with Zipf-like popularity, long-tailed sizes with a few
	// giants (the package documentation describes it).
	ShapeServices Shape = iota
	// ShapeHugeStacks: a few huge stacks (ML, data, a web framework: 8-20
	// libraries of 40-150 MB in all, a giant or two among them) that most
	// functions take one of, and many small extras (5-20 packages of 100 kB
	// median per service, from a long tail), so functions share their bulk
	// and differ in many small packages.
	ShapeHugeStacks
	// ShapeFlatOverlap: many small stacks (3-6 packages) that overlap (each
	// drawn from a window of the library pool that neighbouring stacks
	// share), a flat size distribution (0.2-4 MB, no giant) and flat
	// popularity; services take 2-5 stacks. No package dominates, and
	// sharing classes shatter.
	ShapeFlatOverlap
)

// Shapes lists every shape, in order.
var Shapes = []Shape{ShapeServices, ShapeHugeStacks, ShapeFlatOverlap}

func (s Shape) String() string {
	switch s {
	case ShapeHugeStacks:
		return "huge-stacks"
	case ShapeFlatOverlap:
		return "flat-overlap"
	}
	return "services"
}

// universe draws nd packages: the first foundational ones are small and
// depended on; size draws the others' sizes. About 15% also have an older
// version 80-110% of the size.
func (m *Monorepo) universe(rng *rand.Rand, nd, foundational int, size func(i int) int64) {
	m.dists = make([]dist, nd)
	for i := range m.dists {
		d := &m.dists[i]
		d.name = fmt.Sprintf("pkg-%05d", i)
		d.versions = []string{"2.0.0"}
		var sz int64
		if i < foundational {
			sz = logNormal(rng, 150e3, 0.9, 10e3, 3e6)
			d.deps = m.pick(rng, 0, i, rng.IntN(2), 1)
		} else {
			sz = size(i)
			d.deps = m.pick(rng, 0, foundational, rng.IntN(3), 1.5)
		}
		d.sizes = []int64{sz}
		if rng.Float64() < 0.15 {
			d.versions = append(d.versions, "1.9.0")
			d.sizes = append(d.sizes, sz*int64(80+rng.IntN(30))/100)
		}
	}
}

// service adds the functions of one service to fns, up to nf in all: each
// takes base plus extra() of its own and the local packages locals, and
// the service pins the older version of a package with probability drift.
func (m *Monorepo) service(rng *rand.Rand, svc, members int, base map[int]bool, locals []planner.Dist, extra func() []int, drift float64, fns []planner.Function, nf int) []planner.Function {
	alt := map[int]bool{}
	for fn := 0; fn < members && len(fns) < nf; fn++ {
		reqs := map[int]bool{}
		for d := range base {
			reqs[d] = true
		}
		for _, d := range extra() {
			reqs[d] = true
		}
		f := planner.Function{
			Name:      fmt.Sprintf("svc%03d-fn%02d", svc, fn),
			Target:    DefaultTarget,
			CodeBytes: 5_000 + int64(math.Exp(rng.NormFloat64()+math.Log(40e3))),
			Closure:   slices.Clone(locals),
		}
		for _, d := range m.closure(reqs) {
			v := 0
			if len(m.dists[d].versions) > 1 {
				if _, ok := alt[d]; !ok {
					alt[d] = rng.Float64() < drift
				}
				if alt[d] {
					v = 1
				}
			}
			f.Closure = append(f.Closure, m.dist(d, v))
		}
		fns = append(fns, f)
	}
	return fns
}

// generateHugeStacks builds a ShapeHugeStacks monorepo.
func generateHugeStacks(o Options) *Monorepo {
	rng := rand.New(rand.NewPCG(o.Seed, 0x687567650a))
	nf := max(o.Functions, 1)
	nStacks := 3 + min(nf/1000, 3)
	nd := max(o.Dists, 3*nf, 20*nStacks+60)
	m := &Monorepo{}
	foundational := max(8, nd/40)
	// The pool the huge stacks draw from comes right after the
	// foundational packages: 1-3 MB libraries and a few 20-60 MB giants.
	pool := foundational + 20*nStacks
	m.universe(rng, nd, foundational, func(i int) int64 {
		switch {
		case i < pool && (i-foundational)%10 == 0:
			return 20e6 + rng.Int64N(40e6)
		case i < pool:
			return logNormal(rng, 1.5e6, 0.8, 100e3, 15e6)
		}
		return logNormal(rng, 100e3, 1.2, 5e3, 3e6)
	})
	// Each stack takes 8-20 libraries of the pool, mostly from its own
	// part of it, so stacks share a few (numpy in data and ML).
	stacks := make([][]int, nStacks)
	for s := range stacks {
		lo := foundational + 20*s
		for range 8 + rng.IntN(13) {
			d := lo + rng.IntN(20)
			if rng.Float64() < 0.15 {
				d = foundational + rng.IntN(pool-foundational)
			}
			if !slices.Contains(stacks[s], d) {
				stacks[s] = append(stacks[s], d)
			}
		}
	}
	tail := func() int {
		return pool + min(int(float64(nd-pool)*math.Pow(rng.Float64(), 1.8)), nd-pool-1)
	}
	var fns []planner.Function
	for svc := 0; len(fns) < nf; svc++ {
		base := map[int]bool{}
		take := 1
		switch r := rng.Float64(); {
		case r < 0.05:
			take = 0
		case r < 0.2:
			take = 2
		}
		for range take {
			s := min(int(float64(nStacks)*math.Pow(rng.Float64(), 1.5)), nStacks-1)
			for _, d := range stacks[s] {
				if rng.Float64() < 0.9 {
					base[d] = true
				}
			}
		}
		for range 5 + rng.IntN(16) {
			base[tail()] = true
		}
		members := 1 + min(int(rng.ExpFloat64()*2.5), 11)
		extra := func() []int {
			var out []int
			for range rng.IntN(6) {
				out = append(out, tail())
			}
			return out
		}
		fns = m.service(rng, svc, members, base, nil, extra, 0.1, fns, nf)
	}
	m.finish(rng, o, fns, map[planner.Unit]planner.Size{})
	return m
}

// generateFlatOverlap builds a ShapeFlatOverlap monorepo.
func generateFlatOverlap(o Options) *Monorepo {
	rng := rand.New(rand.NewPCG(o.Seed, 0x666c61740a))
	nf := max(o.Functions, 1)
	nd := max(o.Dists, 3*nf, 60)
	m := &Monorepo{}
	foundational := max(8, nd/40)
	m.universe(rng, nd, foundational, func(int) int64 { return 200e3 + rng.Int64N(3_800_000) })
	// Stack s draws 3-6 packages from a window of 12 libraries starting at
	// 4s: each window overlaps its neighbours'.
	nStacks := max(8, (nd-foundational-12)/4)
	stacks := make([][]int, nStacks)
	for s := range stacks {
		for range 3 + rng.IntN(4) {
			d := foundational + 4*s + rng.IntN(12)
			if !slices.Contains(stacks[s], d) {
				stacks[s] = append(stacks[s], d)
			}
		}
	}
	var fns []planner.Function
	for svc := 0; len(fns) < nf; svc++ {
		base := map[int]bool{}
		for range 2 + rng.IntN(4) {
			s := min(int(float64(nStacks)*math.Pow(rng.Float64(), 1.3)), nStacks-1)
			for _, d := range stacks[s] {
				if rng.Float64() < 0.9 {
					base[d] = true
				}
			}
		}
		members := 1 + min(int(rng.ExpFloat64()*2.5), 11)
		extra := func() []int {
			var out []int
			for range rng.IntN(4) {
				out = append(out, foundational+rng.IntN(nd-foundational))
			}
			return out
		}
		fns = m.service(rng, svc, members, base, nil, extra, 0.1, fns, nf)
	}
	m.finish(rng, o, fns, map[planner.Unit]planner.Size{})
	return m
}
