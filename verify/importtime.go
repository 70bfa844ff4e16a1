package verify

import (
	"strconv"
	"strings"
)

// ImportTime is one line of `python -X importtime`: a module finished
// importing, Self microseconds in its own code, Cumulative with what it
// imported.
type ImportTime struct {
	Name       string
	Depth      int // 0 for a module imported by the code that was run
	Self       int64
	Cumulative int64
}

// ParseImportTime parses the lines `python -X importtime` writes to
// stderr, "import time: SELF | CUMULATIVE | NAME" with NAME indented two
// spaces per nesting level, and ignores every other line (the header, what
// the program printed itself).
func ParseImportTime(text string) []ImportTime {
	var out []ImportTime
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "import time:")
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "|", 3)
		if len(parts) != 3 {
			continue
		}
		self, err1 := strconv.ParseInt(strings.TrimSpace(parts[0]), 10, 64)
		cum, err2 := strconv.ParseInt(strings.TrimSpace(parts[1]), 10, 64)
		if err1 != nil || err2 != nil || self < 0 || cum < 0 {
			continue // the header line, or noise
		}
		name := strings.TrimPrefix(parts[2], " ")
		indent := len(name) - len(strings.TrimLeft(name, " "))
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		out = append(out, ImportTime{Name: name, Depth: indent / 2, Self: self, Cumulative: cum})
	}
	return out
}

// topLevelMicros sums the cumulative times of the depth-0 imports: all
// the time a run spent importing.
func topLevelMicros(lines []ImportTime) int64 {
	var total int64
	for _, l := range lines {
		if l.Depth == 0 {
			total += l.Cumulative
		}
	}
	return total
}
