// Package archive owns the bytes of every archive layers writes or reads:
// deterministic layer zips, deterministic tar streams sent into build
// containers, and the safe extraction of the untrusted tar streams that
// come back out of them.
//
// Determinism is the point: the same files give the same bytes on any
// machine, whatever the files' timestamps, owners, permission bits beyond
// the executable bit, or the order in which they were created. That is what
// lets a layer's sha256 identify it and publishing skip what is already
// published.
package archive

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// File is one entry to archive. Directories need no entry of their own:
// every parent of a file gets one.
type File struct {
	// Name is the slash-separated path inside the archive, without a
	// leading or trailing slash.
	Name string
	// Dir marks a directory entry, useful for empty directories.
	Dir bool
	// Exec marks an executable file (mode 0755; other files get 0644).
	Exec bool
	// Size is the content's length in bytes; tar headers need it up front.
	Size int64
	// Open returns the content; unused for directories.
	Open func() (io.ReadCloser, error)
}

// FromBytes returns a regular file holding data, for small generated files
// such as the scripts and requirement lists sent into a build container.
func FromBytes(name string, data []byte, exec bool) File {
	return File{
		Name: name,
		Exec: exec,
		Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// Collect lists the regular files and directories of fsys under prefix
// (which may be empty), ready for WriteZip or WriteTar. Several trees can be
// merged by appending their lists: directories present in more than one
// merge, files present in more than one make the writers fail.
//
// Symbolic links and other special files are rejected rather than followed
// or stored: a Lambda layer zip holds regular files only, and following a
// link could copy content from outside the tree.
func Collect(fsys fs.FS, prefix string) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := path.Join(prefix, p)
		switch t := d.Type(); {
		case t.IsDir():
			if name != "." && name != "" {
				files = append(files, File{Name: name, Dir: true})
			}
			return nil
		case t.IsRegular():
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: symbolic links cannot go into a layer", p)
		default:
			return fmt.Errorf("%s: %v is not a regular file", p, t)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, File{
			Name: name,
			Exec: info.Mode()&0o111 != 0,
			Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return fsys.Open(p) },
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collect files: %w", err)
	}
	return files, nil
}

// entry is a File after validation, with its archive name (directories end
// in a slash) and its normalised mode.
type entry struct {
	File
	name string
	mode fs.FileMode
}

// normalise validates files, adds the missing parent directories, merges
// repeated directories, rejects repeated files and a file used as a parent,
// and returns the entries in byte order of their archive names, so that
// parents precede their contents.
func normalise(files []File) ([]entry, error) {
	dirs := map[string]bool{}  // name -> explicit or implied directory
	seen := map[string]*File{} // name -> file
	var out []entry
	addDir := func(name string) {
		if dirs[name] {
			return
		}
		dirs[name] = true
		out = append(out, entry{File: File{Name: name, Dir: true}, name: name + "/", mode: fs.ModeDir | 0o755})
	}
	for i := range files {
		f := &files[i]
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		for d := path.Dir(f.Name); d != "."; d = path.Dir(d) {
			addDir(d)
		}
		if f.Dir {
			addDir(f.Name)
			continue
		}
		if f.Open == nil {
			return nil, fmt.Errorf("%s: file has no content", f.Name)
		}
		if seen[f.Name] != nil {
			return nil, fmt.Errorf("%s: duplicate path", f.Name)
		}
		seen[f.Name] = f
		mode := fs.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		out = append(out, entry{File: *f, name: f.Name, mode: mode})
	}
	for name := range seen {
		if dirs[name] {
			return nil, fmt.Errorf("%s: path is both a file and a directory", name)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// checkName rejects names that extract outside the archive's root or mean
// different things to different unpackers.
func checkName(name string) error {
	switch {
	case !fs.ValidPath(name) || name == ".":
		return fmt.Errorf("%q: not a clean relative slash path", name)
	case strings.Contains(name, `\`):
		return fmt.Errorf("%q: backslash in path", name)
	}
	return nil
}

// copyExactly copies f's content to w and fails when the content is not
// Size bytes long, which catches files that change while being archived.
func copyExactly(w io.Writer, f File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, f.Size+1))
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	if n != f.Size {
		return fmt.Errorf("%s: size changed while archiving (%d bytes, expected %d)", f.Name, n, f.Size)
	}
	return nil
}
