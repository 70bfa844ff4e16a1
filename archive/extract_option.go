package archive

import "archive/tar"

// An ExtractOption changes what ExtractTar accepts.
type ExtractOption func(*extractor)

// WithEntryCheck has ExtractTar call check before it writes each entry,
// with the entry's path inside the folder (the folder's name stripped) and
// the bytes it adds to the tree: a file's size, a hard link's target's
// (it will be a copy in a zip), 0 for folders and symbolic links. A
// check's error stops the extraction before the entry's data is read, and
// ExtractTar returns it wrapped.
func WithEntryCheck(check func(rel string, bytes int64) error) ExtractOption {
	return func(x *extractor) { x.check = check }
}

// entryBytes is what h adds to the extracted tree, as WithEntryCheck says.
func (x *extractor) entryBytes(h *tar.Header) int64 {
	switch h.Typeflag {
	case tar.TypeReg:
		return h.Size
	case tar.TypeLink:
		if target, err := x.relative(h.Linkname); err == nil && x.kinds[target] == kindFile {
			if info, err := x.root.Lstat(target); err == nil {
				return info.Size()
			}
		}
	}
	return 0
}
