// Package resolver owns the first stage of the pipeline: finding a
// monorepo's functions and working out each function's full dependency
// closure for a Lambda target, from every input format a Python project may
// use — requirements files (pip's own syntax, including compiled lock-style
// files), pyproject.toml (PEP 621, PEP 735 groups, Poetry, uv sources and
// workspaces) and lock files (uv.lock, poetry.lock, pylock.toml).
//
// The resolver never touches the network. A function whose inputs are not
// fully pinned or locked is reported with the requirements that need
// resolving; resolving them needs the build container (the builder's job).
package resolver

import (
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/redact"
)

// Source says where a package in a closure comes from.
type Source string

// The sources a package can have.
const (
	SourceRegistry Source = "registry" // an index (PyPI or a private one)
	SourceLocal    Source = "local"    // a workspace member or a path dependency in the repository
	SourceURL      Source = "url"      // a direct URL or VCS reference
)

// Package is one distribution, pinned, in a closure.
type Package struct {
	Name    string `json:"name"` // PEP 503 normal form
	Version string `json:"version"`
	Source  Source `json:"source"`
	// URL is the direct reference for SourceURL packages, or the index URL a
	// lock names for registry packages when it is not the default.
	URL string `json:"url,omitempty"`
	// Path locates a local package, relative to the repository root, with
	// forward slashes.
	Path string `json:"path,omitempty"`
	// Hashes are the artifact hashes the inputs carry ("sha256:…"), for
	// pip's --require-hashes.
	Hashes []string `json:"hashes,omitempty"`
	// Wheels are the wheels a lock file lists, for size estimates and
	// for the builder's choice of artifact.
	Wheels []Wheel `json:"-"`
	// Sdist says the lock lists a source distribution of this release:
	// the builder builds from it when no wheel loads on the target.
	Sdist bool `json:"-"`
	// SourceBytes is the size of a local package's source folder, the
	// best estimate of its installed size before the builder measures it.
	SourceBytes int64 `json:"-"`
	// Pin locates the entry of the input file that pins the package, for
	// messages about it.
	Pin Pin `json:"-"`
}

// Pin is where an input file pins a package: a requirements file's line,
// or a lock file's entry (whose line PinPosition finds when a message
// needs it, so parsing a lock does not look lines up for every package).
type Pin struct {
	File string // as the user would name it
	Line int    // 0 when not known yet
	// table and entry name a lock's entry: tables[entry].
	table string
	entry int
}

// Origin identifies where p's bytes come from, for telling apart two
// artifacts of one name and version: the redacted URL of a URL package,
// "./PATH" for a local one, else the source ("registry").
func (p Package) Origin() string {
	switch p.Source {
	case SourceURL:
		return redact.URL(p.URL)
	case SourceLocal:
		return "./" + p.Path
	}
	return string(p.Source)
}

// String names p for people: name==version, or, while only a build can
// tell the version (a VCS URL, a local folder), name @ its origin, as
// PEP 508 writes a direct reference. Credentials are never shown.
func (p Package) String() string {
	if p.Version == "" && p.Source != SourceRegistry {
		return p.Name + " @ " + p.Origin()
	}
	return p.Name + "==" + p.Version
}

// Wheel is a wheel file a lock file lists for a package.
type Wheel struct {
	Filename string // e.g. numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
	Size     int64  // bytes, zipped; 0 when unknown
	Hash     string // "sha256:…" when known
}

// Requirement is a requirement found in an input file, at its place.
type Requirement struct {
	pep508.Requirement
	Path string // the file it was read from, as the user would name it
	Line int
	// Hashes are --hash options on a requirements-file line.
	Hashes []string
	// Editable marks `-e` requirements.
	Editable bool
	// LocalPath is set for requirements naming a folder or archive on disk
	// (`-e ./lib`, `./lib`, `name @ file:///…`, Poetry/uv path sources); it
	// is the path relative to the repository root, with forward slashes.
	LocalPath string
	// Raw is the requirement as written, for messages.
	Raw string
}

// IndexOptions are pip's index options an input file sets; the builder
// passes them on. They may carry credentials through ${VAR} expansion:
// never log them.
type IndexOptions struct {
	IndexURL       string   `json:"index_url,omitempty"`
	ExtraIndexURLs []string `json:"extra_index_urls,omitempty"`
	FindLinks      []string `json:"find_links,omitempty"`
	NoIndex        bool     `json:"no_index,omitempty"`
	OnlyBinary     []string `json:"only_binary,omitempty"`
	NoBinary       []string `json:"no_binary,omitempty"`
	Pre            bool     `json:"pre,omitempty"`
}

// LockRequest asks a lock file for one project's closure in one environment.
type LockRequest struct {
	// Project is the name of the project whose closure is wanted, for locks
	// that record projects (uv.lock workspace members). Empty otherwise.
	Project string
	// Roots are the top-level requirements, for locks that do not record
	// the project itself (poetry.lock: the pyproject's dependencies).
	Roots []Requirement
	// Extras and Groups select optional dependencies and dependency groups
	// of the project.
	Extras []string
	Groups []string
	// Env is the target's marker environment (without extras).
	Env pep508.Env
}

// Lock is a parsed lock file.
type Lock interface {
	// Path is the lock file's path as the user would name it.
	Path() string
	// Closure returns every package the request needs, sorted by name,
	// including local packages (workspace members, path dependencies) but
	// not the requested project itself. A graph that names a package the
	// lock lacks is a *diag.Error naming the lock file and line.
	Closure(req LockRequest) ([]Package, error)
}
