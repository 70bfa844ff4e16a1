package resolver

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// Function is one Lambda function found in the repository.
type Function struct {
	// Name is the function folder's base name, unique in the repository.
	Name string
	// Dir is the function folder relative to the repository root, with
	// forward slashes.
	Dir string
	// CodeBytes is the size of the function's own files (what ships as its
	// deployment package), leaving out what never ships: caches, virtual
	// environments, tests, VCS folders.
	CodeBytes int64
}

// Workspace is a uv workspace rooted at the repository root.
type Workspace struct {
	Root    *Pyproject // the root pyproject.toml
	Members []string   // member folders relative to the repository root, sorted
	// Libraries are members that other members depend on as workspace
	// sources: they are local packages, not functions.
	Libraries map[string]bool
	// Projects are the members' pyproject.toml files by member folder,
	// read once for discovery and for the closures.
	Projects map[string]*Pyproject
}

// inputFiles are the files whose presence makes a folder a function: a
// PEP 751 pylock.toml alone is a closure too.
var inputFiles = []string{"requirements.txt", "pyproject.toml", "pylock.toml"}

// skipDirs never ship with a function's code.
var skipDirs = map[string]bool{
	".git": true, ".venv": true, "venv": true, "__pycache__": true, "node_modules": true,
	".pytest_cache": true, ".mypy_cache": true, ".ruff_cache": true, "tests": true, ".tox": true,
}

// Discover finds the functions of the repository cfg describes: the folders
// cfg.Functions matches, or by default the uv workspace's members (less the
// libraries other members depend on) when the root has a uv workspace, and
// the folders matching functions/* whatever manages them (Poetry projects,
// compiled requirements and pylock.toml files next to a workspace). A
// matched folder is a function when it holds a requirements.txt, a
// pyproject.toml or a pylock.toml (or the file its override names).
// Folders that look like functions but that this leaves out are what
// FindCandidates and LeftOut tell.
func Discover(cfg *config.Config) ([]Function, *Workspace, error) {
	ws, err := loadWorkspace(cfg.Root)
	if err != nil {
		return nil, nil, err
	}
	var dirs []string
	switch {
	case len(cfg.Functions) > 0:
		for i, g := range cfg.Functions {
			m, err := globDirs(cfg.Root, g)
			if err != nil {
				return nil, nil, err
			}
			// A glob the user wrote that finds no function is a typo or a
			// moved folder: going on would plan, build and publish nothing,
			// and outputs with no functions strip every function's layers.
			if !slices.ContainsFunc(m, func(d string) bool { return isFunctionDir(cfg, d, path.Base(d)) }) {
				return nil, nil, diag.Errorf(configPath(cfg), configLine(cfg, "functions", i),
					"functions: glob %q matches no function folder (one with a requirements.txt or a pyproject.toml)", g)
			}
			dirs = append(dirs, m...)
		}
	default:
		if ws != nil {
			for _, m := range ws.Members {
				if !ws.Libraries[m] {
					dirs = append(dirs, m)
				}
			}
		}
		m, err := globDirs(cfg.Root, DefaultFunctionsGlob)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range m {
			// A workspace member that others depend on is a library
			// wherever it lives.
			if ws == nil || !ws.Libraries[d] {
				dirs = append(dirs, d)
			}
		}
	}
	sort.Strings(dirs)
	dirs = uniq(dirs)
	var fns []Function
	seen := map[string]string{}
	folded := map[string]string{} // lower case -> folder
	for _, d := range dirs {
		name := path.Base(d)
		if !isFunctionDir(cfg, d, name) {
			continue
		}
		if !ValidFunctionName(name) {
			return nil, nil, diag.Errorf(configPath(cfg), 0,
				"function folder %q: %q cannot be a Lambda function name (letters, digits, - and _, at most 64; a function is named by its folder)", d, name)
		}
		if prev, ok := seen[name]; ok {
			return nil, nil, diag.Errorf(configPath(cfg), 0,
				"two functions are named %q: %s and %s (a function is named by its folder)", name, prev, d)
		}
		if prev, ok := folded[strings.ToLower(name)]; ok {
			return nil, nil, diag.Errorf(configPath(cfg), 0,
				"two functions are named %q and %q: %s and %s (names that differ only in case collide in layer names and on case-insensitive file systems)", path.Base(prev), name, prev, d)
		}
		seen[name] = d
		folded[strings.ToLower(name)] = d
		size, err := codeBytes(filepath.Join(cfg.Root, filepath.FromSlash(d)))
		if err != nil {
			return nil, nil, err
		}
		fns = append(fns, Function{Name: name, Dir: d, CodeBytes: size})
	}
	for name := range cfg.Function {
		if _, ok := seen[name]; !ok {
			return nil, nil, diag.Errorf(configPath(cfg), configLine(cfg, "function", name),
				"[function.%s] matches no function (found: %s)", name, names(fns))
		}
	}
	return fns, ws, nil
}

// ValidFunctionName reports whether name can name a Lambda function:
// [A-Za-z0-9_-]{1,64}.
func ValidFunctionName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func names(fns []Function) string {
	if len(fns) == 0 {
		return "none"
	}
	var s []string
	for _, f := range fns {
		s = append(s, f.Name)
	}
	return strings.Join(s, ", ")
}

func isFunctionDir(cfg *config.Config, dir, name string) bool {
	abs := filepath.Join(cfg.Root, filepath.FromSlash(dir))
	if f := cfg.Function[name].Requirements; f != "" {
		return exists(filepath.Join(abs, filepath.FromSlash(f)))
	}
	for _, f := range inputFiles {
		if exists(filepath.Join(abs, f)) {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// globDirs returns the folders under root that pattern matches, relative
// to root with forward slashes.
func globDirs(root, pattern string) ([]string, error) {
	all, err := doublestar.Glob(os.DirFS(root), pattern, doublestar.WithNoFollow())
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	var dirs []string
	for _, m := range all {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(m))); err == nil && fi.IsDir() {
			if strings.Contains("/"+m+"/", "/.") {
				continue // hidden folders (.venv, .git) are never functions
			}
			dirs = append(dirs, m)
		}
	}
	return dirs, nil
}

func uniq(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// codeBytes sums the regular files of a function folder that would ship.
func codeBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ".pyc") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measure function code in %s: %w", dir, err)
	}
	return total, nil
}

// loadWorkspace reads the root pyproject.toml's uv workspace, if any.
func loadWorkspace(root string) (*Workspace, error) {
	if !exists(filepath.Join(root, "pyproject.toml")) {
		return nil, nil
	}
	pp, err := ParsePyproject(root, "pyproject.toml")
	if err != nil {
		return nil, err
	}
	if pp.Workspace == nil {
		return nil, nil
	}
	ws := &Workspace{Root: pp, Libraries: map[string]bool{}, Projects: map[string]*Pyproject{}}
	excluded := map[string]bool{}
	for _, g := range pp.Workspace.Exclude {
		m, err := globDirs(root, g)
		if err != nil {
			return nil, err
		}
		for _, d := range m {
			excluded[d] = true
		}
	}
	for _, g := range pp.Workspace.Members {
		m, err := globDirs(root, g)
		if err != nil {
			return nil, err
		}
		for _, d := range m {
			if !excluded[d] && exists(filepath.Join(root, filepath.FromSlash(d), "pyproject.toml")) {
				ws.Members = append(ws.Members, d)
			}
		}
	}
	sort.Strings(ws.Members)
	ws.Members = uniq(ws.Members)
	// A member another member depends on through a workspace source is a
	// library: it ships inside the functions' closures, not as a function.
	byName := map[string]string{}
	for _, d := range ws.Members {
		p, err := ParsePyproject(root, path.Join(d, "pyproject.toml"))
		if err != nil {
			return nil, err
		}
		ws.Projects[d] = p
		byName[p.Name] = d
	}
	for _, p := range ws.Projects {
		for name, src := range p.Sources {
			if src.Workspace {
				if d, ok := byName[name]; ok {
					ws.Libraries[d] = true
				}
			}
		}
		for name, src := range pp.Sources {
			if src.Workspace {
				if d, ok := byName[name]; ok && dependsOn(p, name) {
					ws.Libraries[d] = true
				}
			}
		}
	}
	return ws, nil
}

func dependsOn(p *Pyproject, name string) bool {
	for _, r := range p.Dependencies {
		if r.Name == name {
			return true
		}
	}
	return false
}

func configPath(cfg *config.Config) string {
	if cfg.Path == "" {
		return config.FileName
	}
	return cfg.Path
}

func configLine(cfg *config.Config, key ...any) int {
	if cfg.Path == "" {
		return 0
	}
	data, err := repofs.ReadPath(cfg.Path)
	if err != nil {
		return 0
	}
	return tomlpos.Line(data, key...)
}
