package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// UnsafeEntryError reports a tar entry that ExtractTar refuses to write.
type UnsafeEntryError struct {
	Name   string // the entry's name as it appears in the tar
	Reason string
}

func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("unsafe tar entry %q: %s", e.Name, e.Reason)
}

// Stats counts the files ExtractTar wrote, hard links included, and their
// bytes.
type Stats struct {
	Files int
	Bytes int64
}

// ExtractTar writes the folder held in the tar stream r into dst, which
// should be an empty directory. The stream is treated as untrusted, as it
// comes out of a container that ran third-party code.
//
// Like Docker's CopyFromContainer output, the stream must hold one folder:
// every entry's name starts with the same first element (the copied
// folder's name), which is stripped. Entries must be clean relative paths
// without "..", and be directories, regular files, hard links to files
// earlier in the stream, or symbolic links whose target resolves inside the
// folder. Anything else (devices, FIFOs, sparse files, an entry written
// through a link or over an earlier entry) is an *UnsafeEntryError. All
// writes go through an os.Root, so even an unforeseen trick cannot write
// outside dst. Modes are normalised to 0755 for directories and
// executables and 0644 for other files; owners and times are not kept.
//
// On error dst holds a partial tree that the caller should remove.
func ExtractTar(r io.Reader, dst string, opts ...ExtractOption) (Stats, error) {
	x, err := newExtractor(dst)
	if err != nil {
		return Stats{}, err
	}
	for _, o := range opts {
		o(x)
	}
	defer x.root.Close()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.stats, fmt.Errorf("extract tar: %w", err)
		}
		if err := x.entry(h, tr); err != nil {
			return x.stats, fmt.Errorf("extract tar: %w", err)
		}
	}
	if x.top == "" {
		return x.stats, errors.New("extract tar: empty stream")
	}
	if err := x.checkLinks(); err != nil {
		return x.stats, fmt.Errorf("extract tar: %w", err)
	}
	return x.stats, nil
}

// kind is what an extracted path is, to refuse writes through links or
// files and over earlier entries.
type kind byte

const (
	kindDir kind = iota + 1
	kindFile
	kindLink
)

type extractor struct {
	root  *os.Root
	top   string          // the folder's name, from the first entry
	kinds map[string]kind // relative path -> what was extracted there
	links []string        // symbolic links, checked once every target exists
	made  map[string]bool // folders known to exist under root
	stats Stats
	check func(rel string, bytes int64) error
}

func newExtractor(dst string) (*extractor, error) {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return nil, fmt.Errorf("extract tar: %w", err)
	}
	return &extractor{root: root, kinds: map[string]kind{}, made: map[string]bool{}}, nil
}

func (x *extractor) entry(h *tar.Header, r io.Reader) error {
	if h.Typeflag == tar.TypeXGlobalHeader {
		return nil // metadata only; never a path
	}
	rel, err := x.relative(h.Name)
	if err != nil {
		return err
	}
	if rel == "" {
		if h.Typeflag != tar.TypeDir {
			return &UnsafeEntryError{h.Name, "the stream must hold a folder"}
		}
		return nil
	}
	if err := x.parents(h.Name, rel); err != nil {
		return err
	}
	if k, ok := x.kinds[rel]; ok && (k != kindDir || h.Typeflag != tar.TypeDir) {
		return &UnsafeEntryError{h.Name, "duplicate entry"}
	}
	if x.check != nil {
		if err := x.check(rel, x.entryBytes(h)); err != nil {
			return err
		}
	}
	switch h.Typeflag {
	case tar.TypeDir:
		x.kinds[rel] = kindDir
		return x.mkdirAll(rel)
	case tar.TypeReg:
		for k := range h.PAXRecords {
			// A sparse map lets a few bytes of stream claim terabytes of
			// zeros; engines never send one.
			if strings.HasPrefix(k, "GNU.sparse.") {
				return &UnsafeEntryError{h.Name, "sparse file"}
			}
		}
		x.kinds[rel] = kindFile
		return x.write(rel, h.Mode, r)
	case tar.TypeLink:
		target, err := x.relative(h.Linkname)
		if err != nil || x.kinds[target] != kindFile {
			return &UnsafeEntryError{h.Name, fmt.Sprintf("hard link to %q, which is not a file earlier in the folder", h.Linkname)}
		}
		// A link, not a copy: a thousand links to one big file must not
		// cost a thousand times its size here.
		info, err := x.root.Lstat(target)
		if err != nil {
			return err
		}
		if err := x.root.Link(target, rel); err != nil {
			return err
		}
		x.kinds[rel] = kindFile
		x.stats.Files++
		x.stats.Bytes += info.Size()
		return nil
	case tar.TypeSymlink:
		if h.Linkname == "" || path.IsAbs(h.Linkname) {
			return &UnsafeEntryError{h.Name, fmt.Sprintf("symbolic link to %q outside the folder", h.Linkname)}
		}
		if t := path.Join(path.Dir(rel), h.Linkname); t == ".." || strings.HasPrefix(t, "../") {
			return &UnsafeEntryError{h.Name, fmt.Sprintf("symbolic link to %q outside the folder", h.Linkname)}
		}
		x.kinds[rel] = kindLink
		x.links = append(x.links, rel)
		return x.root.Symlink(h.Linkname, rel)
	default:
		return &UnsafeEntryError{h.Name, fmt.Sprintf("unsupported entry type %s", typeName(h.Typeflag))}
	}
}

// relative checks an entry name and returns it without the folder's name.
func (x *extractor) relative(name string) (string, error) {
	clean := strings.TrimSuffix(name, "/")
	switch {
	case clean == "" || strings.HasPrefix(clean, "/"):
		return "", &UnsafeEntryError{name, "absolute or empty path"}
	case clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(clean, "/../") || strings.HasSuffix(clean, "/.."):
		return "", &UnsafeEntryError{name, `path with ".."`}
	case path.Clean(clean) != clean || clean == ".":
		return "", &UnsafeEntryError{name, "not a clean relative path"}
	}
	top, rel, _ := strings.Cut(clean, "/")
	if x.top == "" {
		x.top = top
	}
	if top != x.top {
		return "", &UnsafeEntryError{name, fmt.Sprintf("outside the copied folder %q", x.top)}
	}
	return rel, nil
}

// parents creates the missing parents of rel and refuses to write through a
// file or a link extracted earlier.
func (x *extractor) parents(name, rel string) error {
	dir := path.Dir(rel)
	for d := dir; d != "."; d = path.Dir(d) {
		switch x.kinds[d] {
		case kindDir:
		case 0:
			x.kinds[d] = kindDir
		default:
			return &UnsafeEntryError{name, fmt.Sprintf("parent %q is not a directory", d)}
		}
	}
	if dir == "." {
		return nil
	}
	return x.mkdirAll(dir)
}

// mkdirAll creates dir and its parents under root, once: a folder of a
// thousand files costs one walk of its path, not a thousand.
func (x *extractor) mkdirAll(dir string) error {
	if x.made[dir] {
		return nil
	}
	if err := x.root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; d != "." && !x.made[d]; d = path.Dir(d) {
		x.made[d] = true
	}
	return nil
}

func (x *extractor) write(rel string, mode int64, r io.Reader) error {
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	// O_EXCL: never open an existing path, least of all through a link.
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	x.stats.Files++
	x.stats.Bytes += n
	return nil
}

// checkLinks resolves every symbolic link through the os.Root, which fails
// for a target outside the folder even when reached through other links
// (the lexical check at entry time cannot see those chains).
func (x *extractor) checkLinks() error {
	for _, l := range x.links {
		if _, err := x.root.Stat(l); err != nil {
			target, _ := x.root.Readlink(l)
			return &UnsafeEntryError{path.Join(x.top, l), fmt.Sprintf("symbolic link to %q does not resolve inside the folder", target)}
		}
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	case tar.TypeCont:
		return "contiguous file"
	}
	return fmt.Sprintf("%q", t)
}
