package builder

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/internal/atomicfile"
)

// LayerDir is the folder at a layer zip's root that holds the units: the
// Python runtime puts /opt/python on sys.path.
const LayerDir = "python"

// LayerFile is a written layer zip.
type LayerFile struct {
	Path          string // where it was written
	SHA256        string // hex
	CodeSHA256    string // base64 of the raw digest, as Lambda's CodeSha256
	ZippedBytes   int64
	UnzippedBytes int64 // the regular files' bytes
}

// WriteLayer writes the zip of a layer made of units to path: every unit's
// files under python/, sorted, with mtime on every entry. It writes to a
// temporary file renamed into place, so path never holds half a zip. Two
// units holding the same file is an error naming both.
func WriteLayer(path string, units []Unit, mtime time.Time) (LayerFile, error) {
	files, unzipped, err := layerFiles(units)
	if err != nil {
		return LayerFile{}, fmt.Errorf("layer %s: %w", filepath.Base(path), err)
	}
	h := sha256.New()
	counter := &countWriter{}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return archive.WriteZip(io.MultiWriter(w, h, counter), files, mtime)
	})
	if err != nil {
		return LayerFile{}, fmt.Errorf("layer %s: %w", filepath.Base(path), err)
	}
	sum := h.Sum(nil)
	return LayerFile{
		Path:          path,
		SHA256:        hex.EncodeToString(sum),
		CodeSHA256:    base64.StdEncoding.EncodeToString(sum),
		ZippedBytes:   counter.n,
		UnzippedBytes: unzipped,
	}, nil
}

// layerFiles lists the units' files under LayerDir.
func layerFiles(units []Unit) ([]archive.File, int64, error) {
	owner := map[string]string{} // file -> unit
	var (
		all   []archive.File
		bytes int64
	)
	for _, u := range units {
		files, err := archive.Collect(os.DirFS(u.Dir), LayerDir)
		if err != nil {
			return nil, 0, fmt.Errorf("unit %s: %w", u.Spec, err)
		}
		for _, f := range files {
			if f.Dir {
				all = append(all, f)
				continue
			}
			if other, ok := owner[f.Name]; ok {
				return nil, 0, fmt.Errorf("%s is in two units, %s and %s", strings.TrimPrefix(f.Name, LayerDir+"/"), other, u.Spec)
			}
			owner[f.Name] = u.Spec.String()
			all = append(all, f)
			bytes += f.Size
		}
	}
	slices.SortStableFunc(all, func(a, b archive.File) int { return strings.Compare(a.Name, b.Name) })
	return all, bytes, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
