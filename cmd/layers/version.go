package main

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// version and commit are set at link time by `make dist` and goreleaser:
//
//	-ldflags "-X main.version=1.2.3 -X main.commit=abc1234"
//
// The version is part of every unit's cache key, so a binary must not claim
// another binary's version.
var (
	version = "dev"
	commit  = ""
)

func init() {
	version, commit = resolveVersion(version, commit, debug.ReadBuildInfo)
}

// pseudoVersion matches the tail of a Go pseudo-version
// (v0.0.0-20261203093500-f3ad6f0abcde): a commit, not a release.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`)

// resolveVersion fills in what the linker did not set from the build info
// the go command records. `go install .../cmd/layers@v1.2.3` records the
// module's version but no commit (there is no checkout); `go build` in a
// checkout records the commit. Only a clean release version replaces "dev":
// a pseudo-version or a dirty tree changes with every commit and would
// split the unit cache of local builds for nothing.
func resolveVersion(version, commit string, read func() (*debug.BuildInfo, bool)) (string, string) {
	version = strings.TrimPrefix(version, "v")
	info, ok := read()
	if !ok {
		return version, commit
	}
	if v := info.Main.Version; version == "dev" && v != "" && v != "(devel)" &&
		!strings.Contains(v, "+") && !pseudoVersion.MatchString(v) {
		version = strings.TrimPrefix(v, "v")
	}
	if commit == "" {
		var dirty bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(commit) > 7 { // git's short form, as `make dist` and goreleaser stamp it
			commit = commit[:7]
		}
		if commit != "" && dirty {
			commit += "-dirty"
		}
	}
	return version, commit
}

// versionLine is what `layers --version` prints: "layers 1.2.3 (commit abc1234)".
func versionLine(version, commit string) string {
	s := "layers " + version
	if commit != "" {
		s += " (commit " + commit + ")"
	}
	return s + "\n"
}
