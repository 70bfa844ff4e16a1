package verify

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/internal/pep508"
)

// Tree is what /opt holds once a function's layers are extracted in
// order: a later layer's file replaces an earlier one's, as Lambda does.
type Tree struct {
	// Roots are the sys.path folders layers fill, relative to /opt, in
	// sys.path order.
	Roots []string
	files map[string]treeFile // by path relative to /opt
	// Dists are the distributions found in the roots, by normalised name.
	Dists map[string]*Dist
	// tops holds "root/dotted.module" for every module file and package
	// folder, and dirs every folder, both relative to /opt.
	tops, dirs map[string]bool
	closers    []io.Closer
}

type treeFile struct {
	layer string
	f     *zip.File
}

// Dist is one distribution's .dist-info in a Tree.
type Dist struct {
	Name     string // PEP 503 normal form, from METADATA
	Version  string
	Root     string // the root it sits in, relative to /opt
	DistInfo string // the .dist-info folder's name
	Layer    string // the layer it came from
	Requires []string
	// TopLevel holds top_level.txt's lines; nil without the file.
	TopLevel []string
	// Record holds RECORD's paths, relative to Root.
	Record []string
}

// roots returns the sys.path folders the runtime python3.X reads from
// /opt, in sys.path order.
func roots(pythonVersion string) []string {
	return []string{"python/lib/python" + pythonVersion + "/site-packages", "python"}
}

// OpenTree reads the layer zips (name -> file) in order; Close releases
// them.
func OpenTree(pythonVersion string, layers []string, file func(layer string) string) (*Tree, error) {
	t := &Tree{Roots: roots(pythonVersion), files: map[string]treeFile{}, Dists: map[string]*Dist{}}
	for _, name := range layers {
		zr, err := zip.OpenReader(file(name))
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("layer %s: %w", name, err)
		}
		t.closers = append(t.closers, zr)
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/") {
				continue
			}
			p := path.Clean(f.Name)
			if p != f.Name || strings.HasPrefix(p, "../") || path.IsAbs(p) {
				t.Close()
				return nil, fmt.Errorf("layer %s: unsafe entry %q", name, f.Name)
			}
			t.files[p] = treeFile{layer: name, f: f}
		}
	}
	t.index()
	if err := t.readDists(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close releases the layer zips.
func (t *Tree) Close() error {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c.Close())
	}
	t.closers = nil
	return errors.Join(errs...)
}

func (t *Tree) index() {
	t.tops, t.dirs = map[string]bool{}, map[string]bool{}
	for p := range t.files {
		for d := path.Dir(p); d != "." && !t.dirs[d]; d = path.Dir(d) {
			t.dirs[d] = true
		}
		for _, r := range t.Roots {
			rel, ok := strings.CutPrefix(p, r+"/")
			if !ok {
				continue
			}
			if mod, ok := moduleOfFile(rel); ok {
				t.tops[r+"/"+mod] = true
			}
		}
	}
}

// moduleOfFile returns the dotted module a file relative to a root is:
// "a/b.py" and "a/b.cpython-311-x86_64-linux-gnu.so" are "a.b",
// "a/__init__.py" is "a".
func moduleOfFile(rel string) (string, bool) {
	dir, base := path.Split(rel)
	var mod string
	switch {
	case strings.HasSuffix(base, ".py"):
		mod = strings.TrimSuffix(base, ".py")
	case strings.HasSuffix(base, ".so") || strings.HasSuffix(base, ".pyd"):
		mod, _, _ = strings.Cut(base, ".")
	default:
		return "", false
	}
	dotted := strings.ReplaceAll(strings.TrimSuffix(dir, "/"), "/", ".")
	switch {
	case mod == "__init__" && dotted != "":
		return dotted, true
	case mod == "__init__":
		return "", false
	case dotted != "":
		return dotted + "." + mod, true
	}
	return mod, true
}

// moduleKind says what a dotted name is in the tree.
type moduleKind int

const (
	absent    moduleKind = iota
	module               // a package with __init__, or a .py or extension file
	namespace            // a folder without __init__.py
)

func (t *Tree) kind(dotted string) moduleKind {
	rel := strings.ReplaceAll(dotted, ".", "/")
	k := absent
	for _, r := range t.Roots {
		if t.tops[r+"/"+dotted] {
			return module
		}
		if t.dirs[r+"/"+rel] {
			k = namespace
		}
	}
	return k
}

// Files returns the tree's files for copying into a container under /.
func (t *Tree) Files() []archive.File {
	names := make([]string, 0, len(t.files))
	for p := range t.files {
		names = append(names, p)
	}
	sort.Strings(names)
	out := make([]archive.File, 0, len(names))
	for _, p := range names {
		f := t.files[p].f
		out = append(out, archive.File{
			Name: "opt/" + p,
			Exec: f.Mode()&0o111 != 0,
			Size: int64(f.UncompressedSize64),
			Open: func() (io.ReadCloser, error) { return f.Open() },
		})
	}
	return out
}

func (t *Tree) read(p string) ([]byte, bool, error) {
	tf, ok := t.files[p]
	if !ok {
		return nil, false, nil
	}
	rc, err := tf.f.Open()
	if err != nil {
		return nil, true, fmt.Errorf("layer %s: %s: %w", tf.layer, p, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxMetadataBytes))
	if err != nil {
		return nil, true, fmt.Errorf("layer %s: %s: %w", tf.layer, p, err)
	}
	return data, true, nil
}

// maxMetadataBytes bounds what is read of METADATA, RECORD and
// top_level.txt: botocore's RECORD, among the largest, is about 200 KB.
const maxMetadataBytes = 16 << 20

func (t *Tree) readDists() error {
	var metas []string
	for p := range t.files {
		if path.Base(p) != "METADATA" {
			continue
		}
		dir := path.Dir(p)
		if !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		for _, r := range t.Roots {
			if path.Dir(dir) == r {
				metas = append(metas, p)
			}
		}
	}
	sort.Strings(metas)
	for _, p := range metas {
		dir := path.Dir(p)
		data, _, err := t.read(p)
		if err != nil {
			return err
		}
		h := ParseMetadata(data)
		name := pep508.NormalizeName(first(h["name"]))
		if name == "" {
			return fmt.Errorf("layer %s: %s names no distribution", t.files[p].layer, p)
		}
		d := &Dist{Name: name, Version: first(h["version"]), Root: path.Dir(dir), DistInfo: path.Base(dir),
			Layer: t.files[p].layer, Requires: h["requires-dist"]}
		if data, ok, err := t.read(dir + "/top_level.txt"); err != nil {
			return err
		} else if ok {
			d.TopLevel = []string{}
			for _, l := range strings.Split(string(data), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					d.TopLevel = append(d.TopLevel, l)
				}
			}
		}
		if data, ok, err := t.read(dir + "/RECORD"); err != nil {
			return err
		} else if ok {
			d.Record = ParseRecord(data)
		}
		if prev, ok := t.Dists[name]; ok && prev.Root != d.Root {
			// Both roots are on sys.path; the first one wins.
			if rootIndex(t.Roots, prev.Root) < rootIndex(t.Roots, d.Root) {
				continue
			}
		}
		t.Dists[name] = d
	}
	return nil
}

func rootIndex(roots []string, r string) int {
	for i, x := range roots {
		if x == r {
			return i
		}
	}
	return len(roots)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// ParseMetadata parses the RFC 822 style header block of a METADATA file
// (the body after the first blank line is the description) into values by
// lower-cased field name. Continuation lines are joined to their field;
// lines that are no field are ignored, as pip's own parser does.
func ParseMetadata(data []byte) map[string][]string {
	out := map[string][]string{}
	var key string
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" {
				vs := out[key]
				vs[len(vs)-1] += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			key = ""
			continue
		}
		key = strings.ToLower(k)
		out[key] = append(out[key], strings.TrimSpace(v))
	}
	return out
}

// ParseRecord returns the paths a RECORD file lists (a CSV of path, hash,
// size), slash-separated and cleaned; malformed rows are skipped.
func ParseRecord(data []byte) []string {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var out []string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			break
		}
		if len(row) == 0 || row[0] == "" {
			continue
		}
		out = append(out, path.Clean(filepath.ToSlash(row[0])))
	}
	return out
}
