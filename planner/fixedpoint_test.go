package planner_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
	"github.com/layers-dev/layers/planner/synth"
)

// groupRepo builds an input for one arm64 target: a function is a name and
// "name==version" specs ("lib" is a local package); sizes not given are
// unknown.
func groupRepo(sizes map[string]int64, groups []planner.Group, fns ...[]string) planner.Input {
	tg := planner.Target{Runtime: "python3.11", Architecture: "arm64"}
	in := planner.Input{Sizes: map[planner.Unit]planner.Size{}, Rules: planner.Rules{Groups: groups}}
	for spec, bytes := range sizes {
		n, v, _ := strings.Cut(spec, "==")
		in.Sizes[planner.Unit{Target: tg, Name: n, Version: v}] = planner.Size{Bytes: bytes, Kind: planner.SizeEstimated}
	}
	in.Sizes[planner.Unit{Target: tg, Name: "lib", Version: "0", Source: "path:lib"}] = planner.Size{Bytes: 30_000, Kind: planner.SizeMeasured}
	for _, specs := range fns {
		f := planner.Function{Name: specs[0], Target: tg}
		for _, s := range specs[1:] {
			n, v, _ := strings.Cut(s, "==")
			d := planner.Dist{Name: n, Version: v}
			if n == "lib" {
				d.Source, d.Local = "path:lib", true
			}
			f.Closure = append(f.Closure, d)
		}
		in.Functions = append(in.Functions, f)
	}
	return in
}

// checkFixedPoint plans in, plans it again with that plan as
// Input.Previous, and fails unless the layers are the same.
func checkFixedPoint(t fataler, in planner.Input) *planner.Plan {
	t.Helper()
	p, err := planner.Split(in)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	checkInvariants(t, in, p)
	again := in
	again.Previous = p
	q, err := planner.Split(again)
	if err != nil {
		t.Fatalf("Split with its own plan: %v", err)
	}
	if a, b := layerNames(p), layerNames(q); !slices.Equal(a, b) {
		t.Fatalf("replanning with its own plan changed the layers:\n%v\n%v", a, b)
	}
	return p
}

// TestFixedPointMergeKeepsGroupsWhole: fn4's members of group g0 (pkg-3,
// pkg-6, pkg-7) travel in its function layer. Merging fn4's other leftover
// layer (lib, pkg1) with fn3's (pkg-0, pkg-4, pkg-6, pkg1) gave fn4 a
// second layer holding pkg-6 alone of its group; keepPrevious, which keeps
// no layer splitting a group of the function, then dropped that layer and
// the plan was not its own fixed point. A merge must keep every group of
// its functions whole, as every other step does.
func TestFixedPointMergeKeepsGroupsWhole(t *testing.T) {
	in := groupRepo(
		map[string]int64{"pkg2==1": 0, "pkg7==1": 10_000_000, "pkg-3==1": 10_000_000},
		[]planner.Group{{Name: "g0", Packages: []string{"pkg-0", "pkg-2", "pkg-3", "pkg-4", "pkg-5", "pkg-6", "pkg-7"}}},
		[]string{"fn3", "pkg-0==1", "pkg1==1", "pkg2==1", "pkg-4==1", "pkg5==1", "pkg-6==1", "pkg7==1"},
		[]string{"fn4", "pkg0==1", "pkg1==1", "pkg2==1", "pkg-3==1", "pkg4==1", "pkg5==2", "pkg-6==1", "pkg-7==1", "lib==0"},
		[]string{"fn7", "pkg-0==2", "pkg2==1", "pkg-3==1", "pkg-5==2", "pkg6==2", "pkg7==1", "lib==0"},
	)
	in.Limits = planner.Limits{LayersPerFunction: 5, ReservedLayers: 3}
	in.Rules.Prefix = "app"
	p := checkFixedPoint(t, in)
	// The cause itself: each layer a function attaches holds all or none
	// of its members of a group.
	members := map[string][]string{"fn3": {"pkg-0", "pkg-4", "pkg-6"}, "fn4": {"pkg-3", "pkg-6", "pkg-7"}, "fn7": {"pkg-0", "pkg-3", "pkg-5"}}
	tp := &p.Targets[0]
	for _, f := range tp.Functions {
		for _, name := range f.Layers {
			i := slices.IndexFunc(tp.Layers, func(l planner.Layer) bool { return l.Name == name })
			n := 0
			for _, m := range members[f.Name] {
				if slices.ContainsFunc(tp.Layers[i].Packages, func(r planner.PackageRef) bool { return r.Name == m }) {
					n++
				}
			}
			if n != 0 && n != len(members[f.Name]) {
				t.Errorf("%s attaches %s, which holds %d of its %d members of g0", f.Name, name, n, len(members[f.Name]))
			}
		}
	}
}

// TestFixedPointDetachesRedundantGroupLayer: fn3 receives its only member
// of group g1 (pkg-7) from two layers, and the second one (pkg-2, pkg-7,
// pkg3, pkg4, pkg6, shared with fn12) gives it nothing its other layers do
// not. detachRedundant kept any layer holding a group member, while
// keepPrevious, which keeps only layers giving something new, dropped it
// on replanning. A layer holding group members may go when another layer
// of the function holds all of them.
func TestFixedPointDetachesRedundantGroupLayer(t *testing.T) {
	in := groupRepo(
		map[string]int64{"pkg0==1": 0, "pkg1==1": 0, "pkg3==1": 0, "pkg4==1": 0, "pkg5==1": 10_000_000, "pkg6==1": 0},
		[]planner.Group{{Name: "g0", Packages: []string{"pkg-0", "pkg-1", "pkg-4"}}, {Name: "g1", Packages: []string{"pkg-2", "pkg-7"}}},
		[]string{"fn3", "pkg-0==1", "pkg2==1", "pkg3==1", "pkg4==1", "pkg5==1", "pkg6==1", "pkg-7==1"},
		[]string{"fn4", "pkg-0==1", "pkg1==1", "pkg3==1", "pkg-5==1", "pkg6==1", "pkg-7==1"},
		[]string{"fn12", "pkg0==1", "pkg-1==1", "pkg-2==1", "pkg3==1", "pkg4==1", "pkg5==1", "pkg6==1", "pkg-7==1"},
	)
	checkFixedPoint(t, in)
}

// TestFixedPointGenerated: generated monorepos on which the plan was not
// its own fixed point. Enrich added a package to a layer counting on prune
// to drop its functions' other copies, but prune keeps a layer unchanged
// for less than a twentieth of its size: a function then received the
// package twice, beyond three times MaxExtra, and keepPrevious, which
// keeps no layer beyond that, replanned it.
func TestFixedPointGenerated(t *testing.T) {
	for _, c := range []struct {
		shape     synth.Shape
		fns, seed int
	}{{synth.ShapeHugeStacks, 100, 4}, {synth.ShapeFlatOverlap, 300, 4}, {synth.ShapeServices, 300, 7}} {
		m := synth.Generate(synth.Options{Functions: c.fns, Seed: uint64(c.seed), Shape: c.shape})
		checkFixedPoint(t, m.Input)
	}
}

// TestFixedPointReuseKeepsGroupsWhole: fn8 receives its members of group
// g0 (pkg-0, pkg-3, pkg-4) in round 0. In round 1, over budget, it reused
// the layer of pkg1 that fn10 and fn12 share, which a copy of pkg-0 and
// pkg-3 had fattened: reuse checked groups against what fn8 still needed
// only, so the layer split fn8's group, and keepPrevious, which checks the
// whole closure, dropped it on replanning.
func TestFixedPointReuseKeepsGroupsWhole(t *testing.T) {
	in := groupRepo(
		map[string]int64{"pkg0==2": 0, "pkg1==1": 10_000_000, "pkg3==1": 0, "pkg3==2": 0, "pkg4==1": 0, "pkg-4==2": 10_000_000},
		[]planner.Group{{Name: "g0", Packages: []string{"PKG-0", "PKG-1", "PKG-3", "PKG-2", "PKG-4"}}},
		[]string{"fn1", "pkg0==1", "pkg2==1", "pkg3==1", "pkg4==1", "pkg5==1"},
		[]string{"fn5", "pkg0==1", "pkg2==1", "pkg_3==1", "pkg4==1", "lib==0"},
		[]string{"fn8", "pkg_0==1", "pkg1==1", "pkg2==1", "pkg_3==1", "pkg_4==2", "pkg5==1", "lib==0"},
		[]string{"fn10", "pkg1==1", "pkg2==2", "pkg_3==1"},
		[]string{"fn12", "pkg_0==1", "pkg1==1", "pkg2==1", "pkg3==1", "pkg5==1"},
	)
	in.Limits = planner.Limits{LayersPerFunction: 4, ReservedLayers: 1}
	checkFixedPoint(t, in)
}

// TestFixedPointSharedFunctionLayerKeepsGroupsWhole: fn4 receives its
// group g0 (pkg0, pkg1) from a shared layer; its function layer (pkg7,
// pkg8) and fn7's (pkg0, pkg8) merged into one that held pkg0 without
// pkg1 for fn4. Merging function layers did not check groups; keepPrevious
// does, so replanning gave fn4 a function layer of its own.
func TestFixedPointSharedFunctionLayerKeepsGroupsWhole(t *testing.T) {
	in := groupRepo(map[string]int64{"pkg0==1": 0, "pkg1==1": 1_000_000, "pkg6==1": 1_000_000, "pkg7==1": 0, "pkg8==1": 1_000_000},
		[]planner.Group{{Name: "g0", Packages: []string{"pkg0", "pkg1"}}},
		[]string{"fn4", "pkg0==1", "pkg1==1", "pkg7==1", "pkg8==1"},
		[]string{"fn6", "pkg6==1", "pkg8==1"},
		[]string{"fn7", "pkg0==1", "pkg6==1", "pkg8==1"})
	in.Limits = planner.Limits{LayersPerFunction: 2}
	checkFixedPoint(t, in)
}

// TestPinnedGroupNoSecondVersion: group g0 holds two versions of pkg1, so
// its members are copied into each function's own layer.
func TestPinnedGroupNoSecondVersion(t *testing.T) {
	in := groupRepo(map[string]int64{"pkg0==1": 0, "pkg1==1": 0, "pkg1==2": 0, "pkg4==2": 1_000_000, "pkg5==1": 0, "pkg7==1": 0},
		[]planner.Group{{Name: "g0", Packages: []string{"pkg0", "pkg1"}}},
		[]string{"fn2", "pkg1==1", "pkg4==2"},
		[]string{"fn3", "pkg0==1", "pkg4==2", "pkg7==1", "lib==0"},
		[]string{"fn4", "pkg1==1", "pkg4==2"},
		[]string{"fn5", "lib==0"},
		[]string{"fn6", "pkg7==1"},
		[]string{"fn7", "pkg0==1", "pkg1==2", "pkg5==1", "pkg7==1", "lib==0"})
	in.Limits = planner.Limits{LayersPerFunction: 3}
	checkFixedPoint(t, in)
}
