package pipeline

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
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
	Path       string
	Functions  []string // function folders found
	Workspace  bool
	Runtime    string
	ConfigText []byte
}

// Init discovers the repository's functions and writes a commented starter
// layers.toml that finds them.
func Init(ctx context.Context, opts InitOptions) (*InitResult, error) {
	if opts.Path == "" {
		opts.Path = filepath.Join(opts.Root, config.FileName)
	}
	in := config.StarterInput{Runtime: guessRuntime(opts.Root)}
	def := config.Default(opts.Root)
	fns, ws, err := resolver.Discover(def)
	if err != nil {
		return nil, err
	}
	in.Workspace = ws != nil
	if len(fns) == 0 {
		// Nothing where the defaults look: propose a glob for each folder
		// that holds functions.
		in.Functions, err = suggestGlobs(ctx, opts.Root)
		if err != nil {
			return nil, err
		}
		if len(in.Functions) > 0 {
			def.Functions = in.Functions
			fns, _, err = resolver.Discover(def)
			if err != nil {
				return nil, err
			}
		}
	}
	for _, f := range fns {
		in.Discovered = append(in.Discovered, f.Dir)
	}
	text := config.Starter(in)
	if err := config.WriteStarter(opts.Path, text, opts.Force); err != nil {
		return nil, err
	}
	return &InitResult{Path: opts.Path, Functions: in.Discovered, Workspace: in.Workspace,
		Runtime: in.Runtime, ConfigText: text}, nil
}

// guessRuntime reads .python-version, the file pyenv and uv pin with.
func guessRuntime(root string) string {
	data, err := os.ReadFile(filepath.Join(root, ".python-version"))
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return ""
	}
	rt := "python" + parts[0] + "." + parts[1]
	if slices.Contains(config.Runtimes, rt) {
		return rt
	}
	return ""
}

// suggestGlobs finds folders holding a requirements.txt or pyproject.toml
// (at most four levels down, skipping hidden and vendored folders) and
// returns "PARENT/*" for each of their parents.
func suggestGlobs(ctx context.Context, root string) ([]string, error) {
	var globs []string
	fsys := os.DirFS(root)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "venv" || name == "__pycache__") {
			return fs.SkipDir
		}
		if p == "." {
			return nil
		}
		if strings.Count(p, "/") >= 4 {
			return fs.SkipDir
		}
		for _, f := range []string{"requirements.txt", "pyproject.toml"} {
			if _, err := fs.Stat(fsys, path.Join(p, f)); err == nil {
				g := path.Join(path.Dir(p), "*")
				if path.Dir(p) == "." {
					g = p
				}
				if !slices.Contains(globs, g) {
					globs = append(globs, g)
				}
				return fs.SkipDir
			}
		}
		return nil
	})
	slices.Sort(globs)
	return globs, err
}
