package resolver

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// PoetryLock is a parsed poetry.lock. It does not record the project
// itself: closures start from the requirements the pyproject declares
// (LockRequest.Roots), and every version comes from the lock. Closure only
// reads it, so one lock serves concurrent closures.
type PoetryLock struct {
	path string
	data []byte // for lines on the error path
	pkgs []poetryLockPackage
	// Each distinct name has an id, in name order, so that a closure is
	// kept in slices indexed by id and comes out sorted without sorting.
	names []string
	ids   map[string]int
	byID  [][]int // id -> indexes into pkgs, in file order
}

var _ Lock = (*PoetryLock)(nil)

type poetryLockPackage struct {
	Package
	deps   []poetryLockDep
	extras map[string][]string // extra -> names of the optional dependencies it selects
	// Lock 2.1 says which groups need the package and under which
	// markers: one marker for all of them, or one per group.
	groups       []string
	marker       *pep508.Marker
	groupMarkers map[string]*pep508.Marker
}

type poetryLockDep struct {
	key        string // as written, for lines
	listIndex  int    // index in the list form, else -1
	name       string
	id         int // -1 when the lock lacks the package
	extras     []string
	optional   bool
	marker     *pep508.Marker
	constraint string // Poetry syntax; only read to choose between locked versions
}

type poetryLockDoc struct {
	Package  []poetryLockPackageDoc `toml:"package"`
	Metadata struct {
		LockVersion string                      `toml:"lock-version"`
		Files       map[string][]poetryLockFile `toml:"files"` // lock 1.x
	} `toml:"metadata"`
}

type poetryLockPackageDoc struct {
	Name         string              `toml:"name"`
	Version      string              `toml:"version"`
	Groups       []string            `toml:"groups"`
	Markers      any                 `toml:"markers"`
	Files        []poetryLockFile    `toml:"files"`
	Dependencies map[string]any      `toml:"dependencies"`
	Extras       map[string][]string `toml:"extras"`
	Source       *struct {
		Type              string `toml:"type"`
		URL               string `toml:"url"`
		Reference         string `toml:"reference"`
		ResolvedReference string `toml:"resolved_reference"`
		Subdirectory      string `toml:"subdirectory"`
	} `toml:"source"`
}

type poetryLockFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

// ParsePoetryLock reads a poetry.lock (lock-version 1.x, 2.0 and 2.1) at rel,
// relative to root with forward slashes. Malformed content is a *diag.Error
// naming rel and the line.
func ParsePoetryLock(root, rel string) (*PoetryLock, error) {
	data, err := repofs.ReadFile(root, rel)
	if err != nil {
		return nil, readError(rel, err)
	}
	return parsePoetryLock(root, rel, data)
}

// parsePoetryLock is ParsePoetryLock on bytes already read; root is only
// used to relate absolute source paths to the repository.
func parsePoetryLock(root, rel string, data []byte) (*PoetryLock, error) {
	var doc poetryLockDoc
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, tomlpos.Error(rel, err, pyprojectTOMLWords)
	}
	l := &PoetryLock{path: rel, data: data, pkgs: make([]poetryLockPackage, len(doc.Package)), ids: make(map[string]int, len(doc.Package))}
	if v := doc.Metadata.LockVersion; v != "" {
		major, _, _ := strings.Cut(v, ".")
		if major != "1" && major != "2" {
			return nil, l.errorf([]any{"metadata", "lock-version"}, "unsupported lock-version %q (this tool reads 1.x and 2.x)", v)
		}
	}
	for i, d := range doc.Package {
		if !pep508.ValidName(d.Name) {
			return nil, l.errorf([]any{"package", i, "name"}, "package %d: %q is not a valid project name", i+1, d.Name)
		}
		name := pep508.NormalizeName(d.Name)
		if _, ok := l.ids[name]; !ok {
			l.ids[name] = 0
			l.names = append(l.names, name)
		}
	}
	slices.Sort(l.names)
	l.byID = make([][]int, len(l.names))
	for id, name := range l.names {
		l.ids[name] = id
	}
	for i, d := range doc.Package {
		id := l.ids[pep508.NormalizeName(d.Name)]
		l.byID[id] = append(l.byID[id], i)
	}
	for i := range doc.Package {
		if err := l.readPackage(root, i, &doc.Package[i], doc.Metadata.Files); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Path returns the lock's path relative to the repository root.
func (l *PoetryLock) Path() string { return l.path }

func (l *PoetryLock) errorf(keys []any, format string, args ...any) error {
	return diag.Errorf(l.path, tomlpos.Line(l.data, keys...), format, args...)
}

func (l *PoetryLock) readPackage(root string, i int, d *poetryLockPackageDoc, files1 map[string][]poetryLockFile) error {
	keys := []any{"package", i}
	if _, err := pep440.Parse(d.Version); err != nil {
		return l.errorf(pyprojectAt(keys, "version"), "%s: %v", d.Name, err)
	}
	p := &l.pkgs[i]
	p.Name, p.Version, p.Source = pep508.NormalizeName(d.Name), d.Version, SourceRegistry
	p.Pin = Pin{File: l.path, table: "package", entry: i}

	if s := d.Source; s != nil {
		switch s.Type {
		case "directory", "file":
			lp, err := pyprojectRepoPath(root, path.Dir(l.path), s.URL)
			if err != nil || s.URL == "" {
				return l.errorf(pyprojectAt(keys, "source", "url"), "%s: source url %q: %v", d.Name, s.URL, cmp.Or(err, fmt.Errorf("empty path")))
			}
			p.Source, p.Path = SourceLocal, lp
		case "git":
			p.Source, p.URL = SourceURL, poetryGitURL(s.URL, cmp.Or(s.ResolvedReference, s.Reference), s.Subdirectory)
		case "url":
			p.Source, p.URL = SourceURL, s.URL
			if s.Subdirectory != "" {
				p.URL += "#subdirectory=" + s.Subdirectory
			}
		case "legacy":
			p.URL = s.URL
		default:
			return l.errorf(pyprojectAt(keys, "source", "type"), "%s: unknown source type %q", d.Name, s.Type)
		}
	}

	files := d.Files
	if files == nil {
		files = poetryLockFiles(files1, d.Name, p.Name, d.Version, len(l.byID[l.ids[p.Name]]))
	}
	for _, f := range files {
		if f.Hash != "" {
			p.Hashes = append(p.Hashes, f.Hash)
		}
		if strings.HasSuffix(f.File, ".whl") {
			p.Wheels = append(p.Wheels, Wheel{Filename: f.File, Hash: f.Hash})
		} else if strings.HasSuffix(f.File, ".tar.gz") || strings.HasSuffix(f.File, ".zip") {
			p.Sdist = true
		}
	}

	for _, g := range d.Groups {
		p.groups = append(p.groups, pep508.NormalizeName(g))
	}
	switch m := d.Markers.(type) {
	case nil:
	case string:
		mk, err := pyprojectMarker(m)
		if err != nil {
			return l.errorf(pyprojectAt(keys, "markers"), "%s: %v", d.Name, err)
		}
		p.marker = mk
	case map[string]any:
		p.groupMarkers = make(map[string]*pep508.Marker, len(m))
		for _, g := range pyprojectSortedKeys(m) {
			s, ok := m[g].(string)
			if !ok {
				return l.errorf(pyprojectAt(keys, "markers", g), "%s: markers.%s must be a string, found %s", d.Name, g, pyprojectTOMLKind(m[g]))
			}
			mk, err := pyprojectMarker(s)
			if err != nil {
				return l.errorf(pyprojectAt(keys, "markers", g), "%s: %v", d.Name, err)
			}
			p.groupMarkers[pep508.NormalizeName(g)] = mk
		}
	default:
		return l.errorf(pyprojectAt(keys, "markers"), "%s: markers must be a string or a table of strings, found %s", d.Name, pyprojectTOMLKind(m))
	}

	if len(d.Extras) > 0 {
		p.extras = make(map[string][]string, len(d.Extras))
		for x, reqs := range d.Extras {
			names := make([]string, 0, len(reqs))
			for _, r := range reqs {
				end := strings.IndexFunc(r, func(c rune) bool {
					return !(c == '-' || c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
				})
				if end < 0 {
					end = len(r)
				}
				names = append(names, pep508.NormalizeName(r[:end]))
			}
			p.extras[pep508.NormalizeName(x)] = names
		}
	}

	// Sorted, so that the first edge to reach a package (which chooses
	// between locked versions) does not depend on map order.
	for _, k := range pyprojectSortedKeys(d.Dependencies) {
		dkeys := pyprojectAt(keys, "dependencies", k)
		if !pep508.ValidName(k) {
			return l.errorf(dkeys, "%s: dependency %q is not a valid project name", d.Name, k)
		}
		specs, err := poetrySpecs(d.Dependencies[k])
		if err != nil {
			if fe, ok := err.(*poetryFieldError); ok {
				dkeys = pyprojectAt(dkeys, fe.keys...)
			}
			return l.errorf(dkeys, "%s: dependency %s: %v", d.Name, k, err)
		}
		_, list := d.Dependencies[k].([]any)
		for j, s := range specs {
			m, err := poetryMarker(s)
			if err != nil {
				return l.errorf(dkeys, "%s: dependency %s: %v", d.Name, k, err)
			}
			dep := poetryLockDep{key: k, listIndex: -1, name: pep508.NormalizeName(k), id: -1, extras: s.extras, optional: s.optional, marker: m, constraint: s.version}
			if id, ok := l.ids[dep.name]; ok {
				dep.id = id
			}
			if list {
				dep.listIndex = j
			}
			p.deps = append(p.deps, dep)
		}
	}
	return nil
}

// poetryLockFiles picks a package's files from lock 1.x's [metadata.files],
// keyed by the name as written (or normalised). When several versions of a
// package are locked, the file names tell them apart.
func poetryLockFiles(files map[string][]poetryLockFile, written, name, version string, versions int) []poetryLockFile {
	fs, ok := files[written]
	if !ok {
		fs = files[name]
	}
	if versions == 1 {
		return fs
	}
	var out []poetryLockFile
	for _, f := range fs {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(f.File, ".whl"), ".tar.gz"), ".zip")
		if strings.HasSuffix(base, "-"+version) || strings.Contains(base, "-"+version+"-") {
			out = append(out, f)
		}
	}
	return out
}

// Closure walks the lock from req.Roots: a root applies when its marker
// holds in req.Env with the project's extras and groups; a dependency when
// its marker holds with the extras its dependent is installed with, and,
// for optional ones, when one of those extras selects it. A package whose
// lock 2.1 groups and markers exclude it from the target is left out, with
// what only it needs. Where the lock has several versions of a package,
// the first its markers keep and the dependency's constraint admits wins.
//
// A root the lock lacks, or whose version or path it does not match, is an
// error at the root's line; a dependency the lock lacks, at the line of the
// dependency in the package that needs it.
func (l *PoetryLock) Closure(req LockRequest) ([]Package, error) {
	project := pep508.NormalizeName(req.Project)
	rootEnv := req.Env.WithExtras(req.Extras...).WithGroups(req.Groups...)
	groups := map[string]bool{"main": true}
	for _, g := range rootEnv.Groups {
		groups[g] = true
	}
	type state struct {
		pkg    int
		extras []string
	}
	chosen := make([]*state, len(l.names)) // by id
	var queue []*state
	add := func(id, pkg int, extras []string) {
		st := chosen[id]
		if st == nil {
			st = &state{pkg: pkg, extras: slices.Clone(extras)}
			chosen[id] = st
			queue = append(queue, st)
			return
		}
		grown := false
		for _, x := range extras {
			if !slices.Contains(st.extras, x) {
				st.extras, grown = append(st.extras, x), true
			}
		}
		if grown {
			queue = append(queue, st)
		}
	}

	for _, r := range req.Roots {
		if r.Name == project || !r.Marker.Evaluate(rootEnv) {
			continue
		}
		where := cmp.Or(r.Path, l.path)
		id, ok := l.ids[r.Name]
		if !ok {
			return nil, diag.Errorf(where, r.Line, "%s is not in %s: the lock is out of date (run poetry lock)", r.Name, l.path)
		}
		cands := l.byID[id]
		if st := chosen[id]; st != nil {
			cands = []int{st.pkg}
		}
		pick, live := -1, false
		for _, i := range cands {
			if !l.applies(i, rootEnv, groups) {
				continue
			}
			live = true
			if l.satisfies(r, i) {
				pick = i
				break
			}
		}
		if !live {
			continue // the lock says the target does not need it
		}
		if pick < 0 {
			return nil, diag.Errorf(where, r.Line, "%s is out of date: the pyproject asks for %s, it locks %s %s (run poetry lock)",
				l.path, cmp.Or(r.Raw, r.Name), r.Name, l.versions(cands))
		}
		add(id, pick, r.Extras)
	}

	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		p := &l.pkgs[st.pkg]
		env := req.Env
		env.Extras, env.Groups = st.extras, nil
		for di := range p.deps {
			d := &p.deps[di]
			if d.optional && !p.selects(st.extras, d.name) || !d.marker.Evaluate(env) {
				continue
			}
			if d.id < 0 {
				keys := []any{"package", st.pkg, "dependencies", d.key}
				if d.listIndex >= 0 {
					keys = append(keys, d.listIndex)
				}
				return nil, l.errorf(keys, "%s %s needs %s, which is not in the lock: the lock is out of date (run poetry lock)", p.Name, p.Version, d.name)
			}
			if st := chosen[d.id]; st != nil {
				add(d.id, st.pkg, d.extras)
				continue
			}
			cands := l.byID[d.id]
			pick := -1
			for _, i := range cands {
				if !l.applies(i, rootEnv, groups) {
					continue
				}
				if pick < 0 {
					pick = i
				}
				if len(cands) == 1 || d.allows(l.pkgs[i].Version) {
					pick = i
					break
				}
			}
			if pick >= 0 {
				add(d.id, pick, d.extras)
			}
		}
	}

	out := []Package{}
	for _, st := range chosen {
		if st != nil {
			out = append(out, l.pkgs[st.pkg].Package)
		}
	}
	return out, nil
}

// applies reports whether lock 2.1's groups and markers keep package i for
// the target; older locks record neither.
func (l *PoetryLock) applies(i int, env pep508.Env, groups map[string]bool) bool {
	p := &l.pkgs[i]
	if len(p.groups) > 0 && !slices.ContainsFunc(p.groups, func(g string) bool { return groups[g] }) {
		return false
	}
	if !p.marker.Evaluate(env) {
		return false
	}
	if p.groupMarkers == nil {
		return true
	}
	for g := range groups {
		if m, ok := p.groupMarkers[g]; ok && m.Evaluate(env) {
			return true
		} else if !ok && slices.Contains(p.groups, g) {
			return true // no marker for this group: it always needs the package
		}
	}
	return false
}

// satisfies reports whether root requirement r accepts package i.
func (l *PoetryLock) satisfies(r Requirement, i int) bool {
	p := &l.pkgs[i]
	switch {
	case r.LocalPath != "":
		return p.Source == SourceLocal && p.Path == r.LocalPath
	case r.URL != "":
		return true // the lock records the resolved commit, not the ref asked for
	}
	return r.Specifier.Contains(p.Version)
}

func (l *PoetryLock) versions(cands []int) string {
	vs := make([]string, len(cands))
	for j, i := range cands {
		p := &l.pkgs[i]
		vs[j] = p.Version
		if p.Path != "" {
			vs[j] += " from " + p.Path
		}
	}
	return strings.Join(vs, " and ")
}

// selects reports whether one of extras selects optional dependency name.
func (p *poetryLockPackage) selects(extras []string, name string) bool {
	for _, x := range extras {
		if slices.Contains(p.extras[x], name) {
			return true
		}
	}
	return false
}

// allows reports whether the dependency's constraint admits version; a
// constraint that does not parse admits everything (the lock is the
// authority, the constraint only breaks ties).
func (d *poetryLockDep) allows(version string) bool {
	alts, err := poetryConstraint(d.constraint)
	if err != nil || len(alts) == 0 {
		return true
	}
	for _, alt := range alts {
		if s, err := pep440.ParseSpecifier(strings.Join(alt, ",")); err == nil && s.Contains(version) {
			return true
		}
	}
	return false
}
