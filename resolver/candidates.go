package resolver

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultFunctionsGlob is where functions are looked for, next to the uv
// workspace's members, when layers.toml sets no functions.
const DefaultFunctionsGlob = "functions/*"

// maxCandidateDepth bounds how many folders deep FindCandidates looks:
// services/NAME/handlers/NAME is four.
const maxCandidateDepth = 4

// Candidate is a folder that looks like a function: it holds an input
// file and is neither the repository root nor a library that another
// folder depends on.
type Candidate struct {
	// Dir is the folder relative to the repository root, with forward
	// slashes.
	Dir string `json:"path"`
	// Inputs says what makes it look like one, for people:
	// "uv workspace member", "pyproject.toml + poetry.lock", ...
	Inputs string `json:"inputs"`
}

// FindCandidates walks the repository at root for every folder that looks
// like a function, wherever it is: one holding a requirements.txt, a
// pyproject.toml or a pylock.toml, at most maxCandidateDepth folders down.
// It does not look inside such a folder (its tests or vendored projects
// are not functions), nor inside hidden, virtual-environment or cache
// folders. Libraries are left out: the uv workspace's (ws may be nil) and
// folders that another candidate names as a path dependency. The result is
// sorted by folder.
func FindCandidates(ctx context.Context, root string, ws *Workspace) ([]Candidate, error) {
	var dirs []string
	fsys := os.DirFS(root)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // an unreadable folder is nobody's function
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() || p == "." {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || skipDirs[name] || name == "site-packages" {
			return fs.SkipDir
		}
		if ws != nil && ws.Libraries[p] || strings.Count(p, "/")+1 > maxCandidateDepth {
			return fs.SkipDir
		}
		for _, f := range inputFiles {
			if fi, err := fs.Stat(fsys, path.Join(p, f)); err == nil && fi.Mode().IsRegular() {
				dirs = append(dirs, p)
				return fs.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	libs := pathDependencies(root, dirs, ws)
	var out []Candidate
	for _, d := range dirs {
		if libs[d] {
			continue
		}
		out = append(out, Candidate{Dir: d, Inputs: DescribeInputs(root, d, ws)})
	}
	return out, nil
}

// LeftOut returns the candidates that are not among the functions found.
func LeftOut(cands []Candidate, fns []Function) []Candidate {
	found := map[string]bool{}
	for _, f := range fns {
		found[f.Dir] = true
	}
	var out []Candidate
	for _, c := range cands {
		if !found[c.Dir] {
			out = append(out, c)
		}
	}
	return out
}

// pathDependencies returns the folders among dirs that some folder of dirs
// (or a workspace member) names as a local path dependency: libraries the
// functions install, not functions. Files that do not parse are skipped:
// resolving the functions reports them.
func pathDependencies(root string, dirs []string, ws *Workspace) map[string]bool {
	libs := map[string]bool{}
	add := func(reqs []Requirement) {
		for _, r := range reqs {
			if r.LocalPath != "" {
				libs[path.Clean(r.LocalPath)] = true
			}
		}
	}
	addProject := func(pp *Pyproject) {
		add(pp.Dependencies)
		for _, k := range slices.Sorted(maps.Keys(pp.Optional)) {
			add(pp.Optional[k])
		}
		for _, k := range slices.Sorted(maps.Keys(pp.Groups)) {
			add(pp.Groups[k])
		}
	}
	for _, d := range dirs {
		abs := filepath.Join(root, filepath.FromSlash(d))
		if ws != nil && ws.Projects[d] != nil {
			addProject(ws.Projects[d])
		} else if exists(filepath.Join(abs, "pyproject.toml")) {
			if pp, err := ParsePyproject(root, path.Join(d, "pyproject.toml")); err == nil {
				addProject(pp)
			}
		}
		if exists(filepath.Join(abs, "requirements.txt")) {
			getenv := func(string) (string, bool) { return "", false }
			if req, err := ParseRequirementsFile(root, path.Join(d, "requirements.txt"), getenv); err == nil {
				add(req.Requirements)
			}
		}
	}
	return libs
}

// DescribeInputs says what a folder's dependencies are declared with, as
// people name it: "uv workspace member" (ws may be nil), else its input
// and lock files joined by " + ", "" for none.
func DescribeInputs(root, dir string, ws *Workspace) string {
	if ws != nil && slices.Contains(ws.Members, dir) {
		return "uv workspace member"
	}
	var files []string
	for _, f := range []string{"pyproject.toml", "uv.lock", "poetry.lock", "pylock.toml", "requirements.txt"} {
		if exists(filepath.Join(root, filepath.FromSlash(dir), f)) {
			files = append(files, f)
		}
	}
	return strings.Join(files, " + ")
}
