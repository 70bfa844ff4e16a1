package resolver

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/internal/pep508"
)

// Options tune a resolution.
type Options struct {
	// Getenv expands ${VAR} in requirements files; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
}

// Lookup adapts a Getenv of the kind the rest of layers injects (empty
// for unset) to Options.Getenv; nil stays nil, the process environment.
func Lookup(getenv func(string) string) func(string) (string, bool) {
	if getenv == nil {
		return nil
	}
	return func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
}

// Result is every function's closure for every target it is built for.
type Result struct {
	Targets []TargetResult `json:"targets"`
	// LeftOut are the folders that look like functions (FindCandidates)
	// but that the config's globs, or the default discovery, leave out.
	LeftOut []Candidate `json:"-"`
}

// TargetResult holds the closures of the functions built for one target.
type TargetResult struct {
	Target    config.Target `json:"-"`
	Runtime   string        `json:"runtime"`
	Arch      string        `json:"architecture"`
	Functions []Closure     `json:"functions"`
}

// Closure is one function's full dependency set for one target.
type Closure struct {
	Name string `json:"name"`
	// Path is the function folder relative to the repository root.
	Path     string    `json:"path"`
	Packages []Package `json:"packages"`
	// Unresolved lists the requirements that need a resolver before the
	// closure is complete; Packages is empty when there are any.
	Unresolved []Unresolved `json:"unresolved,omitempty"`
	// Inputs are the files the closure was read from (input, lock).
	Inputs []string `json:"-"`
	// Direct names the distributions the function asks for itself (its
	// top-level requirements), sorted; nil when its inputs do not say.
	Direct []string `json:"-"`
	// Index carries the pip options of the function's requirements files.
	Index IndexOptions `json:"-"`
	// CodeBytes is the size of the function's own code.
	CodeBytes int64 `json:"-"`
	// Request is what a resolver needs to complete the closure; it is set
	// when Unresolved is, unless RequestErr says why no resolver can.
	Request    *Request `json:"-"`
	RequestErr error    `json:"-"`
}

// Request is a closure's unpinned inputs, ready for a resolver that runs
// on the target (pip in the build image): the function's top-level
// requirements that hold on the target, markers applied and dropped,
// since the resolver's own environment is the build image's.
type Request struct {
	Requirements []Requirement
	// Constraints pin without adding, as pip's -c files do.
	Constraints []Requirement
	// Index are the input file's index options.
	Index IndexOptions
	// Selection names the extras ("extra:NAME") and dependency groups
	// ("group:NAME") that chose the requirements.
	Selection []string
}

// Unresolved is a requirement that is not pinned by any lock.
type Unresolved struct {
	Path        string `json:"path"`
	Line        int    `json:"line,omitempty"`
	Requirement string `json:"requirement"`
	Reason      string `json:"reason"`
}

// Resolve discovers cfg's functions and works out each one's closure for
// each of its targets, from lock files and pinned inputs only.
func Resolve(ctx context.Context, cfg *config.Config, opts Options) (*Result, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	fns, ws, err := Discover(cfg)
	if err != nil {
		return nil, err
	}
	r := &resolution{cfg: cfg, opts: opts, ws: ws, locks: map[string]Lock{}, sizes: map[string]int64{}}
	byTarget := map[config.Target][]Closure{}
	for _, fn := range fns {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in, err := r.inputs(fn)
		if err != nil {
			return nil, err
		}
		for _, t := range cfg.TargetsFor(fn.Name) {
			c, err := r.closure(fn, in, t)
			if err != nil {
				return nil, err
			}
			byTarget[t] = append(byTarget[t], c)
		}
	}
	cands, err := FindCandidates(ctx, cfg.Root, ws)
	if err != nil {
		return nil, err
	}
	res := &Result{Targets: []TargetResult{}, LeftOut: LeftOut(cands, fns)}
	for t, cs := range byTarget {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		res.Targets = append(res.Targets, TargetResult{Target: t, Runtime: t.Runtime, Arch: t.Architecture, Functions: cs})
	}
	sort.Slice(res.Targets, func(i, j int) bool {
		a, b := res.Targets[i].Target, res.Targets[j].Target
		if a.Runtime != b.Runtime {
			return a.Runtime < b.Runtime
		}
		return a.Architecture < b.Architecture
	})
	return res, nil
}

type resolution struct {
	cfg   *config.Config
	opts  Options
	ws    *Workspace
	locks map[string]Lock  // by root-relative path
	sizes map[string]int64 // local package folder -> bytes
}

// localBytes measures a local package's folder once per resolution. It
// lists the files the build would copy in first, so that a symbolic link
// in it that leads out of the repository stops plan as it stops build.
func (r *resolution) localBytes(dir string) (int64, error) {
	if n, ok := r.sizes[dir]; ok {
		return n, nil
	}
	if _, err := digest.LocalPackageFiles(r.cfg.Root, dir); err != nil && diag.IsInput(err) {
		return 0, err
	}
	abs := filepath.Join(r.cfg.Root, filepath.FromSlash(dir))
	var n int64
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		if n, err = codeBytes(abs); err != nil {
			return 0, err
		}
	} else if err == nil {
		n = fi.Size() // an archive
	}
	r.sizes[dir] = n
	return n, nil
}

// inputs is what a function declares, read once for all its targets.
type inputs struct {
	req  *RequirementsFile // requirements mode
	pp   *Pyproject        // pyproject mode
	lock Lock              // pyproject mode: the lock that pins it, if any
	fc   config.Function
}

var lockFiles = []string{"uv.lock", "poetry.lock", "pylock.toml"}

func (r *resolution) inputs(fn Function) (*inputs, error) {
	in := &inputs{fc: r.cfg.For(fn.Name)}
	root := r.cfg.Root
	rel := func(f string) string { return path.Join(fn.Dir, f) }
	has := func(f string) bool { return exists(filepath.Join(root, filepath.FromSlash(rel(f)))) }

	if f := in.fc.Requirements; f != "" {
		switch path.Base(f) {
		case "pyproject.toml":
			return r.pyprojectInputs(fn, in, rel(f))
		case "pylock.toml":
			l, err := r.lock(rel(f))
			if err != nil {
				return nil, err
			}
			in.lock = l
			return in, nil
		}
		req, err := ParseRequirementsFile(root, rel(f), r.opts.Getenv)
		if err != nil {
			return nil, err
		}
		in.req = req
		return in, nil
	}
	if has("pyproject.toml") {
		pp, err := r.pyproject(fn)
		if err != nil {
			return nil, err
		}
		declares := pp.Name != "" || pp.Poetry || len(pp.Dependencies) > 0 || pp.DynamicDependencies
		if declares && (r.ownLock(fn) != "" || r.member(fn) || !has("requirements.txt")) {
			in.pp = pp
			return r.pyprojectInputs(fn, in, "")
		}
	}
	if !has("requirements.txt") && has("pylock.toml") {
		// A PEP 751 lock alone (pip lock, uv export) is the closure.
		l, err := r.lock(rel("pylock.toml"))
		if err != nil {
			return nil, err
		}
		in.lock = l
		return in, nil
	}
	req, err := ParseRequirementsFile(root, rel("requirements.txt"), r.opts.Getenv)
	if err != nil {
		return nil, err
	}
	in.req = req
	return in, nil
}

// direct returns the names of the distributions the function asks for
// itself, not through another package: a pyproject's dependencies (with
// the function's extras and groups), an unpinned requirements file's
// lines, or the requirements.in a compiled requirements file was compiled
// from. Nil when the inputs do not say (a compiled file alone, a
// pylock.toml alone).
func (r *resolution) direct(in *inputs, env pep508.Env) []string {
	var reqs []Requirement
	switch {
	case in.pp != nil:
		reqs = append(reqs, in.pp.Dependencies...)
		for _, x := range in.fc.Extras {
			reqs = append(reqs, in.pp.Optional[x]...)
		}
		for _, g := range in.fc.Groups {
			reqs = append(reqs, in.pp.Groups[g]...)
		}
	case in.req != nil && len(in.req.Pinned(env)) > 0:
		reqs = in.req.Requirements
	default:
		// A compiled file or a lock alone: the requirements.in it was
		// compiled from, if it is there.
		var file string
		switch {
		case in.req != nil:
			file = in.req.Path
		case in.lock != nil:
			file = in.lock.Path()
		}
		src := path.Join(path.Dir(file), "requirements.in")
		if file != "" && exists(filepath.Join(r.cfg.Root, filepath.FromSlash(src))) {
			if f, err := ParseRequirementsFile(r.cfg.Root, src, r.opts.Getenv); err == nil {
				reqs = f.Requirements
			}
		}
	}
	var names []string
	for _, q := range reqs {
		if q.Name != "" && !slices.Contains(names, q.Name) {
			names = append(names, q.Name)
		}
	}
	slices.Sort(names)
	return names
}

// pyproject returns the function's pyproject.toml, read by discovery
// already when the function is a workspace member.
func (r *resolution) pyproject(fn Function) (*Pyproject, error) {
	if r.ws != nil {
		if pp, ok := r.ws.Projects[fn.Dir]; ok {
			return pp, nil
		}
	}
	return ParsePyproject(r.cfg.Root, path.Join(fn.Dir, "pyproject.toml"))
}

func (r *resolution) ownLock(fn Function) string {
	for _, f := range lockFiles {
		p := path.Join(fn.Dir, f)
		if exists(filepath.Join(r.cfg.Root, filepath.FromSlash(p))) {
			return p
		}
	}
	return ""
}

func (r *resolution) member(fn Function) bool {
	if r.ws == nil {
		return false
	}
	i := sort.SearchStrings(r.ws.Members, fn.Dir)
	return i < len(r.ws.Members) && r.ws.Members[i] == fn.Dir
}

func (r *resolution) pyprojectInputs(fn Function, in *inputs, file string) (*inputs, error) {
	if in.pp == nil {
		pp, err := ParsePyproject(r.cfg.Root, file)
		if err != nil {
			return nil, err
		}
		in.pp = pp
	}
	lockPath := r.ownLock(fn)
	if lockPath == "" && r.member(fn) && exists(filepath.Join(r.cfg.Root, "uv.lock")) {
		lockPath = "uv.lock"
	}
	if lockPath != "" {
		l, err := r.lock(lockPath)
		if err != nil {
			return nil, err
		}
		in.lock = l
	}
	for _, x := range in.fc.Extras {
		if _, ok := in.pp.Optional[x]; !ok {
			return nil, diag.Errorf(configPath(r.cfg), configLine(r.cfg, "function", fn.Name, "extras"),
				"function %s: %s has no extra %q", fn.Name, in.pp.Path, x)
		}
	}
	for _, g := range in.fc.Groups {
		if _, ok := in.pp.Groups[g]; !ok {
			return nil, diag.Errorf(configPath(r.cfg), configLine(r.cfg, "function", fn.Name, "groups"),
				"function %s: %s has no dependency group %q", fn.Name, in.pp.Path, g)
		}
	}
	return in, nil
}

func (r *resolution) lock(rel string) (Lock, error) {
	if l, ok := r.locks[rel]; ok {
		return l, nil
	}
	var (
		l   Lock
		err error
	)
	switch path.Base(rel) {
	case "uv.lock":
		l, err = ParseUVLock(r.cfg.Root, rel)
	case "poetry.lock":
		l, err = ParsePoetryLock(r.cfg.Root, rel)
	default:
		l, err = ParsePylock(r.cfg.Root, rel)
	}
	if err != nil {
		return nil, err
	}
	r.locks[rel] = l
	return l, nil
}

func (r *resolution) closure(fn Function, in *inputs, t config.Target) (Closure, error) {
	c := Closure{Name: fn.Name, Path: fn.Dir, CodeBytes: fn.CodeBytes, Packages: []Package{}}
	env, err := pep508.TargetEnv(t.Runtime, t.Architecture)
	if err != nil {
		return c, fmt.Errorf("function %s: %w", fn.Name, err)
	}
	c.Direct = r.direct(in, env)
	var pkgs []Package
	switch {
	case in.req != nil:
		c.Inputs = []string{in.req.Path}
		c.Index = in.req.Options
		if un := in.req.Pinned(env); len(un) > 0 {
			for _, u := range un {
				c.Unresolved = append(c.Unresolved, Unresolved{Path: u.Path, Line: u.Line, Requirement: u.Raw, Reason: "not pinned"})
			}
			c.Request = &Request{Requirements: applying(in.req.Requirements, env), Constraints: applying(in.req.Constraints, env), Index: in.req.Options}
			return c, nil
		}
		pkgs, err = in.req.Packages(env)
	case in.lock != nil:
		req := LockRequest{Extras: in.fc.Extras, Groups: in.fc.Groups, Env: env}
		if in.pp != nil {
			c.Inputs = []string{in.pp.Path, in.lock.Path()}
			req.Project = in.pp.Name
			req.Roots = append(req.Roots, in.pp.Dependencies...)
			for _, x := range in.fc.Extras {
				req.Roots = append(req.Roots, in.pp.Optional[x]...)
			}
			for _, g := range in.fc.Groups {
				req.Roots = append(req.Roots, in.pp.Groups[g]...)
			}
		} else {
			c.Inputs = []string{in.lock.Path()}
		}
		pkgs, err = in.lock.Closure(req)
	default:
		c.Inputs = []string{in.pp.Path}
		if in.pp.DynamicDependencies {
			c.Unresolved = append(c.Unresolved, Unresolved{Path: in.pp.Path, Requirement: "dynamic dependencies",
				Reason: "no lock file, and the dependencies are computed by the build backend"})
		}
		for _, d := range in.pp.Dependencies {
			if d.Marker.Evaluate(env) {
				c.Unresolved = append(c.Unresolved, Unresolved{Path: d.Path, Line: d.Line, Requirement: d.Raw, Reason: "no lock file"})
			}
		}
		if len(c.Unresolved) > 0 {
			c.Request, c.RequestErr = pyprojectRequest(fn.Name, in, env)
			return c, nil
		}
	}
	if err != nil {
		return c, err
	}
	excluded := map[string]bool{}
	for _, x := range r.cfg.Exclude {
		excluded[x] = true
	}
	for _, p := range pkgs {
		if excluded[p.Name] {
			continue
		}
		if p.Source == SourceLocal && p.Path != "" {
			if p.SourceBytes, err = r.localBytes(p.Path); err != nil {
				return c, err
			}
		}
		c.Packages = append(c.Packages, p)
	}
	sort.Slice(c.Packages, func(i, j int) bool { return c.Packages[i].Name < c.Packages[j].Name })
	return c, nil
}

// pyprojectRequest returns the request of a pyproject.toml that no lock
// pins: its dependencies with the function's extras and groups, or the
// error that says why no resolver can complete it.
func pyprojectRequest(function string, in *inputs, env pep508.Env) (*Request, error) {
	pp := in.pp
	if pp.DynamicDependencies {
		return nil, diag.Errorf(pp.Path, 0, "function %s: the dependencies are dynamic (the build backend computes them) and no lock pins them; lock them (uv lock, poetry lock) or list them in a requirements.txt", function)
	}
	req := &Request{}
	reqs := slices.Clone(pp.Dependencies)
	for _, x := range in.fc.Extras {
		reqs = append(reqs, pp.Optional[x]...)
		req.Selection = append(req.Selection, "extra:"+x)
	}
	for _, g := range in.fc.Groups {
		reqs = append(reqs, pp.Groups[g]...)
		req.Selection = append(req.Selection, "group:"+g)
	}
	for _, r := range reqs {
		if s, ok := pp.Sources[r.Name]; ok && s.Workspace {
			return nil, diag.Errorf(r.Path, r.Line, "function %s: %s comes from the uv workspace, which has no uv.lock to pin it; run `uv lock`", function, r.Name)
		}
	}
	req.Requirements = applying(reqs, env.WithExtras(in.fc.Extras...).WithGroups(in.fc.Groups...))
	return req, nil
}

// applying returns the requirements whose markers hold in env, without
// their markers.
func applying(reqs []Requirement, env pep508.Env) []Requirement {
	var out []Requirement
	for _, r := range reqs {
		if r.Marker != nil && !r.Marker.Evaluate(env) {
			continue
		}
		r.Marker = nil
		out = append(out, r)
	}
	return out
}
