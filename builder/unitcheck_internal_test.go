package builder

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/resolver"
)

// entry is one tar entry of a batch's /out; data is written only when
// size is its length, so a header can claim far more than the stream has.
type entry struct {
	name string
	size int64
	link string
}

func batchTar(t *testing.T, entries ...entry) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range append([]entry{{name: "out/"}, {name: "out/0/"}, {name: "out/1/"}}, entries...) {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: e.size, Typeflag: tar.TypeReg}
		switch {
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeLink, e.link
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.size > 0 && e.size < 1<<20 {
			if _, err := tw.Write(bytes.Repeat([]byte{'x'}, int(e.size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Flush() // no Close: the last header may claim data the stream lacks
	return bytes.NewReader(buf.Bytes())
}

func testBatch() []*job {
	tg := config.Target{Runtime: "python3.12", Architecture: "x86_64"}
	return []*job{
		{spec: UnitSpec{Package: resolver.Package{Name: "six", Version: "1.16.0"}, Target: tg}},
		{spec: UnitSpec{Package: resolver.Package{Name: "evil", Version: "1.0"}, Target: tg}},
	}
}

// A unit that installs more than Lambda could ever use is refused as its
// tar streams out, before the data is read, and the error names it.
func TestUnitCheckRefusesHugeUnits(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
	}{
		{"one huge file", []entry{{name: "out/0/a.py", size: 10}, {name: "out/1/sparse.bin", size: MaxUnitBytes + 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := archive.ExtractTar(batchTar(t, c.entries...), t.TempDir(), archive.WithEntryCheck(unitCheck(testBatch())))
			var ue *UnitError
			if !errors.As(err, &ue) || !strings.HasPrefix(ue.Unit, "evil==1.0") || !strings.Contains(err.Error(), "more than Lambda could ever use") {
				t.Fatalf("err = %v, want a UnitError naming evil", err)
			}
		})
	}
	// Files add up, unit by unit.
	check := unitCheck(testBatch())
	for _, c := range []struct {
		rel   string
		bytes int64
		ok    bool
	}{{"1/a.bin", MaxUnitBytes / 2, true}, {"0/a.bin", MaxUnitBytes / 2, true}, {"1/b.bin", MaxUnitBytes / 2, true}, {"1/c.bin", 1, false}} {
		if err := check(c.rel, c.bytes); (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.rel, err)
		}
	}
	// Hard links count: each becomes a copy in the zip.
	var links []entry
	links = append(links, entry{name: "out/0/big.so", size: 1000})
	for i := range 20 {
		links = append(links, entry{name: "out/0/l" + string(rune('a'+i)), link: "out/0/big.so"})
	}
	sizes := unitCheck(testBatch())
	var total int64
	counted := func(rel string, n int64) error { total += n; return sizes(rel, n) }
	if _, err := archive.ExtractTar(batchTar(t, links...), t.TempDir(), archive.WithEntryCheck(counted)); err != nil {
		t.Fatal(err)
	}
	if total != 21*1000 {
		t.Errorf("counted %d bytes for a file and 20 links to it, want %d", total, 21*1000)
	}
}

// File names with control characters are refused, naming the package.
func TestUnitCheckRefusesControlCharacters(t *testing.T) {
	for _, name := range []string{"a\nb.py", "a\rb.py", "a\tb.py", "a\x01b.py", "dir\n/x.py", "a\x7fb.py"} {
		_, err := archive.ExtractTar(batchTar(t, entry{name: "out/0/ok.py", size: 1}, entry{name: "out/1/pkg/" + name, size: 1}), t.TempDir(), archive.WithEntryCheck(unitCheck(testBatch())))
		var ue *UnitError
		if !errors.As(err, &ue) || !strings.HasPrefix(ue.Unit, "evil==1.0") || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: err = %v, want a UnitError naming evil", name, err)
		}
	}
	if _, err := archive.ExtractTar(batchTar(t, entry{name: "out/0/ok é.py", size: 1}), t.TempDir(), archive.WithEntryCheck(unitCheck(testBatch()))); err != nil {
		t.Errorf("a name with a space and an accent: %v", err)
	}
}
