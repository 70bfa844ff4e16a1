package resolver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
)

// Poetry's tables and constraints (^, ~, ||) become PEP 508 requirements
// here, so that the rest of the resolver sees one form.

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
