package resolver

import (
	"cmp"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// pylock is a parsed pylock.toml (PEP 751). Unlike uv.lock it records no
// graph: each package says by its marker whether it is installed, given
// the target and the extras and dependency groups asked for.
type pylock struct {
	path         string
	root         string // the repository root, which local sources must not leave
	data         []byte // kept for tomlpos on the error path
	python       *pep440.Specifier
	environments []*pep508.Marker
	extras       []string
	groups       []string // dependency-groups and default-groups: what may be asked for
	defaults     []string
	pkgs         []pylockPkg
}

var _ Lock = (*pylock)(nil)

type pylockPkg struct {
	out    Package
	marker *pep508.Marker
	python *pep440.Specifier
}

// The decoded shape of a pylock.toml.
type pylockFile struct {
	LockVersion      *string        `toml:"lock-version"`
	Environments     []string       `toml:"environments"`
	RequiresPython   string         `toml:"requires-python"`
	Extras           []string       `toml:"extras"`
	DependencyGroups []string       `toml:"dependency-groups"`
	DefaultGroups    []string       `toml:"default-groups"`
	Packages         []pylockPkgDoc `toml:"packages"`
}

type pylockPkgDoc struct {
	Name           string           `toml:"name"`
	Version        string           `toml:"version"`
	Marker         string           `toml:"marker"`
	RequiresPython string           `toml:"requires-python"`
	Index          string           `toml:"index"`
	VCS            *pylockVCS       `toml:"vcs"`
	Directory      *pylockDirectory `toml:"directory"`
	Archive        *pylockArtifact  `toml:"archive"`
	Sdist          *pylockArtifact  `toml:"sdist"`
	Wheels         []pylockArtifact `toml:"wheels"`
}

type pylockVCS struct {
	Type         string `toml:"type"`
	URL          string `toml:"url"`
	Path         string `toml:"path"`
	CommitID     string `toml:"commit-id"`
	Subdirectory string `toml:"subdirectory"`
}

type pylockDirectory struct {
	Path         string `toml:"path"`
	Subdirectory string `toml:"subdirectory"`
}

type pylockArtifact struct {
	Name         string            `toml:"name"`
	URL          string            `toml:"url"`
	Path         string            `toml:"path"`
	Size         int64             `toml:"size"`
	Hashes       map[string]string `toml:"hashes"`
	Subdirectory string            `toml:"subdirectory"`
}

var pylockVersion = regexp.MustCompile(`^1\.[0-9]+$`)

// ParsePylock reads the pylock.toml (or pylock.<name>.toml) at rel
// (relative to the repository root, forward slashes) under root.
func ParsePylock(root, rel string) (Lock, error) {
	rel = path.Clean(filepath.ToSlash(rel))
	data, err := repofs.ReadFile(root, rel)
	if err != nil {
		return nil, readError(rel, err)
	}
	l, err := parsePylock(root, rel, data)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return l, nil
}

// parsePylock parses a pylock.toml's text; file is its root-relative path,
// used in messages and to rebase the lock's relative paths.
func parsePylock(root, file string, data []byte) (*pylock, error) {
	var doc pylockFile
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, tomlpos.Error(file, err, nil)
	}
	line := func(keys ...any) int { return tomlpos.Line(data, keys...) }
	switch {
	case doc.LockVersion == nil:
		return nil, diag.Errorf(file, 0, "not a pylock.toml: no lock-version")
	case !pylockVersion.MatchString(*doc.LockVersion):
		return nil, diag.Errorf(file, line("lock-version"), "unsupported lock-version %q (1.x is supported)", *doc.LockVersion)
	}
	l := &pylock{path: file, root: root, data: data}
	if doc.RequiresPython != "" {
		s, err := pep440.ParseSpecifier(doc.RequiresPython)
		if err != nil {
			return nil, diag.Errorf(file, line("requires-python"), "bad requires-python: %v", err)
		}
		l.python = &s
	}
	for i, e := range doc.Environments {
		m, err := pep508.ParseMarker(e)
		if err != nil {
			return nil, diag.Errorf(file, line("environments", i), "%v", err)
		}
		l.environments = append(l.environments, m)
	}
	var err error
	if l.extras, err = pylockNames(file, data, doc.Extras, "extras"); err != nil {
		return nil, err
	}
	if l.groups, err = pylockNames(file, data, doc.DependencyGroups, "dependency-groups"); err != nil {
		return nil, err
	}
	if l.defaults, err = pylockNames(file, data, doc.DefaultGroups, "default-groups"); err != nil {
		return nil, err
	}
	l.groups = append(l.groups, l.defaults...)
	markers := map[string]*pep508.Marker{}
	dir := path.Dir(file)
	l.pkgs = make([]pylockPkg, len(doc.Packages))
	for i := range doc.Packages {
		if err := l.addPackage(i, &doc.Packages[i], dir, markers); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func pylockNames(file string, data []byte, names []string, key string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		if !pep508.ValidName(n) {
			return nil, diag.Errorf(file, tomlpos.Line(data, key, i), "bad name %q in %s", n, key)
		}
		out[i] = pep508.NormalizeName(n)
	}
	return out, nil
}

func (l *pylock) addPackage(i int, d *pylockPkgDoc, dir string, markers map[string]*pep508.Marker) error {
	line := func(keys ...any) int { return tomlpos.Line(l.data, append([]any{"packages", i}, keys...)...) }
	if !pep508.ValidName(d.Name) {
		return diag.Errorf(l.path, line("name"), "bad package name %q", d.Name)
	}
	p := &l.pkgs[i]
	p.out = Package{Name: pep508.NormalizeName(d.Name), Version: d.Version, Pin: Pin{File: l.path, table: "packages", entry: i}}
	if d.Marker != "" {
		m, ok := markers[d.Marker]
		if !ok {
			var err error
			if m, err = pep508.ParseMarker(d.Marker); err != nil {
				return diag.Errorf(l.path, line("marker"), "%v", err)
			}
			markers[d.Marker] = m
		}
		p.marker = m
	}
	if d.RequiresPython != "" {
		s, err := pep440.ParseSpecifier(d.RequiresPython)
		if err != nil {
			return diag.Errorf(l.path, line("requires-python"), "bad requires-python: %v", err)
		}
		p.python = &s
	}
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"vcs", d.VCS != nil}, {"directory", d.Directory != nil}, {"archive", d.Archive != nil}, {"sdist/wheels", d.Sdist != nil || d.Wheels != nil}} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	switch len(kinds) {
	case 0:
		return diag.Errorf(l.path, line("name"), "package %s has no source: it needs one of vcs, directory, archive, sdist or wheels", d.Name)
	case 1:
	default:
		return diag.Errorf(l.path, line("name"), "package %s has several sources (%s): only one is allowed", d.Name, strings.Join(kinds, ", "))
	}
	switch {
	case d.VCS != nil:
		v := d.VCS
		switch {
		case v.URL != "":
			if v.CommitID == "" {
				return diag.Errorf(l.path, line("vcs"), "vcs package %s has no commit-id", d.Name)
			}
			p.out.Source = SourceURL
			p.out.URL = cmp.Or(v.Type, "git") + "+" + v.URL + "@" + v.CommitID
			if v.Subdirectory != "" {
				p.out.URL += "#subdirectory=" + v.Subdirectory
			}
		case v.Path != "":
			// A checkout on disk installs as the folder it is.
			lp, err := lockPath(l.root, dir, path.Join(v.Path, v.Subdirectory))
			if err != nil {
				return diag.Errorf(l.path, line("vcs"), "%v", err)
			}
			p.out.Source, p.out.Path = SourceLocal, lp
		default:
			return diag.Errorf(l.path, line("vcs"), "vcs package %s has neither url nor path", d.Name)
		}
	case d.Directory != nil:
		if d.Directory.Path == "" {
			return diag.Errorf(l.path, line("directory"), "directory package %s has no path", d.Name)
		}
		lp, err := lockPath(l.root, dir, path.Join(d.Directory.Path, d.Directory.Subdirectory))
		if err != nil {
			return diag.Errorf(l.path, line("directory"), "%v", err)
		}
		p.out.Source, p.out.Path = SourceLocal, lp
	case d.Archive != nil:
		a := d.Archive
		switch {
		case a.URL != "":
			p.out.Source, p.out.URL = SourceURL, a.URL
			if a.Subdirectory != "" {
				p.out.URL += "#subdirectory=" + a.Subdirectory
			}
		case a.Path != "":
			lp, err := lockPath(l.root, dir, a.Path)
			if err != nil {
				return diag.Errorf(l.path, line("archive"), "%v", err)
			}
			p.out.Source, p.out.Path = SourceLocal, lp
		default:
			return diag.Errorf(l.path, line("archive"), "archive package %s has neither url nor path", d.Name)
		}
		p.out.Hashes = pylockHashes(p.out.Hashes, a.Hashes)
	default:
		if d.Version == "" {
			return diag.Errorf(l.path, line("name"), "package %s from an index has no version", d.Name)
		}
		p.out.Source, p.out.URL = SourceRegistry, d.Index
		for j, w := range d.Wheels {
			if w.Path != "" {
				if _, err := lockPath(l.root, dir, w.Path); err != nil {
					return diag.Errorf(l.path, line("wheels", j, "path"), "%v", err)
				}
			}
			name := cmp.Or(w.Name, lockArtifactName(cmp.Or(w.URL, w.Path)))
			p.out.Wheels = append(p.out.Wheels, Wheel{Filename: name, Size: w.Size, Hash: pylockSHA256(w.Hashes)})
			p.out.Hashes = pylockHashes(p.out.Hashes, w.Hashes)
		}
		if d.Sdist != nil {
			if d.Sdist.Path != "" {
				if _, err := lockPath(l.root, dir, d.Sdist.Path); err != nil {
					return diag.Errorf(l.path, line("sdist", "path"), "%v", err)
				}
			}
			p.out.Sdist = true
			p.out.Hashes = pylockHashes(p.out.Hashes, d.Sdist.Hashes)
		}
	}
	if p.out.Source == SourceLocal && p.out.Version == "" && d.Archive == nil {
		// PEP 751 leaves a folder's version out; its own metadata says it,
		// as uv.lock records it, so that one package is one unit.
		info, err := readFolderMetadata(p.out.Path, func(rel string) ([]byte, error) { return repofs.ReadFile(l.root, rel) })
		if err != nil {
			return err
		}
		p.out.Version = info.version
	}
	// Closures share these slices: clip them so a caller's append copies.
	p.out.Wheels, p.out.Hashes = slices.Clip(p.out.Wheels), slices.Clip(p.out.Hashes)
	return nil
}

func pylockSHA256(h map[string]string) string {
	if v, ok := h["sha256"]; ok {
		return "sha256:" + v
	}
	return ""
}

// pylockHashes appends an artifact's hashes as "alg:hex", in the order of
// the algorithms' names so that closures are the same on every run.
func pylockHashes(out []string, h map[string]string) []string {
	algs := make([]string, 0, len(h))
	for a := range h {
		algs = append(algs, a)
	}
	slices.Sort(algs)
	for _, a := range algs {
		out = append(out, a+":"+h[a])
	}
	return out
}

// Path returns the lock's path relative to the repository root.
func (l *pylock) Path() string { return l.path }

// Closure selects the packages whose markers hold in req.Env with
// req.Extras and req.Groups (the lock's default-groups when none are
// asked for), as PEP 751 tells installers to; see Lock. The project
// itself is in when the lock lists it, as installers install it: uv
// exports a project that is a package, never a virtual one.
func (l *pylock) Closure(req LockRequest) ([]Package, error) {
	env := req.Env.WithExtras(req.Extras...).WithGroups(req.Groups...)
	if len(req.Groups) == 0 {
		env.Groups = l.defaults
	}
	for _, x := range env.Extras {
		if !slices.Contains(l.extras, x) {
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "extras"), "extra %q is not among the lock's extras [%s]", x, strings.Join(l.extras, ", "))
		}
	}
	for _, g := range env.Groups {
		if !slices.Contains(l.groups, g) {
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "dependency-groups"), "dependency group %q is not among the lock's groups [%s]", g, strings.Join(l.groups, ", "))
		}
	}
	pyver := env.Values["python_full_version"]
	if l.python != nil && pyver != "" && !l.python.Contains(pyver) {
		return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "requires-python"), "the lock's requires-python %s excludes the target's Python %s", l.python, pyver)
	}
	if len(l.environments) > 0 && !slices.ContainsFunc(l.environments, func(m *pep508.Marker) bool { return m.Evaluate(env) }) {
		return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "environments"), "none of the lock's environments matches the target")
	}
	var (
		out  []Package
		from []int // out[k] comes from packages[from[k]]
	)
	for i := range l.pkgs {
		p := &l.pkgs[i]
		if !p.marker.Evaluate(env) {
			continue
		}
		if p.python != nil && pyver != "" && !p.python.Contains(pyver) {
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "packages", i, "requires-python"), "%s %s requires Python %s, not the target's %s", p.out.Name, p.out.Version, p.python, pyver)
		}
		out = append(out, p.out)
		from = append(from, i)
	}
	order := make([]int, len(out))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(out[a].Name, out[b].Name) })
	sorted := make([]Package, len(out))
	for k, o := range order {
		sorted[k] = out[o]
		if k > 0 && sorted[k-1].Name == sorted[k].Name {
			prev := tomlpos.Line(l.data, "packages", from[order[k-1]])
			return nil, diag.Errorf(l.path, tomlpos.Line(l.data, "packages", from[o]), "two entries for %s apply to this target (this one and line %d); their markers must exclude each other", sorted[k].Name, prev)
		}
	}
	return sorted, nil
}
