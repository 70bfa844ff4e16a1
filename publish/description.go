package publish

import (
	"regexp"
	"strings"

	"github.com/layers-dev/layers/planner"
)

// maxDescription is the longest layer description Lambda takes.
const maxDescription = 256

// descriptionPrefix starts the description of every layer version layers
// publishes; the content hash follows it.
const descriptionPrefix = "layers sha256:"

// description returns a layer version's description: the marker and the
// zip's hex SHA-256 first, so one ListLayerVersions call finds a version
// by content, then the packages as name==version, cut at a package
// boundary with " ..." when they do not all fit in 256 characters.
func description(sha256Hex string, pkgs []planner.PackageRef) string {
	var b strings.Builder
	b.WriteString(descriptionPrefix)
	b.WriteString(sha256Hex)
	const more = " ..."
	for i, p := range pkgs {
		tok := " " + p.String()
		room := maxDescription - b.Len()
		if i < len(pkgs)-1 {
			room -= len(more) // what follows may not fit: keep room for the mark
		}
		if len(tok) > room {
			b.WriteString(more)
			break
		}
		b.WriteString(tok)
	}
	return b.String()
}

var descriptionHash = regexp.MustCompile(`^layers sha256:([0-9a-f]{64})(?: |$)`)

// descriptionSHA256 returns the content hash a description carries, ""
// when it is not one layers wrote.
func descriptionSHA256(d string) string {
	m := descriptionHash.FindStringSubmatch(d)
	if m == nil {
		return ""
	}
	return m[1]
}
