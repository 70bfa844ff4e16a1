package planner

import (
	"cmp"
	"slices"
)

// attachRound lets every active function attach this round's blocks: all of
// them when they fit its free slots; otherwise its largest shared blocks (all
// but two slots in the first round, one slot in later rounds, so a later
// round can share what is left before the function layer takes the rest),
// or an existing layer that serves it at least as well. Each new layer is
// then fattened with copies of packages most of its functions still need.
func (ts *targetState) attachRound(active []int32, round int) {
	attachers := map[int32][]int32{}
	blockOf := make([]int32, len(ts.units))
	for i := range blockOf {
		blockOf[i] = -1
	}
	for b := range ts.blocks {
		for _, u := range ts.blocks[b].units {
			blockOf[u] = int32(b)
		}
	}
	for _, f := range active {
		fs := ts.live[f]
		fs.roundExtra = 0
		k := 1
		if round == 0 {
			k = max(1, fs.slots-2)
		}
		chosen := ts.choose(fs, k)
		if l := ts.reuse(fs, chosen); l != nil {
			clear(fs.planned)
			ts.deliver(fs, l.units)
			fs.slots--
			ts.addLayer(f, l.units, layerOrigin{})
			continue
		}
		if len(chosen) == 0 {
			fs.done = true
		}
		fs.pending = chosen
		ts.replan(fs, chosen)
		for _, b := range chosen {
			attachers[b] = append(attachers[b], f)
			fs.roundExtra += ts.blocks[b].bytes - ts.needBytes(fs, ts.blocks[b].units)
		}
	}
	order := make([]int32, 0, len(attachers))
	for b := range attachers {
		order = append(order, b)
	}
	// Blocks used by more functions go first: their layers are the best
	// places for copies of popular packages.
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(len(attachers[b]), len(attachers[a])), cmp.Compare(ts.blocks[a].anchor, ts.blocks[b].anchor))
	})
	for _, b := range order {
		fns := attachers[b]
		blk := &ts.blocks[b]
		for _, f := range fns {
			fs := ts.live[f]
			fs.roundExtra -= blk.bytes - ts.needBytes(fs, blk.units)
			fs.pending = slices.DeleteFunc(fs.pending, func(x int32) bool { return x == b })
			ts.deliver(fs, blk.units)
		}
		units := blk.units
		copied := ts.fatten(fns, blockOf)
		if len(copied) > 0 {
			units = unionSorted(units, copied)
		}
		for _, f := range fns {
			ts.live[f].slots--
			ts.addLayer(f, units, layerOrigin{shared: true, classes: 1, copied: copied})
		}
	}
}

// choose returns the blocks a function attaches this round: every block
// when they all fit (except blocks whose extra bytes would break the size
// limit: their packages wait for the function layer), else its k largest
// shared blocks. A block no other function needs is better copied into the
// function layer, and one bringing a second version of a package (a
// group's atom can hold packages outside the closure) is never chosen.
func (ts *targetState) choose(fs *fnState, k int) []int32 {
	bl := slices.Clone(fs.blocks)
	slices.SortFunc(bl, func(a, b fnBlock) int {
		return cmp.Or(cmp.Compare(b.need, a.need), cmp.Compare(ts.blocks[a.b].anchor, ts.blocks[b.b].anchor))
	})
	all := !ts.over(fs)
	var out []int32
	extra := fs.extra
	for _, fb := range bl {
		if !all && len(out) == k {
			break
		}
		blk := &ts.blocks[fb.b]
		if !all && len(blk.fns) < 2 || !ts.fits(fs, extra+blk.bytes-fb.need) {
			continue
		}
		if blk.tied && ts.conflicts(fs, blk.units) {
			// A group's atom brings another version of a package the
			// function received as an extra: its members of the group
			// go into its function layer.
			continue
		}
		extra += blk.bytes - fb.need
		out = append(out, fb.b)
	}
	return out
}

// reuse returns an existing layer a function over budget should attach
// instead of the one block it chose, when the layer covers at least as many
// of its bytes: a large package then stays in one layer however many rounds
// its users take.
func (ts *targetState) reuse(fs *fnState, chosen []int32) *layerAcc {
	if len(chosen) > 1 || !ts.over(fs) || len(fs.rest) == 0 {
		return nil
	}
	var want int64 = 1
	for _, fb := range fs.blocks {
		if len(chosen) == 1 && fb.b == chosen[0] {
			want = fb.need
		}
	}
	heaviest := fs.rest[0]
	for _, u := range fs.rest[1:] {
		if ts.units[u].bytes > ts.units[heaviest].bytes {
			heaviest = u
		}
	}
	var best *layerAcc
	var bestNeed int64
	for _, l := range ts.layersOf[heaviest] {
		need := ts.needBytes(fs, l.units)
		if need < want || need < bestNeed {
			continue
		}
		if !ts.fits(fs, fs.extra+l.bytes-need) || ts.conflicts(fs, l.units) || !ts.atomsWhole(fs, l.units) {
			continue
		}
		best, bestNeed = l, need
	}
	return best
}

// deliver hands units to a function: those it still needs leave its rest,
// the others (not in its closure, or already delivered) are extra.
func (ts *targetState) deliver(fs *fnState, units []int32) {
	out := fs.rest[:0]
	i := 0
	for _, u := range fs.rest {
		for i < len(units) && units[i] < u {
			ts.receiveExtra(fs, units[i])
			i++
		}
		if i < len(units) && units[i] == u {
			i++
			continue
		}
		out = append(out, u)
	}
	for ; i < len(units); i++ {
		ts.receiveExtra(fs, units[i])
	}
	fs.rest = out
}

func (ts *targetState) receiveExtra(fs *fnState, u int32) {
	fs.extra += ts.units[u].bytes
	if contains(fs.units, u) {
		return // delivered twice: identical files, extra bytes only
	}
	if fs.got == nil {
		fs.got = map[int32]int32{}
	}
	fs.got[ts.units[u].nameID] = u
}

// fatten picks atoms to copy into a new layer attached by fns, delivers them
// and returns their units. An atom goes in when most attachers still need it
// (so the extra bytes it delivers to the others are fewer than the stored
// bytes it saves) and every other attacher can take it within MaxExtra and
// its size limit, without a second version of a distribution, nor a package
// it is about to receive from another block of this round.
func (ts *targetState) fatten(fns []int32, blockOf []int32) []int32 {
	if len(fns) < 2 {
		return nil
	}
	holders := map[int32]int32{}
	counted := map[int32]int32{} // atom -> last function counted as its holder
	var cand []int32
	for _, f := range fns {
		for _, u := range ts.live[f].rest {
			a := ts.atom[u]
			if last, ok := counted[a]; ok && last == f {
				continue
			}
			counted[a] = f
			if holders[a] == 0 {
				cand = append(cand, a)
			}
			holders[a]++
		}
	}
	slices.SortFunc(cand, func(a, b int32) int { return cmp.Or(cmp.Compare(holders[b], holders[a]), cmp.Compare(a, b)) })
	var added []int32
	for _, a := range cand {
		h := holders[a]
		if h < 2 || int32(len(fns))-h > h-1 {
			break
		}
		units := ts.atomRest(a, fns)
		if !ts.keepsAtomsWhole(fns, units) {
			// An attacher already received part of its members of the
			// group: the copy holds all of them, or it would split the
			// group for that function.
			units = ts.atomUnits(a, fns)
		}
		if !ts.canFatten(fns, units, blockOf) {
			continue
		}
		for _, f := range fns {
			fs := ts.live[f]
			for _, u := range units {
				if contains(fs.rest, u) && ts.arrivesTwice(fs, u, blockOf) {
					// The block it chose no longer delivers u as needed
					// bytes but as extra ones.
					fs.roundExtra += ts.units[u].bytes
				}
			}
			ts.deliver(fs, units)
		}
		added = append(added, units...)
	}
	slices.Sort(added)
	return added
}

// atomRest returns the units of atom a that some of fns still need.
func (ts *targetState) atomRest(a int32, fns []int32) []int32 {
	if !ts.tied[a] {
		return []int32{a}
	}
	var out []int32
	for _, f := range fns {
		for _, u := range ts.live[f].rest {
			if ts.atom[u] == a {
				if i, ok := slices.BinarySearch(out, u); !ok {
					out = slices.Insert(out, i, u)
				}
			}
		}
	}
	return out
}

// keepsAtomsWhole reports whether units hold, for every function of fns,
// all or none of its units of each group.
func (ts *targetState) keepsAtomsWhole(fns []int32, units []int32) bool {
	for _, f := range fns {
		if !ts.atomsWhole(ts.live[f], units) {
			return false
		}
	}
	return true
}

// atomUnits returns the units of atom a in the closure of some of fns.
func (ts *targetState) atomUnits(a int32, fns []int32) []int32 {
	var out []int32
	for _, f := range fns {
		for _, u := range ts.live[f].units {
			if ts.atom[u] == a {
				if i, ok := slices.BinarySearch(out, u); !ok {
					out = slices.Insert(out, i, u)
				}
			}
		}
	}
	return out
}

// canFatten reports whether every function of fns may receive units: it
// gets no second version, and stays within MaxExtra and its size limit,
// not counting the units it also receives from a block it chose this round.
// Those arrive twice, but the copy in the other block's layer is removed
// by prune when every function attaching it receives the unit here, so
// they are only bounded by extraCap times MaxExtra; refusing them instead
// kept popular packages out of the widest layers whenever a single
// attacher also chose a block holding them.
func (ts *targetState) canFatten(fns []int32, units []int32, blockOf []int32) bool {
	for _, f := range fns {
		fs := ts.live[f]
		var extra, twice int64
		for _, u := range units {
			if ts.arrivesTwice(fs, u, blockOf) {
				twice += ts.units[u].bytes
			} else if !contains(fs.rest, u) {
				extra += ts.units[u].bytes
			}
		}
		// A zero-byte package still must not bring a second version.
		if ts.conflicts(fs, units) {
			return false
		}
		if extra+twice > 0 && (!ts.fits(fs, fs.extra+fs.roundExtra+extra) || !ts.fitsLimit(fs, fs.extra+fs.roundExtra+extra+twice, extraCap*fs.allow)) {
			return false
		}
	}
	return true
}

// arrivesTwice reports whether unit u is in a block the function chose
// this round and has not received yet.
func (ts *targetState) arrivesTwice(fs *fnState, u int32, blockOf []int32) bool {
	return len(fs.pending) > 0 && slices.Contains(fs.pending, blockOf[u])
}
