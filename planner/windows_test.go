package planner

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestContentWindows checks that content-defined windows keep equal keys
// together and respect the limit, and that inserting one element changes
// at most three windows wherever it goes: the one it joins, which its key
// may split in two, and the next when the limit moves a boundary. Windows
// cut every n elements would shift every window after it.
func TestContentWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const mean, limit = 8, 64
	for trial := range 200 {
		keys := make([]uint64, 300+rng.IntN(300))
		for i := range keys {
			keys[i] = rng.Uint64N(120) * 0x9e3779b97f4a7c15 // a few elements share each key
		}
		sortKeys := func(ks []uint64) {
			slices.SortFunc(ks, func(a, b uint64) int { return cmpHashes(a, b) })
		}
		sortKeys(keys)
		id := func(k uint64) uint64 { return k }
		before := contentWindows(keys, id, mean, limit)
		var n int
		for i, w := range before {
			n += len(w)
			if len(w) > limit {
				t.Fatalf("trial %d: window %d holds %d elements, limit %d", trial, i, len(w), limit)
			}
			if i > 0 && w[0] == before[i-1][len(before[i-1])-1] && len(before[i-1]) < limit {
				t.Fatalf("trial %d: key %x is cut between windows %d and %d", trial, w[0], i-1, i)
			}
		}
		if n != len(keys) {
			t.Fatalf("trial %d: windows hold %d elements, want %d", trial, n, len(keys))
		}
		// One element more, with a key that may be new or not.
		more := append(slices.Clone(keys), rng.Uint64N(130)*0x9e3779b97f4a7c15)
		sortKeys(more)
		after := contentWindows(more, id, mean, limit)
		changed := 0
		for _, w := range after {
			if !slices.ContainsFunc(before, func(v []uint64) bool { return slices.Equal(v, w) }) {
				changed++
			}
		}
		if changed > 3 {
			t.Errorf("trial %d: one more element changed %d of %d windows", trial, changed, len(after))
		}
	}
}

func cmpHashes(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
