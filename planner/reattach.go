package planner

import (
	"cmp"
	"container/heap"
	"slices"
)

// dissolveUsers bounds the functions of a layer dissolve considers.
const dissolveUsers = 16

// coverFanout bounds the layers holding one package that cover looks at,
// which keeps it close to linear.
const coverFanout = 32

// mergeUsers bounds the functions of a shared layer mergeLeftovers may
// merge with another: widely shared layers keep stable contents.
const mergeUsers = 16

// enrichUsers bounds the functions of a layer enrich may add packages to:
// more widely shared layers keep stable contents.
const enrichUsers = 64

// reattach revisits, once every layer exists, each function that stores
// bytes no other function shares (its own function layer, or a shared
// layer only it attaches): it picks afresh, greedily, the existing layers
// other functions attach that cover most of its closure, and copies only
// what they leave into its own layer. It keeps the new choice when that
// layer is smaller than what it stored alone before, and drops the layers
// nobody attaches any more. The rounds choose layers before knowing which
// ones later rounds create; this pass sees them all, so many copies become
// attachments of layers that are stored anyway.
func (ts *targetState) reattach() {
	for f, fs := range ts.live {
		own := ts.ownBytes(int32(f), fs.layers)
		if own == 0 || fs.kept {
			continue // a function keeping previous layers keeps them
		}
		chosen, left, _, ok := ts.cover(int32(f), fs, nil, 0)
		if !ok || ts.bytesOf(left) >= own {
			continue
		}
		ts.replace(int32(f), chosen, left)
	}
	ts.dropUnused()
}

// replace detaches function f from its layers and attaches chosen plus
// its own layer holding left.
func (ts *targetState) replace(f int32, chosen []*layerAcc, left []int32) {
	fs := ts.live[f]
	for _, l := range fs.layers {
		i, _ := slices.BinarySearch(l.fns, f)
		l.fns = slices.Delete(l.fns, i, i+1)
	}
	fs.layers = fs.layers[:0]
	for _, l := range chosen {
		ts.addLayer(f, l.units, l.origin)
	}
	if len(left) > 0 {
		ts.addLayer(f, left, layerOrigin{})
	}
	ts.refresh(f)
}

// dropUnused forgets the layers no function attaches. Each unit's list of
// layers is filtered once, however many of its layers go: hoist and
// merges leave hundreds behind.
func (ts *targetState) dropUnused() {
	all := ts.all[:0]
	var touched []int32
	for _, l := range ts.all {
		if len(l.fns) > 0 {
			all = append(all, l)
			continue
		}
		delete(ts.layers, unitsKey(l.units))
		l.dropped = true
		touched = append(touched, l.units...)
	}
	ts.all = all
	slices.Sort(touched)
	for _, u := range slices.Compact(touched) {
		ts.layersOf[u] = slices.DeleteFunc(ts.layersOf[u], func(x *layerAcc) bool { return x.dropped })
	}
}

// dissolve removes shared layers with few functions when the bytes their
// functions then copy into their own layers are fewer than the layer's.
func (ts *targetState) dissolve() {
	ls := slices.Clone(ts.all)
	slices.SortStableFunc(ls, func(a, b *layerAcc) int { return cmp.Compare(len(a.fns), len(b.fns)) })
	type move struct {
		chosen []*layerAcc
		left   []int32
	}
	for _, l := range ls {
		if len(l.fns) < 2 || len(l.fns) > dissolveUsers || l.origin.kept || slices.ContainsFunc(l.fns, func(f int32) bool { return ts.live[f].kept }) {
			continue
		}
		delta := -l.bytes
		moves := make([]move, 0, len(l.fns))
		ok := true
		newOver := 0
		for _, f := range l.fns {
			fs := ts.live[f]
			chosen, left, extra, fine := ts.cover(f, fs, l, newOver)
			if !fine {
				ok = false
				break
			}
			if ts.goesOver(fs, extra) {
				newOver++
			}
			delta += ts.bytesOf(left) - ts.ownBytes(f, fs.layers)
			if delta >= 0 {
				ok = false
				break
			}
			moves = append(moves, move{chosen, left})
		}
		if !ok || delta >= 0 {
			continue
		}
		for i, f := range slices.Clone(l.fns) {
			ts.replace(f, moves[i].chosen, moves[i].left)
		}
	}
	ts.dropUnused()
}

// ownBytes is the size of the layers of ls that only function f attaches.
func (ts *targetState) ownBytes(f int32, ls []*layerAcc) int64 {
	var n int64
	for _, l := range ls {
		if len(l.fns) == 1 && l.fns[0] == f {
			n += l.bytes
		}
	}
	return n
}

// cover chooses, among the layers other functions attach, at most the
// function's budget of them, each covering the most bytes of its closure
// not covered yet (less a tenth of the extra bytes it brings), within
// extraCap times its allowance and its size limit, with no second version
// of a distribution and no group split; it returns them with the units left
// for the function's own layer. ok is false when nothing can be chosen.
func (ts *targetState) cover(f int32, fs *fnState, skip *layerAcc, newOver int) (chosen []*layerAcc, left []int32, extra int64, ok bool) {
	limit := ts.capOf(fs, newOver)
	if ts.mark == nil {
		ts.mark = make([]uint32, len(ts.units))
	}
	ts.stamp++
	stamp := ts.stamp
	for _, u := range fs.units {
		ts.mark[u] = stamp
	}
	if ts.other == nil {
		ts.other = make([]uint32, len(ts.units))
	}
	for _, u := range fs.others {
		ts.other[u] = stamp
	}
	// gain is the bytes each candidate holds that the function still
	// needs; -1 marks layers it may not choose.
	gain := ts.gains(stamp)
	var cands []*layerAcc
	for _, u := range fs.units {
		ls := ts.layersOf[u]
		if len(ls) > coverFanout {
			// A package copied into many layers finds no candidate the
			// function's other packages do not find; its bytes then
			// count as extra, which only makes cover more cautious.
			continue
		}
		for _, l := range ls {
			g, seen := gain.get(l)
			if !seen {
				if !ts.mayChoose(f, fs, l, skip, stamp) {
					gain.set(l, -1)
					continue
				}
				cands = append(cands, l)
			} else if g < 0 {
				continue
			}
			gain.set(l, g+ts.units[u].bytes)
		}
	}
	slices.SortFunc(cands, func(a, b *layerAcc) int { return cmp.Compare(a.seq, b.seq) })
	got := map[int32]int32{} // extras received: name -> unit
	for len(chosen) < ts.budget {
		var best *layerAcc
		var bestScore, bestExtra int64
		for _, l := range cands {
			g, _ := gain.get(l)
			ex := l.bytes - g
			if g <= 0 || !ts.fitsLimit(fs, extra+ex, limit) {
				continue
			}
			score := g - ex/10
			if best != nil && score <= bestScore {
				continue
			}
			clash := false
			for _, u := range l.units {
				if ts.mark[u] != stamp {
					if v, ok := got[ts.units[u].nameID]; ok && v != u {
						clash = true
						break
					}
				}
			}
			if !clash {
				best, bestScore, bestExtra = l, score, ex
			}
		}
		if best == nil {
			break
		}
		chosen = append(chosen, best)
		extra += bestExtra
		for _, u := range best.units {
			if ts.mark[u] != stamp {
				got[ts.units[u].nameID] = u
				continue
			}
			ts.mark[u] = 0
			if len(ts.layersOf[u]) > coverFanout {
				continue
			}
			for _, l := range ts.layersOf[u] {
				if g, _ := gain.get(l); g > 0 {
					gain.set(l, g-ts.units[u].bytes)
				}
			}
		}
		gain.set(best, 0)
	}
	if len(chosen) == ts.budget && ts.anyMarked(fs.units, stamp) {
		// The leftovers need a slot: give up the last, least useful layer.
		last := chosen[len(chosen)-1]
		chosen = chosen[:len(chosen)-1]
		for _, u := range last.units {
			if contains(fs.units, u) {
				ts.mark[u] = stamp
			}
		}
		for _, l := range chosen {
			for _, u := range l.units {
				if ts.mark[u] == stamp {
					ts.mark[u] = 0
				}
			}
		}
	}
	for _, u := range fs.units {
		if ts.mark[u] == stamp {
			left = append(left, u)
		}
	}
	extra = ts.bytesOf(left) - fs.closure
	for _, l := range chosen {
		extra += l.bytes
	}
	return chosen, left, extra, len(chosen) > 0 || len(left) > 0
}

// layerGains holds one value per layer for one cover, without a map: a
// value counts only when its stamp is the cover's.
type layerGains struct {
	stamp  uint32
	stamps []uint32
	vals   []int64
}

// gains returns the per-layer values for the cover of the given stamp.
func (ts *targetState) gains(stamp uint32) *layerGains {
	g := &ts.gainBuf
	if n := ts.seq; len(g.stamps) < n {
		g.stamps = append(g.stamps, make([]uint32, n-len(g.stamps))...)
		g.vals = append(g.vals, make([]int64, n-len(g.vals))...)
	}
	g.stamp = stamp
	return g
}

func (g *layerGains) get(l *layerAcc) (int64, bool) {
	if g.stamps[l.seq] != g.stamp {
		return 0, false
	}
	return g.vals[l.seq], true
}

func (g *layerGains) set(l *layerAcc, v int64) {
	g.stamps[l.seq], g.vals[l.seq] = g.stamp, v
}

// anyMarked reports whether some unit of us is still needed by the cover
// of the given stamp.
func (ts *targetState) anyMarked(us []int32, stamp uint32) bool {
	for _, u := range us {
		if ts.mark[u] == stamp {
			return true
		}
	}
	return false
}

// capOf is the most extra bytes a function may receive after the rounds:
// extraCap times its allowance while fewer than half the functions exceed
// their allowance (newOver more are about to), so MaxExtra still bounds
// the median function; its allowance otherwise.
func (ts *targetState) capOf(fs *fnState, newOver int) int64 {
	if fs.over || ts.overN+newOver+1 <= ts.quota {
		return extraCap * fs.allow
	}
	return fs.allow
}

// goesOver reports whether a function receiving extra bytes in total would
// newly exceed its allowance.
func (ts *targetState) goesOver(fs *fnState, extra int64) bool {
	return !fs.over && extra > fs.allow
}

// refresh updates whether a function exceeds its allowance.
func (ts *targetState) refresh(f int32) {
	fs := ts.live[f]
	over := ts.extraOf(fs) > fs.allow
	if over != fs.over {
		fs.over = over
		if over {
			ts.overN++
		} else {
			ts.overN--
		}
	}
}

// mergeWindow bounds how many function layers, ordered by their largest
// package, each one is compared with.
const mergeWindow = 64

// extraCap is how many times its MaxExtra allowance a function may receive
// when that spares copies.
const extraCap = 3

// leftoverCost divides the extra bytes a merge of function layers delivers
// before they are weighed against the stored bytes it saves.
const leftoverCost = 16

// extraOf is the planning bytes of a function's layers beyond its closure.
func (ts *targetState) extraOf(fs *fnState) int64 {
	var n int64
	for _, l := range fs.layers {
		n += l.bytes
	}
	return n - fs.closure
}

// mergeLeftovers merges function layers pairwise, best first, when the
// stored bytes a merge saves outweigh the extra bytes it delivers.
func (ts *targetState) mergeLeftovers() {
	var ls []*layerAcc
	for _, l := range ts.all {
		if len(l.fns) > 0 && !l.origin.kept && (!l.origin.shared || len(l.fns) <= mergeUsers) {
			ls = append(ls, l)
		}
	}
	heaviest := func(l *layerAcc) int32 {
		h := l.units[0]
		for _, u := range l.units[1:] {
			if ts.units[u].bytes > ts.units[h].bytes {
				h = u
			}
		}
		return h
	}
	slices.SortStableFunc(ls, func(a, b *layerAcc) int { return cmp.Compare(heaviest(a), heaviest(b)) })
	for start := 0; start < len(ls); start += mergeWindow {
		ts.mergeGroup(ls[start:min(len(ls), start+mergeWindow)])
	}
	ts.dropUnused()
}

// pairGain returns the stored bytes merging layers a and b saves, less
// the extra bytes it delivers divided by leftoverCost, and whether the merge
// is worth it and allowed: balanced sizes, every function within its cap,
// its size limit and one version per name, no group it has split (the
// merged layer holds all or none of its members of each group, as cover
// and keepPrevious require of every layer), fewer than half over MaxExtra.
func (ts *targetState) pairGain(a, b *layerAcc) (int64, bool) {
	shared := ts.sharedBytes(a.units, b.units)
	if max(a.bytes, b.bytes) > mergeRatio*min(a.bytes, b.bytes) {
		return 0, false
	}
	toA, toB := b.bytes-shared, a.bytes-shared
	cost := int64(len(a.fns))*toA + int64(len(b.fns))*toB
	gain := shared - cost/leftoverCost
	if shared == 0 || gain <= 0 {
		return 0, false
	}
	newOver := 0
	var merged []int32
	take := func(f int32, units []int32, add int64, skip *layerAcc) bool {
		fs := ts.live[f]
		if fs.tied {
			if merged == nil {
				merged = unionSorted(a.units, b.units)
			}
			if !ts.atomsWhole(fs, merged) {
				return false
			}
		}
		extra := ts.extraOf(fs) + add
		if !ts.canTake(fs, units, extra, skip, ts.capOf(fs, newOver)) {
			return false
		}
		if ts.goesOver(fs, extra) {
			newOver++
		}
		return true
	}
	for _, f := range a.fns {
		if !take(f, b.units, toA, a) {
			return 0, false
		}
	}
	for _, f := range b.fns {
		if !take(f, a.units, toB, b) {
			return 0, false
		}
	}
	return gain, true
}

// mergeGroup merges layers of ls pairwise, best gain first, re-rating a
// pair whose gain changed since it was queued.
func (ts *targetState) mergeGroup(ls []*layerAcc) {
	ls = slices.Clone(ls)
	alive := make([]bool, len(ls))
	for i := range alive {
		alive[i] = true
	}
	var h cohortHeap
	for i := range ls {
		for j := i + 1; j < len(ls); j++ {
			if g, ok := ts.pairGain(ls[i], ls[j]); ok {
				h = append(h, cohortPair{i, j, g})
			}
		}
	}
	heap.Init(&h)
	for h.Len() > 0 {
		p := heap.Pop(&h).(cohortPair)
		if !alive[p.i] || !alive[p.j] {
			continue
		}
		if g, ok := ts.pairGain(ls[p.i], ls[p.j]); !ok || g != p.gain {
			if ok {
				heap.Push(&h, cohortPair{p.i, p.j, g})
			}
			continue
		}
		a, b := ls[p.i], ls[p.j]
		units := unionSorted(a.units, b.units)
		if ts.layers[unitsKey(units)] != nil {
			continue // a function may attach it already
		}
		fns := unionSorted(a.fns, b.fns)
		for _, f := range fns {
			fs := ts.live[f]
			fs.layers = slices.DeleteFunc(fs.layers, func(l *layerAcc) bool { return l == a || l == b })
		}
		a.fns, b.fns = nil, nil
		alive[p.i], alive[p.j] = false, false
		o := layerOrigin{copied: unionSorted(a.origin.copied, b.origin.copied)}
		if a.origin.shared || b.origin.shared {
			o.shared, o.classes = true, a.origin.classes+b.origin.classes
		}
		for _, f := range fns {
			ts.addLayer(f, units, o)
		}
		for _, f := range fns {
			ts.refresh(f)
		}
		m := ts.layers[unitsKey(units)]
		ls = append(ls, m)
		alive = append(alive, true)
		for i := range len(ls) - 1 {
			if alive[i] && ls[i] != m {
				if g, ok := ts.pairGain(ls[i], m); ok {
					heap.Push(&h, cohortPair{i, len(ls) - 1, g})
				}
			}
		}
	}
}

// prune removes from each layer the packages every function attaching it
// either does not need or also receives from another of its layers: they
// are stored twice for nothing. Members of user groups stay, so groups
// are never split.
func (ts *targetState) prune() {
	// Layers fewer functions attach lose their copies first.
	ls := slices.Clone(ts.all)
	slices.SortStableFunc(ls, func(a, b *layerAcc) int { return cmp.Compare(len(a.fns), len(b.fns)) })
	for _, l := range ls {
		if len(l.fns) == 0 || l.origin.kept {
			continue
		}
		keep := make([]int32, 0, len(l.units))
		for _, u := range l.units {
			if ts.tied[ts.atom[u]] || ts.neededOnlyHere(l, u) {
				keep = append(keep, u)
			}
		}
		if len(keep) == len(l.units) || (l.bytes-ts.bytesOf(keep))*mergeRatio < l.bytes {
			// Nothing to drop, or too little: a layer keeps its content
			// (its name) for less than a twentieth of its size.
			continue
		}
		fns := l.fns
		l.fns = nil
		key := unitsKey(keep)
		for _, f := range fns {
			fs := ts.live[f]
			fs.layers = slices.DeleteFunc(fs.layers, func(x *layerAcc) bool { return x == l })
			if len(keep) == 0 || slices.ContainsFunc(fs.layers, func(x *layerAcc) bool { return unitsKey(x.units) == key }) {
				continue
			}
			ts.addLayer(f, keep, l.origin)
		}
	}
	ts.dropUnused()
}

// neededOnlyHere reports whether some function attaching l needs unit u and
// receives it from no other layer.
func (ts *targetState) neededOnlyHere(l *layerAcc, u int32) bool {
	for _, f := range l.fns {
		fs := ts.live[f]
		if !contains(fs.units, u) {
			continue
		}
		if !slices.ContainsFunc(fs.layers, func(m *layerAcc) bool { return m != l && contains(m.units, u) }) {
			return true
		}
	}
	return false
}

// enrich adds to each layer the packages that layers attached only by its
// functions hold, when the copies prune can then remove outweigh the extra
// bytes the addition delivers to its functions that do not need them.
func (ts *targetState) enrich() {
	for _, l := range slices.Clone(ts.all) {
		if len(l.fns) < 2 || len(l.fns) > enrichUsers || l.origin.kept {
			continue
		}
		count := map[int32]int64{}
		seen := map[*layerAcc]bool{l: true}
		for _, f := range l.fns {
			for _, m := range ts.live[f].layers {
				if seen[m] {
					continue
				}
				seen[m] = true
				if !subset(m.fns, l.fns) {
					continue
				}
				for _, u := range m.units {
					if !contains(l.units, u) && !ts.tied[ts.atom[u]] {
						count[u]++
					}
				}
			}
		}
		var cand []int32
		for u, n := range count {
			if n > 1 {
				cand = append(cand, u)
			}
		}
		if len(cand) == 0 {
			continue
		}
		slices.SortFunc(cand, func(a, b int32) int {
			return cmp.Or(cmp.Compare(count[b]*ts.units[b].bytes, count[a]*ts.units[a].bytes), cmp.Compare(a, b))
		})
		var added []int32
		addBytes := make(map[int32]int64, len(l.fns))
		// Bytes a function may receive twice: prune drops a copy only when
		// that changes its layer by a twentieth, so each counts towards
		// extraCap times MaxExtra, like the copies fattening leaves.
		twice := make(map[int32]int64, len(l.fns))
		wentOver := map[int32]bool{}
		for _, u := range cand {
			b := ts.units[u].bytes
			var others int64
			for _, f := range l.fns {
				if !contains(ts.live[f].units, u) {
					others++
				}
			}
			if (count[u]-1)*b*leftoverCost <= others*b || slices.ContainsFunc(added, func(v int32) bool { return ts.units[v].nameID == ts.units[u].nameID }) {
				continue
			}
			ok := true
			var over []int32
			for _, f := range l.fns {
				fs := ts.live[f]
				if !ts.keepsCopy(fs, l, u) {
					if !ts.fitsLimit(fs, ts.extraOf(fs)+addBytes[f]+twice[f]+b, extraCap*fs.allow) {
						ok = false
						break
					}
					continue
				}
				extra := ts.extraOf(fs) + addBytes[f] + b
				limit := fs.allow
				if fs.over || wentOver[f] || ts.overN+len(wentOver)+len(over)+1 <= ts.quota {
					limit = extraCap * fs.allow
				}
				if !ts.canTake(fs, []int32{u}, extra, nil, limit) || !ts.fitsLimit(fs, extra+twice[f], extraCap*fs.allow) {
					ok = false
					break
				}
				if !fs.over && !wentOver[f] && extra > fs.allow {
					over = append(over, f)
				}
			}
			if !ok {
				continue
			}
			for _, f := range over {
				wentOver[f] = true
			}
			for _, f := range l.fns {
				if ts.keepsCopy(ts.live[f], l, u) {
					addBytes[f] += b
				} else {
					twice[f] += b
				}
			}
			added = append(added, u)
		}
		// Like merges, a layer never takes in packages 20 times smaller
		// than itself: large layers keep stable contents.
		if len(added) == 0 || ts.bytesOf(added)*mergeRatio < l.bytes {
			continue
		}
		slices.Sort(added)
		fns := l.fns
		ts.reshape(l, unionSorted(l.units, added), added)
		for _, f := range fns {
			ts.refresh(f)
		}
	}
	ts.dropUnused()
}

// keepsCopy reports whether function f would receive unit u in extra once
// it is added to layer l: when it does not need u, or when it receives u
// from a layer some function not attaching l also attaches, so that prune
// cannot remove that copy.
func (ts *targetState) keepsCopy(fs *fnState, l *layerAcc, u int32) bool {
	if !contains(fs.units, u) {
		return true
	}
	for _, m := range fs.layers {
		if m != l && contains(m.units, u) && !subset(m.fns, l.fns) {
			return true
		}
	}
	return false
}

// mayChoose reports whether cover may choose layer l for function f: other
// functions attach it, and it brings f no second version of a distribution
// (ts.other marks f's other versions with stamp) nor part of a group f has.
func (ts *targetState) mayChoose(f int32, fs *fnState, l, skip *layerAcc, stamp uint32) bool {
	if l == skip || len(l.fns) == 0 || len(l.fns) == 1 && l.fns[0] == f {
		return false
	}
	for _, u := range l.units {
		if ts.other[u] == stamp {
			return false
		}
	}
	return ts.atomsWhole(fs, l.units)
}

// detachRedundant detaches each function from the layers that deliver it
// nothing it needs and does not receive from another of its layers, least
// shared first. Fattening lets a function receive a package from two
// layers; when prune cannot remove the copy (other functions need it
// there), the second layer may serve it nothing else. A layer holding a
// member of a group the function has goes only when another of its layers
// holds all its members of that group, so no group is split. Without
// this pass, replanning with the plan as Input.Previous would drop those
// layers, and the plan would not be its own fixed point.
func (ts *targetState) detachRedundant() {
	for f, fs := range ts.live {
		if len(fs.layers) < 2 {
			continue
		}
		ls := slices.Clone(fs.layers)
		slices.SortStableFunc(ls, func(a, b *layerAcc) int { return cmp.Compare(len(a.fns), len(b.fns)) })
		for _, l := range ls {
			redundant := true
			for _, u := range l.units {
				if !contains(fs.units, u) {
					continue
				}
				if !slices.ContainsFunc(fs.layers, func(m *layerAcc) bool {
					return m != l && contains(m.units, u) && (!ts.tied[ts.atom[u]] || ts.holdsAtom(fs, m.units, u))
				}) {
					redundant = false
					break
				}
			}
			if !redundant {
				continue
			}
			fs.layers = slices.DeleteFunc(fs.layers, func(m *layerAcc) bool { return m == l })
			i, _ := slices.BinarySearch(l.fns, int32(f))
			l.fns = slices.Delete(l.fns, i, i+1)
		}
	}
	ts.dropUnused()
}

// holdsAtom reports whether units hold every unit of the function's
// closure tied to unit u by a group.
func (ts *targetState) holdsAtom(fs *fnState, units []int32, u int32) bool {
	for _, v := range fs.units {
		if ts.atom[v] == ts.atom[u] && !contains(units, v) {
			return false
		}
	}
	return true
}
