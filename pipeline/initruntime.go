package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/iac"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/resolver"
)

// RuntimeChoice is the runtime `layers init` writes and where it comes
// from, for people.
type RuntimeChoice struct {
	Runtime string
	// Source says which setting chose it, e.g. `requires-python ">=3.11"
	// in pyproject.toml: the oldest Lambda runtime it allows`.
	Source string
}

// runtimeChoices is what chooseRuntime decides: the runtime of every
// function, the functions whose own requires-python excludes it, and
// notes for the user.
type runtimeChoices struct {
	RuntimeChoice
	Overrides map[string]RuntimeChoice // by function name
	Notes     []string
}

// requirement is one requires-python a runtime must satisfy.
type requirement struct {
	file     string // the pyproject.toml that sets it
	function string // "" for the workspace root, which binds every member
	text     string
	spec     pep440.Specifier
}

// chooseRuntime picks the runtime init writes, from the first source that
// has one:
//
//  1. the runtimes the repository's SAM, Serverless or Terraform files
//     already set (the one most of their settings name): what Lambda runs
//     today;
//  2. .python-version at the root, the interpreter the team pinned;
//  3. requires-python of the workspace and the functions: the oldest
//     Lambda runtime that all of them allow, since that is the oldest
//     Python the code promises to run on (a newer one is a choice the
//     code's authors have not made, and the lock files' wheels cover the
//     oldest for sure);
//  4. config.DefaultRuntime.
//
// A function whose own requires-python excludes that runtime gets an
// override: the oldest runtime its requires-python allows.
func chooseRuntime(ctx context.Context, cfg *config.Config, ws *resolver.Workspace, fns []resolver.Function) (runtimeChoices, error) {
	root := cfg.Root
	var out runtimeChoices
	reqs, notes := requiresPython(root, ws, fns)
	out.Notes = notes

	settings, err := iac.Scan(ctx, root)
	if err != nil {
		return out, err
	}
	switch choice, notes := fromIaC(settings); {
	case choice.Runtime != "":
		out.RuntimeChoice = choice
		out.Notes = append(out.Notes, notes...)
	default:
		out.Notes = append(out.Notes, notes...)
		if choice := fromPythonVersion(root); choice.Runtime != "" {
			out.RuntimeChoice = choice
		} else if choice := fromRequiresPython(reqs); choice.Runtime != "" {
			out.RuntimeChoice = loadable(ctx, cfg, reqs, choice)
		} else {
			out.RuntimeChoice = RuntimeChoice{Runtime: config.DefaultRuntime,
				Source: "the default: no SAM, Serverless or Terraform runtime setting, no .python-version and no requires-python found"}
		}
	}

	// Functions whose own requires-python rules the chosen runtime out.
	out.Overrides = map[string]RuntimeChoice{}
	for _, r := range reqs {
		if allows(r.spec, out.Runtime) {
			continue
		}
		oldest := oldestAllowed([]requirement{r})
		if r.function == "" {
			out.Notes = append(out.Notes, fmt.Sprintf("%s requires-python %q does not allow %s", r.file, r.text, out.Runtime))
			continue
		}
		if oldest == "" {
			out.Notes = append(out.Notes, fmt.Sprintf("%s: requires-python %q allows no Lambda runtime (%s … %s)", r.file, r.text, config.Runtimes[0], config.Runtimes[len(config.Runtimes)-1]))
			continue
		}
		out.Overrides[r.function] = RuntimeChoice{Runtime: oldest,
			Source: fmt.Sprintf("requires-python %q in %s does not allow %s", r.text, r.file, out.Runtime)}
	}
	return out, nil
}

// requiresPython collects the requires-python of the workspace root and
// of every function with a pyproject.toml (Poetry's python dependency
// included). One that does not parse as a PEP 440 specifier (Poetry's
// "||") is a note, not a failure.
func requiresPython(root string, ws *resolver.Workspace, fns []resolver.Function) ([]requirement, []string) {
	var reqs []requirement
	var notes []string
	add := func(pp *resolver.Pyproject, function string) {
		if pp == nil || strings.TrimSpace(pp.RequiresPython) == "" {
			return
		}
		spec, err := pep440.ParseSpecifier(pp.RequiresPython)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: requires-python %q is not a PEP 440 specifier; not used to choose the runtime", pp.Path, pp.RequiresPython))
			return
		}
		reqs = append(reqs, requirement{file: pp.Path, function: function, text: pp.RequiresPython, spec: spec})
	}
	if ws != nil {
		add(ws.Root, "")
	}
	for _, f := range fns {
		if ws != nil && ws.Projects[f.Dir] != nil {
			add(ws.Projects[f.Dir], f.Name)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Dir), "pyproject.toml")); err != nil {
			continue
		}
		// A file that does not parse is left to plan, which reports it
		// with its line.
		if pp, err := resolver.ParsePyproject(root, path.Join(f.Dir, "pyproject.toml")); err == nil {
			add(pp, f.Name)
		}
	}
	return reqs, notes
}

// fromIaC chooses the runtime most of the infrastructure code's settings
// name (the oldest of a tie), and notes the others.
func fromIaC(settings []iac.Setting) (RuntimeChoice, []string) {
	count := map[string][]iac.Setting{}
	var notes []string
	for _, s := range settings {
		if !slices.Contains(config.Runtimes, s.Runtime) {
			notes = append(notes, fmt.Sprintf("%s:%d (%s) names %s, which layers does not build for", s.Path, s.Line, s.Tool, s.Runtime))
			continue
		}
		count[s.Runtime] = append(count[s.Runtime], s)
	}
	if len(count) == 0 {
		return RuntimeChoice{}, notes
	}
	rts := make([]string, 0, len(count))
	for rt := range count {
		rts = append(rts, rt)
	}
	slices.SortFunc(rts, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(count[b]), len(count[a])), cmp.Compare(slices.Index(config.Runtimes, a), slices.Index(config.Runtimes, b)))
	})
	best := count[rts[0]]
	src := fmt.Sprintf("the %s setting in %s:%d", best[0].Tool, best[0].Path, best[0].Line)
	if len(best) > 1 {
		src = fmt.Sprintf("%d SAM/Serverless/Terraform settings (the first: %s:%d)", len(best), best[0].Path, best[0].Line)
	}
	for _, rt := range rts[1:] {
		s := count[rt][0]
		notes = append(notes, fmt.Sprintf("%s:%d (%s) sets %s: give its functions [function.NAME] runtime = %q", s.Path, s.Line, s.Tool, rt, rt))
	}
	return RuntimeChoice{Runtime: rts[0], Source: src}, notes
}

// loadable moves a runtime chosen from requires-python to the next one it
// allows when the locks pin packages no wheel of which that runtime loads
// (python3.9-3.11 run on glibc 2.26, and recent releases of numpy or
// pillow ship only manylinux_2_27 or later wheels): `layers build` would
// refuse them. The oldest runtime whose glibc loads every locked wheel is
// still one the code promises to run on. A repository that does not
// resolve offline, or that no allowed runtime suits, keeps the choice.
func loadable(ctx context.Context, cfg *config.Config, reqs []requirement, choice RuntimeChoice) RuntimeChoice {
	var skipped []string
	for _, rt := range config.Runtimes[slices.Index(config.Runtimes, choice.Runtime):] {
		if slices.ContainsFunc(reqs, func(r requirement) bool { return !allows(r.spec, rt) }) {
			continue
		}
		refused, err := refusedWheels(ctx, cfg, rt)
		if err != nil {
			return choice
		}
		if len(refused) == 0 {
			if len(skipped) == 0 {
				return choice
			}
			return RuntimeChoice{Runtime: rt, Source: choice.Source + "; " + strings.Join(skipped, "; ")}
		}
		if len(refused) > 3 {
			refused = append(refused[:3], fmt.Sprintf("%d more", len(refused)-3))
		}
		skipped = append(skipped, fmt.Sprintf("not %s, whose glibc loads no locked wheel of %s", rt, strings.Join(refused, ", ")))
	}
	return choice
}

// refusedWheels lists the locked packages ("numpy 2.4.6") of cfg's
// functions that have no wheel runtime rt loads, from the lock files
// alone.
func refusedWheels(ctx context.Context, cfg *config.Config, rt string) ([]string, error) {
	c := *cfg
	c.Runtime = rt
	res, err := resolver.Resolve(ctx, &c, resolver.Options{Getenv: func(string) (string, bool) { return "", false }})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, tr := range res.Targets {
		for _, f := range tr.Functions {
			for _, p := range f.Packages {
				name := p.Name + " " + p.Version
				if p.Source == resolver.SourceRegistry && !slices.Contains(out, name) &&
					resolver.CheckWheels(p, tr.Runtime, tr.Arch).Availability == resolver.AvailableNone {
					out = append(out, name)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// fromPythonVersion reads .python-version, the file pyenv and uv pin the
// interpreter with: its first line, "3.12" or "3.12.4".
func fromPythonVersion(root string) RuntimeChoice {
	data, err := os.ReadFile(filepath.Join(root, ".python-version"))
	if err != nil {
		return RuntimeChoice{}
	}
	v := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	parts := strings.Split(strings.TrimPrefix(v, "cpython-"), ".")
	if len(parts) < 2 {
		return RuntimeChoice{}
	}
	rt := "python" + parts[0] + "." + parts[1]
	if !slices.Contains(config.Runtimes, rt) {
		return RuntimeChoice{}
	}
	return RuntimeChoice{Runtime: rt, Source: fmt.Sprintf(".python-version (%s)", v)}
}

// fromRequiresPython chooses the oldest runtime every requirement allows;
// when none allows them all, the oldest that allows the most (the others
// get overrides).
func fromRequiresPython(reqs []requirement) RuntimeChoice {
	if len(reqs) == 0 {
		return RuntimeChoice{}
	}
	texts := map[string]int{}
	for _, r := range reqs {
		texts[r.text]++
	}
	var quoted []string
	for _, t := range slices.Sorted(maps.Keys(texts)) {
		quoted = append(quoted, fmt.Sprintf("%q", t))
	}
	what := fmt.Sprintf("requires-python in %s (%s)", files(reqs), strings.Join(quoted, ", "))
	if rt := oldestAllowed(reqs); rt != "" {
		src := what + ": the oldest Lambda runtime all of them allow"
		if i := slices.Index(config.Runtimes, rt); i > 0 {
			prev := config.Runtimes[i-1]
			// Name the few that rule the previous runtime out, when not
			// all of them do.
			var by []string
			for _, r := range reqs {
				if !allows(r.spec, prev) {
					by = append(by, fmt.Sprintf("%s (%q)", r.file, r.text))
				}
			}
			if len(by) > 0 && len(by) <= 3 && len(by) < len(reqs) {
				src += fmt.Sprintf(" (%s rules out %s)", strings.Join(by, ", "), prev)
			}
		}
		return RuntimeChoice{Runtime: rt, Source: src}
	}
	best, most := "", 0
	for _, rt := range config.Runtimes {
		n := 0
		for _, r := range reqs {
			if allows(r.spec, rt) {
				n++
			}
		}
		if n > most {
			best, most = rt, n
		}
	}
	if best == "" {
		return RuntimeChoice{}
	}
	return RuntimeChoice{Runtime: best, Source: fmt.Sprintf("%s: no Lambda runtime allows all of them; the oldest that %d of %d allow", what, most, len(reqs))}
}

func files(reqs []requirement) string {
	if len(reqs) == 1 {
		return reqs[0].file
	}
	var root string
	n := 0
	for _, r := range reqs {
		if r.function == "" {
			root = r.file
		} else {
			n++
		}
	}
	fns := fmt.Sprintf("%d functions' pyproject.toml", n)
	if n == 1 {
		fns = "1 function's pyproject.toml"
	}
	if root != "" {
		return root + " and " + fns
	}
	return fns
}

// oldestAllowed returns the oldest runtime every requirement allows, or "".
func oldestAllowed(reqs []requirement) string {
	for _, rt := range config.Runtimes {
		if !slices.ContainsFunc(reqs, func(r requirement) bool { return !allows(r.spec, rt) }) {
			return rt
		}
	}
	return ""
}

// allows reports whether spec admits the Python of runtime rt, at the
// version the marker environment gives it.
func allows(spec pep440.Specifier, rt string) bool {
	env, err := pep508.TargetEnv(rt, "x86_64")
	if err != nil {
		return false
	}
	return spec.Contains(env.Values["python_full_version"])
}
