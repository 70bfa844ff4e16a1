package resolver

import (
	"strconv"
	"strings"
)

// glibcMinor is the glibc 2.x of each runtime's Amazon Linux: manylinux
// wheels built for a newer glibc would not load there.
var glibcMinor = map[string]int{
	"python3.9": 26, "python3.10": 26, "python3.11": 26,
	"python3.12": 34, "python3.13": 34, "python3.14": 34,
}

// legacyManylinux maps the old manylinux names to their glibc minor.
var legacyManylinux = map[string]int{"manylinux1": 5, "manylinux2010": 12, "manylinux2014": 17}

// WheelScore says how well a wheel fits a Lambda target: 0 when it cannot
// load there, higher for more specific wheels (CPython ABI over abi3 over
// pure Python; newer manylinux over older).
func WheelScore(filename, runtime, arch string) int {
	glibc, ok := glibcMinor[runtime]
	if !ok || !strings.HasSuffix(filename, ".whl") {
		return 0
	}
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	if len(parts) < 5 {
		return 0
	}
	pyTags, abiTags, platTags := parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	minor, _ := strconv.Atoi(strings.TrimPrefix(runtime, "python3."))
	machine := "x86_64"
	if arch == "arm64" {
		machine = "aarch64"
	}
	best := 0
	for _, plat := range strings.Split(platTags, ".") {
		ps := platformScore(plat, machine, glibc)
		if ps == 0 {
			continue
		}
		for _, py := range strings.Split(pyTags, ".") {
			for _, abi := range strings.Split(abiTags, ".") {
				if s := interpreterScore(py, abi, minor); s > 0 && s*100+ps > best {
					best = s*100 + ps
				}
			}
		}
	}
	return best
}

func platformScore(plat, machine string, glibc int) int {
	if plat == "any" {
		return 1
	}
	if !strings.HasSuffix(plat, "_"+machine) {
		return 0
	}
	base := strings.TrimSuffix(plat, "_"+machine)
	if m, ok := legacyManylinux[base]; ok {
		return 2 + m
	}
	if v, ok := strings.CutPrefix(base, "manylinux_2_"); ok {
		if m, err := strconv.Atoi(v); err == nil && m <= glibc {
			return 2 + m
		}
	}
	return 0
}

func interpreterScore(py, abi string, minor int) int {
	own := "cp3" + strconv.Itoa(minor)
	switch {
	case py == own && abi == own:
		return 4
	case strings.HasPrefix(py, "cp3") && abi == "abi3":
		m, err := strconv.Atoi(strings.TrimPrefix(py, "cp3"))
		if err == nil && m <= minor {
			return 3
		}
	case abi == "none" && (py == own || py == "py3"+strconv.Itoa(minor)):
		return 2
	case abi == "none" && (py == "py3" || py == "cp3" || strings.HasPrefix(py, "py3") && versionAtMost(py, minor)):
		return 1
	}
	return 0
}

func versionAtMost(py string, minor int) bool {
	m, err := strconv.Atoi(strings.TrimPrefix(py, "py3"))
	return err == nil && m <= minor
}

// BestWheel returns the wheel of wheels that fits the target best, and
// false when none can load there.
func BestWheel(wheels []Wheel, runtime, arch string) (Wheel, bool) {
	var best Wheel
	score := 0
	for _, w := range wheels {
		if s := WheelScore(w.Filename, runtime, arch); s > score {
			best, score = w, s
		}
	}
	return best, score > 0
}
