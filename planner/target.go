package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// unitKey identifies a distribution within one target.
type unitKey struct{ name, version, source string }

func compareKeys(a, b unitKey) int {
	return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.version, b.version), strings.Compare(a.source, b.source))
}

// unit is one distinct distribution of a target. Unit ids follow the order
// of unitKey, so ascending ids are ascending names; every tie-break on ids is
// therefore independent of the order of the input.
type unit struct {
	key    unitKey
	local  bool
	nameID int32
	size   Size
	bytes  int64 // for planning: the size, or UnknownSizeEstimate
	group  int   // index of the user group, or -1
	pinned bool  // in a group tie holding two versions of a name
	alone  bool  // the only version of its name in the target
}

// fnState is one function of a target while it is planned.
type fnState struct {
	fn     *Function
	dists  []Dist   // normalised, sorted, deduplicated closure
	direct []string // fn.Direct normalised and sorted, for layer names
	image  string   // why the function is an image; "" when it uses layers
	units  []int32
	others []int32 // other versions of the names of units, ascending
	code   []int32 // local units shipped with the code
	pinned []int32 // units that can only travel in the function layer
	rest   []int32 // units not delivered yet, ascending, without pinned
	slots  int     // layers it may still attach
	done   bool    // attaches no more shared layers
	// Planning bytes: code plus local packages shipped with it, closure,
	// extra received so far, extra of this round's blocks (while merging:
	// all of them; while attaching: the chosen ones not delivered yet), and
	// the extra MaxExtra allows.
	codeBytes, closure, extra, roundExtra, allow int64
	got, planned                                 map[int32]int32 // extras received and about to be received: name -> unit
	blocks                                       []fnBlock       // this round's blocks
	pending                                      []int32         // blocks chosen this round, not delivered yet
	layers                                       []*layerAcc
	classes                                      int  // sharing classes in the first round
	over                                         bool // receives more extra bytes than allow
	kept                                         bool // attaches layers of Input.Previous
	tied                                         bool // has a unit tied to others by a group
}

// targetState plans one target.
type targetState struct {
	*settings
	target   Target
	fns      []*fnState // sorted by name
	live     []*fnState // functions deployed with layers, sorted by name
	units    []unit
	atom     []int32 // the atom of each unit: the smallest unit a group ties it to
	tied     []bool  // per atom: it holds more than one unit
	blocks   []block // this round's blocks
	layers   map[string]*layerAcc
	all      []*layerAcc   // in creation order
	layersOf [][]*layerAcc // per unit: the layers holding it
	mark     []uint32      // per unit: stamp of the cover that still needs it
	other    []uint32      // per unit: stamp of the cover whose function resolved another version
	gainBuf  layerGains    // per layer: what the current cover gains from it
	overN    int           // functions over their allowance after the rounds
	quota    int           // the most functions that may be over it
	stamp    uint32
	seq      int // layers created so far
}

func (s *settings) planTarget(t Target, funcs []*Function) (TargetPlan, error) {
	ts := &targetState{settings: s, target: t, layers: map[string]*layerAcc{}}
	slices.SortFunc(funcs, func(a, b *Function) int { return cmp.Compare(a.Name, b.Name) })
	for _, f := range funcs {
		fs, err := ts.newFn(f)
		if err != nil {
			return TargetPlan{}, err
		}
		ts.fns = append(ts.fns, fs)
		if fs.image == "" {
			ts.live = append(ts.live, fs)
		}
	}
	ts.collectUnits()
	ts.tieGroups()
	ts.keepPrevious()
	for round := 0; ; round++ {
		var active []int32
		for fi, fs := range ts.live {
			if !fs.done && len(fs.rest) > 0 && fs.slots >= 2 {
				active = append(active, int32(fi))
			}
		}
		if len(active) == 0 {
			break
		}
		ts.buildBlocks(active)
		if round == 0 {
			for _, f := range active {
				ts.live[f].classes = ts.need(ts.live[f])
			}
		}
		ts.attachRound(active, round)
	}
	ts.shareFunctionLayers()
	ts.quota = (len(ts.live) - 1) / 2
	for f := range ts.live {
		ts.refresh(int32(f))
	}
	// Step 4 of the package documentation. Each move makes others
	// possible: a second pass of reattach and dissolve uses the layers the
	// merges and additions made.
	ts.reattach()
	ts.dissolve()
	ts.reattach()
	ts.hoist()
	ts.prune()
	ts.mergeLeftovers()
	ts.prune()
	ts.enrich()
	ts.prune()
	ts.reattach()
	ts.dissolve()
	ts.reattach()
	ts.prune()
	ts.detachRedundant()
	return ts.output(), nil
}

func (ts *targetState) sizeOf(d Dist) Size {
	return ts.sizes[Unit{Target: ts.target, Name: d.Name, Version: d.Version, Source: d.Source}]
}

// newFn canonicalises a function's closure and decides whether it must be an
// image: only a rule, a known size over the limit, or no layer at all make it
// one. Unknown sizes never do.
func (ts *targetState) newFn(f *Function) (*fnState, error) {
	fs := &fnState{fn: f, dists: make([]Dist, 0, len(f.Closure))}
	for _, d := range f.Closure {
		if d.Name == "" {
			return nil, fmt.Errorf("planner: function %q: a distribution has no name", f.Name)
		}
		d.Name = NormalizeName(d.Name)
		fs.dists = append(fs.dists, d)
	}
	slices.SortFunc(fs.dists, func(a, b Dist) int {
		return compareKeys(unitKey{a.Name, a.Version, a.Source}, unitKey{b.Name, b.Version, b.Source})
	})
	out := fs.dists[:0]
	for _, d := range fs.dists {
		if n := len(out); n > 0 && out[n-1].Name == d.Name {
			p := &out[n-1]
			if p.Version != d.Version || p.Source != d.Source {
				return nil, fmt.Errorf("planner: function %q resolves two versions of %s: %s and %s", f.Name, d.Name, describe(*p), describe(d))
			}
			p.Local = p.Local || d.Local
			continue
		}
		out = append(out, d)
	}
	fs.dists = out
	for _, n := range f.Direct {
		fs.direct = append(fs.direct, NormalizeName(n))
	}
	slices.Sort(fs.direct)

	var known int64
	unknown, estimated, layered := 0, false, false
	for _, d := range fs.dists {
		switch sz := ts.sizeOf(d); sz.Kind {
		case SizeUnknown:
			unknown++
		case SizeEstimated:
			estimated = true
			known += sz.Bytes
		default:
			known += sz.Bytes
		}
		layered = layered || !(d.Local && ts.localWithCode)
	}
	limit := ts.limits.FunctionUnzippedBytes
	switch {
	case ts.images[f.Name]:
		fs.image = `package = "image" in layers.toml`
	case known+f.CodeBytes > limit:
		qual := ""
		switch {
		case unknown > 0:
			qual = fmt.Sprintf(" (at least; %d package sizes unknown)", unknown)
		case estimated:
			qual = " (estimated)"
		}
		fs.image = fmt.Sprintf("closure %s B%s + code %s B exceeds the %s B limit", groupDigits(known), qual, groupDigits(f.CodeBytes), groupDigits(limit))
	case layered && ts.budget <= 0:
		fs.image = fmt.Sprintf("needs 1 layer but only 0 are available (%d per function - %d reserved)", ts.limits.LayersPerFunction, ts.limits.ReservedLayers)
	}
	return fs, nil
}

func describe(d Dist) string {
	switch {
	case d.Source == "":
		return d.Version
	case d.Version == "":
		return d.Source
	}
	return d.Version + " from " + d.Source
}

// collectUnits numbers the distinct distributions of the functions deployed
// with layers, in key order.
func (ts *targetState) collectUnits() {
	local := map[unitKey]bool{}
	for _, fs := range ts.live {
		for _, d := range fs.dists {
			k := unitKey{d.Name, d.Version, d.Source}
			local[k] = local[k] || d.Local
		}
	}
	keys := make([]unitKey, 0, len(local))
	for k := range local {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	index := make(map[unitKey]int32, len(keys))
	for _, k := range keys {
		id := int32(len(ts.units))
		index[k] = id
		nameID := int32(0)
		if id > 0 {
			prev := &ts.units[id-1]
			nameID = prev.nameID
			if prev.key.name != k.name {
				nameID++
			}
		}
		sz := ts.sizeOf(Dist{Name: k.name, Version: k.version, Source: k.source})
		bytes := sz.Bytes
		if sz.Kind == SizeUnknown {
			bytes = UnknownSizeEstimate
		}
		g, ok := ts.groupOf[k.name]
		if !ok {
			g = -1
		}
		ts.units = append(ts.units, unit{key: k, local: local[k], nameID: nameID, size: sz, bytes: bytes, group: g})
	}
	for id := range ts.units {
		u := &ts.units[id]
		u.alone = (id == 0 || ts.units[id-1].nameID != u.nameID) && (id+1 == len(ts.units) || ts.units[id+1].nameID != u.nameID)
	}
	ts.layersOf = make([][]*layerAcc, len(ts.units))
	for _, fs := range ts.live {
		fs.codeBytes = fs.fn.CodeBytes
		for _, d := range fs.dists {
			id := index[unitKey{d.Name, d.Version, d.Source}]
			u := &ts.units[id]
			if u.local && ts.localWithCode {
				fs.code = append(fs.code, id)
				fs.codeBytes += u.bytes
				continue
			}
			fs.units = append(fs.units, id)
			fs.closure += u.bytes
		}
		fs.allow = int64(ts.maxExtra * float64(fs.closure))
		fs.slots = ts.budget
		for _, u := range fs.units {
			for v := u - 1; v >= 0 && ts.units[v].nameID == ts.units[u].nameID; v-- {
				fs.others = append(fs.others, v)
			}
			for v := u + 1; int(v) < len(ts.units) && ts.units[v].nameID == ts.units[u].nameID; v++ {
				fs.others = append(fs.others, v)
			}
		}
		slices.Sort(fs.others)
	}
}

// tieGroups ties the members of each user group a function has into one
// atom; atoms always travel whole. An atom holding two versions of one name
// cannot sit in any shared layer, so its units are pinned: each function
// gets its own copy in its function layer, which keeps its members together.
func (ts *targetState) tieGroups() {
	ts.atom = make([]int32, len(ts.units))
	for i := range ts.atom {
		ts.atom[i] = int32(i)
	}
	find := func(x int32) int32 {
		for ts.atom[x] != x {
			ts.atom[x] = ts.atom[ts.atom[x]]
			x = ts.atom[x]
		}
		return x
	}
	for _, fs := range ts.live {
		first := map[int]int32{}
		for _, u := range fs.units {
			g := ts.units[u].group
			if g < 0 {
				continue
			}
			r, ok := first[g]
			if !ok {
				first[g] = u
				continue
			}
			// The smallest unit stays the root, so roots are anchors.
			a, b := find(r), find(u)
			ts.atom[max(a, b)] = min(a, b)
		}
	}
	members := map[int32][]int32{}
	for u := range ts.units {
		r := find(int32(u))
		ts.atom[u] = r
		members[r] = append(members[r], int32(u))
	}
	ts.tied = make([]bool, len(ts.units))
	for r, us := range members {
		if len(us) == 1 {
			continue
		}
		ts.tied[r] = true
		for i := 1; i < len(us); i++ {
			if ts.units[us[i]].nameID == ts.units[us[i-1]].nameID {
				for _, u := range us {
					ts.units[u].pinned = true
				}
				break
			}
		}
	}
	for _, fs := range ts.live {
		for _, u := range fs.units {
			fs.tied = fs.tied || ts.tied[ts.atom[u]]
			if ts.units[u].pinned {
				fs.pinned = append(fs.pinned, u)
			} else {
				fs.rest = append(fs.rest, u)
			}
		}
	}
}

// needBytes is the size of the units of us the function still needs.
func (ts *targetState) needBytes(fs *fnState, us []int32) int64 {
	return ts.sharedBytes(fs.rest, us)
}

// plan records that a function is about to receive units; the ones outside
// its closure are extras that later choices must not contradict.
func (ts *targetState) plan(fs *fnState, us []int32) {
	for _, u := range us {
		if !contains(fs.units, u) {
			if fs.planned == nil {
				fs.planned = map[int32]int32{}
			}
			fs.planned[ts.units[u].nameID] = u
		}
	}
}

// replan sets the extras a function is about to receive to those of blocks.
func (ts *targetState) replan(fs *fnState, blocks []int32) {
	clear(fs.planned)
	for _, b := range blocks {
		ts.plan(fs, ts.blocks[b].units)
	}
}
