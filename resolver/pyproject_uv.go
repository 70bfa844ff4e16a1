package resolver

import (
	"github.com/layers-dev/layers/internal/pep508"
)

// uv keeps its sources apart from the requirements they change; they are
// applied here so that the rest of the resolver sees plain requirements.

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
