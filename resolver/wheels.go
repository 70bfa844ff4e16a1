package resolver

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/internal/tomlpos"
	"github.com/layers-dev/layers/internal/wheeltag"
)

// WheelScore says how well a wheel fits a Lambda target: 0 when it cannot
// load there (or is no wheel), higher for more specific wheels (CPython
// ABI over abi3 over pure Python; newer manylinux over older).
func WheelScore(filename, runtime, arch string) int {
	rt, err := wheeltag.RuntimeFor(runtime, arch)
	if err != nil {
		return 0
	}
	f, err := wheeltag.Parse(filename)
	if err != nil {
		return 0
	}
	return rt.Score(f)
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

// Availability says what a target's runtime can install of a package,
// from the files its lock lists.
type Availability string

// The availabilities of a package.
const (
	// AvailableWheel: a wheel the runtime loads.
	AvailableWheel Availability = "wheel"
	// AvailableSource: no wheel loads, and the package is built from
	// source: a local folder, a URL, or a release with an sdist and pure
	// Python wheels at most (no compiled code to fail on).
	AvailableSource Availability = "source"
	// AvailableNone: no wheel loads, and the release has compiled wheels
	// for other runtimes or platforms only (or nothing to build from):
	// building it from source needs a compiler and its libraries, and fails
	// in the build image; the fix is another version.
	AvailableNone Availability = "none"
	// AvailableUnknown: the inputs list no files (a pinned requirements
	// file); only the index knows.
	AvailableUnknown Availability = "unknown"
)

// WheelCheck is what a target's runtime can install of one package.
type WheelCheck struct {
	Availability Availability
	// Reason says, for AvailableNone, which wheels there are and what the
	// runtime needs: "numpy 2.4.6: no wheel for python3.11/x86_64 on
	// Lambda (glibc 2.26, needs manylinux_2_26 or older); the lock has
	// manylinux_2_27/2_28 only". For AvailableSource from a registry it
	// says the package will be built from source.
	Reason string
}

// CheckWheels decides from the files p's inputs list whether the runtime
// (python3.X on x86_64 or arm64) can install p.
func CheckWheels(p Package, runtime, arch string) WheelCheck {
	return checkFiles(p, p.Wheels, p.Sdist, runtime, arch, "the lock has")
}

// CheckIndexFiles is CheckWheels for the file names an index lists for
// p's release (a package whose inputs list none).
func CheckIndexFiles(p Package, files []string, runtime, arch string) WheelCheck {
	var wheels []Wheel
	sdist := false
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".whl"):
			wheels = append(wheels, Wheel{Filename: f})
		case strings.HasSuffix(f, ".tar.gz") || strings.HasSuffix(f, ".zip"):
			sdist = true
		}
	}
	return checkFiles(p, wheels, sdist, runtime, arch, "the index has")
}

func checkFiles(p Package, wheels []Wheel, sdist bool, runtime, arch, has string) WheelCheck {
	if p.Source != SourceRegistry {
		return WheelCheck{Availability: AvailableSource}
	}
	rt, err := wheeltag.RuntimeFor(runtime, arch)
	if err != nil {
		return WheelCheck{Availability: AvailableUnknown}
	}
	var parsed []wheeltag.Filename
	compiled := false
	for _, w := range wheels {
		f, err := wheeltag.Parse(w.Filename)
		if err != nil {
			continue
		}
		if rt.Score(f) > 0 {
			return WheelCheck{Availability: AvailableWheel}
		}
		parsed = append(parsed, f)
		compiled = compiled || !f.Pure()
	}
	switch {
	case len(parsed) == 0 && !sdist:
		return WheelCheck{Availability: AvailableUnknown}
	case sdist && !compiled:
		return WheelCheck{Availability: AvailableSource,
			Reason: fmt.Sprintf("%s %s: no wheel for %s on Lambda; it will be built from source (fine for pure Python)", p.Name, p.Version, rt)}
	case len(parsed) == 0:
		return WheelCheck{Availability: AvailableNone, Reason: fmt.Sprintf("%s %s: no wheel and no source distribution", p.Name, p.Version)}
	}
	needs, what := rt.Refusal(parsed)
	return WheelCheck{Availability: AvailableNone,
		Reason: fmt.Sprintf("%s %s: no wheel for %s on Lambda (%s); %s %s", p.Name, p.Version, rt, needs, has, what)}
}

// PinPosition returns the file and line of the entry that pins p, root
// being the repository root the pin's file is relative to. The line is 0
// when the file cannot be read again.
func PinPosition(root string, p Package) (string, int) {
	pin := p.Pin
	if pin.Line > 0 || pin.table == "" {
		return pin.File, pin.Line
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(pin.File)))
	if err != nil {
		return pin.File, 0
	}
	return pin.File, tomlpos.Line(data, pin.table, pin.entry, "name")
}

// LockIndex returns the index a lock names for a registry package, which
// pip must use too: a private package is only on the private index. A
// host under .invalid (RFC 6761: it never resolves) stands for "the
// default index" in fixtures and examples that must not name a real
// registry, so the environment's configuration decides there: "".
func (p Package) LockIndex() string {
	if p.Source != SourceRegistry || p.URL == "" {
		return ""
	}
	if u, err := url.Parse(p.URL); err == nil &&
		(strings.HasSuffix(u.Hostname(), ".invalid") || u.Hostname() == "invalid") {
		return ""
	}
	return p.URL
}
