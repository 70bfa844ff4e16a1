// Package repofs owns what layers may read of the repository: the check
// that a path an input names stays inside the repository root once every
// symbolic link on the way is followed, and the one bounded read of an
// input file (requirements files, pyproject.toml, lock files, layers.toml)
// that takes only regular files of a sane size.
package repofs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/internal/diag"
)

// MaxInputBytes caps an input file: no requirements file or lock is near
// it, and a link to /dev/zero or a huge file must not fill the memory.
const MaxInputBytes = 8 << 20

// Errors a refused read wraps, for errors.Is.
var (
	ErrOutside    = errors.New("outside the repository")
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("input file too large")

	errIsDir = errors.New("is a directory")
)

// Rel relates written, a path an input file names (absolute, or relative
// to dir, itself relative to root, with forward slashes), to root, and
// returns it relative to root with forward slashes. It is an error,
// wrapping ErrOutside, when the path leaves the repository, as written or
// through a symbolic link on the way. Parts of the path that do not exist
// yet are taken as written.
func Rel(root, dir, written string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	var rel string
	if path.IsAbs(written) || filepath.IsAbs(written) {
		r, err := filepath.Rel(absRoot, filepath.Clean(filepath.FromSlash(written)))
		if err != nil {
			return "", &OutsideError{Written: written}
		}
		rel = filepath.ToSlash(r)
	} else {
		rel = path.Join(dir, filepath.ToSlash(written))
	}
	if rel == ".." || strings.HasPrefix(rel, "../") || !fs.ValidPath(rel) {
		return "", &OutsideError{Written: written}
	}
	if link, ok := linkOut(absRoot, rel); !ok {
		return "", &OutsideError{Written: written, Link: link, whole: link == rel}
	}
	return rel, nil
}

// OutsideError is a path that leaves the repository.
type OutsideError struct {
	Written string // the path as the input wrote it
	Link    string // the symbolic link that leads out, relative to the root; "" when the path itself does
	whole   bool   // Link is the whole path
}

func (e *OutsideError) Error() string {
	switch {
	case e.Link == "":
		return e.Written + " is outside the repository"
	case e.whole:
		return e.Written + " is a symbolic link that leads outside the repository"
	}
	return fmt.Sprintf("%s is outside the repository: %s is a symbolic link that leads out of it", e.Written, e.Link)
}

// Reason is the error without the path, for a message that names it already.
func (e *OutsideError) Reason() string {
	switch {
	case e.Link == "":
		return "outside the repository"
	case e.whole:
		return "a symbolic link that leads outside the repository"
	}
	return e.Link + " is a symbolic link that leads outside the repository"
}

func (e *OutsideError) Unwrap() error { return ErrOutside }

// Inside is Rel for a path already relative to root (a function's input
// file named in layers.toml, a local package's folder).
func Inside(root, rel string) error {
	_, err := Rel(root, ".", rel)
	return err
}

// linkOut follows rel's elements under absRoot and reports the first
// symbolic link whose target lies outside the root, with ok false. It
// stops at the first element that does not exist.
func linkOut(absRoot, rel string) (link string, ok bool) {
	if rel == "." {
		return "", true
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return "", true // no root on disk (an in-memory file system): nothing to follow
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		p := filepath.Join(absRoot, filepath.FromSlash(prefix))
		fi, err := os.Lstat(p)
		if err != nil {
			return "", true
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			// A dangling link (or a loop): nothing is read through it, but
			// it must not lead out once its target appears either.
			target, err = danglingTarget(p)
			if err != nil {
				return prefix, false
			}
		}
		if !within(realRoot, target) {
			return prefix, false
		}
	}
	return "", true
}

// danglingTarget is where a link that does not resolve points, made absolute.
func danglingTarget(p string) (string, error) {
	t, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(p), t)
	}
	return filepath.Clean(t), nil
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// Read reads the input file name from fsys: only a regular file (never a
// device or a named pipe, which could flood or hang), and at most
// MaxInputBytes. A refused file is a *diag.Error naming it; I/O failures
// are plain errors.
func Read(fsys fs.FS, name string) ([]byte, error) {
	return read(name, func() (fs.FileInfo, error) { return fs.Stat(fsys, name) }, func() (fs.File, error) { return fsys.Open(name) })
}

// ReadPath is Read for a file named by its path on disk (layers.toml,
// which may be given from the working folder).
func ReadPath(file string) ([]byte, error) {
	return read(file, func() (fs.FileInfo, error) { return os.Stat(file) }, func() (fs.File, error) { return os.Open(file) })
}

func read(name string, stat func() (fs.FileInfo, error), open func() (fs.File, error)) ([]byte, error) {
	fi, err := stat() // before opening: opening a named pipe blocks
	if err != nil {
		return nil, err
	}
	if err := checkInfo(name, fi); err != nil {
		return nil, err
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil { // the file opened, should it have changed
		return nil, err
	}
	if err := checkInfo(name, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxInputBytes {
		return nil, tooLarge(name)
	}
	return data, nil
}

// ReadFile checks that rel (relative to root) stays inside the repository
// and reads it as Read does. A path leading out is a *diag.Error too.
func ReadFile(root, rel string) ([]byte, error) {
	if err := Inside(root, rel); err != nil {
		var o *OutsideError
		if errors.As(err, &o) {
			return nil, &diag.Error{Path: rel, Msg: o.Reason(), Err: err}
		}
		return nil, err
	}
	return Read(os.DirFS(root), path.Clean(filepath.ToSlash(rel)))
}

func checkInfo(name string, fi fs.FileInfo) error {
	if fi.IsDir() { // as reading it would fail: an I/O error, not an input one
		return &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	}
	if !fi.Mode().IsRegular() {
		return &diag.Error{Path: name, Msg: fmt.Sprintf("%s: layers reads only regular files", kind(fi.Mode())), Err: ErrNotRegular}
	}
	if fi.Size() > MaxInputBytes {
		return tooLarge(name)
	}
	return nil
}

func tooLarge(name string) error {
	return &diag.Error{Path: name, Msg: fmt.Sprintf("larger than %d MiB: layers reads input files up to that size", MaxInputBytes>>20), Err: ErrTooLarge}
}

// kind names what a non-regular file is.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe, not a regular file"
	case m&fs.ModeSocket != 0:
		return "a socket, not a regular file"
	case m&fs.ModeDevice != 0:
		return "a device, not a regular file"
	}
	return "not a regular file"
}
