package planner

import (
	"cmp"
	"slices"
)

// hoistCandidates bounds the layers hoist weighs for each package: those
// attached by the most functions that need it.
const hoistCandidates = 8

// hoist moves a package stored in several layers into one layer that the
// functions needing it attach anyway, so that the other layers can drop
// it. Copies pile up where functions have no slot left: a library 40% of
// the functions need sits in a dozen function layers because each of
// their functions attaches four other layers already. Adding it to one of
// those, widely attached, stores it once more and lets every layer whose
// functions needing it all attach that one drop it. The move is made, most
// stored bytes first, when the copies it removes outweigh the extra bytes
// it delivers divided by leftoverCost, and every function attaching the
// layer can receive it: within its cap and size limit, one version per
// name. Kept layers never change; groups are never split (tied packages
// stay where they are). Like merges and additions, a hoist never puts a
// package into a layer more than mergeRatio times its size, however many
// of the layer's functions need it: a large layer's content then does not
// hinge on a small package. Letting one in when a quarter of the layer's
// functions needed it stored 2% less on generated monorepos of 300
// functions, but planned from scratch, one function gaining one package
// then renamed large layers, and the change put 19% of all layer bytes
// into new layers on average instead of 13% (BENCHMARKS.md).
func (ts *targetState) hoist() {
	var order []int32
	for u, ls := range ts.layersOf {
		if len(ls) >= 3 && !ts.tied[ts.atom[u]] {
			order = append(order, int32(u))
		}
	}
	waste := func(u int32) int64 { return int64(len(ts.layersOf[u])-1) * ts.units[u].bytes }
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(waste(b), waste(a)), cmp.Compare(a, b)) })
	for _, u := range order {
		ts.hoistUnit(u)
	}
	ts.dropUnused()
}

// hoistUnit makes the best hoist of unit u, if any.
func (ts *targetState) hoistUnit(u int32) {
	var holders []*layerAcc
	for _, l := range ts.layersOf[u] {
		if len(l.fns) > 0 {
			holders = append(holders, l)
		}
	}
	if len(holders) < 3 {
		return
	}
	b := ts.units[u].bytes
	// Candidates: layers without u attached by functions that need u,
	// those attached by the most first.
	attached := map[*layerAcc]int{}
	seen := map[int32]bool{}
	for _, h := range holders {
		for _, f := range h.fns {
			fs := ts.live[f]
			if seen[f] || !contains(fs.units, u) {
				continue
			}
			seen[f] = true
			for _, m := range fs.layers {
				if !m.origin.kept && !contains(m.units, u) && len(m.fns) >= 2 {
					attached[m]++
				}
			}
		}
	}
	// Every function needing u attaches a holder, so attached[m] is the
	// number of m's functions that need u.
	cands := make([]*layerAcc, 0, len(attached))
	for m := range attached {
		if b*mergeRatio >= m.bytes {
			cands = append(cands, m)
		}
	}
	slices.SortFunc(cands, func(x, y *layerAcc) int {
		return cmp.Or(cmp.Compare(attached[y], attached[x]), cmp.Compare(x.seq, y.seq))
	})
	cands = cands[:min(len(cands), hoistCandidates)]

	var best *layerAcc
	var bestGain int64
	var bestDrop []*layerAcc
	for _, m := range cands {
		if ts.layers[unitsKey(unionSorted(m.units, []int32{u}))] != nil {
			// The layer m would become exists: reshaping m would fold
			// into it, and a holder dropping u could be that layer.
			continue
		}
		var drop []*layerAcc
		dropped := map[*layerAcc]bool{}
		for _, h := range holders {
			if h.origin.kept {
				continue
			}
			if !slices.ContainsFunc(h.fns, func(f int32) bool {
				return contains(ts.live[f].units, u) && !contains(m.fns, f)
			}) {
				drop = append(drop, h)
				dropped[h] = true
			}
		}
		gain := int64(len(drop)-1) * b
		if gain <= 0 {
			continue
		}
		var extra int64
		for _, f := range m.fns {
			if d := ts.hoistDelta(ts.live[f], u, dropped); d > 0 {
				extra += d
			}
		}
		gain -= extra / leftoverCost
		if gain > bestGain && ts.mayHoist(m, u, dropped) {
			best, bestGain, bestDrop = m, gain, drop
		}
	}
	if best == nil {
		return
	}
	touched := slices.Clone(best.fns)
	ts.reshape(best, unionSorted(best.units, []int32{u}), []int32{u})
	for _, h := range bestDrop {
		touched = unionSorted(touched, h.fns)
		ts.reshape(h, slices.DeleteFunc(slices.Clone(h.units), func(v int32) bool { return v == u }), nil)
	}
	for _, f := range touched {
		ts.refresh(f)
	}
}

// hoistDelta is how many more bytes of unit u function fs receives when u
// joins one of its layers and the layers dropped lose it.
func (ts *targetState) hoistDelta(fs *fnState, u int32, dropped map[*layerAcc]bool) int64 {
	n := int64(1)
	for _, l := range fs.layers {
		if dropped[l] {
			n--
		}
	}
	return n * ts.units[u].bytes
}

// mayHoist reports whether every function attaching m can receive unit u
// in it when the layers dropped lose u.
func (ts *targetState) mayHoist(m *layerAcc, u int32, dropped map[*layerAcc]bool) bool {
	newOver := 0
	for _, f := range m.fns {
		fs := ts.live[f]
		d := ts.hoistDelta(fs, u, dropped)
		if d <= 0 {
			continue
		}
		extra := ts.extraOf(fs) + d
		if !ts.canTake(fs, []int32{u}, extra, nil, ts.capOf(fs, newOver)) {
			return false
		}
		if ts.goesOver(fs, extra) {
			newOver++
		}
	}
	return true
}

// reshape gives layer l new content: its functions attach a layer holding
// units instead (none when units is empty). added are the units copied in,
// which Explain reports.
func (ts *targetState) reshape(l *layerAcc, units, added []int32) {
	o := l.origin
	o.copied = unionSorted(o.copied, added)
	key := unitsKey(units)
	fns := l.fns
	l.fns = nil
	for _, f := range fns {
		fs := ts.live[f]
		fs.layers = slices.DeleteFunc(fs.layers, func(x *layerAcc) bool { return x == l })
		if len(units) == 0 || slices.ContainsFunc(fs.layers, func(x *layerAcc) bool { return unitsKey(x.units) == key }) {
			continue
		}
		ts.addLayer(f, units, o)
	}
}
