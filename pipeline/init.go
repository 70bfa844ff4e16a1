package pipeline

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/resolver"
)

// InitOptions say where `layers init` writes its starter file.
type InitOptions struct {
	Root  string // repository root
	Path  string // file to write; "" means Root/layers.toml
	Force bool   // overwrite an existing file
}

// InitResult says what Init wrote and found.
type InitResult struct {
	Path string
	// Functions are the function folders the written globs find, sorted.
	Functions []resolver.Candidate
	// Globs are the functions globs written.
	Globs []string
	// LeftOut are folders that look like functions and that the globs do
	// not find, with the reason.
	LeftOut []LeftOutFolder
	// Workspace is set when the root is a uv workspace.
	Workspace bool
	Runtime   RuntimeChoice
	// Overrides are the functions given a runtime of their own.
	Overrides map[string]RuntimeChoice
	// Notes are what the user should know about the choices.
	Notes      []string
	ConfigText []byte
}

// LeftOutFolder is a function-like folder that is not planned, and why.
type LeftOutFolder struct {
	resolver.Candidate
	Reason string `json:"reason,omitempty"`
}

// Init finds every folder of the repository that looks like a function
// (uv workspace members, Poetry projects, requirements files, pylock.toml
// files, wherever they are) and writes a commented starter layers.toml
// whose functions globs find them all, with the runtime their settings
// ask for.
func Init(ctx context.Context, opts InitOptions) (*InitResult, error) {
	if opts.Path == "" {
		opts.Path = filepath.Join(opts.Root, config.FileName)
	}
	def := config.Default(opts.Root)
	fns, ws, err := resolver.Discover(def)
	if err != nil {
		return nil, err
	}
	cands, err := resolver.FindCandidates(ctx, opts.Root, ws)
	if err != nil {
		return nil, err
	}
	// What the default discovery finds is a function even where the walk
	// would not look (deeper than it goes).
	for _, f := range fnCandidates(opts.Root, fns, ws) {
		if !slices.ContainsFunc(cands, func(c resolver.Candidate) bool { return c.Dir == f.Dir }) {
			cands = append(cands, f)
		}
	}
	slices.SortFunc(cands, func(a, b resolver.Candidate) int { return strings.Compare(a.Dir, b.Dir) })

	res := &InitResult{Path: opts.Path, Workspace: ws != nil}
	included, leftOut := nameable(cands)
	res.LeftOut = leftOut
	res.Globs = functionGlobs(opts.Root, included, leftOut)
	if len(res.Globs) > 0 {
		def.Functions = res.Globs
		if fns, _, err = resolver.Discover(def); err != nil {
			return nil, fmt.Errorf("the globs layers init chose do not work (a bug): %w", err)
		}
	}
	found := map[string]bool{}
	for _, f := range fns {
		found[f.Dir] = true
	}
	for _, c := range included {
		if found[c.Dir] {
			res.Functions = append(res.Functions, c)
		}
	}

	rt, err := chooseRuntime(ctx, def, ws, fns)
	if err != nil {
		return nil, err
	}
	res.Runtime, res.Overrides, res.Notes = rt.RuntimeChoice, rt.Overrides, rt.Notes

	in := config.StarterInput{Runtime: rt.Runtime, RuntimeSource: rt.Source, Functions: res.Globs, Workspace: res.Workspace,
		Overrides: map[string]config.StarterOverride{}}
	for _, c := range res.Functions {
		in.Discovered = append(in.Discovered, c.Dir+" ("+c.Inputs+")")
	}
	for _, l := range res.LeftOut {
		in.LeftOut = append(in.LeftOut, l.Dir+": "+l.Reason)
	}
	for name, o := range rt.Overrides {
		in.Overrides[name] = config.StarterOverride{Runtime: o.Runtime, Why: o.Source}
	}
	res.ConfigText = config.Starter(in)
	if err := config.WriteStarter(opts.Path, res.ConfigText, opts.Force); err != nil {
		return nil, err
	}
	return res, nil
}

// fnCandidates describes functions found by discovery as candidates.
func fnCandidates(root string, fns []resolver.Function, ws *resolver.Workspace) []resolver.Candidate {
	var out []resolver.Candidate
	for _, f := range fns {
		out = append(out, resolver.Candidate{Dir: f.Dir, Inputs: resolver.DescribeInputs(root, f.Dir, ws)})
	}
	return out
}

// nameable splits candidates into those that can be functions and those
// whose folder name cannot name one: not a Lambda function name, or one
// that an earlier folder (in path order) already has.
func nameable(cands []resolver.Candidate) (ok []resolver.Candidate, left []LeftOutFolder) {
	seen := map[string]string{} // lower-case name -> folder
	for _, c := range cands {
		name := path.Base(c.Dir)
		switch prev, dup := seen[strings.ToLower(name)]; {
		case !resolver.ValidFunctionName(name):
			left = append(left, LeftOutFolder{c, fmt.Sprintf("%q cannot be a Lambda function name (letters, digits, - and _, at most 64); a function is named by its folder", name)})
		case dup:
			left = append(left, LeftOutFolder{c, fmt.Sprintf("%s already has the name %q (a function is named by its folder): rename one", prev, name)})
		default:
			seen[strings.ToLower(name)] = c.Dir
			ok = append(ok, c)
		}
	}
	return ok, left
}

// functionGlobs returns globs that find exactly the included folders:
// "PARENT/*" for a parent folder none of whose other subfolders looks like
// a function or a library, else the folders themselves.
func functionGlobs(root string, included []resolver.Candidate, left []LeftOutFolder) []string {
	byParent := map[string][]string{}
	for _, c := range included {
		byParent[path.Dir(c.Dir)] = append(byParent[path.Dir(c.Dir)], c.Dir)
	}
	var globs []string
	for parent, dirs := range byParent {
		if parent != "." && onlyThese(root, parent, dirs) {
			globs = append(globs, parent+"/*")
			continue
		}
		globs = append(globs, dirs...)
	}
	sort.Strings(globs)
	return globs
}

// onlyThese reports whether the only subfolders of parent that hold a
// function's input file are dirs: then parent/* finds exactly them.
func onlyThese(root, parent string, dirs []string) bool {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(parent)))
	if err != nil {
		return false
	}
	for _, e := range entries {
		d := path.Join(parent, e.Name())
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || slices.Contains(dirs, d) {
			continue
		}
		if resolver.DescribeInputs(root, d, nil) != "" {
			return false // a library, or a folder left out
		}
	}
	return true
}

// WriteText tells people what Init found and wrote.
func (r *InitResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s: %s found by functions = [%s]\n", r.Path, plural(len(r.Functions), "function"), quoteList(r.Globs))
	// Group the functions by what manages their dependencies.
	var kinds []string
	byKind := map[string][]string{}
	for _, c := range r.Functions {
		if _, ok := byKind[c.Inputs]; !ok {
			kinds = append(kinds, c.Inputs)
		}
		byKind[c.Inputs] = append(byKind[c.Inputs], path.Base(c.Dir))
	}
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %-36s %s\n", fmt.Sprintf("%s (%d):", k, len(byKind[k])), strings.Join(byKind[k], ", "))
	}
	if len(r.LeftOut) > 0 {
		fmt.Fprintf(&b, "left out, %s that look like functions:\n", plural(len(r.LeftOut), "folder"))
		for _, l := range r.LeftOut {
			fmt.Fprintf(&b, "  %s (%s): %s\n", l.Dir, l.Inputs, l.Reason)
		}
	}
	fmt.Fprintf(&b, "runtime = %q, from %s\n", r.Runtime.Runtime, r.Runtime.Source)
	for _, name := range slices.Sorted(maps.Keys(r.Overrides)) {
		o := r.Overrides[name]
		fmt.Fprintf(&b, "  [function.%s] runtime = %q: %s\n", name, o.Runtime, o.Source)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	b.WriteString("next: `layers plan` shows the layers; `layers build` builds them (needs Docker)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
