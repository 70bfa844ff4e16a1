package planner

import (
	"cmp"
	"slices"
)

// keepPrevious lets every function attach again, before the rounds, the
// layers of Input.Previous it attached there, when their content is still
// valid for it: every package is one some function of this target still
// resolves, the layer holds one version per name and none the function
// resolved to another version, splits no group the function has, holds
// no package of a group with two versions, gives the function something it
// needs, and keeps it within three times MaxExtra and its size limit. A
// layer kept keeps its name, so publishing the new plan rebuilds and
// uploads only the layers that really changed. A function that still needs
// packages keeps a slot free for them, giving up its least shared previous
// layer if it must. Kept layers are never changed by the clean-up of step
// 4; they are dropped only when no function attaches them any more.
func (ts *targetState) keepPrevious() {
	prev := ts.previous
	if prev == nil {
		return
	}
	var tp *TargetPlan
	for i := range prev.Targets {
		if prev.Targets[i].Target == ts.target {
			tp = &prev.Targets[i]
		}
	}
	if tp == nil {
		return
	}
	index := make(map[unitKey]int32, len(ts.units))
	for i, u := range ts.units {
		index[u.key] = int32(i)
	}
	type old struct {
		layer *Layer
		units []int32
		users int
	}
	// A name given twice is ambiguous: neither is kept, whatever the order.
	names := map[string]int{}
	for _, l := range tp.Layers {
		names[l.Name]++
	}
	valid := map[string]*old{}
	for i := range tp.Layers {
		l := &tp.Layers[i]
		if names[l.Name] > 1 || len(l.Packages) == 0 {
			continue
		}
		us := make([]int32, 0, len(l.Packages))
		ok := true
		for _, r := range l.Packages {
			u, found := index[unitKey{NormalizeName(r.Name), r.Version, r.Source}]
			if !found {
				ok = false
				break
			}
			us = append(us, u)
		}
		if !ok {
			continue
		}
		slices.Sort(us)
		for j := 1; j < len(us) && ok; j++ {
			ok = ts.units[us[j]].nameID != ts.units[us[j-1]].nameID
		}
		if ok {
			valid[l.Name] = &old{layer: l, units: us, users: len(l.Functions)}
		}
	}
	if len(valid) == 0 {
		return
	}
	attached := map[string][]string{}
	for _, f := range tp.Functions {
		attached[f.Name] = f.Layers
	}
	for fi, fs := range ts.live {
		var cands []*old
		for _, name := range attached[fs.fn.Name] {
			if o := valid[name]; o != nil && !slices.Contains(cands, o) {
				cands = append(cands, o)
			}
		}
		if len(cands) == 0 {
			continue
		}
		// The most shared layers first: they matter most to keep.
		slices.SortFunc(cands, func(a, b *old) int {
			return cmp.Or(cmp.Compare(b.users, a.users), cmp.Compare(ts.bytesOf(b.units), ts.bytesOf(a.units)), cmp.Compare(a.layer.Name, b.layer.Name))
		})
		var kept []*old
		var extra int64
		got := map[int32]int32{}
		covered := map[int32]bool{}
		for _, o := range cands {
			if len(kept) == ts.budget {
				break
			}
			if !slices.ContainsFunc(o.units, func(u int32) bool { return contains(fs.units, u) && !covered[u] }) {
				continue
			}
			add, ok := int64(0), true
			for _, u := range o.units {
				if contains(fs.units, u) {
					if covered[u] {
						add += ts.units[u].bytes
					}
					continue
				}
				add += ts.units[u].bytes
				if ts.hasOtherVersion(fs, u) {
					ok = false
				} else if v, seen := got[ts.units[u].nameID]; seen && v != u {
					ok = false
				}
			}
			if !ok || !ts.atomsWhole(fs, o.units) || !ts.fitsLimit(fs, extra+add, extraCap*fs.allow) {
				continue
			}
			extra += add
			for _, u := range o.units {
				if contains(fs.units, u) {
					covered[u] = true
				} else {
					got[ts.units[u].nameID] = u
				}
			}
			kept = append(kept, o)
		}
		// Whatever the kept layers leave needs a slot of its own.
		for len(kept) > 0 {
			left := false
			for _, u := range fs.units {
				left = left || !covered[u]
			}
			if !left || len(kept) < ts.budget {
				break
			}
			kept = kept[:len(kept)-1]
			clear(covered)
			for _, o := range kept {
				for _, u := range o.units {
					if contains(fs.units, u) {
						covered[u] = true
					}
				}
			}
		}
		for _, o := range kept {
			l := o.layer
			origin := layerOrigin{shared: l.Kind == LayerShared, classes: l.Classes, kept: true}
			for _, u := range o.units {
				if slices.Contains(l.Copied, ts.units[u].key.name) {
					origin.copied = append(origin.copied, u)
				}
			}
			ts.deliver(fs, o.units)
			fs.pinned = slices.DeleteFunc(fs.pinned, func(u int32) bool { return contains(o.units, u) })
			fs.slots--
			ts.addLayer(int32(fi), o.units, origin)
		}
		fs.kept = len(kept) > 0 && len(fs.rest) == 0 && len(fs.pinned) == 0
	}
}
