// Package buildinfo owns the tool's version: the one the CLI reports and
// passes down as the tool version that cache keys, inputs digests and the
// build manifest record, so that a new release rebuilds what an old one
// built.
package buildinfo

// DevVersion is the version of a binary built without one (go run, go
// test, go build without -ldflags), and the tool version the libraries
// assume when their caller gives none.
const DevVersion = "dev"

// Version is set at link time:
//
//	-ldflags "-X github.com/layers-dev/layers/internal/buildinfo.Version=v1.2.3"
var Version = DevVersion

// Tool returns the tool version v a library was given, or DevVersion when
// it was given none.
func Tool(v string) string {
	if v == "" {
		return DevVersion
	}
	return v
}
