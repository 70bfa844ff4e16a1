package archive

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// writeZipSequential is WriteZip as it was before entries were compressed
// in parallel: archive/zip compressing each entry as it is written.
func writeZipSequential(w io.Writer, files []File, mtime time.Time) error {
	entries, err := normalise(files)
	if err != nil {
		return err
	}
	date, clock := dosTime(mtime)
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, ZipLevel)
	})
	for _, e := range entries {
		//lint:ignore SA1019 as WriteZip
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, ModifiedDate: date, ModifiedTime: clock}
		if e.Dir {
			h.Method = zip.Store
		}
		h.SetMode(e.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if !e.Dir {
			if err := copyExactly(fw, e.File); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// TestWriteZipParallelSameBytes checks that compressing entries on every
// core writes the bytes compressing them one after another writes, on a
// tree of many entries (empty, tiny, large, random and repetitive, UTF-8
// names, executables), with one core and with several.
func TestWriteZipParallelSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var files []File
	for i := range 200 {
		var data []byte
		switch i % 5 {
		case 0: // empty
		case 1:
			data = []byte("x = 1\n")
		case 2:
			data = bytes.Repeat([]byte("def f(x):\n    return x\n"), rng.IntN(4000))
		default:
			data = make([]byte, rng.IntN(64<<10))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		}
		name := fmt.Sprintf("python/pkg%d/mod%03d.py", i%7, i)
		if i%11 == 0 {
			name = fmt.Sprintf("python/données/modül%03d.py", i)
		}
		files = append(files, FromBytes(name, data, i%13 == 0))
	}
	stamp := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var want bytes.Buffer
	if err := writeZipSequential(&want, files, stamp); err != nil {
		t.Fatal(err)
	}
	for _, procs := range []int{1, 2, 8} {
		prev := runtime.GOMAXPROCS(procs)
		var got bytes.Buffer
		err := WriteZip(&got, files, stamp)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("GOMAXPROCS %d: %d bytes differ from the sequential writer's %d", procs, got.Len(), want.Len())
		}
	}
}

// TestWriteZipChangedFile checks that a file whose content changes
// between its compression and its write fails the zip.
func TestWriteZipChangedFile(t *testing.T) {
	reads := 0
	f := File{Name: "python/a.py", Size: 4, Open: func() (io.ReadCloser, error) {
		reads++
		return io.NopCloser(bytes.NewReader([]byte(fmt.Sprintf("v=%d\n", reads%10)[:4]))), nil
	}}
	if err := WriteZip(io.Discard, []File{f}, DefaultTime); err == nil {
		t.Fatal("a file that changed while archived was zipped")
	}
}
