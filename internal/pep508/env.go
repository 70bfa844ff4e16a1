package pep508

import (
	"fmt"
	"strings"

	"github.com/layers-dev/layers/internal/pep440"
)

// Env is the environment markers are evaluated in: the marker variables of a
// target, plus the extras and dependency groups being asked for.
type Env struct {
	// Values maps marker variable names ("python_version", "sys_platform",
	// ...) to their values; a missing variable is the empty string.
	Values map[string]string
	// Extras are the extras in effect, compared by their normalised
	// names: `extra == "x"` is true when x is among them, as is
	// `"x" in extras` (PEP 751). With none, extra is the empty string.
	Extras []string
	// Groups are the dependency groups in effect, for `"g" in dependency_groups` (PEP 751).
	Groups []string
	// versions holds the version variables of Values already parsed, so
	// that evaluating markers millions of times does not parse them again.
	// Each entry is used only while Values still holds the string it was
	// parsed from.
	versions *[len(variableNames)]parsedVersion
}

// parsedVersion is a marker variable's value and the version it parses to.
type parsedVersion struct {
	text string
	v    pep440.Version
}

// version returns the parsed form of value, the value of version variable
// v, when the environment has it cached, and nil otherwise.
func (e *Env) version(v variable, value string) *pep440.Version {
	if e.versions == nil {
		return nil
	}
	p := &e.versions[v]
	if p.text == "" || p.text != value {
		return nil
	}
	return &p.v
}

// WithExtras returns a copy of e with extras in effect (normalised).
func (e Env) WithExtras(extras ...string) Env {
	out := e
	out.Extras = make([]string, len(extras))
	for i, x := range extras {
		out.Extras[i] = NormalizeName(x)
	}
	return out
}

// WithGroups returns a copy of e with dependency groups in effect (normalised).
func (e Env) WithGroups(groups ...string) Env {
	out := e
	out.Groups = make([]string, len(groups))
	for i, g := range groups {
		out.Groups[i] = NormalizeName(g)
	}
	return out
}

// Lambda runtimes' Python versions: the patch level stands for the runtime's
// line; markers comparing patch levels are rare and this is the best a
// build-time tool can know without asking the image.
var runtimeFullVersion = map[string]string{
	"python3.9":  "3.9.23",
	"python3.10": "3.10.18",
	"python3.11": "3.11.13",
	"python3.12": "3.12.11",
	"python3.13": "3.13.7",
	"python3.14": "3.14.0",
}

// TargetEnv returns the marker environment of a Lambda runtime ("python3.12")
// on an architecture ("x86_64" or "arm64"). Lambda's kernel release and
// version strings are not known at build time, so platform_release and
// platform_version are empty: markers that test them hold only where the
// specification makes an empty value satisfy them.
func TargetEnv(runtime, arch string) (Env, error) {
	full, ok := runtimeFullVersion[runtime]
	if !ok {
		return Env{}, fmt.Errorf("unsupported runtime %q", runtime)
	}
	var machine string
	switch arch {
	case "x86_64":
		machine = "x86_64"
	case "arm64":
		machine = "aarch64" // what platform.machine() says on Graviton
	default:
		return Env{}, fmt.Errorf("unsupported architecture %q", arch)
	}
	short := strings.TrimPrefix(runtime, "python")
	e := Env{Values: map[string]string{
		"python_version":                 short,
		"python_full_version":            full,
		"implementation_version":         full,
		"implementation_name":            "cpython",
		"platform_python_implementation": "CPython",
		"platform_machine":               machine,
		"platform_system":                "Linux",
		"sys_platform":                   "linux",
		"os_name":                        "posix",
		"platform_release":               "",
		"platform_version":               "",
	}}
	e.versions = new([len(variableNames)]parsedVersion)
	for v, name := range variableNames {
		if !variable(v).isVersion() {
			continue
		}
		// Only values written exactly as they parse: === compares the text.
		if pv, err := pep440.Parse(e.Values[name]); err == nil && pv.String() == e.Values[name] {
			e.versions[v] = parsedVersion{e.Values[name], pv}
		}
	}
	return e, nil
}
