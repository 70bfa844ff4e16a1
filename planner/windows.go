package planner

// contentWindows cuts xs, sorted so that equal keys are adjacent, into
// windows whose boundaries depend on content, as rsync and restic cut
// their chunks: a window ends before an element whose key differs from
// the previous one's and is a multiple of mean (keys are hashes, so that
// happens once every mean distinct keys on average), or when it reaches
// limit elements. Elements of one key always share a window, unless it
// reaches limit. Inserting or removing one element then changes at most
// the window holding it (and, rarely, the next one), where windows cut
// every n elements shifted every later boundary, and with it every later
// window's content.
func contentWindows[T any](xs []T, key func(T) uint64, mean uint64, limit int) [][]T {
	var out [][]T
	start := 0
	for i := 1; i <= len(xs); i++ {
		if i < len(xs) && i-start < limit {
			k := key(xs[i])
			if k == key(xs[i-1]) || k%mean != 0 {
				continue
			}
		}
		out = append(out, xs[start:i])
		start = i
	}
	return out
}
