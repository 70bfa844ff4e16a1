package archive

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtractTar feeds arbitrary streams to ExtractTar and checks the
// promise that matters: whatever the stream, nothing outside dst changes,
// and what is inside is only folders, regular files and links that resolve
// inside dst.
func FuzzExtractTar(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// t.TempDir slows down with every call inside a fuzz function.
		parent, err := os.MkdirTemp("", "extract-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(parent)
		_, _, err = extractIn(t, parent, data)
		got, rerr := os.ReadFile(filepath.Join(parent, "decoy"))
		if rerr != nil || string(got) != "original" {
			t.Fatalf("decoy changed: %q, %v", got, rerr)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 2 {
			t.Fatalf("%d entries beside the unit", len(entries)-1)
		}
		if err != nil {
			return
		}
		dst := filepath.Join(parent, "unit")
		root, rerr := os.OpenRoot(dst)
		if rerr != nil {
			t.Fatal(rerr)
		}
		defer root.Close()
		walkErr := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dst, p)
			switch typ := d.Type(); {
			case typ.IsDir(), typ.IsRegular():
			case typ&fs.ModeSymlink != 0:
				if _, err := root.Stat(rel); err != nil {
					return err
				}
			default:
				return &fs.PathError{Op: "extract", Path: rel, Err: fs.ErrInvalid}
			}
			return nil
		})
		if walkErr != nil {
			t.Fatalf("accepted stream left %v", walkErr)
		}
	})
}
