package planner

import (
	"cmp"
	"container/heap"
	"slices"
)

// cohortWindow bounds how many function layers are compared with each other
// when looking for ones to share, which keeps this step linear.
const cohortWindow = 64

// cohort is a function layer, possibly shared by functions whose leftovers
// are alike.
type cohort struct {
	units []int32
	bytes int64
	fns   []int32
	alive bool
}

// shareFunctionLayers gives every function a function layer for the
// packages no shared layer delivered, and lets functions with alike
// leftovers share one: two function layers are merged when the stored bytes
// it saves are at least the extra bytes it delivers and every function can
// take them (MaxExtra, size limit, no second version, no group split). Only layers whose
// largest package is the same are compared.
func (ts *targetState) shareFunctionLayers() {
	index := map[string]int{}
	var cs []*cohort
	for fi, fs := range ts.live {
		us := unionSorted(fs.rest, fs.pinned)
		if len(us) == 0 {
			continue
		}
		k := unitsKey(us)
		i, ok := index[k]
		if !ok {
			i = len(cs)
			index[k] = i
			cs = append(cs, &cohort{units: us, bytes: ts.bytesOf(us), alive: true})
		}
		cs[i].fns = append(cs[i].fns, int32(fi))
	}
	buckets := map[int32][]*cohort{}
	var keys []int32
	for _, c := range cs {
		h := c.units[0]
		for _, u := range c.units[1:] {
			if ts.units[u].bytes > ts.units[h].bytes {
				h = u
			}
		}
		if _, ok := buckets[h]; !ok {
			keys = append(keys, h)
		}
		buckets[h] = append(buckets[h], c)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b := buckets[k]
		for len(b) > 0 {
			n := min(len(b), cohortWindow)
			for _, c := range ts.agglomerate(b[:n]) {
				for _, f := range c.fns {
					ts.addLayer(f, c.units, layerOrigin{})
				}
			}
			b = b[n:]
		}
	}
}

// deliverExtra records that a function receives the units of us that are
// not in own as extras.
func (ts *targetState) deliverExtra(fs *fnState, us, own []int32) {
	for _, u := range us {
		if !contains(own, u) {
			ts.receiveExtra(fs, u)
		}
	}
}

func (ts *targetState) bytesOf(us []int32) int64 {
	var n int64
	for _, u := range us {
		n += ts.units[u].bytes
	}
	return n
}

// cohortPair is a possible merge of two cohorts, best gain first.
type cohortPair struct {
	i, j int
	gain int64
}

type cohortHeap []cohortPair

func (h cohortHeap) Len() int { return len(h) }
func (h cohortHeap) Less(a, b int) bool {
	x, y := h[a], h[b]
	return x.gain > y.gain || x.gain == y.gain && (x.i < y.i || x.i == y.i && x.j < y.j)
}
func (h cohortHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *cohortHeap) Push(x any)   { *h = append(*h, x.(cohortPair)) }
func (h *cohortHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

// agglomerate merges cohorts greedily, largest gain (stored bytes saved
// minus extra bytes delivered) first, and returns the survivors.
func (ts *targetState) agglomerate(cs []*cohort) []*cohort {
	cs = slices.Clone(cs)
	var h cohortHeap
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if g, ok := ts.cohortGain(cs[i], cs[j]); ok {
				h = append(h, cohortPair{i, j, g})
			}
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		p := heap.Pop(&h).(cohortPair)
		a, b := cs[p.i], cs[p.j]
		if !a.alive || !b.alive {
			continue
		}
		m := &cohort{units: unionSorted(a.units, b.units), fns: unionSorted(a.fns, b.fns), alive: true}
		m.bytes = ts.bytesOf(m.units)
		for _, f := range a.fns {
			ts.deliverExtra(ts.live[f], b.units, a.units)
		}
		for _, f := range b.fns {
			ts.deliverExtra(ts.live[f], a.units, b.units)
		}
		a.alive, b.alive = false, false
		cs = append(cs, m)
		for i, c := range cs[:len(cs)-1] {
			if !c.alive {
				continue
			}
			if g, ok := ts.cohortGain(c, m); ok {
				heap.Push(&h, cohortPair{i, len(cs) - 1, g})
			}
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if c.alive {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *cohort) int { return cmp.Compare(a.fns[0], b.fns[0]) })
	return out
}

// cohortGain returns the stored bytes merging a and b saves minus the extra
// bytes it delivers, and whether the merge is allowed and worth it: no
// function receives a second version, nor part of one of its groups.
func (ts *targetState) cohortGain(a, b *cohort) (int64, bool) {
	shared := ts.sharedBytes(a.units, b.units)
	if shared == 0 {
		return 0, false
	}
	toA, toB := b.bytes-shared, a.bytes-shared
	cost := int64(len(a.fns))*toA + int64(len(b.fns))*toB
	if cost > shared {
		return 0, false
	}
	var merged []int32 // for functions with groups only
	whole := func(fs *fnState) bool {
		if !fs.tied {
			return true
		}
		if merged == nil {
			merged = unionSorted(a.units, b.units)
		}
		return ts.atomsWhole(fs, merged)
	}
	for _, f := range a.fns {
		if fs := ts.live[f]; !ts.fits(fs, fs.extra+toA) || ts.conflicts(fs, b.units) || !whole(fs) {
			return 0, false
		}
	}
	for _, f := range b.fns {
		if fs := ts.live[f]; !ts.fits(fs, fs.extra+toB) || ts.conflicts(fs, a.units) || !whole(fs) {
			return 0, false
		}
	}
	return shared - cost, true
}
