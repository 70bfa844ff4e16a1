package resolver

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// UVLock is a parsed uv.lock: the whole workspace's resolution, from which
// each member's closure is read for one target environment.
//
// Everything that does not depend on the target (names, sources, the edges
// between packages, parsed markers) is worked out once when parsing, so that
// asking for hundreds of members' closures costs little more than walking
// their graphs.
type UVLock struct {
	path    string // as the user would name it
	root    string // the repository root, which local sources must not leave
	data    []byte // kept for tomlpos on the error path
	members []string
	python  *pep440.Specifier // requires-python; nil when absent
	pkgs    []uvPkg
	byName  map[string][]int32
	markers []*pep508.Marker // distinct markers; edges refer to them by index
	walks   sync.Pool        // of *uvWalk
	// conflicts is set when the lock declares conflicting extras or groups:
	// uv then writes markers such as `extra == 'extra-4-proj-cpu'` that
	// depend on which extras and groups are active anywhere in the install.
	conflicts bool
}

var _ Lock = (*UVLock)(nil)

// uvPkg is one [[package]] entry, ready to walk.
type uvPkg struct {
	out   Package
	index int // position in the file, for tomlpos
	local bool
	root  bool // the project at the lock's own folder (a single-project lock)
	// virtual marks a project uv does not install (no build system): a
	// project that is a package (editable or directory) is installed
	// with its closure, as `uv sync` installs it.
	virtual  bool
	deps     []uvEdge
	optional map[string][]uvEdge // by normalised extra
	dev      map[string][]uvEdge // by normalised group
	// extras and groups the project declares, including those with no
	// dependencies (which have no optional-/dev-dependencies entry).
	provides []string
	groups   []string
}

// uvEdge is a dependency entry resolved to the package it names.
type uvEdge struct {
	to     int32
	marker int32 // index into UVLock.markers; -1 when unconditional
	extras []string
}

// The decoded shape of a uv.lock; fields this package does not use are
// left to go-toml to skip.
type uvLockFile struct {
	Version        *int   `toml:"version"`
	RequiresPython string `toml:"requires-python"`
	Manifest       struct {
		Members []string `toml:"members"`
	} `toml:"manifest"`
	Conflicts [][]struct{}   `toml:"conflicts"`
	Packages  []uvLockPkgDoc `toml:"package"`
}

type uvLockPkgDoc struct {
	Name                 string                 `toml:"name"`
	Version              string                 `toml:"version"`
	Source               uvLockSource           `toml:"source"`
	Dependencies         []uvLockDep            `toml:"dependencies"`
	OptionalDependencies map[string][]uvLockDep `toml:"optional-dependencies"`
	DevDependencies      map[string][]uvLockDep `toml:"dev-dependencies"`
	Sdist                *uvLockArtifact        `toml:"sdist"`
	Wheels               []uvLockArtifact       `toml:"wheels"`
	Metadata             struct {
		ProvidesExtras []string              `toml:"provides-extras"`
		RequiresDev    map[string][]struct{} `toml:"requires-dev"`
	} `toml:"metadata"`
}

type uvLockSource struct {
	Registry     string `toml:"registry"`
	Editable     string `toml:"editable"`
	Virtual      string `toml:"virtual"`
	Path         string `toml:"path"`
	Directory    string `toml:"directory"`
	Git          string `toml:"git"`
	URL          string `toml:"url"`
	Subdirectory string `toml:"subdirectory"`
}

type uvLockDep struct {
	Name    string        `toml:"name"`
	Extra   []string      `toml:"extra"`
	Marker  string        `toml:"marker"`
	Version string        `toml:"version"`
	Source  *uvLockSource `toml:"source"`
}

type uvLockArtifact struct {
	URL      string `toml:"url"`
	Path     string `toml:"path"`
	Filename string `toml:"filename"`
	Hash     string `toml:"hash"`
	Size     int64  `toml:"size"`
}

// ParseUVLock reads the uv.lock at rel (relative to the repository root,
// forward slashes) under root.
func ParseUVLock(root, rel string) (*UVLock, error) {
	rel = path.Clean(filepath.ToSlash(rel))
	data, err := repofs.ReadFile(root, rel)
	if err != nil {
		return nil, readError(rel, err)
	}
	return parseUVLock(root, rel, data)
}

// parseUVLock parses a uv.lock's text. path is the lock's root-relative
// path: it names the file in messages, and local sources, which uv writes
// relative to the lock's folder, are rebased on its folder; each must
// stay inside root.
func parseUVLock(root, file string, data []byte) (*UVLock, error) {
	var doc uvLockFile
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, tomlpos.Error(file, err, nil)
	}
	if doc.Version == nil {
		return nil, diag.Errorf(file, 0, "not a uv.lock: no version")
	}
	if *doc.Version != 1 {
		return nil, diag.Errorf(file, tomlpos.Line(data, "version"), "unsupported uv.lock version %d (uv.lock version 1 is supported)", *doc.Version)
	}
	l := &UVLock{
		path:      file,
		root:      root,
		data:      data,
		pkgs:      make([]uvPkg, len(doc.Packages)),
		byName:    make(map[string][]int32, len(doc.Packages)),
		conflicts: len(doc.Conflicts) > 0,
	}
	if doc.RequiresPython != "" {
		s, err := pep440.ParseSpecifier(doc.RequiresPython)
		if err != nil {
			return nil, diag.Errorf(file, tomlpos.Line(data, "requires-python"), "bad requires-python: %v", err)
		}
		l.python = &s
	}
	for i, m := range doc.Manifest.Members {
		if !pep508.ValidName(m) {
			return nil, diag.Errorf(file, tomlpos.Line(data, "manifest", "members", i), "bad workspace member name %q", m)
		}
		l.members = append(l.members, pep508.NormalizeName(m))
	}
	dir := path.Dir(file)
	for i := range doc.Packages {
		if err := l.addPackage(i, &doc.Packages[i], dir); err != nil {
			return nil, err
		}
	}
	if len(l.members) == 0 {
		for i := range l.pkgs {
			if l.pkgs[i].root {
				l.members = append(l.members, l.pkgs[i].out.Name)
			}
		}
	}
	slices.Sort(l.members)
	l.members = slices.Compact(l.members)

	// Edges are resolved once every package is known, as an entry may name
	// any package in the file.
	markers := map[string]int32{}
	for i := range doc.Packages {
		d, p := &doc.Packages[i], &l.pkgs[i]
		var err error
		if p.deps, err = l.edges(markers, d.Dependencies, i, "dependencies"); err != nil {
			return nil, err
		}
		if p.optional, err = l.edgeGroups(markers, d.OptionalDependencies, i, "optional-dependencies"); err != nil {
			return nil, err
		}
		if p.dev, err = l.edgeGroups(markers, d.DevDependencies, i, "dev-dependencies"); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *UVLock) addPackage(i int, d *uvLockPkgDoc, dir string) error {
	line := func(keys ...any) int { return tomlpos.Line(l.data, append([]any{"package", i}, keys...)...) }
	if !pep508.ValidName(d.Name) {
		return diag.Errorf(l.path, line("name"), "bad package name %q", d.Name)
	}
	p := &l.pkgs[i]
	p.index = i
	p.out = Package{Name: pep508.NormalizeName(d.Name), Version: d.Version, Pin: Pin{File: l.path, table: "package", entry: i}}
	s := d.Source
	switch {
	case s.Registry != "":
		p.out.Source, p.out.URL = SourceRegistry, s.Registry
		if d.Version == "" {
			return diag.Errorf(l.path, line("name"), "registry package %s has no version", d.Name)
		}
	case s.Editable != "", s.Virtual != "", s.Directory != "", s.Path != "":
		rel := cmp.Or(s.Editable, s.Virtual, s.Directory, s.Path)
		p.local, p.virtual = true, s.Virtual != ""
		p.root = path.Clean(rel) == "." && s.Path == ""
		lp, err := lockPath(l.root, dir, rel)
		if err != nil {
			return diag.Errorf(l.path, line("source"), "%v", err)
		}
		p.out.Source, p.out.Path = SourceLocal, lp
	case s.Git != "":
		u, err := uvGitURL(s.Git)
		if err != nil {
			return diag.Errorf(l.path, line("source"), "bad git source %q: %v", s.Git, err)
		}
		p.out.Source, p.out.URL = SourceURL, u
	case s.URL != "":
		p.out.Source, p.out.URL = SourceURL, s.URL
		if s.Subdirectory != "" {
			p.out.URL += "#subdirectory=" + s.Subdirectory
		}
	default:
		return diag.Errorf(l.path, line("name"), "package %s has no source", d.Name)
	}
	for j, w := range d.Wheels {
		if w.Path != "" {
			if _, err := lockPath(l.root, dir, w.Path); err != nil {
				return diag.Errorf(l.path, line("wheels", j, "path"), "%v", err)
			}
		}
		name := w.Filename
		if name == "" {
			name = lockArtifactName(cmp.Or(w.URL, w.Path))
		}
		p.out.Wheels = append(p.out.Wheels, Wheel{Filename: name, Size: w.Size, Hash: w.Hash})
		if w.Hash != "" {
			p.out.Hashes = append(p.out.Hashes, w.Hash)
		}
	}
	if d.Sdist != nil {
		p.out.Sdist = true
		if d.Sdist.Hash != "" {
			p.out.Hashes = append(p.out.Hashes, d.Sdist.Hash)
		}
	}
	// Closures share these slices: clip them so a caller's append copies.
	p.out.Wheels, p.out.Hashes = slices.Clip(p.out.Wheels), slices.Clip(p.out.Hashes)
	for _, x := range d.Metadata.ProvidesExtras {
		p.provides = append(p.provides, pep508.NormalizeName(x))
	}
	for g := range d.Metadata.RequiresDev {
		p.groups = append(p.groups, pep508.NormalizeName(g))
	}
	l.byName[p.out.Name] = append(l.byName[p.out.Name], int32(i))
	return nil
}

// edgeGroups resolves optional- or dev-dependencies, in the order of their
// names so that the first bad entry reported does not vary between runs.
func (l *UVLock) edgeGroups(markers map[string]int32, groups map[string][]uvLockDep, i int, table string) (map[string][]uvEdge, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string][]uvEdge, len(groups))
	for _, k := range keys {
		if !pep508.ValidName(k) {
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "package", i, table, k), "bad %s name %q", strings.TrimSuffix(table, "-dependencies"), k)
		}
		e, err := l.edges(markers, groups[k], i, table, k)
		if err != nil {
			return nil, err
		}
		n := pep508.NormalizeName(k)
		out[n] = append(out[n], e...)
	}
	return out, nil
}

func (l *UVLock) edges(markers map[string]int32, deps []uvLockDep, i int, keys ...any) ([]uvEdge, error) {
	if len(deps) == 0 {
		return nil, nil
	}
	out := make([]uvEdge, len(deps))
	for j := range deps {
		d := &deps[j]
		line := func() int {
			return tomlpos.Line(l.data, append(append([]any{"package", i}, keys...), j)...)
		}
		to, err := l.target(d)
		if err != nil {
			return nil, diag.Errorf(l.path, line(), "%s: %v", l.pkgs[i].out.Name, err)
		}
		e := uvEdge{to: to, marker: -1}
		if d.Marker != "" {
			id, ok := markers[d.Marker]
			if !ok {
				m, err := pep508.ParseMarker(d.Marker)
				if err != nil {
					return nil, diag.Errorf(l.path, line(), "%v", err)
				}
				id = int32(len(l.markers))
				l.markers = append(l.markers, m)
				markers[d.Marker] = id
			}
			e.marker = id
		}
		for _, x := range d.Extra {
			if !pep508.ValidName(x) {
				return nil, diag.Errorf(l.path, line(), "bad extra name %q", x)
			}
			e.extras = append(e.extras, pep508.NormalizeName(x))
		}
		// The walk appends to a package's extras in place: clip so that an
		// append never writes into an edge's array.
		e.extras = slices.Clip(e.extras)
		out[j] = e
	}
	return out, nil
}

// target finds the one package a dependency entry names. uv adds version
// and source only where a name has several entries (a forked resolution).
func (l *UVLock) target(d *uvLockDep) (int32, error) {
	name := pep508.NormalizeName(d.Name)
	cands := l.byName[name]
	switch {
	case len(cands) == 0 && !pep508.ValidName(d.Name):
		return 0, fmt.Errorf("bad dependency name %q", d.Name)
	case len(cands) == 0:
		return 0, fmt.Errorf("depends on %s, which the lock does not have", name)
	case len(cands) == 1 && d.Version == "" && d.Source == nil:
		return cands[0], nil
	}
	var found []int32
	for _, c := range cands {
		p := &l.pkgs[c]
		if d.Version != "" && p.out.Version != d.Version {
			continue
		}
		if d.Source != nil && !uvSameSource(d.Source, p) {
			continue
		}
		found = append(found, c)
	}
	want := name
	if d.Version != "" {
		want += " " + d.Version
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return 0, fmt.Errorf("depends on %s, which the lock does not have", want)
	}
	vs := make([]string, len(found))
	for k, c := range found {
		vs[k] = cmp.Or(l.pkgs[c].out.Version, "(no version)")
	}
	return 0, fmt.Errorf("depends on %s, which matches several packages (%s); the entry needs a version or source", want, strings.Join(vs, ", "))
}

// uvSameSource compares a dependency entry's source with a package's.
// Only the kind and the value the package was built from are compared.
func uvSameSource(s *uvLockSource, p *uvPkg) bool {
	switch {
	case s.Registry != "":
		return p.out.Source == SourceRegistry && p.out.URL == s.Registry
	case s.Git != "", s.URL != "":
		return p.out.Source == SourceURL
	default:
		return p.local
	}
}

// lockPath rebases a path a lock in folder dir names (relative to that
// folder, or absolute) onto the repository root. A path that leaves the
// repository, as written or through a symbolic link, is an error: nothing
// outside it reaches the build.
func lockPath(root, dir, written string) (string, error) {
	return repofs.Rel(root, dir, written)
}

// uvGitURL turns uv's `https://host/repo?rev=v1#<commit>` into the pip
// form `git+https://host/repo@<commit>`, pinned to the locked commit.
func uvGitURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Host == "" && u.Scheme != "file" {
		return "", errors.New("no host")
	}
	q := u.Query()
	ref := cmp.Or(u.Fragment, q.Get("rev"), q.Get("tag"), q.Get("branch"))
	sub := q.Get("subdirectory")
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	out := u.String()
	if !strings.HasPrefix(out, "git+") {
		out = "git+" + out
	}
	if ref != "" {
		out += "@" + ref
	}
	if sub != "" {
		out += "#subdirectory=" + sub
	}
	return out, nil
}

// lockArtifactName is an artifact's file name: the last element of its URL or
// path, unescaped (uv writes `torch-2.5.1%2Bcpu-….whl`).
func lockArtifactName(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = s[strings.LastIndexByte(s, '/')+1:]
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// Path returns the lock's path relative to the repository root.
func (l *UVLock) Path() string { return l.path }

// Members returns the workspace members' normalised names, sorted: the
// [manifest] members, or the lock's single root project.
func (l *UVLock) Members() []string { return slices.Clone(l.members) }

// member finds the package of workspace member name.
func (l *UVLock) member(name string) (int, error) {
	name = pep508.NormalizeName(name)
	if _, ok := slices.BinarySearch(l.members, name); ok {
		for _, i := range l.byName[name] {
			if l.pkgs[i].local {
				return int(i), nil
			}
		}
		return 0, diag.Errorf(l.path, 0, "workspace member %q has no package entry in the lock; run `uv lock`", name)
	}
	return 0, diag.Errorf(l.path, 0, "%q is not a member of the workspace this lock covers (members: %s); run `uv lock` if it is new", name, strings.Join(l.members, ", "))
}

// Closure returns the packages workspace member req.Project needs in
// req.Env with req.Extras and req.Groups (dev groups only when asked for),
// sorted by name; see Lock. It is safe for concurrent use.
func (l *UVLock) Closure(req LockRequest) ([]Package, error) {
	root, err := l.member(req.Project)
	if err != nil {
		return nil, err
	}
	if err := l.checkPython(req.Env); err != nil {
		return nil, err
	}
	rp := &l.pkgs[root]
	extras, err := l.known(rp, req.Extras, "extra", rp.optional, rp.provides)
	if err != nil {
		return nil, err
	}
	groups, err := l.known(rp, req.Groups, "dependency group", rp.dev, rp.groups)
	if err != nil {
		return nil, err
	}
	w, _ := l.walks.Get().(*uvWalk)
	if w == nil {
		w = &uvWalk{lock: l, state: make([]uvVisit, len(l.pkgs)), memo: make([]int8, len(l.markers))}
	}
	defer l.walks.Put(w)
	w.start(req.Env, root, groups)
	if l.conflicts {
		for _, x := range extras {
			w.active = append(w.active, uvConflictName("extra", rp.out.Name, x))
		}
		for _, g := range groups {
			w.active = append(w.active, uvConflictName("group", rp.out.Name, g))
		}
	}
	for {
		w.run(extras)
		// Conflict markers depend on extras activated anywhere in the
		// graph: walk again until the active set stops growing.
		if len(w.found) == 0 {
			break
		}
		w.active = append(w.active, w.found...)
		w.found = w.found[:0]
		w.reset()
	}
	out, err := w.result()
	w.reset()
	return out, err
}

// uvConflictName is how uv names an extra or group of a package inside
// conflict markers: `extra-<len(package)>-<package>-<extra>`.
func uvConflictName(kind, pkg, name string) string {
	return kind + "-" + strconv.Itoa(len(pkg)) + "-" + pkg + "-" + name
}

func (l *UVLock) checkPython(env pep508.Env) error {
	v := env.Values["python_full_version"]
	if l.python == nil || v == "" || l.python.Contains(v) {
		return nil
	}
	return diag.Errorf(l.path, tomlpos.Line(l.data, "requires-python"), "the lock's requires-python %s excludes the target's Python %s", l.python, v)
}

// known normalises the extras or groups asked of p, each of which p must
// declare: with dependencies (declared) or in its metadata (listed).
func (l *UVLock) known(p *uvPkg, names []string, what string, declared map[string][]uvEdge, listed []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = pep508.NormalizeName(n)
		if _, ok := declared[n]; !ok && !slices.Contains(listed, n) {
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "package", p.index), "%s has no %s %q in this lock; run `uv lock` if it is new", p.out.Name, what, n)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// uvWalk is one closure's traversal. Walks are pooled: the state of
// 1,500 packages is worth reusing across hundreds of closures, and only
// the entries a walk reached need clearing.
type uvWalk struct {
	lock    *UVLock
	env     pep508.Env
	root    int
	groups  []string
	state   []uvVisit // by package index
	seen    []int32   // packages reached, to clear state after
	queue   []int32
	memo    []int8 // marker results without extras: 0 unknown, 1 true, 2 false
	active  []string
	found   []string // conflict names activated in this run but not in active
	scratch []string
}

type uvVisit struct {
	reached bool
	queued  bool
	extras  []string
}

func (w *uvWalk) start(env pep508.Env, root int, groups []string) {
	w.env, w.root, w.groups = env, root, groups
	w.active, w.found = w.active[:0], w.found[:0]
	clear(w.memo)
}

// reset clears what a run left in the state.
func (w *uvWalk) reset() {
	for _, i := range w.seen {
		w.state[i] = uvVisit{}
	}
	w.seen = w.seen[:0]
}

func (w *uvWalk) run(rootExtras []string) {
	w.reach(int32(w.root), rootExtras)
	for len(w.queue) > 0 {
		i := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.state[i].queued = false
		w.expand(i)
	}
}

func (w *uvWalk) reach(i int32, extras []string) {
	s := &w.state[i]
	if w.lock.conflicts {
		for _, x := range extras {
			w.activate(uvConflictName("extra", w.lock.pkgs[i].out.Name, x))
		}
	}
	grew := !s.reached
	if grew {
		s.reached, s.extras = true, extras
		w.seen = append(w.seen, i)
	} else {
		for _, x := range extras {
			if !slices.Contains(s.extras, x) {
				s.extras, grew = append(s.extras, x), true
			}
		}
	}
	if grew && !s.queued {
		s.queued = true
		w.queue = append(w.queue, i)
	}
}

func (w *uvWalk) activate(name string) {
	if !slices.Contains(w.active, name) && !slices.Contains(w.found, name) {
		w.found = append(w.found, name)
	}
}

// expand follows p's edges that apply. A package reached again with more
// extras is expanded again; reach makes the repeated edges no-ops.
func (w *uvWalk) expand(i int32) {
	p := &w.lock.pkgs[i]
	env := w.env
	env.Extras = w.state[i].extras
	if len(w.active) > 0 {
		w.scratch = append(append(w.scratch[:0], env.Extras...), w.active...)
		env.Extras = w.scratch
	}
	w.follow(p.deps, &env)
	for _, x := range w.state[i].extras {
		w.follow(p.optional[x], &env)
	}
	if int(i) == w.root {
		for _, g := range w.groups {
			w.follow(p.dev[g], &env)
		}
	}
}

func (w *uvWalk) follow(edges []uvEdge, env *pep508.Env) {
	for k := range edges {
		e := &edges[k]
		if e.marker >= 0 && !w.holds(e.marker, env) {
			continue
		}
		w.reach(e.to, e.extras)
	}
}

func (w *uvWalk) holds(id int32, env *pep508.Env) bool {
	if len(env.Extras) > 0 {
		return w.lock.markers[id].Evaluate(*env)
	}
	switch w.memo[id] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := w.lock.markers[id].Evaluate(*env)
	w.memo[id] = 2
	if ok {
		w.memo[id] = 1
	}
	return ok
}

// result lists the reached packages, sorted by name: the root too when
// it is a package (src layout, a build backend), so that its code and
// its .dist-info (importlib.metadata.version) are in Lambda as `uv sync`
// puts them in a venv; a virtual root is the function's code alone. Two
// versions of one name would put both into one function's layers, so a
// lock that leads there for this target is reported.
func (w *uvWalk) result() ([]Package, error) {
	idx := make([]int32, 0, len(w.seen))
	for _, i := range w.seen {
		if int(i) != w.root || !w.lock.pkgs[i].virtual {
			idx = append(idx, i)
		}
	}
	pkgs := w.lock.pkgs
	slices.SortFunc(idx, func(a, b int32) int {
		return cmp.Or(strings.Compare(pkgs[a].out.Name, pkgs[b].out.Name), cmp.Compare(a, b))
	})
	out := make([]Package, len(idx))
	for k, i := range idx {
		out[k] = pkgs[i].out
		if k > 0 && out[k-1].Name == out[k].Name {
			return nil, diag.Errorf(w.lock.path, tomlpos.Line(w.lock.data, "package", int(i)), "the lock selects two versions of %s for this target (%s and %s)", out[k].Name, out[k-1].Version, out[k].Version)
		}
	}
	return out, nil
}
