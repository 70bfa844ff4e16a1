package archive

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"time"
)

// ZipLevel is the deflate level of every zip entry. It is part of the
// bytes, so changing it changes every layer's sha256.
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
func WriteZip(w io.Writer, files []File, mtime time.Time) error {
	entries, err := normalise(files)
	if err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	date, clock := dosTime(mtime)
	zw := zip.NewWriter(w)
	// One compressor for all entries: archive/zip closes each entry's
	// before opening the next, and a fresh one per file costs a megabyte
	// of state to allocate and clear.
	var fw *flate.Writer
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			fw, err = flate.NewWriter(out, ZipLevel)
			return fw, err
		}
		fw.Reset(out)
		return fw, nil
	})
	for _, e := range entries {
		// Setting ModifiedDate/ModifiedTime instead of Modified keeps
		// archive/zip from adding an extended-timestamp extra field.
		//lint:ignore SA1019 the deprecated fields are the only way to that
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, ModifiedDate: date, ModifiedTime: clock}
		if e.Dir {
			h.Method = zip.Store
		}
		h.SetMode(e.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("write zip: %s: %w", e.name, err)
		}
		if !e.Dir {
			if err := copyExactly(fw, e.File); err != nil {
				return fmt.Errorf("write zip: %w", err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

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
