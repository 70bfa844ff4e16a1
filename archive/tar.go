package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"time"
)

// WriteTar writes files to w as a tar stream with the same normalisation as
// WriteZip (sorted names, parent directories, 0644/0755 modes, one mtime),
// owned by root with no user or group names, for CopyToContainer.
func WriteTar(w io.Writer, files []File, mtime time.Time) error {
	entries, err := normalise(files)
	if err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	mtime = mtime.UTC().Truncate(time.Second)
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: int64(e.mode.Perm()), ModTime: mtime, Typeflag: tar.TypeReg, Size: e.Size}
		if e.Dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write tar: %s: %w", e.name, err)
		}
		if !e.Dir {
			if err := copyExactly(tw, e.File); err != nil {
				return fmt.Errorf("write tar: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	return nil
}
