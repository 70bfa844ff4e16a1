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
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/archive"
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

// LocalPackageFiles returns the files of a local package's source folder, rel
// being relative to root, for copying into the container and for the
// unit's cache key.
func LocalPackageFiles(root, rel string) ([]archive.File, error) {
	if rel == "" {
		return nil, errors.New("local package without a path")
	}
	dir := filepath.Join(root, filepath.FromSlash(rel))
	fsys := os.DirFS(dir)
	var files []archive.File
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.IsDir() {
			if skipSource[d.Name()] || strings.HasSuffix(d.Name(), ".egg-info") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, ".pyc") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, archive.File{Name: p, Exec: info.Mode()&0o111 != 0, Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return fsys.Open(p) }})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read local package %s: %w", rel, err)
	}
	return files, nil
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
