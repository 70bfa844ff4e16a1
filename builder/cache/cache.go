// Package cache owns the unit cache: one folder per installed and pruned
// unit, addressed by the digest of everything that can change its bytes, so
// that a unit is built once and then reused by every layer, target and run
// that needs it.
//
// Layout under the cache root:
//
//	units/<digest>/unit.json   the key, file count, unzipped bytes, creation time
//	units/<digest>/files/      the unit's files (a site-packages folder)
//	tmp/                       entries being written
//	resolutions/<key>.json     closures pip resolved for unpinned inputs,
//	                           written by builder.Resolver; Prune ages them
//	                           out with the units
//
// An entry appears by renaming a complete folder from tmp/ into units/, so
// readers never see half an entry, and two builds writing the same unit at
// once (two goroutines or two processes) both end with the one that won
// the rename. An entry folder's modification time records its last use.
package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// format is part of every digest: bump it when the layout or the meaning
// of a key field changes, so old entries are never read as new ones.
const format = 1

// Key is everything that can change a unit's bytes.
type Key struct {
	Distribution string `json:"distribution"` // normalised name (PEP 503)
	Version      string `json:"version"`
	Runtime      string `json:"runtime"`      // python3.11
	Architecture string `json:"architecture"` // x86_64 or arm64
	ImageID      string `json:"image_id"`     // the build image's ID, not its tag
	Prune        string `json:"prune"`        // prune.Options.Key()
	Tool         string `json:"tool"`         // the layers version that built it
	// Installer is what installed the unit's wheel ("uv" or "pip"): each
	// writes its own name into INSTALLER and its own RECORD.
	Installer string `json:"installer,omitempty"`
}

// Digest returns the hex sha256 that names the key's entry.
func (k Key) Digest() string {
	b, err := json.Marshal(struct {
		Format int `json:"format"`
		Key
	}{format, k})
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (k Key) String() string {
	return fmt.Sprintf("%s==%s (%s, %s)", k.Distribution, k.Version, k.Runtime, k.Architecture)
}

// check rejects a key with an empty field: a forgotten image ID or prune
// key would let units built differently share an entry.
func (k Key) check() error {
	for _, f := range []struct{ name, value string }{
		{"distribution", k.Distribution}, {"version", k.Version}, {"runtime", k.Runtime},
		{"architecture", k.Architecture}, {"image ID", k.ImageID}, {"prune settings", k.Prune}, {"tool version", k.Tool},
	} {
		if f.value == "" {
			return fmt.Errorf("cache key %s has no %s", k, f.name)
		}
	}
	return nil
}

// Entry is one cached unit.
type Entry struct {
	Key    Key    `json:"key"`
	Digest string `json:"digest"`
	Files  int    `json:"files"` // regular files
	Bytes  int64  `json:"bytes"` // their unzipped size
	// ByteCode is the part of Bytes in compiled byte code: the pycs of
	// __pycache__ folders.
	ByteCode int64     `json:"bytecode_bytes"`
	Created  time.Time `json:"created"`

	Dir  string    `json:"-"` // the unit's files
	Used time.Time `json:"-"` // last Get or Put
}

// Cache is a unit cache rooted at one folder. Its methods are safe for
// concurrent use, also by several processes sharing the folder.
type Cache struct {
	root string
	now  func() time.Time
}

// DefaultDir returns $LAYERS_CACHE (read through getenv), else the
// "layers" folder in the user's cache directory.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("LAYERS_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set LAYERS_CACHE (%w)", err)
	}
	return filepath.Join(d, "layers"), nil
}

// Open returns the cache rooted at dir, creating its folders, and removes
// the temporary folders killed runs left.
func Open(dir string) (*Cache, error) {
	c := &Cache{root: dir, now: time.Now}
	for _, d := range []string{c.units(), c.tmp()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open unit cache: %w", err)
		}
	}
	if err := c.removeStaleTemp(); err != nil {
		return nil, fmt.Errorf("open unit cache: %w", err)
	}
	return c, nil
}

// OpenExisting returns the cache rooted at dir for reading only: it creates
// nothing, and a cache that does not exist lists as empty.
func OpenExisting(dir string) *Cache {
	return &Cache{root: dir, now: time.Now}
}

// Root returns the cache's folder.
func (c *Cache) Root() string { return c.root }

func (c *Cache) units() string { return filepath.Join(c.root, "units") }
func (c *Cache) tmp() string   { return filepath.Join(c.root, "tmp") }

// Get returns the entry for k and marks it used. A missing or unreadable
// entry is a miss.
func (c *Cache) Get(k Key) (Entry, bool) {
	d := k.Digest()
	e, err := c.read(d)
	if err != nil || e.Key != k {
		return Entry{}, false
	}
	now := c.now()
	// A read-only cache still serves hits; it only loses last-use times.
	if os.Chtimes(filepath.Join(c.units(), d), now, now) == nil {
		e.Used = now
	}
	return e, true
}

// Peek returns the entry for k without marking it used: for a plan,
// which changes nothing.
func (c *Cache) Peek(k Key) (Entry, bool) {
	e, err := c.read(k.Digest())
	if err != nil || e.Key != k {
		return Entry{}, false
	}
	return e, true
}

// Put returns the entry for k, calling fill to create it when missing.
// fill writes the unit's files into dir, an empty folder that becomes the
// entry's Dir. When another writer completes the same key first, its entry
// is returned and this one's files are discarded.
func (c *Cache) Put(k Key, fill func(dir string) error) (Entry, error) {
	if err := k.check(); err != nil {
		return Entry{}, err
	}
	if e, ok := c.Get(k); ok {
		return e, nil
	}
	d := k.Digest()
	tmp, release, err := c.TempDir(d[:16])
	if err != nil {
		return Entry{}, err
	}
	defer release()
	files := filepath.Join(tmp, "files")
	if err := os.Mkdir(files, 0o755); err != nil {
		return Entry{}, fmt.Errorf("unit cache: %w", err)
	}
	if err := fill(files); err != nil {
		return Entry{}, fmt.Errorf("build %s: %w", k, err)
	}
	e := Entry{Key: k, Digest: d, Created: c.now().UTC().Truncate(time.Second)}
	if e.Files, e.Bytes, e.ByteCode, err = measure(files); err != nil {
		return Entry{}, fmt.Errorf("unit cache: %w", err)
	}
	meta, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "unit.json"), append(meta, '\n'), 0o644); err != nil {
		return Entry{}, fmt.Errorf("unit cache: %w", err)
	}
	final := filepath.Join(c.units(), d)
	if err := os.Rename(tmp, final); err != nil {
		if won, ok := c.Get(k); ok {
			return won, nil
		}
		if err := c.replaceBroken(tmp, final); err != nil {
			return Entry{}, fmt.Errorf("unit cache: %w", err)
		}
	}
	e.Dir, e.Used = filepath.Join(final, "files"), c.now()
	return e, nil
}

// replaceBroken moves aside an entry folder without valid metadata (one
// damaged by hand; renames never leave one) and renames tmp in its place.
func (c *Cache) replaceBroken(tmp, final string) error {
	if _, err := os.Stat(final); err != nil {
		return err
	}
	if err := c.discard(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// discard removes an entry folder after renaming it into tmp/, so that
// readers see it either whole or gone.
func (c *Cache) discard(dir string) error {
	trash, release, err := c.TempDir("trash")
	if err != nil {
		return err
	}
	defer release()
	if err := os.Rename(dir, filepath.Join(trash, "entry")); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

func (c *Cache) read(digest string) (Entry, error) {
	dir := filepath.Join(c.units(), digest)
	data, err := os.ReadFile(filepath.Join(dir, "unit.json"))
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("%s: %w", dir, err)
	}
	if e.Digest != digest || e.Key.Digest() != digest {
		return Entry{}, fmt.Errorf("%s: metadata does not match the folder", dir)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return Entry{}, err
	}
	e.Dir, e.Used = filepath.Join(dir, "files"), info.ModTime()
	return e, nil
}

// List returns the valid entries, sorted by distribution, version, runtime
// and architecture.
func (c *Cache) List() ([]Entry, error) {
	dirs, err := os.ReadDir(c.units())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list unit cache: %w", err)
	}
	var out []Entry
	for _, d := range dirs {
		if e, err := c.read(d.Name()); err == nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return strings.Compare(a.Key.String()+a.Digest, b.Key.String()+b.Digest)
	})
	return out, nil
}

// ResolutionsDir is the folder under the cache root that holds cached
// resolutions (see builder.Resolver). A resolution file's modification
// time records its last use, as a unit folder's does.
const ResolutionsDir = "resolutions"

// Removed counts what Prune removed.
type Removed struct {
	Units int
	Bytes int64 // unzipped bytes of the removed units
	// Resolutions counts the cached resolutions removed.
	Resolutions int
}

// Resolutions returns how many cached resolutions the cache holds and
// their bytes.
func (c *Cache) Resolutions() (n int, bytes int64, err error) {
	entries, err := os.ReadDir(filepath.Join(c.root, ResolutionsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("list resolution cache: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") {
			n++
			bytes += info.Size()
		}
	}
	return n, bytes, nil
}

// Prune removes the entries not used within olderThan, or every entry when
// olderThan <= 0, along with broken entries and temporary folders left by
// killed runs. A build running at the same time may lose an entry it has
// just looked up; prune between builds.
func (c *Cache) Prune(olderThan time.Duration) (Removed, error) {
	var r Removed
	dirs, err := os.ReadDir(c.units())
	if err != nil {
		return r, fmt.Errorf("prune unit cache: %w", err)
	}
	now := c.now()
	for _, d := range dirs {
		e, err := c.read(d.Name())
		if err == nil && olderThan > 0 && now.Sub(e.Used) < olderThan {
			continue
		}
		if err := c.discard(filepath.Join(c.units(), d.Name())); err != nil {
			return r, fmt.Errorf("prune unit cache: %w", err)
		}
		r.Units++
		r.Bytes += e.Bytes
	}
	if r.Resolutions, err = c.pruneResolutions(now, olderThan); err != nil {
		return r, err
	}
	if err := c.removeStaleTemp(); err != nil {
		return r, fmt.Errorf("prune unit cache: %w", err)
	}
	return r, nil
}

// pruneResolutions removes the cached resolutions not used within
// olderThan (all of them when olderThan <= 0), and leftover temporary
// files of their atomic writes.
func (c *Cache) pruneResolutions(now time.Time, olderThan time.Duration) (int, error) {
	dir := filepath.Join(c.root, ResolutionsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("prune resolution cache: %w", err)
	}
	n := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		resolution := strings.HasSuffix(e.Name(), ".json")
		age := now.Sub(info.ModTime())
		if resolution && olderThan > 0 && age < olderThan || !resolution && age <= staleTemp {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("prune resolution cache: %w", err)
		}
		if resolution {
			n++
		}
	}
	return n, nil
}

// measure counts the regular files under dir, their bytes and the bytes
// of the byte code among them.
func measure(dir string) (files int, bytes, byteCode int64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += info.Size()
		if strings.HasSuffix(p, ".pyc") && filepath.Base(filepath.Dir(p)) == "__pycache__" {
			byteCode += info.Size()
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("fill removed its folder: %w", err)
	}
	return files, bytes, byteCode, err
}
