package planner

import "slices"

// The checks every step makes before it changes a function's layers, so
// that the plan keeps its invariants: the layer budget, MaxExtra and the
// size limit, one version per name, whole groups.

// need is the number of layers a function needs to attach every block of
// this round, plus its function layer for pinned units.
func (ts *targetState) need(fs *fnState) int {
	n := len(fs.blocks)
	if len(fs.pinned) > 0 {
		n++
	}
	return n
}

func (ts *targetState) over(fs *fnState) bool { return ts.need(fs) > fs.slots }

// fits reports whether a function may receive extra bytes in total: within
// MaxExtra and within its size limit.
func (ts *targetState) fits(fs *fnState, extra int64) bool {
	return extra <= fs.allow && fs.codeBytes+fs.closure+extra <= ts.limits.FunctionUnzippedBytes
}

// fitsLimit is fits with an explicit bound on extra bytes.
func (ts *targetState) fitsLimit(fs *fnState, extra, limit int64) bool {
	return extra <= limit && fs.codeBytes+fs.closure+extra <= ts.limits.FunctionUnzippedBytes
}

// hasOtherVersion reports whether a function resolved the name of unit u to
// another unit.
func (ts *targetState) hasOtherVersion(fs *fnState, u int32) bool {
	return !ts.units[u].alone && contains(fs.others, u)
}

// holdsOtherVersion reports whether the ascending units us hold another
// version of unit u. Units of one name have adjacent ids.
func (ts *targetState) holdsOtherVersion(us []int32, u int32) bool {
	if ts.units[u].alone {
		return false
	}
	lo, hi := u, u
	for lo > 0 && ts.units[lo-1].nameID == ts.units[u].nameID {
		lo--
	}
	for int(hi)+1 < len(ts.units) && ts.units[hi+1].nameID == ts.units[u].nameID {
		hi++
	}
	i, _ := slices.BinarySearch(us, lo)
	for ; i < len(us) && us[i] <= hi; i++ {
		if us[i] != u {
			return true
		}
	}
	return false
}

// conflicts reports whether a function would receive a second version of a
// distribution from units: one it resolved, or one it receives, or is about
// to receive, as extra.
func (ts *targetState) conflicts(fs *fnState, us []int32) bool {
	for _, u := range us {
		if ts.hasOtherVersion(fs, u) {
			return true
		}
		name := ts.units[u].nameID
		if v, ok := fs.got[name]; ok && v != u {
			return true
		}
		if v, ok := fs.planned[name]; ok && v != u {
			return true
		}
	}
	return false
}

// atomsWhole reports whether units hold, for each tied atom of the
// function, either all of the function's units of it or none.
func (ts *targetState) atomsWhole(fs *fnState, units []int32) bool {
	if !fs.tied {
		return true
	}
	for _, u := range fs.units {
		if !ts.tied[ts.atom[u]] {
			continue
		}
		in := contains(units, u)
		for _, v := range fs.units {
			if ts.atom[v] == ts.atom[u] && contains(units, v) != in {
				return false
			}
		}
	}
	return true
}

// canTake reports whether function f may receive units on top of its
// layers except skip, for extra bytes in total: within limit and its size
// limit, with no second version of a distribution.
func (ts *targetState) canTake(fs *fnState, units []int32, extra int64, skip *layerAcc, limit int64) bool {
	if !ts.fitsLimit(fs, extra, limit) {
		return false
	}
	for _, u := range units {
		if ts.units[u].alone {
			continue
		}
		if ts.hasOtherVersion(fs, u) {
			return false
		}
		for _, l := range fs.layers {
			if l != skip && ts.holdsOtherVersion(l.units, u) {
				return false
			}
		}
	}
	return true
}
