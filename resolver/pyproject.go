package resolver

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// Pyproject is what a pyproject.toml declares about a project's
// dependencies, from PEP 621 metadata, PEP 735 dependency groups, Poetry's
// [tool.poetry] tables and uv's [tool.uv] tables, all turned into PEP 508
// requirements that carry their file and line.
//
// Requirements naming a folder or archive in the repository (uv path
// sources, Poetry path dependencies, `name @ file:…`) have LocalPath set and
// no URL; git and URL sources have URL set. A self-reference
// (`project[extra]` in an extra or a group, as in `all = ["me[a,b]"]`) is
// replaced by the requirements of the extras it names.
type Pyproject struct {
	// Path is the file's path relative to the repository root.
	Path string
	// Name is the project's PEP 503 normal form: [project].name, else
	// [tool.poetry].name; empty for a virtual workspace root.
	Name string
	// Version is the static version when one is declared.
	Version string
	// RequiresPython is [project].requires-python, or Poetry's python
	// dependency converted to a PEP 440 specifier (as written when it is an
	// `||` of alternatives).
	RequiresPython string
	// Dependencies are the runtime dependencies: [project].dependencies, or
	// [tool.poetry.dependencies] less python and the optional ones.
	Dependencies []Requirement
	// DynamicDependencies is set when [project].dynamic lists
	// "dependencies" and no Poetry table declares them: another build
	// backend (setuptools' file = ["requirements.txt"], say) computes them,
	// so Dependencies says nothing.
	DynamicDependencies bool
	// Optional are the extras by normalised name: [project.optional-dependencies],
	// or [tool.poetry.extras] (which name optional Poetry dependencies).
	Optional map[string][]Requirement
	// Groups are the dependency groups by normalised name: PEP 735
	// [dependency-groups] with include-group expanded, Poetry's
	// [tool.poetry.group.NAME.dependencies], and the legacy
	// [tool.poetry.dev-dependencies] and [tool.uv] dev-dependencies as "dev".
	Groups map[string][]Requirement
	// Sources are [tool.uv.sources] by normalised name. Path, git and URL
	// sources are already applied to the requirements; workspace sources
	// are left to the caller, who knows the workspace members.
	Sources map[string]UVSource
	// Workspace is [tool.uv.workspace], nil when there is none.
	Workspace *UVWorkspace
	// Poetry is set when the dependencies came from [tool.poetry].
	Poetry bool
}

// UVSource is one entry of [tool.uv.sources]: exactly one of Workspace,
// Path, Git, URL and Index is set.
type UVSource struct {
	Workspace bool
	// Path is relative to the repository root, with forward slashes.
	Path     string
	Editable bool
	// Git is the repository URL as written; Ref is its rev, tag or branch.
	Git string
	Ref string
	// Subdirectory is where the project sits inside a git or URL source.
	Subdirectory string
	URL          string
	Index        string
	// Marker is the condition uv's marker, extra and group keys put on the
	// source; nil when it always applies. Conditional sources (and lists of
	// them, of which Sources keeps the first) are not applied to the
	// requirements: uv falls back to the index where no condition holds,
	// which one requirement cannot say.
	Marker *pep508.Marker
}

// UVWorkspace is [tool.uv.workspace]: member and exclude globs relative to
// the pyproject's folder, as written.
type UVWorkspace struct {
	Members []string
	Exclude []string
}

// ParsePyproject reads the pyproject.toml at rel (relative to root, with
// forward slashes). Malformed content is a *diag.Error naming rel and the line.
func ParsePyproject(root, rel string) (*Pyproject, error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return parsePyproject(root, rel, data)
}

// pyprojectDoc is the part of pyproject.toml the resolver reads. Values
// with several shapes (Poetry dependencies, group entries, uv sources) are
// decoded as any and checked by hand, so that their errors get lines.
type pyprojectDoc struct {
	Project *struct {
		Name                 string              `toml:"name"`
		Version              string              `toml:"version"`
		RequiresPython       string              `toml:"requires-python"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
		Dynamic              []string            `toml:"dynamic"`
	} `toml:"project"`
	DependencyGroups map[string][]any `toml:"dependency-groups"`
	Tool             struct {
		Poetry *struct {
			Name            string         `toml:"name"`
			Version         string         `toml:"version"`
			Dependencies    map[string]any `toml:"dependencies"`
			DevDependencies map[string]any `toml:"dev-dependencies"`
			Group           map[string]struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"group"`
			Extras map[string][]string `toml:"extras"`
		} `toml:"poetry"`
		UV *struct {
			Sources   map[string]any `toml:"sources"`
			Workspace *struct {
				Members []string `toml:"members"`
				Exclude []string `toml:"exclude"`
			} `toml:"workspace"`
			DevDependencies []string `toml:"dev-dependencies"`
		} `toml:"uv"`
	} `toml:"tool"`
}

// pyprojectParser holds what one file's parse needs: the lines are indexed
// once, on first use.
type pyprojectParser struct {
	root, rel, dir string
	data           []byte
	lines          *tomlpos.Index
	p              *Pyproject
}

// parsePyproject is ParsePyproject on bytes already read; root is only used
// to relate absolute file: URLs to the repository.
func parsePyproject(root, rel string, data []byte) (*Pyproject, error) {
	var doc pyprojectDoc
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, pyprojectTOMLError(rel, err)
	}
	pp := &pyprojectParser{root: root, rel: rel, dir: path.Dir(rel), data: data}
	p := &Pyproject{Path: rel, Optional: map[string][]Requirement{}, Groups: map[string][]Requirement{}}
	pp.p = p
	if err := pp.parse(&doc); err != nil {
		return nil, err
	}
	return p, nil
}

// pyprojectTOMLError turns a go-toml error into a *diag.Error at its line,
// with the key path instead of Go type names for type mismatches.
func pyprojectTOMLError(rel string, err error) error {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return diag.Wrap(rel, 0, err)
	}
	row, _ := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	const mismatch = "cannot decode TOML "
	if i := strings.Index(msg, mismatch); i >= 0 && len(de.Key()) > 0 {
		kind, _, _ := strings.Cut(msg[i+len(mismatch):], " into")
		msg = fmt.Sprintf("%s has the wrong type (a TOML %s)", strings.Join(de.Key(), "."), kind)
	} else {
		msg = "invalid TOML: " + msg
	}
	return &diag.Error{Path: rel, Line: row, Msg: msg, Err: err}
}

func (pp *pyprojectParser) line(keys ...any) int {
	if pp.lines == nil {
		pp.lines = tomlpos.NewIndex(pp.data)
	}
	return pp.lines.Line(keys...)
}

func (pp *pyprojectParser) errorf(keys []any, format string, args ...any) error {
	return diag.Errorf(pp.rel, pp.line(keys...), format, args...)
}

// pyprojectAt appends more keys to a key path without aliasing the original.
func pyprojectAt(keys []any, more ...any) []any {
	return append(slices.Clip(keys), more...)
}

func (pp *pyprojectParser) parse(doc *pyprojectDoc) error {
	p := pp.p
	poetry := doc.Tool.Poetry
	if pr := doc.Project; pr != nil {
		if err := pp.identity(pr.Name, pr.Version, "project"); err != nil {
			return err
		}
		if pr.RequiresPython != "" {
			if _, err := parsedSpecifiers.get(pr.RequiresPython, pep440.ParseSpecifier); err != nil {
				return pp.errorf([]any{"project", "requires-python"}, "project.requires-python: %v", err)
			}
			p.RequiresPython = pr.RequiresPython
		}
		for i, s := range pr.Dependencies {
			r, err := pp.requirement(s, "project", "dependencies", i)
			if err != nil {
				return err
			}
			p.Dependencies = append(p.Dependencies, r)
		}
		for _, k := range pp.ordered(pyprojectKeys(pr.OptionalDependencies), "project", "optional-dependencies") {
			name, err := pp.groupName(k, "extra", "project", "optional-dependencies", k)
			if err != nil {
				return err
			}
			if _, dup := p.Optional[name]; dup {
				return pp.errorf([]any{"project", "optional-dependencies", k}, "extra %q is declared twice (names are compared in normal form)", k)
			}
			reqs := []Requirement{}
			for i, s := range pr.OptionalDependencies[k] {
				r, err := pp.requirement(s, "project", "optional-dependencies", k, i)
				if err != nil {
					return err
				}
				reqs = append(reqs, r)
			}
			p.Optional[name] = reqs
		}
		p.DynamicDependencies = pr.Dependencies == nil && slices.Contains(pr.Dynamic, "dependencies")
	}
	if poetry != nil {
		if err := pp.poetry(doc); err != nil {
			return err
		}
	}
	if err := pp.dependencyGroups(doc.DependencyGroups); err != nil {
		return err
	}
	if uv := doc.Tool.UV; uv != nil {
		for i, s := range uv.DevDependencies {
			r, err := pp.requirement(s, "tool", "uv", "dev-dependencies", i)
			if err != nil {
				return err
			}
			p.Groups["dev"] = append(p.Groups["dev"], r)
		}
		if ws := uv.Workspace; ws != nil {
			p.Workspace = &UVWorkspace{Members: ws.Members, Exclude: ws.Exclude}
		}
		if err := pp.uvSources(uv.Sources); err != nil {
			return err
		}
	}
	return pp.expandSelf()
}

// identity records the project's name and version from table t ("project"
// or "tool.poetry"), when they are not already known.
func (pp *pyprojectParser) identity(name, version string, t ...string) error {
	keys := make([]any, len(t))
	for i, k := range t {
		keys[i] = k
	}
	if name != "" && pp.p.Name == "" {
		if !pep508.ValidName(name) {
			return pp.errorf(pyprojectAt(keys, "name"), "%s.name: %q is not a valid project name", strings.Join(t, "."), name)
		}
		pp.p.Name = pep508.NormalizeName(name)
	}
	if version != "" && pp.p.Version == "" {
		if _, err := pep440.Parse(version); err != nil {
			return pp.errorf(pyprojectAt(keys, "version"), "%s.version: %v", strings.Join(t, "."), err)
		}
		pp.p.Version = version
	}
	return nil
}

// groupName checks and normalises an extra or group name.
func (pp *pyprojectParser) groupName(name, what string, keys ...any) (string, error) {
	if !pep508.ValidName(name) {
		return "", pp.errorf(keys, "%q is not a valid %s name", name, what)
	}
	return pep508.NormalizeName(name), nil
}

// pyprojectCache memoises a parse per distinct string: the same
// requirements, markers and constraints recur in every member of a
// workspace. Values are shared, so callers never modify them. Only
// successes are kept, and only so many, so that fuzzing or a hostile input
// cannot grow it without end.
type pyprojectCache[V any] struct {
	m sync.Map
	n atomic.Int64
}

const pyprojectCacheSize = 1 << 14

func (c *pyprojectCache[V]) get(s string, parse func(string) (V, error)) (V, error) {
	if v, ok := c.m.Load(s); ok {
		return v.(V), nil
	}
	v, err := parse(s)
	if err == nil && c.n.Load() < pyprojectCacheSize {
		c.n.Add(1)
		c.m.Store(s, v)
	}
	return v, err
}

var (
	parsedRequirements pyprojectCache[pep508.Requirement]
	parsedSpecifiers   pyprojectCache[pep440.Specifier]
	parsedMarkers      pyprojectCache[*pep508.Marker]
	poetryConstraints  pyprojectCache[[][]string]
)

func pyprojectMarker(s string) (*pep508.Marker, error) {
	return parsedMarkers.get(s, pep508.ParseMarker)
}

// requirement parses the PEP 508 string at keys.
func (pp *pyprojectParser) requirement(s string, keys ...any) (Requirement, error) {
	src := s
	if strings.Contains(s, "{root:") {
		src = pyprojectHatchRoot.Replace(s)
	}
	pr, err := parsedRequirements.get(src, pep508.ParseRequirement)
	if err != nil {
		return Requirement{}, pp.errorf(keys, "%v", err)
	}
	r := Requirement{Requirement: pr, Path: pp.rel, Line: pp.line(keys...), Raw: strings.TrimSpace(s)}
	if local, ok := pp.fileURL(pr.URL); ok {
		lp, err := pp.localPath(local, keys)
		if err != nil {
			return Requirement{}, err
		}
		r.LocalPath, r.URL = lp, ""
	}
	return r, nil
}

// pyprojectHatchRoot rewrites hatch's context formatting: {root:uri} is the
// project's folder.
var pyprojectHatchRoot = strings.NewReplacer("{root:uri}", "file:.", "{root:parent:uri}", "file:..")

// fileURL returns the path a file: URL names: absolute, or relative to the
// pyproject's folder (as some tools write them, and as PDM's
// ${PROJECT_ROOT} says).
func (pp *pyprojectParser) fileURL(u string) (string, bool) {
	p, ok := strings.CutPrefix(u, "file:")
	if !ok {
		return "", false
	}
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		// file://host/path: only the local host makes sense here.
		host, tail, _ := strings.Cut(rest, "/")
		if host != "" && host != "localhost" {
			return "", false
		}
		p = "/" + tail
	}
	p, _, _ = strings.Cut(p, "#")
	if unescaped, err := url.PathUnescape(p); err == nil {
		p = unescaped
	}
	for _, v := range []string{"/${PROJECT_ROOT}", "${PROJECT_ROOT}"} {
		if rest, ok := strings.CutPrefix(p, v); ok {
			p = "." + rest
			break
		}
	}
	return p, p != ""
}

// localPath relates p (absolute, or relative to the pyproject's folder) to
// the repository root.
func (pp *pyprojectParser) localPath(p string, keys []any) (string, error) {
	rel, err := pyprojectRepoPath(pp.root, pp.dir, p)
	if err != nil {
		return "", pp.errorf(keys, "%v", err)
	}
	return rel, nil
}

// pyprojectRepoPath relates p (absolute, or relative to dir, itself
// relative to the root) to the repository root, with forward slashes. A
// path outside the repository is an error: nothing outside it reaches the
// build.
func pyprojectRepoPath(root, dir, p string) (string, error) {
	var rel string
	if path.IsAbs(p) || filepath.IsAbs(p) {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return "", err
		}
		r, err := filepath.Rel(absRoot, filepath.FromSlash(p))
		if err != nil {
			return "", fmt.Errorf("%s is outside the repository", p)
		}
		rel = filepath.ToSlash(r)
	} else {
		rel = path.Join(dir, filepath.ToSlash(p))
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the repository", p)
	}
	return rel, nil
}

// dependencyGroups reads PEP 735 groups, expanding include-group entries.
func (pp *pyprojectParser) dependencyGroups(groups map[string][]any) error {
	if len(groups) == 0 {
		return nil
	}
	type include struct {
		group string // normalised
		keys  []any
	}
	type entry struct {
		req     *Requirement
		include *include
	}
	raw := map[string][]entry{}
	written := map[string]string{} // normalised -> as written
	order := pp.ordered(pyprojectKeys(groups), "dependency-groups")
	for _, k := range order {
		name, err := pp.groupName(k, "dependency group", "dependency-groups", k)
		if err != nil {
			return err
		}
		if _, dup := raw[name]; dup {
			return pp.errorf([]any{"dependency-groups", k}, "dependency group %q is declared twice (names are compared in normal form)", k)
		}
		written[name] = k
		es := []entry{}
		for i, v := range groups[k] {
			keys := []any{"dependency-groups", k, i}
			switch v := v.(type) {
			case string:
				r, err := pp.requirement(v, keys...)
				if err != nil {
					return err
				}
				es = append(es, entry{req: &r})
			case map[string]any:
				g, ok := v["include-group"].(string)
				if !ok || len(v) != 1 {
					return pp.errorf(keys, "dependency-groups.%s[%d]: a table entry must be {include-group = \"name\"}", k, i)
				}
				gn, err := pp.groupName(g, "dependency group", keys...)
				if err != nil {
					return err
				}
				es = append(es, entry{include: &include{gn, keys}})
			default:
				return pp.errorf(keys, "dependency-groups.%s[%d]: expected a requirement string or {include-group = \"name\"}, found %s", k, i, pyprojectTOMLKind(v))
			}
		}
		raw[name] = es
	}
	const (
		expanding = 1
		done      = 2
	)
	state := map[string]int{}
	var chain []string
	var expand func(name string) error
	expand = func(name string) error {
		state[name] = expanding
		chain = append(chain, written[name])
		reqs, seen := []Requirement{}, map[pyprojectReqKey]bool{}
		for _, e := range raw[name] {
			if e.req != nil {
				reqs = pyprojectAppendNew(reqs, seen, *e.req)
				continue
			}
			inc := e.include
			if _, ok := raw[inc.group]; !ok {
				return pp.errorf(inc.keys, "dependency group %q includes %q, which is not declared", written[name], inc.group)
			}
			switch state[inc.group] {
			case expanding:
				return pp.errorf(inc.keys, "dependency groups include each other in a cycle: %s -> %s", strings.Join(chain, " -> "), written[inc.group])
			case 0:
				if err := expand(inc.group); err != nil {
					return err
				}
			}
			reqs = pyprojectAppendNew(reqs, seen, pp.p.Groups[inc.group]...)
		}
		chain = chain[:len(chain)-1]
		state[name] = done
		pp.p.Groups[name] = append(pp.p.Groups[name], reqs...)
		return nil
	}
	for _, k := range order {
		if name := pep508.NormalizeName(k); state[name] == 0 {
			if err := expand(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// uvSources reads [tool.uv.sources] and applies the unconditional path,
// git and URL sources to every requirement they name.
func (pp *pyprojectParser) uvSources(sources map[string]any) error {
	if len(sources) == 0 {
		return nil
	}
	p := pp.p
	p.Sources = make(map[string]UVSource, len(sources))
	where := map[string]UVSource{} // the sources that change requirements
	for _, k := range pp.ordered(pyprojectKeys(sources), "tool", "uv", "sources") {
		keys := []any{"tool", "uv", "sources", k}
		if !pep508.ValidName(k) {
			return pp.errorf(keys, "tool.uv.sources: %q is not a valid project name", k)
		}
		var src UVSource
		conditional := false
		switch v := sources[k].(type) {
		case map[string]any:
			s, err := pp.uvSource(v, keys)
			if err != nil {
				return err
			}
			src = s
		case []any:
			if len(v) == 0 {
				return pp.errorf(keys, "tool.uv.sources.%s: an empty list of sources", k)
			}
			for i, e := range v {
				t, ok := e.(map[string]any)
				if !ok {
					return pp.errorf(pyprojectAt(keys, i), "tool.uv.sources.%s[%d]: expected a table, found %s", k, i, pyprojectTOMLKind(e))
				}
				s, err := pp.uvSource(t, pyprojectAt(keys, i))
				if err != nil {
					return err
				}
				if i == 0 {
					src = s
				}
			}
			conditional = len(v) > 1
		default:
			return pp.errorf(keys, "tool.uv.sources.%s: expected a table or a list of tables, found %s", k, pyprojectTOMLKind(v))
		}
		name := pep508.NormalizeName(k)
		p.Sources[name] = src
		if !conditional && src.Marker == nil && (src.Path != "" || src.Git != "" || src.URL != "") {
			where[name] = src
		}
	}
	if len(where) == 0 {
		return nil
	}
	apply := func(reqs []Requirement) {
		for i := range reqs {
			r := &reqs[i]
			src, ok := where[r.Name]
			if !ok || r.LocalPath != "" || r.URL != "" {
				continue
			}
			switch {
			case src.Path != "":
				r.LocalPath, r.Editable = src.Path, src.Editable
			case src.Git != "":
				r.URL = poetryGitURL(src.Git, src.Ref, src.Subdirectory)
			default:
				r.URL = src.URL
				if src.Subdirectory != "" {
					r.URL += "#subdirectory=" + src.Subdirectory
				}
			}
		}
	}
	apply(p.Dependencies)
	for _, reqs := range p.Optional {
		apply(reqs)
	}
	for _, reqs := range p.Groups {
		apply(reqs)
	}
	return nil
}

func (pp *pyprojectParser) uvSource(t map[string]any, keys []any) (UVSource, error) {
	var s UVSource
	str := func(k string) (string, error) {
		v, ok := t[k]
		if !ok {
			return "", nil
		}
		sv, ok := v.(string)
		if !ok {
			return "", pp.errorf(pyprojectAt(keys, k), "%s must be a string, found %s", k, pyprojectTOMLKind(v))
		}
		return sv, nil
	}
	boolean := func(k string) (bool, error) {
		v, ok := t[k]
		if !ok {
			return false, nil
		}
		bv, ok := v.(bool)
		if !ok {
			return false, pp.errorf(pyprojectAt(keys, k), "%s must be true or false, found %s", k, pyprojectTOMLKind(v))
		}
		return bv, nil
	}
	var err error
	fields := []struct {
		key string
		dst *string
	}{
		{"path", &s.Path}, {"git", &s.Git}, {"url", &s.URL}, {"index", &s.Index},
		{"subdirectory", &s.Subdirectory},
	}
	for _, f := range fields {
		if *f.dst, err = str(f.key); err != nil {
			return s, err
		}
	}
	if s.Workspace, err = boolean("workspace"); err != nil {
		return s, err
	}
	if s.Editable, err = boolean("editable"); err != nil {
		return s, err
	}
	for _, k := range []string{"rev", "tag", "branch"} {
		ref, err := str(k)
		if err != nil {
			return s, err
		}
		if ref != "" && s.Ref == "" {
			s.Ref = ref
		}
	}
	kinds := 0
	for _, set := range []bool{s.Workspace, s.Path != "", s.Git != "", s.URL != "", s.Index != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return s, pp.errorf(keys, "a uv source needs exactly one of workspace = true, path, git, url and index")
	}
	if s.Path != "" {
		if s.Path, err = pp.localPath(s.Path, keys); err != nil {
			return s, err
		}
	}
	var conds []string
	m, err := str("marker")
	if err != nil {
		return s, err
	}
	if m != "" {
		conds = append(conds, m)
	}
	for _, k := range []string{"extra", "group"} {
		v, err := str(k)
		if err != nil {
			return s, err
		}
		if v == "" {
			continue
		}
		if !pep508.ValidName(v) {
			return s, pp.errorf(pyprojectAt(keys, k), "%s %q is not a valid name", k, v)
		}
		if k == "extra" {
			conds = append(conds, `extra == "`+v+`"`)
		} else {
			conds = append(conds, `"`+v+`" in dependency_groups`)
		}
	}
	if len(conds) > 0 {
		mk, err := pyprojectMarker(pyprojectAnd(conds...))
		if err != nil {
			return s, pp.errorf(pyprojectAt(keys, "marker"), "%v", err)
		}
		s.Marker = mk
	}
	return s, nil
}

// pyprojectMaxExpansion bounds what self-references may expand to: each
// level can combine every requirement below with its own marker, so a few
// nested extras written to do it could otherwise multiply without end.
const pyprojectMaxExpansion = 1000

// expandSelf replaces self-references (`me[a,b]` in an extra, a group or the
// dependencies) with the requirements of the extras they name.
func (pp *pyprojectParser) expandSelf() error {
	p := pp.p
	if p.Name == "" {
		return nil
	}
	hasSelf := func(reqs []Requirement) bool {
		return slices.ContainsFunc(reqs, func(r Requirement) bool { return r.Name == p.Name })
	}
	// Extras first, so that the others can use the expanded lists.
	expanded := map[string]bool{}
	var extra func(name string, seen []string) ([]Requirement, error)
	var expand func(reqs []Requirement, seen []string) ([]Requirement, error)
	extra = func(name string, seen []string) ([]Requirement, error) {
		if expanded[name] || !hasSelf(p.Optional[name]) {
			return p.Optional[name], nil
		}
		if slices.Contains(seen, name) {
			return nil, nil // a cycle adds nothing new
		}
		reqs, err := expand(p.Optional[name], append(slices.Clip(seen), name))
		if err != nil {
			return nil, err
		}
		p.Optional[name], expanded[name] = reqs, true
		return reqs, nil
	}
	expand = func(reqs []Requirement, seen []string) ([]Requirement, error) {
		if !hasSelf(reqs) {
			return reqs, nil
		}
		out, have := make([]Requirement, 0, len(reqs)), map[pyprojectReqKey]bool{}
		for _, r := range reqs {
			if r.Name != p.Name {
				out = pyprojectAppendNew(out, have, r)
				continue
			}
			for _, x := range r.Extras {
				sub, ok := p.Optional[x]
				if !ok {
					return nil, diag.Errorf(r.Path, r.Line, "%s names extra %q of this project, which is not declared", r.Raw, x)
				}
				if hasSelf(sub) {
					var err error
					if sub, err = extra(x, seen); err != nil {
						return nil, err
					}
				}
				for _, s := range sub {
					if r.Marker != nil {
						m, err := pyprojectAndMarker(r.Marker, s.Marker)
						if err != nil {
							return nil, diag.Errorf(r.Path, r.Line, "%v", err)
						}
						s.Marker = m
					}
					out = pyprojectAppendNew(out, have, s)
				}
				if len(out) > pyprojectMaxExpansion {
					return nil, diag.Errorf(r.Path, r.Line, "%s: the extras this project's self-references name expand to more than %d requirements", r.Raw, pyprojectMaxExpansion)
				}
			}
		}
		return out, nil
	}
	for _, name := range pyprojectSortedKeys(p.Optional) {
		if _, err := extra(name, nil); err != nil {
			return err
		}
	}
	var err error
	if p.Dependencies, err = expand(p.Dependencies, nil); err != nil {
		return err
	}
	for _, name := range pyprojectSortedKeys(p.Groups) {
		if p.Groups[name], err = expand(p.Groups[name], nil); err != nil {
			return err
		}
	}
	return nil
}

// pyprojectReqKey identifies a requirement by where it is written and the
// condition it ended up with.
type pyprojectReqKey struct {
	line        int
	raw, marker string
}

// pyprojectAppendNew appends the requirements of add that reqs does not
// have yet: a group or extra reached twice through includes (a diamond)
// must not double the list, or nested diamonds would grow it exponentially.
func pyprojectAppendNew(reqs []Requirement, seen map[pyprojectReqKey]bool, add ...Requirement) []Requirement {
	for _, r := range add {
		k := pyprojectReqKey{r.Line, r.Raw, r.Marker.String()}
		if !seen[k] {
			seen[k] = true
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// pyprojectAndMarker returns a marker that holds where both a and b hold.
func pyprojectAndMarker(a, b *pep508.Marker) (*pep508.Marker, error) {
	switch {
	case a == nil:
		return b, nil
	case b == nil:
		return a, nil
	}
	return pyprojectMarker(pyprojectAnd(a.String(), b.String()))
}

// pyprojectAnd joins marker expressions with "and", parenthesised.
func pyprojectAnd(ms ...string) string {
	if len(ms) == 1 {
		return ms[0]
	}
	return "(" + strings.Join(ms, ") and (") + ")"
}

// ordered sorts the keys of the table at keys in file order, so that the
// requirements and the first error follow the file.
func (pp *pyprojectParser) ordered(names []string, keys ...any) []string {
	lines := make(map[string]int, len(names))
	for _, n := range names {
		lines[n] = pp.line(pyprojectAt(keys, n)...)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(lines[a], lines[b]), strings.Compare(a, b))
	})
	return names
}

func pyprojectKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func pyprojectSortedKeys[V any](m map[string]V) []string {
	keys := pyprojectKeys(m)
	slices.Sort(keys)
	return keys
}

// pyprojectTOMLKind names the TOML type of a value decoded into any, for messages.
func pyprojectTOMLKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return "a date or time"
	}
}

// poetryDep is one [tool.poetry.*dependencies] entry: a requirement per
// constraint of its list form.
type poetryDep struct {
	name     string // normal form
	reqs     []Requirement
	optional []bool
}

func (pp *pyprojectParser) poetry(doc *pyprojectDoc) error {
	t, p := doc.Tool.Poetry, pp.p
	if err := pp.identity(t.Name, t.Version, "tool", "poetry"); err != nil {
		return err
	}
	main, err := pp.poetryDeps(t.Dependencies, "tool", "poetry", "dependencies")
	if err != nil {
		return err
	}
	if py, ok := t.Dependencies["python"]; ok && p.RequiresPython == "" {
		keys := []any{"tool", "poetry", "dependencies", "python"}
		s, ok := py.(string)
		if !ok {
			return pp.errorf(keys, "tool.poetry.dependencies.python must be a version constraint string, found %s", pyprojectTOMLKind(py))
		}
		alts, err := poetryConstraint(s)
		if err != nil {
			return pp.errorf(keys, "python: %v", err)
		}
		switch len(alts) {
		case 0:
		case 1:
			p.RequiresPython = strings.Join(alts[0], ",")
		default:
			p.RequiresPython = strings.TrimSpace(s)
		}
	}
	byName := make(map[string]*poetryDep, len(main))
	for i := range main {
		byName[main[i].name] = &main[i]
	}
	if doc.Project == nil || doc.Project.Dependencies == nil {
		if t.Dependencies != nil {
			p.Poetry, p.DynamicDependencies = true, false
		}
		for _, d := range main {
			for i, r := range d.reqs {
				if !d.optional[i] {
					p.Dependencies = append(p.Dependencies, r)
				}
			}
		}
		for _, k := range pp.ordered(pyprojectKeys(t.Extras), "tool", "poetry", "extras") {
			name, err := pp.groupName(k, "extra", "tool", "poetry", "extras", k)
			if err != nil {
				return err
			}
			reqs := p.Optional[name]
			if reqs == nil {
				reqs = []Requirement{}
			}
			for i, dn := range t.Extras[k] {
				d, ok := byName[pep508.NormalizeName(strings.TrimSpace(dn))]
				if !ok {
					return pp.errorf([]any{"tool", "poetry", "extras", k, i}, "extra %q names %q, which is not in [tool.poetry.dependencies]", k, dn)
				}
				reqs = append(reqs, d.reqs...)
			}
			p.Optional[name] = reqs
		}
	} else {
		// Poetry 2 reads [project]; [tool.poetry.dependencies] only adds
		// where a dependency comes from.
		enrich := func(reqs []Requirement) {
			for i := range reqs {
				r := &reqs[i]
				d, ok := byName[r.Name]
				if !ok || len(d.reqs) != 1 || r.LocalPath != "" || r.URL != "" {
					continue
				}
				r.LocalPath, r.URL, r.Editable = d.reqs[0].LocalPath, d.reqs[0].URL, d.reqs[0].Editable
			}
		}
		enrich(p.Dependencies)
		for _, reqs := range p.Optional {
			enrich(reqs)
		}
	}
	addGroup := func(name string, deps []poetryDep) {
		reqs := p.Groups[name]
		if reqs == nil {
			reqs = []Requirement{}
		}
		for _, d := range deps {
			reqs = append(reqs, d.reqs...)
		}
		p.Groups[name] = reqs
	}
	for _, k := range pp.ordered(pyprojectKeys(t.Group), "tool", "poetry", "group") {
		name, err := pp.groupName(k, "dependency group", "tool", "poetry", "group", k)
		if err != nil {
			return err
		}
		deps, err := pp.poetryDeps(t.Group[k].Dependencies, "tool", "poetry", "group", k, "dependencies")
		if err != nil {
			return err
		}
		addGroup(name, deps)
	}
	if t.DevDependencies != nil {
		deps, err := pp.poetryDeps(t.DevDependencies, "tool", "poetry", "dev-dependencies")
		if err != nil {
			return err
		}
		addGroup("dev", deps)
	}
	return nil
}

// poetryDeps converts a Poetry dependency table, in file order, leaving
// out python (the interpreter, not a package).
func (pp *pyprojectParser) poetryDeps(deps map[string]any, table ...any) ([]poetryDep, error) {
	var out []poetryDep
	for _, k := range pp.ordered(pyprojectKeys(deps), table...) {
		name := pep508.NormalizeName(k)
		if name == "python" {
			continue
		}
		keys := pyprojectAt(table, k)
		specs, err := poetrySpecs(deps[k])
		if err != nil {
			var fe *poetryFieldError
			if errors.As(err, &fe) {
				keys = pyprojectAt(keys, fe.keys...)
			}
			return nil, pp.errorf(keys, "%s: %v", k, err)
		}
		d := poetryDep{name: name}
		_, list := deps[k].([]any)
		for i, s := range specs {
			skeys := keys
			if list {
				skeys = pyprojectAt(keys, i)
			}
			pr, err := poetryRequirement(k, s)
			if err != nil {
				return nil, pp.errorf(skeys, "%s: %v", k, err)
			}
			r := Requirement{Requirement: pr, Path: pp.rel, Line: pp.line(skeys...), Raw: poetryRaw(k, s, pr.Marker), Editable: s.develop}
			if s.path != "" {
				if r.LocalPath, err = pp.localPath(s.path, skeys); err != nil {
					return nil, err
				}
			}
			d.reqs = append(d.reqs, r)
			d.optional = append(d.optional, s.optional)
		}
		out = append(out, d)
	}
	return out, nil
}

// poetrySpec is one constraint of a Poetry dependency: its string form, its
// table form, or one table of its list form.
type poetrySpec struct {
	version, markers, python, platform string
	extras                             []string
	optional, develop                  bool
	path, git, ref, subdirectory, url  string
}

// poetryFieldError is a problem inside a dependency's value; keys locate it
// below the dependency's key.
type poetryFieldError struct {
	keys []any
	msg  string
}

func (e *poetryFieldError) Error() string { return e.msg }

// poetrySpecs decodes a Poetry dependency value, as pyproject.toml and
// poetry.lock both write them.
func poetrySpecs(v any) ([]poetrySpec, error) {
	switch v := v.(type) {
	case string:
		return []poetrySpec{{version: v}}, nil
	case map[string]any:
		s, err := poetryTable(v, nil)
		return []poetrySpec{s}, err
	case []any:
		if len(v) == 0 {
			return nil, &poetryFieldError{msg: "an empty list of constraints"}
		}
		out := make([]poetrySpec, 0, len(v))
		for i, e := range v {
			t, ok := e.(map[string]any)
			if !ok {
				return nil, &poetryFieldError{[]any{i}, "expected a table in the list of constraints, found " + pyprojectTOMLKind(e)}
			}
			s, err := poetryTable(t, []any{i})
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, &poetryFieldError{msg: "expected a version constraint, a table or a list of tables, found " + pyprojectTOMLKind(v)}
}

func poetryTable(t map[string]any, keys []any) (poetrySpec, error) {
	var s poetrySpec
	strs := []struct {
		key string
		dst *string
	}{
		{"version", &s.version}, {"markers", &s.markers}, {"python", &s.python}, {"platform", &s.platform},
		{"path", &s.path}, {"git", &s.git}, {"subdirectory", &s.subdirectory}, {"url", &s.url},
		{"branch", &s.ref}, {"tag", &s.ref}, {"rev", &s.ref},
	}
	for _, f := range strs {
		v, ok := t[f.key]
		if !ok {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			return s, &poetryFieldError{pyprojectAt(keys, f.key), fmt.Sprintf("%s must be a string, found %s", f.key, pyprojectTOMLKind(v))}
		}
		*f.dst = sv
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"optional", &s.optional}, {"develop", &s.develop}} {
		v, ok := t[f.key]
		if !ok {
			continue
		}
		bv, ok := v.(bool)
		if !ok {
			return s, &poetryFieldError{pyprojectAt(keys, f.key), fmt.Sprintf("%s must be true or false, found %s", f.key, pyprojectTOMLKind(v))}
		}
		*f.dst = bv
	}
	if v, ok := t["extras"]; ok {
		xs, ok := v.([]any)
		if !ok {
			return s, &poetryFieldError{pyprojectAt(keys, "extras"), "extras must be a list of names, found " + pyprojectTOMLKind(v)}
		}
		for i, x := range xs {
			xv, ok := x.(string)
			if !ok || !pep508.ValidName(xv) {
				return s, &poetryFieldError{pyprojectAt(keys, "extras", i), fmt.Sprintf("extras[%d] is not a valid extra name", i)}
			}
			s.extras = append(s.extras, pep508.NormalizeName(xv))
		}
		slices.Sort(s.extras)
		s.extras = slices.Compact(s.extras)
	}
	kinds := 0
	for _, set := range []bool{s.path != "", s.git != "", s.url != ""} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return s, &poetryFieldError{keys, "only one of path, git and url can be set"}
	}
	return s, nil
}

// poetryRequirement converts one Poetry constraint into a PEP 508
// requirement. An `||` constraint has no PEP 440 form: it is left as "any
// version" (and so never counts as pinned).
func poetryRequirement(name string, s poetrySpec) (pep508.Requirement, error) {
	if !pep508.ValidName(name) {
		return pep508.Requirement{}, fmt.Errorf("%q is not a valid project name", name)
	}
	r := pep508.Requirement{Name: pep508.NormalizeName(name), Extras: s.extras}
	switch {
	case s.git != "":
		r.URL = poetryGitURL(s.git, s.ref, s.subdirectory)
	case s.url != "":
		r.URL = s.url
		if s.subdirectory != "" {
			r.URL += "#subdirectory=" + s.subdirectory
		}
	case s.path == "":
		alts, err := poetryConstraint(s.version)
		if err != nil {
			return r, err
		}
		if len(alts) == 1 {
			if r.Specifier, err = parsedSpecifiers.get(strings.Join(alts[0], ","), pep440.ParseSpecifier); err != nil {
				return r, err
			}
		}
	}
	m, err := poetryMarker(s)
	r.Marker = m
	return r, err
}

// poetryMarker is the condition of a Poetry constraint: its markers,
// python and platform keys together; nil when there is none.
func poetryMarker(s poetrySpec) (*pep508.Marker, error) {
	var conds []string
	if m := strings.TrimSpace(s.markers); m != "" {
		conds = append(conds, m)
	}
	if s.python != "" {
		m, err := poetryPythonMarker(s.python)
		if err != nil {
			return nil, fmt.Errorf("python: %w", err)
		}
		if m != "" {
			conds = append(conds, m)
		}
	}
	if pl := strings.TrimSpace(s.platform); pl != "" {
		if strings.ContainsAny(pl, `"'`) {
			return nil, fmt.Errorf("platform %q is not a platform name", s.platform)
		}
		conds = append(conds, `sys_platform == "`+pl+`"`)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	return pyprojectMarker(pyprojectAnd(conds...))
}

// poetryRaw renders a Poetry dependency for messages, keeping the
// constraint as written.
func poetryRaw(key string, s poetrySpec, m *pep508.Marker) string {
	var b strings.Builder
	b.WriteString(key)
	if len(s.extras) > 0 {
		b.WriteString("[" + strings.Join(s.extras, ",") + "]")
	}
	switch {
	case s.path != "":
		b.WriteString(" @ " + s.path)
	case s.git != "":
		b.WriteString(" @ " + poetryGitURL(s.git, s.ref, s.subdirectory))
	case s.url != "":
		b.WriteString(" @ " + s.url)
	case s.version != "":
		b.WriteString(" (" + strings.TrimSpace(s.version) + ")")
	}
	if m != nil {
		b.WriteString("; " + m.String())
	}
	return b.String()
}

// poetryGitURL is pip's form of a git dependency.
func poetryGitURL(repo, ref, subdirectory string) string {
	u := repo
	if !strings.HasPrefix(u, "git+") {
		u = "git+" + u
	}
	if ref != "" {
		u += "@" + ref
	}
	if subdirectory != "" {
		u += "#subdirectory=" + subdirectory
	}
	return u
}

var (
	// poetryAnyVersion is `*`, `x`, `*.*`…
	poetryAnyVersion = regexp.MustCompile(`^v?[xX*](\.[xX*])*$`)
	// poetryWildcard is `1.*`, `==1.2.x`, `!=1.*`.
	poetryWildcard = regexp.MustCompile(`^(==|!=|=)?v?(\d+(?:\.\d+)*)(?:\.[xX*])+$`)
	// poetryOpSpace is an operator followed by blanks, which Poetry allows.
	poetryOpSpace = regexp.MustCompile(`(\^|~=|~|===|==|!=|<>|<=|>=|<|>|=)\s+`)
	poetryAndSep  = regexp.MustCompile(`[\s,]+`)
	poetryOrSep   = regexp.MustCompile(`\|\|?`)
)

// poetryConstraint converts a Poetry version constraint into PEP 440
// clauses, one list per `||` alternative. No alternatives means any version.
// Carets and tildes keep the precision written: ^1.2.3 is >=1.2.3,<2.0.0.
// The result is shared: callers do not modify it.
func poetryConstraint(s string) ([][]string, error) {
	return poetryConstraints.get(s, convertPoetryConstraint)
}

func convertPoetryConstraint(s string) ([][]string, error) {
	var alts [][]string
	for _, alt := range poetryOrSep.Split(s, -1) {
		alt = strings.TrimSpace(poetryOpSpace.ReplaceAllString(strings.TrimSpace(alt), "$1"))
		if alt == "" {
			if strings.TrimSpace(s) == "" {
				return nil, nil
			}
			return nil, fmt.Errorf("bad version constraint %q: an empty alternative", s)
		}
		var clauses []string
		for _, tok := range poetryAndSep.Split(alt, -1) {
			if tok == "" {
				continue
			}
			c, err := poetryClause(tok)
			if err != nil {
				return nil, fmt.Errorf("bad version constraint %q: %v", s, err)
			}
			clauses = append(clauses, c...)
		}
		if len(clauses) == 0 {
			return nil, nil // one alternative allows everything
		}
		if _, err := pep440.ParseSpecifier(strings.Join(clauses, ",")); err != nil {
			return nil, fmt.Errorf("bad version constraint %q: %v", s, err)
		}
		alts = append(alts, clauses)
	}
	return alts, nil
}

// poetryClause converts one clause; nil means any version.
func poetryClause(tok string) ([]string, error) {
	switch {
	case poetryAnyVersion.MatchString(tok):
		return nil, nil
	case strings.HasPrefix(tok, "~="):
		return []string{tok}, nil
	case strings.HasPrefix(tok, "~"):
		return poetryRange(tok[1:], false)
	case strings.HasPrefix(tok, "^"):
		return poetryRange(tok[1:], true)
	}
	if m := poetryWildcard.FindStringSubmatch(tok); m != nil {
		op := m[1]
		if op == "" || op == "=" {
			op = "=="
		}
		return []string{op + m[2] + ".*"}, nil
	}
	op, ver := "==", tok
	for _, o := range []string{"===", "==", "!=", "<>", "<=", ">=", "<", ">", "="} {
		if rest, ok := strings.CutPrefix(tok, o); ok {
			op, ver = o, rest
			break
		}
	}
	switch op {
	case "<>":
		op = "!="
	case "=":
		op = "=="
	}
	if ver == "" {
		return nil, fmt.Errorf("%q has no version", tok)
	}
	return []string{op + poetryTrimV(ver)}, nil
}

func poetryTrimV(v string) string {
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

// poetryRange converts a caret (^) or tilde (~) range: the lower bound is
// the version written, the upper bound bumps the first non-zero release
// segment (caret) or the minor segment (tilde; the major when only one is
// written).
func poetryRange(v string, caret bool) ([]string, error) {
	v = poetryTrimV(v)
	if _, err := pep440.Parse(v); err != nil {
		return nil, err
	}
	epoch, rest := "", v
	if i := strings.IndexByte(v, '!'); i >= 0 {
		epoch, rest = v[:i+1], v[i+1:]
	}
	end := 0
	for end < len(rest) && (rest[end] == '.' || rest[end] >= '0' && rest[end] <= '9') {
		end++
	}
	segs := strings.Split(strings.Trim(rest[:end], "."), ".")
	nums := make([]uint64, len(segs))
	for i, s := range segs {
		n, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return nil, fmt.Errorf("invalid version %q", v)
		}
		nums[i] = n
	}
	bump := 0
	switch {
	case caret && nums[0] == 0 && len(nums) > 1 && (nums[1] > 0 || len(nums) == 2):
		bump = 1
	case caret && nums[0] == 0 && len(nums) > 2:
		bump = 2
	case !caret && len(nums) > 1:
		bump = 1
	}
	upper := make([]string, len(nums))
	for i := range nums {
		switch {
		case i < bump:
			upper[i] = strconv.FormatUint(nums[i], 10)
		case i == bump:
			upper[i] = strconv.FormatUint(nums[i]+1, 10)
		default:
			upper[i] = "0"
		}
	}
	return []string{">=" + v, "<" + epoch + strings.Join(upper, ".")}, nil
}

// poetryPythonMarker turns Poetry's python = "…" into a marker: versions
// with two release segments compare python_version, longer ones
// python_full_version. "" means every Python.
func poetryPythonMarker(c string) (string, error) {
	alts, err := poetryConstraint(c)
	if err != nil {
		return "", err
	}
	ors := make([]string, 0, len(alts))
	for _, alt := range alts {
		ands := make([]string, len(alt))
		for i, clause := range alt {
			j := strings.IndexFunc(clause, func(r rune) bool { return r >= '0' && r <= '9' })
			if j < 0 || strings.HasPrefix(clause, "===") {
				return "", fmt.Errorf("%q is not a Python version constraint", c)
			}
			op, ver := clause[:j], clause[j:]
			variable := "python_version"
			if strings.Count(strings.TrimSuffix(ver, ".*"), ".") > 1 {
				variable = "python_full_version"
			}
			ands[i] = variable + " " + op + ` "` + ver + `"`
		}
		ors = append(ors, strings.Join(ands, " and "))
	}
	switch len(ors) {
	case 0:
		return "", nil
	case 1:
		return ors[0], nil
	}
	return "(" + strings.Join(ors, ") or (") + ")", nil
}
