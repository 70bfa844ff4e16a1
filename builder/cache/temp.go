package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// TempDir creates a folder in the cache's tmp/ (on its file system, so it
// can be renamed into units/) and holds a lock on it until release, which
// also removes it. A folder in tmp/ whose lock no process holds was left by
// a killed run: Open and Prune remove it, however young.
func (c *Cache) TempDir(prefix string) (dir string, release func(), err error) {
	if err := os.MkdirAll(c.tmp(), 0o755); err != nil {
		return "", nil, fmt.Errorf("unit cache: %w", err)
	}
	for range 100 {
		dir, err := os.MkdirTemp(c.tmp(), prefix+"-")
		if err != nil {
			return "", nil, fmt.Errorf("unit cache: %w", err)
		}
		f, err := os.Open(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a cleaner took it before the lock
		}
		if err != nil {
			return "", nil, fmt.Errorf("unit cache: %w", err)
		}
		if err := lock(f); err != nil {
			f.Close()
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("unit cache: lock %s: %w", dir, err)
		}
		// A cleaner may have locked and removed the folder between
		// MkdirTemp and the lock: then the lock is on a folder that is gone.
		held, err1 := f.Stat()
		now, err2 := os.Stat(dir)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			f.Close()
			continue
		}
		return dir, func() {
			os.RemoveAll(dir) // a no-op once renamed
			f.Close()
		}, nil
	}
	return "", nil, fmt.Errorf("unit cache: no temporary folder in %s", c.tmp())
}

// removeStaleTemp removes the folders in tmp/ that no live process holds:
// those a killed run left.
func (c *Cache) removeStaleTemp() error {
	entries, err := os.ReadDir(c.tmp())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	now := c.now()
	for _, e := range entries {
		p := filepath.Join(c.tmp(), e.Name())
		f, err := os.Open(p)
		if err != nil {
			continue // gone already, or not ours to read
		}
		stale, err := tryLock(f)
		if err == nil && !stale && !canLock {
			// Without locks, only age tells a leftover.
			if info, err := f.Stat(); err == nil && now.Sub(info.ModTime()) > staleTemp {
				stale = true
			}
		}
		if err == nil && stale {
			err = os.RemoveAll(p)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// staleTemp is the age after which a folder in tmp/ is taken to be left by
// a killed run where no lock can tell.
const staleTemp = 24 * time.Hour
