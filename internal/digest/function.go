package digest

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/repofs"
)

// skipDirs never go into an image: tests, virtual environments, caches,
// version control and layers' own output. Folders whose name starts with
// a dot (.idea, .vscode, .git) are skipped too.
var skipDirs = map[string]bool{
	"tests": true, "venv": true, "__pycache__": true, "node_modules": true,
}

// skipFile reports files that never go into an image: byte code, which
// the runtime writes itself where it can, and editor droppings.
func skipFile(name string) bool {
	return strings.HasSuffix(name, ".pyc") || strings.HasSuffix(name, ".pyo") || name == ".DS_Store"
}

// FunctionFiles returns the function's own files in dir, the function
// folder, with names relative to it: those the globs (doublestar,
// relative to dir) match, or every file when there are none; a glob that
// matches a folder takes all of it. The default excludes (tests, virtual
// environments, caches, dot folders, byte code) apply either way, so a
// glob such as **/*.py does not sweep up a .venv. The function's input
// files (requirements.txt, pyproject.toml, a lock) are small and say what
// the image was built from; they go in like any other file.
//
// A symbolic link to a file is followed when its target lies inside the
// repository at root (a link that leads out is a *diag.Error naming it);
// any other special file, or a link to a folder, is an error naming it.
func FunctionFiles(root, dir string, globs []string) ([]archive.File, error) {
	var files []archive.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if skipDirs[name] || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".egg-info") {
				return filepath.SkipDir
			}
			return nil
		}
		if skipFile(name) || !selected(rel, globs) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if err := linkInside(root, p); err != nil {
				return err
			}
			if info, err = os.Stat(p); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: %v cannot go into an image (only files and links to files)", rel, info.Mode().Type())
		}
		files = append(files, archive.File{
			Name: rel,
			Exec: info.Mode()&0o111 != 0,
			Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(p) },
		})
		return nil
	})
	if err != nil {
		if diag.IsInput(err) {
			return nil, err
		}
		return nil, fmt.Errorf("read function source in %s: %w", dir, err)
	}
	return files, nil
}

// linkInside checks that the link at p, a path on disk under root, does
// not lead out of the repository.
func linkInside(root, p string) error {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(absRoot, p)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	if err := repofs.Inside(root, rel); err != nil {
		return outside(rel, err)
	}
	return nil
}

// selected reports whether rel, or a folder above it, matches a glob.
func selected(rel string, globs []string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		for p := rel; p != "."; p = path.Dir(p) {
			if ok, _ := doublestar.Match(g, p); ok {
				return true
			}
		}
	}
	return false
}

// Function returns the digest of an image function's own files, as
// FunctionFiles selects them: what its image's content key and the build
// manifest record.
func Function(root, dir string, globs []string) (string, error) {
	files, err := FunctionFiles(root, dir, globs)
	if err != nil {
		return "", err
	}
	return Files(files)
}
