package builder

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/wheeltag"
	"github.com/layers-dev/layers/resolver"
)

// PlatformTags returns the wheel platform tags that load on the target's
// Lambda runtime, newest first, up to its glibc (wheeltag has the glibc of
// each runtime: 2.26 for python3.9 to 3.11, 2.34 from python3.12). pip
// gets them explicitly, so a wheel that would not load on the runtime's
// glibc is never picked, whatever the build image's own glibc is.
func PlatformTags(t config.Target) ([]string, error) {
	rt, err := wheeltag.RuntimeFor(t.Runtime, t.Architecture)
	if err != nil {
		return nil, err
	}
	return rt.PlatformTags(), nil
}

// pythonMinor returns 11 for python3.11.
func pythonMinor(t config.Target) (int, error) {
	major, minor, ok := strings.Cut(t.PythonVersion(), ".")
	n, err := strconv.Atoi(minor)
	if !ok || major != "3" || err != nil {
		return 0, fmt.Errorf("runtime %q is not a python3.X runtime", t.Runtime)
	}
	return n, nil
}

// binaryArgs are pip's options that select wheels for the target rather
// than for the build image's own Python.
func binaryArgs(t config.Target) ([]string, error) {
	tags, err := PlatformTags(t)
	if err != nil {
		return nil, err
	}
	minor, err := pythonMinor(t)
	if err != nil {
		return nil, err
	}
	args := []string{"--only-binary=:all:"}
	for _, tag := range tags {
		args = append(args, "--platform", tag)
	}
	abi := fmt.Sprintf("cp3%d", minor)
	// pip picks wheels for --python-version, but at install time it checks
	// Requires-Python against the image's own interpreter: a build image
	// whose Python differs from the runtime's (a stand-in, a newer runtime)
	// would reject numpy 2.5 for python3.12 from Python 3.11. The version
	// is pinned and the wheel is chosen for the target, so the check adds
	// nothing.
	return append(args, "--python-version", t.PythonVersion(), "--implementation", "cp",
		"--abi", abi, "--abi", "abi3", "--abi", "none", "--ignore-requires-python"), nil
}

// indexEnv turns a function's index options into pip's environment
// variables. Index URLs may carry credentials, so they never go on pip's
// command line, which logs and process lists show.
func indexEnv(o resolver.IndexOptions, lockIndex string) []string {
	var env []string
	index := o.IndexURL
	if lockIndex != "" {
		index = lockIndex
	}
	if index != "" {
		env = append(env, "PIP_INDEX_URL="+index)
	}
	if len(o.ExtraIndexURLs) > 0 {
		env = append(env, "PIP_EXTRA_INDEX_URL="+strings.Join(o.ExtraIndexURLs, " "))
	}
	if len(o.FindLinks) > 0 {
		env = append(env, "PIP_FIND_LINKS="+strings.Join(o.FindLinks, " "))
	}
	if o.NoIndex {
		env = append(env, "PIP_NO_INDEX=1")
	}
	if o.Pre {
		env = append(env, "PIP_PRE=1")
	}
	return env
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
