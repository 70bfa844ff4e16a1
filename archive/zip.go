package archive

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/flate"
)

// ZipLevel is the deflate level of every zip entry. It is part of the
// bytes, so changing it changes every layer's sha256.
//
// The compressor is klauspost/compress's flate, not the standard
// library's: on a layer of pandas (75 MB in 2,922 files) it is 2.9 times
// faster at this level, for output 2.3% larger. Its output, like the
// standard library's, depends only on the input, the level and its version,
// which go.mod pins: upgrading it may change every layer's sha256 once.
const ZipLevel = flate.DefaultCompression

// dosMax is the latest time the MS-DOS date in a zip header can hold.
var dosMax = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)

// WriteZip writes files to w as a zip whose bytes depend only on the files'
// names, contents and executable bits, and on mtime: entries sorted by
// name, a directory entry for every parent, mode 0755 for directories and
// executables and 0644 for other files, mtime on every entry, and no
// owners, extended timestamps or other extra fields.
//
// The zip header keeps local time at two-second resolution from 1980 to
// 2107; mtime is taken as UTC wall-clock time and clamped to that range
// (SOURCE_DATE_EPOCH=0, a common choice, becomes 1980-01-01).
//
// Entries are compressed on every core, a few ahead of the one being
// written, and written in order: the bytes are those of compressing them
// one after another (deflate's output depends on its input and level
// alone), which TestWriteZipParallelSameBytes checks.
func WriteZip(w io.Writer, files []File, mtime time.Time) error {
	entries, err := normalise(files)
	if err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	date, clock := dosTime(mtime)
	zw := zip.NewWriter(w)
	// archive/zip computes each entry's CRC and sizes from what is written
	// to it and hands the compressor what it writes; the compressor
	// registered here drops that and writes the entry's deflated bytes,
	// compressed ahead by a worker. archive/zip keeps writing the headers,
	// so they are what it writes for any deflated entry.
	var current *deflated
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return &replay{out: out, data: current.data}, nil
	})
	ahead := deflateAhead(entries)
	defer ahead.stop()
	for i, e := range entries {
		// Setting ModifiedDate/ModifiedTime instead of Modified keeps
		// archive/zip from adding an extended-timestamp extra field.
		//lint:ignore SA1019 the deprecated fields are the only way to that
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, ModifiedDate: date, ModifiedTime: clock}
		if e.Dir {
			h.Method = zip.Store
		} else if current, err = ahead.wait(i); err != nil {
			return fmt.Errorf("write zip: %w", err)
		}
		h.SetMode(e.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("write zip: %s: %w", e.name, err)
		}
		if !e.Dir {
			// Read again for archive/zip's CRC and sizes; a file that
			// changed since it was compressed is an error, as one that
			// changes while read.
			crc := crc32.NewIEEE()
			if err := copyExactly(io.MultiWriter(fw, crc), e.File); err != nil {
				return fmt.Errorf("write zip: %w", err)
			}
			if crc.Sum32() != current.crc {
				return fmt.Errorf("write zip: %s: content changed while archiving", e.name)
			}
			ahead.done(i)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

// deflated is one entry's content compressed.
type deflated struct {
	data []byte
	crc  uint32 // of the content compressed
	err  error
}

// replay is the compressor of an entry already deflated: it drops what it
// is given and writes the deflated bytes when closed.
type replay struct {
	out  io.Writer
	data []byte
}

func (r *replay) Write(p []byte) (int, error) { return len(p), nil }
func (r *replay) Close() error {
	_, err := r.out.Write(r.data)
	return err
}

// aheadDeflater compresses the file entries of a zip on every core, at most
// window of them ahead of the one being written.
type aheadDeflater struct {
	results []chan *deflated
	slots   chan struct{}
	quit    chan struct{}
}

func deflateAhead(entries []entry) *aheadDeflater {
	workers := runtime.GOMAXPROCS(0)
	a := &aheadDeflater{results: make([]chan *deflated, len(entries)), slots: make(chan struct{}, 2*workers), quit: make(chan struct{})}
	for i := range a.results {
		a.results[i] = make(chan *deflated, 1)
	}
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i, e := range entries {
			if e.Dir {
				continue
			}
			select {
			case a.slots <- struct{}{}:
			case <-a.quit:
				return
			}
			select {
			case jobs <- i:
			case <-a.quit:
				return
			}
		}
	}()
	for range workers {
		go func() {
			// One compressor per worker: a fresh one costs a megabyte of
			// state to allocate and clear.
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, ZipLevel) // the level is valid
			for i := range jobs {
				a.results[i] <- deflate(fw, &buf, entries[i].File)
			}
		}()
	}
	return a
}

// deflate compresses f with fw, which writes to buf.
func deflate(fw *flate.Writer, buf *bytes.Buffer, f File) *deflated {
	buf.Reset()
	fw.Reset(buf)
	crc := crc32.NewIEEE()
	if err := copyExactly(io.MultiWriter(fw, crc), f); err != nil {
		return &deflated{err: err}
	}
	if err := fw.Close(); err != nil {
		return &deflated{err: fmt.Errorf("%s: %w", f.Name, err)}
	}
	return &deflated{data: bytes.Clone(buf.Bytes()), crc: crc.Sum32()}
}

// wait returns entry i compressed.
func (a *aheadDeflater) wait(i int) (*deflated, error) {
	d := <-a.results[i]
	return d, d.err
}

// done frees entry i's place in the window.
func (a *aheadDeflater) done(int) { <-a.slots }

// stop ends the workers once WriteZip returns, early or not.
func (a *aheadDeflater) stop() { close(a.quit) }

// dosTime converts t's UTC wall clock to the MS-DOS date and time fields.
func dosTime(t time.Time) (date, clock uint16) {
	t = t.UTC()
	if t.Before(DefaultTime) {
		t = DefaultTime
	}
	if t.After(dosMax) {
		t = dosMax
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}
