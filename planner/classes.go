package planner

import (
	"encoding/binary"
	"slices"
)

// mergeRatio bounds how much larger one layer may be than what a merge,
// an addition or a hoist brings into it once every layer exists. A large
// layer then never takes in small packages, whose users change often: its
// content, and so its name, stay stable. Small packages group with small
// ones instead.
const mergeRatio = 20

// block is a set of units that travel together in one round: a sharing
// class, the units still needed by exactly the same functions.
type block struct {
	units  []int32 // ascending
	bytes  int64
	fns    []int32 // functions needing at least one unit, ascending
	anchor int32   // smallest unit: a tie-breaker independent of input order
	tied   bool    // holds a group's atom, which some of fns may not need whole
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
			ts.blocks = append(ts.blocks, block{fns: sig, anchor: r})
		}
		blk := &ts.blocks[b]
		blk.tied = blk.tied || ts.tied[r]
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
			// The block brings the function units outside its closure:
			// later choices must not give it another version of them.
			// Only a group's atom does that, whatever its bytes.
			if blk.bytes > need || blk.tied {
				ts.plan(fs, blk.units)
			}
		}
	}
}
