package planner

import (
	"cmp"
	"slices"
)

// Helpers over ascending unit lists: the units of a layer, a block or a
// function's closure are kept sorted, so set operations are merges.

// contains reports whether sorted us holds u.
func contains(us []int32, u int32) bool {
	_, ok := slices.BinarySearch(us, u)
	return ok
}

func unionSorted(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// subset reports whether sorted a is a subset of sorted b.
func subset(a, b []int32) bool {
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// sharedBytes is the size of the units two ascending unit lists share.
func (ts *targetState) sharedBytes(a, b []int32) int64 {
	var shared int64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch cmp.Compare(a[i], b[j]) {
		case -1:
			i++
		case 1:
			j++
		default:
			shared += ts.units[a[i]].bytes
			i++
			j++
		}
	}
	return shared
}
