// Package buildinfo owns the tool's version and commit: the version the
// CLI reports and passes down as the tool version that cache keys, inputs
// digests and the build manifest record, so that a new release rebuilds
// what an old one built.
package buildinfo

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// DevVersion is the version of a binary built without one (go run, go
// test, go build without -ldflags), and the tool version the libraries
// assume when their caller gives none.
const DevVersion = "dev"

// Version and Commit are set at link time by `make dist` and goreleaser:
//
//	-ldflags "-X github.com/layers-dev/layers/internal/buildinfo.Version=1.2.3 -X github.com/layers-dev/layers/internal/buildinfo.Commit=abc1234"
//
// What the linker leaves unset comes from the build info the go command
// records (resolve). The version is part of every unit's cache key, so a
// binary must not claim another binary's version.
var (
	Version = DevVersion
	Commit  = ""
)

func init() {
	Version, Commit = resolve(Version, Commit, debug.ReadBuildInfo)
}

// Tool returns the tool version v a library was given, or DevVersion when
// it was given none.
func Tool(v string) string {
	if v == "" {
		return DevVersion
	}
	return v
}

// pseudoVersion matches the tail of a Go pseudo-version
// (v0.0.0-20261203093500-f3ad6f0abcde): a commit, not a release.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}$`)

// resolve fills in what the linker did not set from the build info
// the go command records. `go install .../cmd/layers@v1.2.3` records the
// module's version but no commit (there is no checkout); `go build` in a
// checkout records the commit. Only a clean release version replaces "dev":
// a pseudo-version or a dirty tree changes with every commit and would
// split the unit cache of local builds for nothing.
func resolve(version, commit string, read func() (*debug.BuildInfo, bool)) (string, string) {
	version = strings.TrimPrefix(version, "v")
	info, ok := read()
	if !ok {
		return version, commit
	}
	if v := info.Main.Version; version == DevVersion && v != "" && v != "(devel)" &&
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

// Line is what `layers --version` prints: "layers 1.2.3 (commit abc1234)".
func Line() string { return line(Version, Commit) }

func line(version, commit string) string {
	s := "layers " + version
	if commit != "" {
		s += " (commit " + commit + ")"
	}
	return s + "\n"
}
