// Package digest owns the content digests layers records and compares: of
// one file (a layer zip), of a set of files, and of the two source trees
// layers reads from the repository, which it also selects: a local
// package's folder and an image function's own files. The builder keys
// units and images on them; the build stamp and publish compare them.
package digest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/repofs"
)

// File returns the hex and base64 sha256 of the file at path, for
// checking a zip left by an earlier build.
func File(path string) (hexSum, b64 string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", "", 0, err
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum), base64.StdEncoding.EncodeToString(sum), size, nil
}

// skipSource are folders of a local package's source tree that never
// belong to its build: version control, virtual environments, caches and
// earlier build outputs.
var skipSource = map[string]bool{
	".git": true, ".hg": true, ".venv": true, "venv": true, "__pycache__": true, "node_modules": true,
	".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true, ".tox": true, "build": true, "dist": true, ".layers": true,
}

// LocalPackageFiles returns the files of a local package, rel being
// relative to root, for copying into the container and for the unit's
// cache key: the files of its source folder, or the archive (a wheel or an
// sdist) itself, named by its base name.
//
// A symbolic link in the folder is followed when its target lies inside
// the repository, and its target's content goes in under the link's name;
// a link that leads out of the repository is a *diag.Error naming it.
func LocalPackageFiles(root, rel string) ([]archive.File, error) {
	if rel == "" {
		return nil, errors.New("local package without a path")
	}
	if err := repofs.Inside(root, rel); err != nil {
		return nil, outside(rel, err)
	}
	abs := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("read local package %s: %w", rel, err)
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("read local package %s: not a folder or a regular file", rel)
		}
		return []archive.File{{Name: path.Base(rel), Exec: fi.Mode()&0o111 != 0, Size: fi.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(abs) }}}, nil
	}
	w := sourceWalk{root: root, visited: map[string]bool{}}
	if err := w.walk(rel, abs, ""); err != nil {
		if diag.IsInput(err) {
			return nil, err
		}
		return nil, fmt.Errorf("read local package %s: %w", rel, err)
	}
	return w.files, nil
}

// LocalArchive reports whether the local package at rel is an archive
// file rather than a source folder.
func LocalArchive(root, rel string) bool {
	fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}

// sourceWalk collects a local package's files, following links to folders
// inside the repository (each real folder once, so a link loop ends).
type sourceWalk struct {
	root    string
	visited map[string]bool // real paths of the folders walked
	files   []archive.File
}

// walk adds the files of the folder at abs, which is rel relative to the
// root (through any links), under the name prefix.
func (w *sourceWalk) walk(rel, abs, prefix string) error {
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return err
	}
	if w.visited[real] {
		return fmt.Errorf("%s: a symbolic link loop", rel)
	}
	w.visited[real] = true
	defer delete(w.visited, real)
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(real, p)
		if err != nil {
			return err
		}
		if r == "." {
			return nil
		}
		r = filepath.ToSlash(r)
		name := path.Join(prefix, r)
		if d.IsDir() {
			if skipSourceDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			linkRel := path.Join(rel, r)
			if err := repofs.Inside(w.root, linkRel); err != nil {
				return outside(linkRel, err)
			}
			if info, err = os.Stat(p); err != nil {
				return fmt.Errorf("%s: %w", r, err)
			}
			if info.IsDir() {
				if skipSourceDir(d.Name()) {
					return nil
				}
				return w.walk(linkRel, p, name)
			}
		}
		if !info.Mode().IsRegular() || strings.HasSuffix(r, ".pyc") {
			return nil
		}
		w.files = append(w.files, archive.File{Name: name, Exec: info.Mode()&0o111 != 0, Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
}

func skipSourceDir(name string) bool {
	return skipSource[name] || strings.HasSuffix(name, ".egg-info")
}

// outside is the input error of a local package's path, or a link in it,
// that leads out of the repository.
func outside(rel string, err error) error {
	var o *repofs.OutsideError
	if errors.As(err, &o) {
		return &diag.Error{Path: rel, Msg: o.Reason() + ": nothing outside the repository goes into a build", Err: err}
	}
	return err
}

// Files is a hex sha256 over the names, modes and contents of files.
func Files(files []archive.File) (string, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%t\x00%d\x00", f.Name, f.Exec, f.Size)
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// LocalPackage returns the digest of a local package's source folder, rel
// being relative to root: what its unit's cache key records.
func LocalPackage(root, rel string) (string, error) {
	files, err := LocalPackageFiles(root, rel)
	if err != nil {
		return "", err
	}
	return Files(files)
}
