package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var key = Key{
	Distribution: "six",
	Version:      "1.16.0",
	Runtime:      "python3.11",
	Architecture: "x86_64",
	ImageID:      "sha256:c75ea529edc0c222ebb080d053cd64eb2288b4188c1a978febd79b67f38cbede",
	Prune:        `{"rules":1,"tests":false,"strip":false,"patterns":[],"keep":[]}`,
	Tool:         "0.1.0",
}

// TestMain doubles as the writer process of TestPutTwoProcesses.
func TestMain(m *testing.M) {
	if root := os.Getenv("LAYERS_CACHE_TEST_WRITER"); root != "" {
		if err := writer(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fillAs writes a unit whose every file names its writer, so a mixed
// entry is detectable.
func fillAs(id string, delay time.Duration) func(string) error {
	return func(dir string) error {
		time.Sleep(delay)
		for _, name := range []string{"six.py", "six-1.16.0.dist-info/METADATA", "six-1.16.0.dist-info/RECORD"} {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(id), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

// checkWhole returns the writer of e's files and fails if they are mixed.
func checkWhole(t *testing.T, e Entry) string {
	t.Helper()
	var ids []string
	for _, name := range []string{"six.py", "six-1.16.0.dist-info/METADATA", "six-1.16.0.dist-info/RECORD"} {
		b, err := os.ReadFile(filepath.Join(e.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, string(b))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("entry mixes writers: %q", ids)
	}
	return ids[0]
}

func checkNoTemp(t *testing.T, c *Cache) {
	t.Helper()
	left, err := os.ReadDir(c.tmp())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d folders left in tmp/", len(left))
	}
}

func TestDigest(t *testing.T) {
	// A changed digest orphans every cached unit; change it on purpose only.
	if got, want := key.Digest(), "522f9bd63a2abb5a6313b19f2175e654c2daadb06d76d2bb834b5bc34111bace"; got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	seen := map[string]string{key.Digest(): "base"}
	for name, change := range map[string]func(*Key){
		"distribution": func(k *Key) { k.Distribution = "sixx" },
		"version":      func(k *Key) { k.Version = "1.16.1" },
		"runtime":      func(k *Key) { k.Runtime = "python3.12" },
		"architecture": func(k *Key) { k.Architecture = "arm64" },
		"image":        func(k *Key) { k.ImageID = "sha256:00" },
		"prune":        func(k *Key) { k.Prune = "{}" },
		"tool":         func(k *Key) { k.Tool = "0.1.1" },
	} {
		k := key
		change(&k)
		d := k.Digest()
		if prev, ok := seen[d]; ok {
			t.Errorf("%s: same digest as %s", name, prev)
		}
		seen[d] = name
	}
}

func TestPutGet(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key); ok {
		t.Fatal("hit in an empty cache")
	}
	e, err := c.Put(key, fillAs("first", 0))
	if err != nil {
		t.Fatal(err)
	}
	if e.Files != 3 || e.Bytes != 15 || e.Digest != key.Digest() || e.Key != key || e.Created.IsZero() {
		t.Errorf("entry %+v", e)
	}
	if _, err := c.Put(key, func(string) error { t.Error("fill called for a cached key"); return nil }); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(key)
	if !ok || got.Dir != e.Dir || checkWhole(t, got) != "first" {
		t.Errorf("Get = %+v, %v", got, ok)
	}
	var meta map[string]any
	data, err := os.ReadFile(filepath.Join(filepath.Dir(e.Dir), "unit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"key", "digest", "files", "bytes", "created"} {
		if _, ok := meta[field]; !ok {
			t.Errorf("unit.json has no %q", field)
		}
	}
	checkNoTemp(t, c)
}

func TestPutErrors(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("pip failed")
	if _, err := c.Put(key, func(dir string) error {
		os.WriteFile(filepath.Join(dir, "partial"), nil, 0o644)
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
	if _, ok := c.Get(key); ok {
		t.Error("failed fill left an entry")
	}
	checkNoTemp(t, c)
	k := key
	k.ImageID = ""
	if _, err := c.Put(k, fillAs("x", 0)); err == nil || !strings.Contains(err.Error(), "image ID") {
		t.Errorf("error %v, want a missing image ID", err)
	}
}

func TestPutConcurrent(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		entries = make([]Entry, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			entries[i], errs[i] = c.Put(key, fillAs(strconv.Itoa(i), 20*time.Millisecond))
		})
	}
	close(start)
	wg.Wait()
	winner := ""
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		id := checkWhole(t, entries[i])
		if winner == "" {
			winner = id
		} else if id != winner {
			t.Errorf("writer %d sees %s's entry, others %s's", i, id, winner)
		}
	}
	checkNoTemp(t, c)
}

// writer is the body of one process of TestPutTwoProcesses: wait for the
// shared start time, then Put with a slow fill so the writers overlap.
func writer(root string) error {
	at, err := strconv.ParseInt(os.Getenv("LAYERS_CACHE_TEST_START"), 10, 64)
	if err != nil {
		return err
	}
	c, err := Open(root)
	if err != nil {
		return err
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	filled := false
	fill := fillAs(strconv.Itoa(os.Getpid()), 300*time.Millisecond)
	e, err := c.Put(key, func(dir string) error { filled = true; return fill(dir) })
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"dir": e.Dir, "filled": filled})
}

func TestPutTwoProcesses(t *testing.T) {
	root := t.TempDir()
	start := time.Now().Add(500 * time.Millisecond).UnixNano()
	const n = 2
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), "LAYERS_CACHE_TEST_WRITER="+root, "LAYERS_CACHE_TEST_START="+strconv.FormatInt(start, 10))
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], os.Stderr
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]bool{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		var res struct {
			Dir    string
			Filled bool
		}
		if err := json.Unmarshal(outs[i].Bytes(), &res); err != nil {
			t.Fatalf("writer %d: %v: %q", i, err, outs[i].String())
		}
		if !res.Filled {
			t.Errorf("writer %d did not race (found the entry already)", i)
		}
		dirs[res.Dir] = true
	}
	if len(dirs) != 1 {
		t.Errorf("writers ended with different entries: %v", dirs)
	}
	c, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := c.Get(key)
	if !ok {
		t.Fatal("no entry after both writers")
	}
	checkWhole(t, e)
	checkNoTemp(t, c)
	if list, err := c.List(); err != nil || len(list) != 1 {
		t.Errorf("List = %d entries, %v", len(list), err)
	}
}

func TestListAndPrune(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	old, fresh := key, key
	old.Distribution, fresh.Distribution = "attrs", "zipp"
	for _, k := range []Key{fresh, old, key} {
		if _, err := c.Put(k, fillAs(k.Distribution, 0)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.List()
	if err != nil || len(list) != 3 || list[0].Key != old || list[2].Key != fresh {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// Age two entries; a Get brings one back.
	for _, k := range []Key{old, key} {
		if err := os.Chtimes(filepath.Join(c.units(), k.Digest()), now.Add(-48*time.Hour), now.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get(key); !ok {
		t.Fatal("miss")
	}
	// A broken entry, a temporary folder a killed run left a minute ago
	// and one a running build holds.
	if err := os.Mkdir(filepath.Join(c.units(), "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(c.tmp(), "batch-killed")
	if err := os.Mkdir(killed, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(killed, now.Add(-time.Minute), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	running, release, err := c.TempDir("batch")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	r, err := c.Prune(24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Units != 2 || r.Bytes != 15 {
		t.Errorf("removed %+v, want the old entry and the broken one", r)
	}
	if _, ok := c.Get(old); ok {
		t.Error("old entry survived")
	}
	for _, k := range []Key{key, fresh} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was pruned", k)
		}
	}
	if left, _ := os.ReadDir(c.tmp()); len(left) != 1 || left[0].Name() != filepath.Base(running) {
		t.Errorf("tmp/ holds %v, want only the running folder", left)
	}
	if r, err := c.Prune(0); err != nil || r.Units != 2 {
		t.Errorf("Prune(0) = %+v, %v; want both entries", r, err)
	}
	if list, _ := c.List(); len(list) != 0 {
		t.Errorf("%d entries after pruning all", len(list))
	}
}

// A run killed with SIGKILL leaves its temporary folders; the next run
// (which opens the cache) removes them, and leaves those a live run holds.
func TestOpenRemovesWhatKilledRunsLeft(t *testing.T) {
	root := t.TempDir()
	c, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(c.tmp(), "batch-123", "0", "six")
	if err := os.MkdirAll(killed, 0o755); err != nil {
		t.Fatal(err)
	}
	held, release, err := c.TempDir("batch")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.tmp(), "batch-123")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a killed run's folder survived the next run: %v", err)
	}
	if _, err := os.Stat(held); err != nil {
		t.Errorf("a live run's folder was removed: %v", err)
	}
	release()
	if _, err := os.Stat(held); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("release left %s: %v", held, err)
	}
}

func TestBrokenEntryIsReplaced(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(c.units(), key.Digest())
	if err := os.MkdirAll(filepath.Join(broken, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "unit.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := c.Put(key, fillAs("new", 0))
	if err != nil {
		t.Fatal(err)
	}
	if checkWhole(t, e) != "new" {
		t.Error("broken entry not replaced")
	}
	checkNoTemp(t, c)
}

func TestDefaultDir(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "LAYERS_CACHE" {
				return v
			}
			return ""
		}
	}
	if got, err := DefaultDir(env("/srv/cache")); err != nil || got != "/srv/cache" {
		t.Errorf("DefaultDir = %q, %v", got, err)
	}
	wd, _ := os.Getwd()
	if got, err := DefaultDir(env("rel")); err != nil || got != filepath.Join(wd, "rel") {
		t.Errorf("relative DefaultDir = %q, %v", got, err)
	}
	t.Setenv("XDG_CACHE_HOME", "/home/ci/.cache")
	if got, err := DefaultDir(env("")); err != nil || got != "/home/ci/.cache/layers" {
		t.Errorf("user DefaultDir = %q, %v", got, err)
	}
}

func TestPruneResolutions(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	if n, _, err := c.Resolutions(); err != nil || n != 0 {
		t.Fatalf("Resolutions of a new cache = %d, %v", n, err)
	}
	dir := filepath.Join(c.Root(), ResolutionsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]time.Duration{
		"old.json":         48 * time.Hour,
		"fresh.json":       time.Hour,
		".tmp-stale":       25 * time.Hour, // a killed atomic write
		".tmp-in-progress": time.Minute,
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	if n, bytes, err := c.Resolutions(); err != nil || n != 2 || bytes != 4 {
		t.Errorf("Resolutions = %d, %d, %v; want 2 files of 4 bytes", n, bytes, err)
	}
	r, err := c.Prune(24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Resolutions != 1 {
		t.Errorf("pruned %d resolutions, want the old one", r.Resolutions)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".tmp-in-progress", "fresh.json"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if r, err := c.Prune(0); err != nil || r.Resolutions != 1 {
		t.Errorf("Prune(0) = %+v, %v; want the fresh resolution removed", r, err)
	}
}
