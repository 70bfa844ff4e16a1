// Package prune owns the [prune] rules: which files of an installed unit
// (the folder pip installs one distribution into) are deleted before the
// unit is measured, cached and zipped into layers.
//
// Byte code: in the default mode, "compile", the build container compiled
// every .py file into __pycache__/NAME.cpython-3XY.pyc (unchecked-hash pycs
// for the runtime's Python) before Prune runs, and Prune keeps such a pyc
// exactly when the NAME.py beside its __pycache__ folder stays, whatever the
// globs say: a pyc whose source a rule removed goes with it, so no orphan
// survives, and a kept module keeps its byte code. Every other pyc or pyo
// (optimised, legacy, another interpreter's) goes unless a keep glob holds it. In mode "strip" every byte-code file goes, and Lambda
// compiles each import in memory at every cold start (/opt is read-only).
//
// Everything else is opt-in, because each extra rule can break an import
// that only shows at run time. Nothing inside a *.dist-info or *.egg-info
// folder is ever deleted: importlib.metadata, pkg_resources and entry points
// read it.
package prune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/bmatcuk/doublestar/v4"
)

// rulesVersion is part of Key: bump it whenever a rule below changes which
// files go, so cached units pruned under the old rules are not reused.
const rulesVersion = 3 // 3: byte code is not compiled for test folders

// Byte-code modes, [prune] bytecode.
const (
	// BytecodeCompile ships the pycs compiled in the build container.
	BytecodeCompile = "compile"
	// BytecodeStrip removes all byte code.
	BytecodeStrip = "strip"
)

// Options are the [prune] settings.
type Options struct {
	// Tests removes the test folders of packages: folders named "tests" or
	// "test" below a top-level package (numpy/tests, pandas/tests,
	// scipy/linalg/tests). Look-alikes that some packages import at run
	// time, such as numpy/testing or pandas/_testing, are not touched, and
	// neither is a top-level tests folder.
	Tests bool `toml:"tests" json:"tests"`
	// Patterns are doublestar globs (github.com/bmatcuk/doublestar) matched
	// against slash paths relative to the unit's folder, the site-packages
	// root: "**/*.md", "botocore/data/**". A matching folder goes with all
	// its content.
	Patterns []string `toml:"patterns" json:"patterns"`
	// Keep globs win over every removal rule, the default ones included; a
	// kept path keeps its parent folders.
	Keep []string `toml:"keep" json:"keep"`
	// Strip removes debug symbols from ELF shared objects. It runs in the
	// build container, whose strip matches the target; Prune itself does
	// not strip.
	Strip bool `toml:"strip" json:"strip"`
	// Bytecode is BytecodeCompile ("" means it too) or BytecodeStrip. In
	// compile mode the build container compiles the unit before Prune
	// runs; Prune keeps the pycs whose sources stay.
	Bytecode string `toml:"bytecode" json:"bytecode"`
}

// Compile reports whether units are shipped with byte code.
func (o Options) Compile() bool {
	return o.Bytecode == "" || o.Bytecode == BytecodeCompile
}

// BytecodeError is a byte-code mode other than compile or strip.
type BytecodeError struct{ Mode string }

func (e *BytecodeError) Error() string {
	return fmt.Sprintf("prune.bytecode %q: want %q or %q", e.Mode, BytecodeCompile, BytecodeStrip)
}

// PatternError reports an invalid glob, with what config needs to point at
// its line: the field ("patterns" or "keep") and the index in it.
type PatternError struct {
	Field   string
	Index   int
	Pattern string
	Reason  string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("prune.%s[%d] %q: %s", e.Field, e.Index, e.Pattern, e.Reason)
}

// Validate returns a *BytecodeError for an unknown byte-code mode, else a
// *PatternError for the first glob that is malformed or can never match a
// path inside a unit.
func (o Options) Validate() error {
	if o.Bytecode != "" && o.Bytecode != BytecodeCompile && o.Bytecode != BytecodeStrip {
		return &BytecodeError{Mode: o.Bytecode}
	}
	for _, f := range []struct {
		field    string
		patterns []string
	}{{"patterns", o.Patterns}, {"keep", o.Keep}} {
		for i, p := range f.patterns {
			reason := ""
			switch {
			case p == "":
				reason = "empty pattern"
			case strings.HasPrefix(p, "/"):
				reason = "patterns are relative to the unit's folder and cannot start with /"
			case slices.Contains(strings.Split(p, "/"), ".."):
				reason = `patterns cannot contain ".."`
			case !doublestar.ValidatePattern(p):
				reason = "malformed glob"
			}
			if reason != "" {
				return &PatternError{Field: f.field, Index: i, Pattern: p, Reason: reason}
			}
		}
	}
	return nil
}

// Key returns a canonical text of the settings for cache keys: settings
// that prune the same files give the same key, whatever the order or
// repetition of their patterns.
func (o Options) Key() string {
	canon := func(s []string) []string {
		s = slices.Clone(s)
		slices.Sort(s)
		return append([]string{}, slices.Compact(s)...)
	}
	b, err := json.Marshal(struct {
		Rules    int      `json:"rules"`
		Tests    bool     `json:"tests"`
		Strip    bool     `json:"strip"`
		Bytecode string   `json:"bytecode"`
		Patterns []string `json:"patterns"`
		Keep     []string `json:"keep"`
	}{rulesVersion, o.Tests, o.Strip, o.mode(), canon(o.Patterns), canon(o.Keep)})
	if err != nil {
		panic(err) // a struct of bools and strings always marshals
	}
	return string(b)
}

// mode is Bytecode with the default spelled out.
func (o Options) mode() string {
	if o.Compile() {
		return BytecodeCompile
	}
	return BytecodeStrip
}

// Result is what Prune removed.
type Result struct {
	Files int   // files and links removed
	Bytes int64 // their sizes, the bytes saved before zipping
}

// Prune applies o to the unit installed in dir. It does not follow
// symbolic links. Options must have passed Validate.
func Prune(dir string, o Options) (Result, error) {
	var (
		res         Result
		files, dirs []string            // relative paths to remove
		removed     = map[string]bool{} // folder -> its content goes unless kept
		kept        = map[string]bool{} // folder -> its content stays
		sources     = map[string]bool{} // .py files that stay
		pycs        []string            // compiled pycs that stay if their source does
		sizes       = map[string]int64{}
	)
	compile := o.Compile()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if isMetadata(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		parent := path.Dir(rel)
		isKept := kept[parent] || matchAny(o.Keep, rel)
		isRemoved := removed[parent] || matchAny(o.Patterns, rel)
		if d.IsDir() {
			cache := d.Name() == "__pycache__"
			kept[rel] = isKept
			removed[rel] = isRemoved || cache && !compile || (o.Tests && isTestFolder(rel))
			// In compile mode a byte-code folder goes once Prune has
			// emptied it.
			if (removed[rel] || cache) && !isKept {
				dirs = append(dirs, rel)
			}
			return nil
		}
		ext := path.Ext(rel)
		if ext == ".py" && (!isRemoved || isKept) {
			sources[rel] = true
		}
		compiled := compile && ext == ".pyc" && pycSource(rel) != ""
		if ext == ".pyo" || ext == ".pyc" && !compiled {
			isRemoved = true
		}
		if !compiled && (isKept || !isRemoved) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if compiled {
			// It follows its source, whatever the globs say: decided once
			// every source is known.
			pycs = append(pycs, rel)
			sizes[rel] = info.Size()
			return nil
		}
		files = append(files, rel)
		res.Files++
		res.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("prune %s: %w", dir, err)
	}
	for _, f := range pycs {
		if !sources[pycSource(f)] {
			files = append(files, f)
			res.Files++
			res.Bytes += sizes[f]
		}
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			return res, fmt.Errorf("prune: %w", err)
		}
	}
	// Deepest first; a folder still holding kept or protected content stays.
	for _, d := range slices.Backward(dirs) {
		err := os.Remove(filepath.Join(dir, filepath.FromSlash(d)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotEmpty(err) {
			return res, fmt.Errorf("prune: %w", err)
		}
	}
	return res, nil
}

// pycSource returns the source of a pyc that Python's import system reads
// for it (PEP 3147): DIR/NAME.py for DIR/__pycache__/NAME.cpython-3XY.pyc.
// It returns "" for any other pyc: optimised ones (.opt-1), another
// implementation's, a legacy pyc beside its source.
func pycSource(rel string) string {
	cacheDir, file := path.Dir(rel), path.Base(rel)
	if path.Base(cacheDir) != "__pycache__" {
		return ""
	}
	name, tag, ok := strings.Cut(strings.TrimSuffix(file, ".pyc"), ".")
	digits, isCPython := strings.CutPrefix(tag, "cpython-3")
	if !ok || name == "" || !isCPython || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return ""
	}
	return path.Join(path.Dir(cacheDir), name+".py")
}

// IsByteCode reports whether a unit's file, by its slash path relative to
// the unit's folder, is byte code that compile mode ships.
func IsByteCode(rel string) bool {
	return strings.HasSuffix(rel, ".pyc") && pycSource(rel) != ""
}

// isMetadata reports a distribution's metadata folder, which is never pruned.
func isMetadata(name string) bool {
	return strings.HasSuffix(name, ".dist-info") || strings.HasSuffix(name, ".egg-info")
}

// isTestFolder reports a "tests" or "test" folder below a top-level package.
func isTestFolder(rel string) bool {
	top, rest, nested := strings.Cut(rel, "/")
	if !nested || !isIdentifier(top) {
		return false
	}
	base := path.Base(rest)
	return base == "tests" || base == "test"
}

// isIdentifier reports whether a top-level folder can be an importable
// package, which rules out numpy.libs, *.data and the like.
func isIdentifier(s string) bool {
	for i, r := range s {
		if r != '_' && !('a' <= r && r <= 'z') && !('A' <= r && r <= 'Z') && !(i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return s != ""
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if doublestar.MatchUnvalidated(p, rel) {
			return true
		}
	}
	return false
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}
