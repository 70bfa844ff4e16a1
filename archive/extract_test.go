package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hdr is one hand-written tar entry.
type hdr struct {
	name string
	typ  byte
	link string
	data string
	mode int64
}

func reg(name, data string) hdr       { return hdr{name: name, typ: tar.TypeReg, data: data, mode: 0o644} }
func dir(name string) hdr             { return hdr{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) hdr { return hdr{name: name, typ: tar.TypeSymlink, link: target} }
func hardlink(name, target string) hdr {
	return hdr{name: name, typ: tar.TypeLink, link: target}
}

func makeTar(t *testing.T, entries ...hdr) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.data)), Uid: 1000, Gid: 1000, Uname: "builder"}
		if e.typ == tar.TypeChar || e.typ == tar.TypeBlock {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// extract runs ExtractTar into dst inside a parent folder holding a decoy
// file, so that any write outside dst is visible.
func extract(t *testing.T, data []byte) (parent string, st Stats, err error) {
	t.Helper()
	return extractIn(t, t.TempDir(), data)
}

func extractIn(t *testing.T, parent string, data []byte) (string, Stats, error) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(parent, "decoy"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(parent, "unit")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := ExtractTar(bytes.NewReader(data), dst)
	return parent, st, err
}

func TestExtractTarRejects(t *testing.T) {
	tests := []struct {
		name    string
		entries []hdr
		want    string
	}{
		{"absolute path", []hdr{dir("out/"), reg("/etc/passwd", "x")}, "absolute"},
		{"dot dot", []hdr{dir("out/"), reg("out/../decoy", "x")}, `".."`},
		{"leading dot dot", []hdr{reg("../decoy", "x")}, `".."`},
		{"unclean", []hdr{dir("out/"), reg("out//x", "x")}, "not a clean"},
		{"dot prefix", []hdr{reg("./out/x", "x")}, "not a clean"},
		{"second folder", []hdr{dir("out/"), reg("out/a", "x"), reg("other/b", "x")}, "outside the copied folder"},
		{"root is a file", []hdr{reg("out", "x")}, "must hold a folder"},
		{"character device", []hdr{dir("out/"), {name: "out/null", typ: tar.TypeChar}}, "character device"},
		{"block device", []hdr{dir("out/"), {name: "out/sda", typ: tar.TypeBlock}}, "block device"},
		{"fifo", []hdr{dir("out/"), {name: "out/pipe", typ: tar.TypeFifo}}, "FIFO"},
		{"absolute symlink", []hdr{dir("out/"), symlink("out/l", "/etc")}, "outside the folder"},
		{"escaping symlink", []hdr{dir("out/"), dir("out/a/"), symlink("out/a/l", "../../decoy")}, "outside the folder"},
		{"symlink chain escape", []hdr{
			dir("out/"), dir("out/a/b/"),
			symlink("out/a/b/s", "../.."),   // the folder itself: fine on its own
			symlink("out/a/b/t", "s/../.."), // lexically out/a, really the folder's parent
		}, "does not resolve inside"},
		{"dangling symlink", []hdr{dir("out/"), symlink("out/l", "missing")}, "does not resolve inside"},
		{"write through symlink", []hdr{dir("out/"), dir("out/sub/"), symlink("out/l", "sub"), reg("out/l/x", "x")}, "not a directory"},
		{"write through file", []hdr{dir("out/"), reg("out/f", "x"), reg("out/f/x", "x")}, "not a directory"},
		{"overwrite file", []hdr{dir("out/"), reg("out/f", "x"), reg("out/f", "y")}, "duplicate"},
		{"replace file by symlink", []hdr{dir("out/"), reg("out/f", "x"), symlink("out/f", "g")}, "duplicate"},
		{"hard link outside", []hdr{dir("out/"), hardlink("out/h", "../decoy")}, "not a file earlier"},
		{"hard link absolute", []hdr{dir("out/"), hardlink("out/h", "/etc/passwd")}, "not a file earlier"},
		{"hard link to other folder", []hdr{dir("out/"), hardlink("out/h", "etc/passwd")}, "not a file earlier"},
		{"hard link to missing", []hdr{dir("out/"), hardlink("out/h", "out/nothing")}, "not a file earlier"},
		{"hard link to symlink", []hdr{dir("out/"), reg("out/f", "x"), symlink("out/l", "f"), hardlink("out/h", "out/l")}, "not a file earlier"},
		{"hard link to directory", []hdr{dir("out/"), dir("out/d/"), hardlink("out/h", "out/d")}, "not a file earlier"},
		{"empty", nil, "empty stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, _, err := extract(t, makeTar(t, tt.entries...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if tt.want != "empty stream" {
				var unsafe *UnsafeEntryError
				if !errors.As(err, &unsafe) {
					t.Errorf("error %v is not an *UnsafeEntryError", err)
				}
			}
			got, err := os.ReadFile(filepath.Join(parent, "decoy"))
			if err != nil || string(got) != "original" {
				t.Errorf("decoy changed: %q, %v", got, err)
			}
			entries, _ := os.ReadDir(parent)
			if len(entries) != 2 {
				t.Errorf("%d entries beside the unit, want only the decoy", len(entries)-1)
			}
		})
	}
}

func TestExtractTar(t *testing.T) {
	data := makeTar(t,
		dir("out/"),
		hdr{name: "out/bin/tool", typ: tar.TypeReg, data: "#!/bin/sh\n", mode: 0o4711}, // no parent entry, setuid
		reg("out/pkg/__init__.py", "x = 1\n"),
		hardlink("out/pkg/copy.py", "out/pkg/__init__.py"),
		symlink("out/pkg/alias.py", "__init__.py"),
		symlink("out/pkglink", "pkg"),
		hdr{name: "out/private", typ: tar.TypeDir, mode: 0o700},
		dir("out/private/"),
	)
	parent, st, err := extract(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 3 || st.Bytes != 10+6+6 {
		t.Errorf("stats %+v, want 3 files, 22 bytes", st)
	}
	unit := filepath.Join(parent, "unit")
	modes := map[string]os.FileMode{
		"bin":             os.ModeDir | 0o755,
		"bin/tool":        0o755,
		"pkg/__init__.py": 0o644,
		"pkg/copy.py":     0o644,
		"pkg/alias.py":    os.ModeSymlink,
		"private":         os.ModeDir | 0o755,
	}
	for name, want := range modes {
		info, err := os.Lstat(filepath.Join(unit, name))
		if err != nil {
			t.Error(err)
			continue
		}
		got := info.Mode()
		if got&os.ModeSymlink != 0 {
			got = os.ModeSymlink
		}
		if got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(unit, "pkglink", "alias.py")); string(b) != "x = 1\n" {
		t.Errorf("links do not resolve: %q", b)
	}
	a, _ := os.Stat(filepath.Join(unit, "pkg", "__init__.py"))
	b, _ := os.Stat(filepath.Join(unit, "pkg", "copy.py"))
	if !os.SameFile(a, b) {
		t.Error("hard link extracted as a copy")
	}
}

// rawBlock returns a ustar header block; archive/tar's writer refuses to
// encode the headers the sparse test needs.
func rawBlock(name string, typ byte, size int) []byte {
	b := make([]byte, 512)
	copy(b[0:], name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	copy(b[148:], "        ")
	b[156] = typ
	copy(b[257:], "ustar\x0000")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func pad(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

func paxRecord(k, v string) string {
	for n := len(k) + len(v) + 3; ; n++ {
		if r := fmt.Sprintf("%d %s=%s\n", n, k, v); len(r) == n {
			return r
		}
	}
}

func TestExtractTarRejectsSparse(t *testing.T) {
	// One byte of data that a GNU 0.1 sparse map places at the end of a
	// 1 TiB file of zeros.
	records := paxRecord("GNU.sparse.size", "1099511627776") +
		paxRecord("GNU.sparse.numblocks", "1") +
		paxRecord("GNU.sparse.map", "1099511627775,1")
	var stream []byte
	stream = append(stream, makeTar(t, dir("out/"))[:512]...)
	stream = append(stream, rawBlock("out/PaxHeaders/big", tar.TypeXHeader, len(records))...)
	stream = append(stream, pad([]byte(records))...)
	stream = append(stream, rawBlock("out/big", tar.TypeReg, 1)...)
	stream = append(stream, pad([]byte("x"))...)
	stream = append(stream, make([]byte, 1024)...)
	_, st, err := extract(t, stream)
	var unsafe *UnsafeEntryError
	if !errors.As(err, &unsafe) || unsafe.Reason != "sparse file" {
		t.Errorf("error %v, want a sparse file rejection (wrote %+v)", err, st)
	}
}
