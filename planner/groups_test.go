package planner_test

import (
	"fmt"
	"testing"

	"github.com/layers-dev/layers/planner"
	"pgregory.net/rapid"
)

// TestPropertyGroups plans small monorepos dense in groups, with few
// layers per function, where genInput rarely puts a function's group
// members in several rounds' layers: the invariants hold (each layer a
// function attaches holds all or none of its members of a group) and the
// plan is its own fixed point. It found reuse and the sharing of
// function layers splitting groups.
func TestPropertyGroups(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		names := rapid.IntRange(4, 9).Draw(t, "names")
		sizes := map[string]int64{}
		for i := range names {
			for _, v := range []string{"1", "2"} {
				sizes[fmt.Sprintf("pkg%d==%s", i, v)] = rapid.SampledFrom([]int64{0, 0, 1_000_000, 10_000_000, 40_000_000}).Draw(t, "bytes")
			}
		}
		var groups []planner.Group
		next := 0
		for g := range rapid.IntRange(1, 2).Draw(t, "groups") {
			grp := planner.Group{Name: fmt.Sprintf("g%d", g)}
			for range rapid.IntRange(2, 3).Draw(t, "members") {
				if next < names {
					grp.Packages = append(grp.Packages, fmt.Sprintf("pkg%d", next))
					next++
				}
			}
			groups = append(groups, grp)
		}
		var fns [][]string
		for i := range rapid.IntRange(3, 12).Draw(t, "functions") {
			f := []string{fmt.Sprintf("fn%d", i)}
			for j := range names {
				if rapid.Float64Range(0, 1).Draw(t, "take") < 0.5 {
					f = append(f, fmt.Sprintf("pkg%d==%s", j, rapid.SampledFrom([]string{"1", "1", "1", "2"}).Draw(t, "version")))
				}
			}
			if rapid.Float64Range(0, 1).Draw(t, "local") < 0.2 {
				f = append(f, "lib==0")
			}
			fns = append(fns, f)
		}
		in := groupRepo(sizes, groups, fns...)
		in.Limits = planner.Limits{LayersPerFunction: rapid.IntRange(2, 5).Draw(t, "layers")}
		// On failure, what a groupRepo test reproducing it needs.
		t.Logf("sizes %v, groups %v, functions %v, layers %d", sizes, groups, fns, in.Limits.LayersPerFunction)
		checkFixedPoint(t, in)
	})
}
