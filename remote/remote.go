// Package remote owns the remote tier of layers' caches: an object store
// that a team's CI runners and laptops share (S3 first), holding units,
// pip's resolutions and the last published plan under the same content
// addresses as the local cache, so that a fresh runner builds like a warm
// laptop.
//
// The tier is best effort. A miss, an unreachable store, a denied request
// or a corrupt object never fails a build: the first failure prints one
// warning and turns the tier off for the rest of the run, and the build
// goes on locally. Every object carries the sha256 of its payload in a
// header line, and a payload that does not match it is reported, never
// used, and replaced when this run has the right bytes.
//
// Layout under the store's prefix:
//
//	units/<key digest>.tar.gz    a unit's files (a gzipped tar of one folder)
//	resolutions/<name>.json      a closure pip resolved, as the local cache names it
//	plans/<layers prefix>.json   the plan `layers publish` published last
package remote

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/config"
)

// ErrNotExist is what a Store returns for a key it does not hold.
var ErrNotExist = errors.New("no such object")

// ErrMiss is what the tier returns when it cannot serve an object: not
// there, corrupt, or the tier is off. The caller builds it instead.
var ErrMiss = errors.New("not in the remote cache")

// Store is what a backend must do: a flat namespace of objects under slash
// separated keys. Objects are written whole (a reader never sees half an
// object), and a second write of a key replaces the first.
type Store interface {
	// Get opens the object at key, or returns ErrNotExist.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Put writes the object at key from r, which holds size bytes.
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error
	// Exists says whether key holds an object.
	Exists(ctx context.Context, key string) (bool, error)
	// Location names the store for messages, without credentials.
	Location() string
}

// Stats count what a tier did in one run.
type Stats struct {
	Hits       int   // objects served
	Misses     int   // objects asked for and not there
	Corrupt    int   // objects found corrupt, never used
	Uploads    int   // objects written
	Downloaded int64 // bytes read from the store
	Uploaded   int64 // bytes written to it
}

// Tier is a remote tier for one run. Its methods are safe for concurrent
// use; a nil *Tier is a tier that is off.
type Tier struct {
	store Store
	write bool
	warn  func(string)

	mu      sync.Mutex
	off     bool            // after a failure: the rest of the run is local
	corrupt map[string]bool // keys to rewrite even though they exist
	stats   Stats
}

// New returns a tier over store. write false reads without writing (a
// pull request from a fork must not poison the cache). warn receives the
// one warning a failing tier prints, and each corrupt object; nil discards.
func New(store Store, write bool, warn func(string)) *Tier {
	if warn == nil {
		warn = func(string) {}
	}
	return &Tier{store: store, write: write, warn: warn, corrupt: map[string]bool{}}
}

// Location names the tier's store, or "" for a nil tier.
func (t *Tier) Location() string {
	if t == nil {
		return ""
	}
	return t.store.Location()
}

// Writes says whether the tier writes what a run builds.
func (t *Tier) Writes() bool { return t != nil && t.write }

// Stats returns what the tier did so far.
func (t *Tier) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

func (t *Tier) active() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.off
}

// fail turns the tier off after an error that is not a miss, with the run's
// one warning. A cancelled run is not the store's fault and says nothing.
func (t *Tier) fail(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.off {
		return
	}
	t.off = true
	t.warn(fmt.Sprintf("remote cache %s: %s: %v; going on with the local cache only", t.store.Location(), what, err))
}

// badObject reports a corrupt object and marks it for rewriting.
func (t *Tier) badObject(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Corrupt++
	t.corrupt[key] = true
	t.warn(fmt.Sprintf("remote cache %s: %s is corrupt (%v); ignored, and replaced if this run builds it", t.store.Location(), key, err))
}

func (t *Tier) count(f func(s *Stats)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.stats)
}

// UnitKey is the object key of the unit whose cache key digest is digest.
func UnitKey(digest string) string { return "units/" + digest + ".tar.gz" }

// UnitSizeKey is the object key of the measured size of the unit whose
// cache key digest is digest.
func UnitSizeKey(digest string) string { return "units/" + digest + ".size.json" }

// ResolutionKey is the object key of a cached resolution file.
func ResolutionKey(name string) string { return "resolutions/" + name }

// PlanKey is the object key of the plan last published by the project
// whose layer names start with prefix.
func PlanKey(prefix string) string {
	if prefix == "" {
		prefix = "default"
	}
	return "plans/" + prefix + ".json"
}

// header is the line every object starts with: the payload's sha256.
const headerLen = sha256.Size*2 + 1

// open opens key and returns its payload and the sha256 it must have.
func (t *Tier) open(ctx context.Context, key string) (io.ReadCloser, string, error) {
	rc, err := t.store.Get(ctx, key)
	if errors.Is(err, ErrNotExist) {
		t.count(func(s *Stats) { s.Misses++ })
		return nil, "", ErrMiss
	}
	if err != nil {
		t.fail(ctx, "read "+key, err)
		return nil, "", ErrMiss
	}
	head := make([]byte, headerLen)
	if _, err := io.ReadFull(rc, head); err != nil || head[headerLen-1] != '\n' {
		rc.Close()
		t.badObject(key, errors.New("no checksum line"))
		return nil, "", ErrMiss
	}
	want := string(head[:headerLen-1])
	if _, err := hex.DecodeString(want); err != nil {
		rc.Close()
		t.badObject(key, errors.New("no checksum line"))
		return nil, "", ErrMiss
	}
	t.count(func(s *Stats) { s.Downloaded += headerLen })
	return rc, want, nil
}

// verifier hashes and counts what passes through it.
type verifier struct {
	r    io.Reader
	h    io.Writer
	n    int64
	hash func() []byte
}

func newVerifier(r io.Reader) *verifier {
	h := sha256.New()
	return &verifier{r: r, h: h, hash: func() []byte { return h.Sum(nil) }}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	return n, err
}

// FetchUnit writes the files of the unit whose key digest is digest into
// dir, an empty folder, and returns ErrMiss when the tier cannot serve it.
// On any error dir may hold a partial tree: the local cache writes into a
// temporary folder that only a nil error makes an entry, so nothing from a
// corrupt object is ever used.
func (t *Tier) FetchUnit(ctx context.Context, digest, dir string) error {
	if !t.active() {
		return ErrMiss
	}
	key := UnitKey(digest)
	rc, want, err := t.open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	v := newVerifier(bufio.NewReaderSize(rc, 1<<20))
	zr, err := gzip.NewReader(v)
	if err != nil {
		t.badObject(key, err)
		return ErrMiss
	}
	_, xerr := archive.ExtractTar(zr, dir)
	// Drain what the tar did not read (gzip's trailer, padding), so the
	// checksum covers the whole payload.
	if _, err := io.Copy(io.Discard, v); err != nil && xerr == nil {
		xerr = err
	}
	t.count(func(s *Stats) { s.Downloaded += v.n })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if got := hex.EncodeToString(v.hash()); got != want {
		t.badObject(key, fmt.Errorf("sha256 %.12s, want %.12s (%d bytes read)", got, want, v.n))
		return ErrMiss
	}
	if xerr != nil {
		t.badObject(key, xerr)
		return ErrMiss
	}
	t.count(func(s *Stats) { s.Hits++ })
	return nil
}

// StoreUnit uploads the unit in dir under digest unless the store holds it
// already (and it was not found corrupt). Errors turn the tier off; they
// never reach the caller.
func (t *Tier) StoreUnit(ctx context.Context, digest, dir string) {
	if !t.Writes() || !t.active() {
		return
	}
	key := UnitKey(digest)
	if t.present(ctx, key) {
		return
	}
	files, err := archive.Collect(os.DirFS(dir), "unit")
	if err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	f, err := os.CreateTemp("", "layers-remote-*.tar.gz")
	if err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, headerLen)); err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	h := sha256.New()
	zw, _ := gzip.NewWriterLevel(io.MultiWriter(f, h), gzip.BestSpeed)
	if err := archive.WriteTar(zw, files, time.Unix(0, 0)); err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	if err := zw.Close(); err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	if _, err := f.WriteAt([]byte(hex.EncodeToString(h.Sum(nil))+"\n"), 0); err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		t.fail(ctx, "pack "+key, err)
		return
	}
	t.put(ctx, key, f, size)
}

// present says whether key needs no upload.
func (t *Tier) present(ctx context.Context, key string) bool {
	t.mu.Lock()
	bad := t.corrupt[key]
	t.mu.Unlock()
	if bad {
		return false
	}
	ok, err := t.store.Exists(ctx, key)
	if err != nil {
		t.fail(ctx, "look up "+key, err)
		return true
	}
	return ok
}

func (t *Tier) put(ctx context.Context, key string, r io.ReadSeeker, size int64) {
	if err := t.store.Put(ctx, key, r, size); err != nil {
		t.fail(ctx, "write "+key, err)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.corrupt, key)
	t.stats.Uploads++
	t.stats.Uploaded += size
}

// maxBlob bounds a small object: resolutions and plans are kilobytes.
const maxBlob = 64 << 20

// Fetch returns the payload of a small object (a resolution, a plan), or
// ErrMiss.
func (t *Tier) Fetch(ctx context.Context, key string) ([]byte, error) {
	if !t.active() {
		return nil, ErrMiss
	}
	rc, want, err := t.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxBlob+1))
	t.count(func(s *Stats) { s.Downloaded += int64(len(data)) })
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); err != nil || got != want || len(data) > maxBlob {
		if err == nil {
			err = fmt.Errorf("sha256 %.12s, want %.12s (%d bytes read)", got, want, len(data))
		}
		t.badObject(key, err)
		return nil, ErrMiss
	}
	t.count(func(s *Stats) { s.Hits++ })
	return data, nil
}

// Store writes a small object. immutable objects (content addressed:
// resolutions) are skipped when present; a plan is always rewritten.
func (t *Tier) Store(ctx context.Context, key string, data []byte, immutable bool) {
	if !t.Writes() || !t.active() {
		return
	}
	if immutable && t.present(ctx, key) {
		return
	}
	sum := sha256.Sum256(data)
	body := append([]byte(hex.EncodeToString(sum[:])+"\n"), data...)
	t.put(ctx, key, bytes.NewReader(body), int64(len(body)))
}

// cleanKey rejects keys a backend could read as something else.
func cleanKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || strings.Contains(key, "..") {
		return fmt.Errorf("invalid object key %q", key)
	}
	return nil
}

// Settings say where the remote tier is and how a run uses it.
type Settings struct {
	// URL is s3://BUCKET/PREFIX; "" means no remote tier.
	URL string
	// ReadOnly reads without writing.
	ReadOnly bool
	S3Options
}

// Open returns the tier Settings describe, or nil when there is none. A
// URL that is not one is an error; a store that cannot be reached or
// configured is the one warning, and a nil tier.
func Open(ctx context.Context, s Settings, warn func(string)) (*Tier, error) {
	if s.URL == "" {
		return nil, nil
	}
	if _, _, err := ParseURL(s.URL); err != nil {
		return nil, err
	}
	store, err := OpenS3(ctx, s.URL, s.S3Options)
	if err != nil {
		if warn != nil {
			warn(fmt.Sprintf("%v; going on with the local cache only", err))
		}
		return nil, nil
	}
	return New(store, !s.ReadOnly, warn), nil
}

// SettingsFor returns the remote tier settings of a run: the flags (url,
// readOnly; zero when not given) over LAYERS_CACHE_URL and
// LAYERS_CACHE_READ_ONLY, over cfg's [cache]; the AWS region and profile
// are [publish]'s.
func SettingsFor(cfg *config.Config, url string, readOnly bool, getenv func(string) string) Settings {
	s := Settings{URL: url, ReadOnly: readOnly || !cfg.Cache.Write,
		S3Options: S3Options{Region: cfg.Publish.Region, Profile: cfg.Publish.Profile}}
	if s.URL == "" {
		s.URL = getenv("LAYERS_CACHE_URL")
	}
	if s.URL == "" {
		s.URL = cfg.Cache.URL
	}
	switch strings.ToLower(getenv("LAYERS_CACHE_READ_ONLY")) {
	case "1", "true", "yes":
		s.ReadOnly = true
	}
	return s
}
