// Package synth generates synthetic Python monorepos for the planner's
// tests and benchmarks.
//
// The shape follows what real monorepos look like:
//   - a universe of packages in three tiers: small foundational ones that
//     much depends on (six, urllib3: 150 kB median), libraries and frameworks
//     (700 kB median, long-tailed up to 25 MB) among which a few giants of
//     20-110 MB (numpy, pyarrow) that some libraries depend on, and a long
//     tail (200 kB median); dependencies form a DAG from the tail down;
//   - stacks of 2-6 libraries that go together (web, AWS, data), some
//     pulling in a giant, with Zipf-like popularity;
//   - services of 1-12 functions (3 on average) taking 1-3 stacks (each
//     package of a stack with probability 0.85) and 0-4 tail packages; 40%
//     of functions add one or two packages of their own, 15% a whole stack;
//   - 20% of packages also have an older version, which 10% of services
//     pin; 40% of services use a local shared library, half have their own.
//
// Options.Shape selects other structures (huge stacks with many small
// extras; many small overlapping stacks of flat sizes), so that a planner
// is not tuned to one. Options.Uniform gives an easier monorepo. Everything is derived from a
// seed, so a monorepo is reproducible.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/layers-dev/layers/planner"
)

// DefaultTarget is the target of generated functions.
var DefaultTarget = planner.Target{Runtime: "python3.12", Architecture: "x86_64"}

// Options shape a generated monorepo.
type Options struct {
	// Functions is the number of functions.
	Functions int
	// Dists is the size of the package universe; 0 means 3 per function.
	Dists int
	// Seed makes the monorepo reproducible.
	Seed uint64
	// UnknownSizes is the fraction of packages whose size is unknown.
	UnknownSizes float64
	// Uniform makes an easier monorepo: services take whole stacks, all
	// functions of a service have the same closure, and nobody pins an older
	// version.
	Uniform bool
	// Shape is the structure of the monorepo; the zero value is
	// ShapeServices.
	Shape Shape
}

// dist is one package of the universe.
type dist struct {
	name     string
	versions []string
	sizes    []int64
	deps     []int
}

// Monorepo is a generated monorepo: its planner input and the universe it
// was drawn from, so that it can be mutated realistically.
type Monorepo struct {
	// Input is the planner input, with measured sizes.
	Input planner.Input
	dists []dist
	pop   []int // dists weighted by popularity, for drawing new requirements
}

// Generate builds a monorepo of the shape o.Shape.
func Generate(o Options) *Monorepo {
	switch o.Shape {
	case ShapeHugeStacks:
		return generateHugeStacks(o)
	case ShapeFlatOverlap:
		return generateFlatOverlap(o)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6c61796572730a))
	// How often a service takes each package of a stack it uses, a function
	// adds one or two packages of its own, a function adds a whole stack, and
	// a service pins the older version of a package that has one.
	include, fnExtra, fnStack, drift := 0.85, 0.4, 0.15, 0.1
	if o.Uniform {
		include, fnExtra, fnStack, drift = 1, 0, 0, 0
	}
	nf := max(o.Functions, 1)
	nd := o.Dists
	if nd == 0 {
		nd = 3 * nf
	}
	nd = max(nd, 40)
	m := &Monorepo{}

	// Tiers: small foundational packages that almost everything depends on
	// (six, urllib3, typing-extensions), libraries and frameworks (requests,
	// pydantic, pandas) with a few giants (numpy, scipy, pyarrow), and a long
	// tail of specialised packages.
	tier0 := max(8, nd/30)
	giants := max(3, nd/150)
	tier1 := tier0 + giants + nd/4
	m.dists = make([]dist, nd)
	for i := range m.dists {
		d := &m.dists[i]
		d.name = fmt.Sprintf("pkg-%05d", i)
		d.versions = []string{"2.0.0"}
		var size int64
		switch {
		case i < tier0:
			size = logNormal(rng, 150e3, 0.9, 10e3, 3e6)
			d.deps = m.pick(rng, 0, i, rng.IntN(2), 1)
		case i < tier0+giants:
			size = 20e6 + rng.Int64N(90e6)
			d.deps = m.pick(rng, 0, tier0, rng.IntN(2), 1)
		case i < tier1:
			size = logNormal(rng, 700e3, 1.3, 20e3, 25e6)
			d.deps = m.pick(rng, 0, tier0, rng.IntN(4), 1.5)
			if rng.Float64() < 0.25 {
				d.deps = append(d.deps, m.pick(rng, tier0+giants, i, 1, 2)...)
			}
		default:
			size = logNormal(rng, 200e3, 1.3, 5e3, 10e6)
			n := rng.IntN(4)
			d.deps = append(m.pick(rng, 0, tier0, n/2, 1.5), m.pick(rng, tier0+giants, tier1, n-n/2, 2)...)
		}
		d.sizes = []int64{size}
		if rng.Float64() < 0.2 {
			d.versions = append(d.versions, "1.9.0")
			d.sizes = append(d.sizes, size*int64(80+rng.IntN(30))/100)
		}
	}
	// A few libraries depend on a giant (pandas and scipy on numpy).
	var giantUsers []int
	for g := tier0; g < tier0+giants; g++ {
		for range 2 + rng.IntN(3) {
			u := tier0 + giants + rng.IntN(tier1-tier0-giants)
			m.dists[u].deps = append(m.dists[u].deps, g)
			giantUsers = append(giantUsers, u)
		}
	}

	// Stacks of packages that go together; the data stacks hold giants.
	nStacks := max(6, nd/30)
	stacks := make([][]int, nStacks)
	for s := range stacks {
		n := 2 + rng.IntN(5)
		stacks[s] = m.pick(rng, tier0+giants, tier1, n, 1.5)
		if s%8 == 3 {
			stacks[s] = append(stacks[s], giantUsers[rng.IntN(len(giantUsers))])
		}
	}
	zipfStack := func() int {
		return min(int(float64(nStacks)*math.Pow(rng.Float64(), 2.2)), nStacks-1)
	}
	longTail := func() int { return tier1 + rng.IntN(nd-tier1) }

	t := DefaultTarget
	sizes := map[planner.Unit]planner.Size{}
	sharedUtils := planner.Dist{Name: "shared-utils", Version: "0.1.0", Source: "path:libs/shared-utils", Local: true}
	sizes[planner.Unit{Target: t, Name: sharedUtils.Name, Version: sharedUtils.Version, Source: sharedUtils.Source}] = planner.Size{Bytes: 180_000, Kind: planner.SizeMeasured}

	var fns []planner.Function
	for svc := 0; len(fns) < nf; svc++ {
		base := map[int]bool{}
		for s := range 1 + rng.IntN(3) {
			st := stacks[zipfStack()]
			if s == 0 {
				st = stacks[min(int(float64(nStacks)*math.Pow(rng.Float64(), 3)), nStacks-1)]
			}
			for _, d := range st {
				if rng.Float64() < include {
					base[d] = true
				}
			}
		}
		for range rng.IntN(5) {
			base[longTail()] = true
		}
		var locals []planner.Dist
		if rng.Float64() < 0.4 {
			locals = append(locals, sharedUtils)
		}
		if rng.Float64() < 0.5 {
			d := planner.Dist{Name: fmt.Sprintf("svc%03d-common", svc), Version: "0.1.0", Source: fmt.Sprintf("path:services/svc%03d/common", svc), Local: true}
			locals = append(locals, d)
			sizes[planner.Unit{Target: t, Name: d.Name, Version: d.Version, Source: d.Source}] = planner.Size{Bytes: 20_000 + rng.Int64N(400_000), Kind: planner.SizeMeasured}
		}
		members := 1 + min(int(rng.ExpFloat64()*2.5), 11)
		extra := func() []int {
			var out []int
			if rng.Float64() < fnExtra {
				for range 1 + rng.IntN(2) {
					out = append(out, longTail())
				}
			}
			if rng.Float64() < fnStack {
				out = append(out, stacks[zipfStack()]...)
			}
			return out
		}
		fns = m.service(rng, svc, members, base, locals, extra, drift, fns, nf)
	}
	m.finish(rng, o, fns, sizes)
	return m
}

// finish records the sizes of the universe (leaving o.UnknownSizes of them
// out) and the popularity AddPackage draws from, and sets m.Input.
func (m *Monorepo) finish(rng *rand.Rand, o Options, fns []planner.Function, sizes map[planner.Unit]planner.Size) {
	nd := len(m.dists)
	for i, d := range m.dists {
		for v := range d.versions {
			if o.UnknownSizes > 0 && rng.Float64() < o.UnknownSizes {
				continue
			}
			sizes[planner.Unit{Target: DefaultTarget, Name: d.name, Version: d.versions[v]}] = planner.Size{Bytes: d.sizes[v], Kind: planner.SizeMeasured}
		}
		// Popularity for AddPackage: the lower the index, the more used.
		for range max(1, 40/(1+i/max(1, nd/40))) {
			m.pop = append(m.pop, i)
		}
	}
	m.Input = planner.Input{Functions: fns, Sizes: sizes}
}

// logNormal draws a size of the given median and spread, within [lo, hi].
func logNormal(rng *rand.Rand, median, sigma float64, lo, hi int64) int64 {
	return min(max(int64(math.Exp(rng.NormFloat64()*sigma+math.Log(median))), lo), hi)
}

// pick draws n distinct packages from [lo, hi), favouring low indices more as
// skew grows.
func (m *Monorepo) pick(rng *rand.Rand, lo, hi, n int, skew float64) []int {
	var out []int
	if hi <= lo {
		return nil
	}
	for range n {
		d := lo + min(int(float64(hi-lo)*math.Pow(rng.Float64(), skew)), hi-lo-1)
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// closure returns the requirements and their transitive dependencies, sorted.
func (m *Monorepo) closure(reqs map[int]bool) []int {
	seen := map[int]bool{}
	var stack []int
	for d := range reqs {
		stack = append(stack, d)
	}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[d] {
			continue
		}
		seen[d] = true
		stack = append(stack, m.dists[d].deps...)
	}
	out := make([]int, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func (m *Monorepo) dist(d, v int) planner.Dist {
	return planner.Dist{Name: m.dists[d].name, Version: m.dists[d].versions[v]}
}

// AddPackage returns a copy of in (the monorepo's input, possibly with other
// limits or rules) in which one function gains one package it did not have:
// half the time one another function uses, at its version; otherwise one
// drawn from the universe by popularity. It returns the function's name.
func (m *Monorepo) AddPackage(in planner.Input, seed uint64) (planner.Input, string) {
	rng := rand.New(rand.NewPCG(seed, 0xadd))
	in.Functions = slices.Clone(in.Functions)
	for {
		i := rng.IntN(len(in.Functions))
		f := in.Functions[i]
		d := m.pop[rng.IntN(len(m.pop))]
		if rng.Float64() < 0.5 {
			// Something another function already uses, at its version.
			g := in.Functions[rng.IntN(len(in.Functions))]
			if len(g.Closure) == 0 {
				continue
			}
			dd := g.Closure[rng.IntN(len(g.Closure))]
			if dd.Local || slices.ContainsFunc(f.Closure, func(x planner.Dist) bool { return x.Name == dd.Name }) {
				continue
			}
			f.Closure = append(slices.Clone(f.Closure), dd)
			in.Functions[i] = f
			return in, f.Name
		}
		if slices.ContainsFunc(f.Closure, func(x planner.Dist) bool { return x.Name == m.dists[d].name }) {
			continue
		}
		f.Closure = append(slices.Clone(f.Closure), m.dist(d, 0))
		in.Functions[i] = f
		return in, f.Name
	}
}
