package planner

import (
	"container/heap"
	"encoding/binary"
	"math"
	"slices"
)

// mergeDepth bounds the blocks of a function considered for merges to its
// largest ones, mergeDepth per free slot: smaller blocks end up copied into
// its function layer whatever is merged, and the bound keeps merging close
// to linear.
const mergeDepth = 2

// mergeRatio bounds how much larger one layer may be than what a merge,
// an addition or a hoist brings into it once every layer exists. A large
// layer then never takes in small packages, whose users change often: its
// content, and so its name, stay stable. Small packages group with small
// ones instead.
const mergeRatio = 20

// blockMergeRatio is mergeRatio for the blocks of the rounds. It is
// looser: blocks form in each plan afresh, and a small class merged into a
// large block spares a slot to every function needing both (on generated
// monorepos, 50 rather than 20 stores 1% less and changes fewer layer
// bytes when a function changes, since fewer small classes end up copied
// into function layers).
const blockMergeRatio = 50

// block is a set of units that travel together in one round: first a
// sharing class (units still needed by exactly the same functions), then
// unions of classes merged so functions fit their budgets.
type block struct {
	units   []int32 // ascending
	bytes   int64
	fns     []int32 // functions needing at least one unit, ascending
	classes int
	anchor  int32 // smallest unit: a tie-breaker independent of input order
	alive   bool
}

// fnBlock is a block a function needs, with the bytes of it the function
// still needs.
type fnBlock struct {
	b    int32
	need int64
}

// buildBlocks forms this round's sharing classes: the units still needed by
// exactly the same active functions (atoms whole) form one block.
func (ts *targetState) buildBlocks(active []int32) {
	ts.blocks = ts.blocks[:0]
	users := make([][]int32, len(ts.units)) // active functions still needing each unit
	for _, f := range active {
		fs := ts.live[f]
		fs.blocks = fs.blocks[:0]
		fs.roundExtra = 0
		for _, u := range fs.rest {
			users[u] = append(users[u], f)
		}
	}
	atoms := map[int32][]int32{}
	var roots []int32
	for u := range users {
		if len(users[u]) == 0 {
			continue
		}
		r := ts.atom[u]
		if _, ok := atoms[r]; !ok {
			roots = append(roots, r)
		}
		atoms[r] = append(atoms[r], int32(u))
	}
	slices.Sort(roots)
	classOf := map[string]int32{}
	var key []byte
	for _, r := range roots {
		us := atoms[r]
		slices.Sort(us)
		sig := users[us[0]]
		for _, u := range us[1:] {
			sig = unionSorted(sig, users[u])
		}
		key = key[:0]
		for _, f := range sig {
			key = binary.LittleEndian.AppendUint32(key, uint32(f))
		}
		b, ok := classOf[string(key)]
		if !ok {
			b = int32(len(ts.blocks))
			classOf[string(key)] = b
			ts.blocks = append(ts.blocks, block{fns: sig, classes: 1, anchor: r, alive: true})
		}
		blk := &ts.blocks[b]
		blk.units = append(blk.units, us...)
		for _, u := range us {
			blk.bytes += ts.units[u].bytes
		}
	}
	for _, f := range active {
		clear(ts.live[f].planned)
	}
	for i := range ts.blocks {
		blk := &ts.blocks[i]
		slices.Sort(blk.units)
		for _, f := range blk.fns {
			fs := ts.live[f]
			need := ts.needBytes(fs, blk.units)
			fs.blocks = append(fs.blocks, fnBlock{b: int32(i), need: need})
			fs.roundExtra += blk.bytes - need
			if blk.bytes > need {
				ts.plan(fs, blk.units)
			}
		}
	}
}

// threshold is the need of the smallest block of a function still considered
// for merges; computed once per round.
func (ts *targetState) threshold(fs *fnState) int64 {
	m := mergeDepth * fs.slots
	if len(fs.blocks) <= m {
		return 0
	}
	needs := make([]int64, len(fs.blocks))
	for i, fb := range fs.blocks {
		needs[i] = fb.need
	}
	slices.Sort(needs)
	return needs[len(needs)-m]
}

// candidate is a possible merge of blocks x and y; cost is the extra bytes
// it delivers per byte it delivers to functions needing both blocks.
type candidate struct {
	x, y   int32
	cost   float64
	ax, ay int32 // anchors, for ties
}

type candidateHeap []candidate

func (h candidateHeap) Len() int { return len(h) }
func (h candidateHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.cost != b.cost {
		return a.cost < b.cost
	}
	return a.ax < b.ax || a.ax == b.ax && a.ay < b.ay
}
func (h candidateHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candidateHeap) Push(x any)   { *h = append(*h, x.(candidate)) }
func (h *candidateHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// newCandidate rates merging x and y, co being the number of functions
// needing both.
func (ts *targetState) newCandidate(x, y int32, co int64) candidate {
	bx, by := &ts.blocks[x], &ts.blocks[y]
	if by.anchor < bx.anchor {
		x, y, bx, by = y, x, by, bx
	}
	extra := (int64(len(bx.fns))-co)*by.bytes + (int64(len(by.fns))-co)*bx.bytes
	cost := float64(extra) / (float64(co) * float64(bx.bytes+by.bytes+1))
	return candidate{x: x, y: y, cost: cost, ax: bx.anchor, ay: by.anchor}
}

// mergeBlocks greedily merges the large blocks of functions over their
// budget, most similar pair first, as long as no function needing only one
// of them receives more extra bytes than MaxExtra allows, more bytes than
// its size limit, or a second version of a distribution.
func (ts *targetState) mergeBlocks(active []int32) {
	pairs := map[uint64]int64{}
	pairKey := func(a, b int32) uint64 {
		if a > b {
			a, b = b, a
		}
		return uint64(a)<<32 | uint64(b)
	}
	for _, f := range active {
		fs := ts.live[f]
		fs.least = ts.threshold(fs)
		if !ts.over(fs) {
			continue
		}
		least := fs.least
		for i, a := range fs.blocks {
			if a.need < least {
				continue
			}
			for _, b := range fs.blocks[i+1:] {
				if b.need >= least && ts.balanced(a.b, b.b) {
					pairs[pairKey(a.b, b.b)] = 0
				}
			}
		}
	}
	if len(pairs) == 0 {
		return
	}
	// Count the functions needing both blocks of each pair, among their
	// large blocks only: an estimate for ordering; feasibility is exact.
	for _, f := range active {
		fs := ts.live[f]
		for i, a := range fs.blocks {
			if a.need < fs.least {
				continue
			}
			for _, b := range fs.blocks[i+1:] {
				if b.need < fs.least {
					continue
				}
				if n, ok := pairs[pairKey(a.b, b.b)]; ok {
					pairs[pairKey(a.b, b.b)] = n + 1
				}
			}
		}
	}
	h := make(candidateHeap, 0, len(pairs))
	for k, co := range pairs {
		h = append(h, ts.newCandidate(int32(k>>32), int32(uint32(k)), co))
	}
	heap.Init(&h)

	co := make([]int64, 2*len(ts.blocks))
	benefit := make([]int64, 2*len(ts.blocks))
	var touched []int32
	for h.Len() > 0 {
		c := heap.Pop(&h).(candidate)
		bx, by := &ts.blocks[c.x], &ts.blocks[c.y]
		if !bx.alive || !by.alive || !ts.helps(bx, by) || !ts.feasible(bx, by) {
			continue
		}
		z := ts.merge(c.x, c.y)
		for _, f := range ts.blocks[z].fns {
			fs := ts.live[f]
			least := int64(math.MaxInt64)
			if ts.over(fs) {
				least = fs.least
			}
			for _, fb := range fs.blocks {
				if fb.b == z {
					continue
				}
				if co[fb.b] == 0 {
					touched = append(touched, fb.b)
				}
				co[fb.b]++
				if fb.need >= least {
					benefit[fb.b]++
				}
			}
		}
		for _, w := range touched {
			if benefit[w] > 0 && ts.balanced(z, w) {
				heap.Push(&h, ts.newCandidate(z, w, co[w]))
			}
			co[w], benefit[w] = 0, 0
		}
		touched = touched[:0]
	}
}

// balanced reports whether neither block is blockMergeRatio times larger
// than the other.
func (ts *targetState) balanced(x, y int32) bool {
	bx, by := ts.blocks[x].bytes, ts.blocks[y].bytes
	return max(bx, by) <= blockMergeRatio*min(bx, by)
}

// helps reports whether a function over its budget needs both blocks.
func (ts *targetState) helps(x, y *block) bool {
	i, j := 0, 0
	for i < len(x.fns) && j < len(y.fns) {
		switch {
		case x.fns[i] < y.fns[j]:
			i++
		case x.fns[i] > y.fns[j]:
			j++
		default:
			if ts.over(ts.live[x.fns[i]]) {
				return true
			}
			i++
			j++
		}
	}
	return false
}

// feasible reports whether every function needing only one of the blocks
// can receive the other one.
func (ts *targetState) feasible(x, y *block) bool {
	i, j := 0, 0
	for i < len(x.fns) || j < len(y.fns) {
		switch {
		case j == len(y.fns) || i < len(x.fns) && x.fns[i] < y.fns[j]:
			if !ts.canReceive(ts.live[x.fns[i]], y) {
				return false
			}
			i++
		case i == len(x.fns) || y.fns[j] < x.fns[i]:
			if !ts.canReceive(ts.live[y.fns[j]], x) {
				return false
			}
			j++
		default:
			i++
			j++
		}
	}
	return true
}

// canReceive reports whether a function may receive a whole block it does
// not need.
func (ts *targetState) canReceive(fs *fnState, b *block) bool {
	return ts.fits(fs, fs.extra+fs.roundExtra+b.bytes) && !ts.conflicts(fs, b.units)
}

// merge replaces blocks x and y by their union and returns its id.
func (ts *targetState) merge(x, y int32) int32 {
	bx, by := &ts.blocks[x], &ts.blocks[y]
	z := block{
		units:   unionSorted(bx.units, by.units),
		bytes:   bx.bytes + by.bytes,
		fns:     unionSorted(bx.fns, by.fns),
		classes: bx.classes + by.classes,
		anchor:  min(bx.anchor, by.anchor),
		alive:   true,
	}
	xb, yb := bx.bytes, by.bytes
	xu, yu := bx.units, by.units
	bx.alive, by.alive = false, false
	bx.units, by.units, bx.fns, by.fns = nil, nil, nil, nil
	id := int32(len(ts.blocks))
	ts.blocks = append(ts.blocks, z)
	for _, f := range z.fns {
		fs := ts.live[f]
		var need int64
		var had []int32
		out := fs.blocks[:0]
		for _, fb := range fs.blocks {
			switch fb.b {
			case x:
				fs.roundExtra -= xb - fb.need
			case y:
				fs.roundExtra -= yb - fb.need
			default:
				out = append(out, fb)
				continue
			}
			need += fb.need
			had = append(had, fb.b)
		}
		if len(had) == 1 {
			// The function needed one of the blocks; it receives the other.
			if had[0] == x {
				ts.plan(fs, yu)
			} else {
				ts.plan(fs, xu)
			}
		}
		fs.blocks = append(out, fnBlock{b: id, need: need})
		fs.roundExtra += z.bytes - need
	}
	return id
}
