package resolver

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
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

// ParsePyproject reads the pyproject.toml at rel (relative to root, with
// forward slashes). Malformed content is a *diag.Error naming rel and the line.
func ParsePyproject(root, rel string) (*Pyproject, error) {
	data, err := repofs.ReadFile(root, rel)
	if err != nil {
		return nil, readError(rel, err)
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
		return nil, tomlpos.Error(rel, err, pyprojectTOMLWords)
	}
	pp := &pyprojectParser{root: root, rel: rel, dir: path.Dir(rel), data: data}
	p := &Pyproject{Path: rel, Optional: map[string][]Requirement{}, Groups: map[string][]Requirement{}}
	pp.p = p
	if err := pp.parse(&doc); err != nil {
		return nil, err
	}
	return p, nil
}

// pyprojectTOMLWords words a go-toml failure with the key path instead of
// Go type names for type mismatches.
func pyprojectTOMLWords(f tomlpos.Failure) string {
	if f.Got != "" && len(f.Key) > 0 {
		return fmt.Sprintf("%s has the wrong type (a TOML %s)", strings.Join(f.Key, "."), f.Got)
	}
	return tomlpos.Invalid(f)
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
// path outside the repository, as written or through a symbolic link, is
// an error: nothing outside it reaches the build.
func pyprojectRepoPath(root, dir, p string) (string, error) {
	return repofs.Rel(root, dir, p)
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
