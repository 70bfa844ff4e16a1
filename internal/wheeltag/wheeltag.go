// Package wheeltag owns what a Lambda Python runtime can load of a wheel:
// a wheel file name's tags (PEP 427, PEP 425), and each runtime's Python,
// glibc and machine. It is the one place that knows a runtime's glibc; the
// resolver (which wheel of a lock loads) and the builder (which platform
// tags pip may pick) both ask it.
package wheeltag

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Lambda's Python runtimes and the glibc of their operating system:
//
//   - python3.9 to python3.11 run on Amazon Linux 2, whose glibc is 2.26;
//   - python3.12 and later run on Amazon Linux 2023, whose glibc is 2.34.
//
// Sources: the runtime table of AWS's Lambda developer guide
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) gives
// each runtime's operating system; the AL2023 user guide gives both glibcs
// (https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html: glibc 2.34;
// https://docs.aws.amazon.com/linux/al2023/ug/compare-with-al2.html: 2.26 in
// AL2). A manylinux_2_X wheel needs glibc 2.X or newer (PEP 600), so these
// are the newest manylinux tags each runtime loads, whatever glibc the
// build image has.
const (
	al2Glibc    = 26
	al2023Glibc = 34
)

// legacyManylinux maps the manylinux names before PEP 600 to the glibc
// minor they stand for (PEP 513, 571, 599).
var legacyManylinux = map[string]int{"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}

// Runtime is what a Lambda Python runtime on one architecture loads.
type Runtime struct {
	// Name is the Lambda runtime identifier, like "python3.11".
	Name string
	// Minor is the CPython 3.x minor version.
	Minor int
	// Glibc is the glibc 2.x minor of the runtime's Amazon Linux.
	Glibc int
	// Machine is the wheel tags' name of the architecture: x86_64 or
	// aarch64.
	Machine string
}

// RuntimeFor returns the runtime named like "python3.11" on architecture
// "x86_64" or "arm64".
func RuntimeFor(runtime, arch string) (Runtime, error) {
	r := Runtime{Name: runtime}
	switch arch {
	case "x86_64":
		r.Machine = "x86_64"
	case "arm64":
		r.Machine = "aarch64"
	default:
		return r, fmt.Errorf("unknown architecture %q", arch)
	}
	v, ok := strings.CutPrefix(runtime, "python3.")
	minor, err := strconv.Atoi(v)
	if !ok || err != nil || minor < 9 || strconv.Itoa(minor) != v {
		return r, fmt.Errorf("runtime %q is not a Lambda python3.X runtime (python3.9 or later)", runtime)
	}
	r.Minor = minor
	r.Glibc = al2Glibc
	if minor >= 12 {
		r.Glibc = al2023Glibc
	}
	return r, nil
}

// String returns "python3.11/x86_64".
func (r Runtime) String() string { return r.Name + "/" + r.Machine }

// PlatformTags returns the platform tags that load on the runtime, newest
// first: every manylinux_2_X from the runtime's glibc down to 2_17, the
// legacy names, and for x86_64 the older ones (aarch64 wheels start at
// manylinux2014). pip's --platform does not expand manylinux_2_X tags
// itself, so the builder passes them all.
func (r Runtime) PlatformTags() []string {
	m := r.Machine
	var tags []string
	for g := r.Glibc; g >= 17; g-- {
		tags = append(tags, fmt.Sprintf("manylinux_2_%d_%s", g, m))
	}
	tags = append(tags, "manylinux2014_"+m)
	if m == "x86_64" {
		tags = append(tags, "manylinux_2_12_"+m, "manylinux2010_"+m, "manylinux_2_5_"+m, "manylinux1_"+m)
	}
	return tags
}

// Needs says what the runtime loads, for messages: "cp311, abi3 or py3;
// glibc 2.26, manylinux_2_26 or older; x86_64".
func (r Runtime) Needs() string {
	return fmt.Sprintf("cp3%d, abi3 or py3 wheels for manylinux_2_%d or older on %s (glibc 2.%d)", r.Minor, r.Glibc, r.Machine, r.Glibc)
}

// Filename is a wheel file name's parts (PEP 427):
// {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl, each tag
// field split at its dots (compressed tag sets, PEP 425).
type Filename struct {
	Name, Version, Build  string
	Python, ABI, Platform []string
}

// Parse splits a wheel file name. It checks the shape, not the name or
// the version: a lock's wheel is judged by its tags.
func Parse(filename string) (Filename, error) {
	base, ok := strings.CutSuffix(filename, ".whl")
	if !ok {
		return Filename{}, fmt.Errorf("%q is not a wheel file name (no .whl)", filename)
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return Filename{}, fmt.Errorf("wheel file name %q has %d dash-separated parts, want 5 or 6", filename, len(parts))
	}
	for _, p := range parts {
		if p == "" {
			return Filename{}, fmt.Errorf("wheel file name %q has an empty part", filename)
		}
	}
	f := Filename{Name: parts[0], Version: parts[1]}
	if len(parts) == 6 {
		f.Build = parts[2]
	}
	n := len(parts)
	for i, dst := range []*[]string{&f.Python, &f.ABI, &f.Platform} {
		for _, t := range strings.Split(parts[n-3+i], ".") {
			if t == "" {
				return Filename{}, fmt.Errorf("wheel file name %q has an empty tag", filename)
			}
			*dst = append(*dst, strings.ToLower(t))
		}
	}
	return f, nil
}

// Pure reports whether the wheel is for any platform: it holds no
// compiled code, so its source distribution builds anywhere.
func (f Filename) Pure() bool {
	for _, p := range f.Platform {
		if p != "any" {
			return false
		}
	}
	return true
}

// Score says how well the wheel fits the runtime: 0 when it cannot load
// there, higher for more specific wheels (the CPython ABI over abi3 over
// pure Python; a newer manylinux over an older one).
func (r Runtime) Score(f Filename) int {
	best := 0
	for _, plat := range f.Platform {
		ps := r.platformScore(plat)
		if ps == 0 {
			continue
		}
		for _, py := range f.Python {
			for _, abi := range f.ABI {
				if s := r.interpreterScore(py, abi); s > 0 && s*100+ps > best {
					best = s*100 + ps
				}
			}
		}
	}
	return best
}

// Interpreter reports whether one of the wheel's Python and ABI tag pairs
// loads on the runtime's CPython, whatever its platform.
func (r Runtime) Interpreter(f Filename) bool {
	for _, py := range f.Python {
		for _, abi := range f.ABI {
			if r.interpreterScore(py, abi) > 0 {
				return true
			}
		}
	}
	return false
}

func (r Runtime) platformScore(plat string) int {
	if plat == "any" {
		return 1
	}
	p, ok := ParsePlatform(plat)
	if !ok || p.Machine != r.Machine || p.Libc != "glibc" || p.Glibc > r.Glibc {
		return 0
	}
	return 2 + p.Glibc
}

func (r Runtime) interpreterScore(py, abi string) int {
	own := "cp3" + strconv.Itoa(r.Minor)
	switch {
	case py == own && abi == own:
		return 4
	case strings.HasPrefix(py, "cp3") && abi == "abi3":
		if m, err := strconv.Atoi(py[3:]); err == nil && m <= r.Minor {
			return 3
		}
	case abi == "none" && (py == own || py == "py3"+strconv.Itoa(r.Minor)):
		return 2
	case abi == "none" && (py == "py3" || py == "cp3" || strings.HasPrefix(py, "py3") && atMost(py[3:], r.Minor)):
		return 1
	}
	return 0
}

func atMost(minor string, max int) bool {
	m, err := strconv.Atoi(minor)
	return err == nil && m <= max
}

// Platform is a Linux platform tag's parts.
type Platform struct {
	// Libc is "glibc" for manylinux, "musl" for musllinux, "" for a plain
	// linux_ tag (built on one machine, for that machine only).
	Libc string
	// Glibc is the glibc 2.x minor a manylinux tag needs.
	Glibc int
	// Musl is a musllinux tag's "1_2".
	Musl    string
	Machine string
	// Legacy is true for manylinux1, manylinux2010 and manylinux2014.
	Legacy bool
}

// ParsePlatform parses a Linux platform tag: manylinux_2_28_x86_64,
// manylinux2014_aarch64, musllinux_1_2_x86_64 or linux_x86_64. Other tags
// (any, win_amd64, macosx_...) are not Linux ones: false.
func ParsePlatform(tag string) (Platform, bool) {
	for name, g := range legacyManylinux {
		if m, ok := strings.CutPrefix(tag, name+"_"); ok && m != "" {
			return Platform{Libc: "glibc", Glibc: g, Machine: m, Legacy: true}, true
		}
	}
	for _, family := range []string{"manylinux_", "musllinux_"} {
		rest, ok := strings.CutPrefix(tag, family)
		if !ok {
			continue
		}
		major, rest, ok1 := strings.Cut(rest, "_")
		minor, machine, ok2 := strings.Cut(rest, "_")
		maj, err1 := strconv.Atoi(major)
		min, err2 := strconv.Atoi(minor)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || machine == "" || maj < 0 || min < 0 {
			return Platform{}, false
		}
		if family == "musllinux_" {
			return Platform{Libc: "musl", Musl: major + "_" + minor, Machine: machine}, true
		}
		if maj != 2 {
			return Platform{}, false
		}
		return Platform{Libc: "glibc", Glibc: min, Machine: machine}, true
	}
	if m, ok := strings.CutPrefix(tag, "linux_"); ok && m != "" {
		return Platform{Machine: m}, true
	}
	return Platform{}, false
}

// Refusal says why none of wheels loads on r, for a message of the form
// "no wheel for python3.11/x86_64 on Lambda (NEEDS); the lock has HAS":
// the first of the Python tags, the machine and the C library that rules
// every wheel out.
func (r Runtime) Refusal(wheels []Filename) (needs, has string) {
	var forPy []Filename
	var pyTags []string
	for _, f := range wheels {
		if r.Interpreter(f) {
			forPy = append(forPy, f)
		}
		for _, py := range f.Python {
			pyTags = appendNew(pyTags, py)
		}
	}
	if len(forPy) == 0 {
		return fmt.Sprintf("CPython 3.%d, needs cp3%d, abi3 or py3 wheels", r.Minor, r.Minor),
			"wheels for " + strings.Join(pyTags, ", ") + " only"
	}
	var onMachine []Filename
	var machines []string
	for _, f := range forPy {
		here := false
		for _, plat := range f.Platform {
			p, ok := ParsePlatform(plat)
			switch {
			case ok && p.Machine == r.Machine:
				here = true
			case ok:
				machines = appendNew(machines, p.Machine)
			default:
				family, _, _ := strings.Cut(plat, "_")
				machines = appendNew(machines, family)
			}
		}
		if here {
			onMachine = append(onMachine, f)
		}
	}
	if len(onMachine) == 0 {
		return fmt.Sprintf("needs a manylinux wheel for %s", r.Machine),
			fmt.Sprintf("cp3%d wheels for %s only", r.Minor, strings.Join(machines, ", "))
	}
	var glibcs []int
	var others []string
	for _, f := range onMachine {
		for _, plat := range f.Platform {
			p, ok := ParsePlatform(plat)
			if !ok || p.Machine != r.Machine {
				continue
			}
			switch p.Libc {
			case "glibc":
				if !slices.Contains(glibcs, p.Glibc) {
					glibcs = append(glibcs, p.Glibc)
				}
			case "musl":
				others = appendNew(others, "musllinux_"+p.Musl+" (musl libc, which Lambda does not have)")
			default:
				others = appendNew(others, plat+" (no manylinux tag: built for one machine's libraries)")
			}
		}
	}
	slices.Sort(glibcs)
	var kinds []string
	if len(glibcs) > 0 {
		vs := make([]string, len(glibcs))
		for i, g := range glibcs {
			vs[i] = fmt.Sprintf("2_%d", g)
		}
		kinds = append(kinds, "manylinux_"+strings.Join(vs, "/"))
	}
	kinds = append(kinds, others...)
	return fmt.Sprintf("glibc 2.%d, needs manylinux_2_%d or older", r.Glibc, r.Glibc), strings.Join(kinds, ", ") + " only"
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
