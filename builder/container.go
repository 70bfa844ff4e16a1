package builder

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/digest"
	"github.com/layers-dev/layers/resolver"
)

// failMarker starts the line the install script prints before exiting
// when a unit fails, followed by the unit's number in its batch.
const failMarker = "layers-failed-unit: "

// stripMarker starts the line that reports the bytes strip saved on a
// unit: its number in the batch, then the bytes.
const stripMarker = "layers-stripped-unit: "

// compileMarker starts the line compile.py ends with: the unit's number
// in the batch, the files compiled, the files that did not compile.
const compileMarker = "layers-compiled-unit: "

// compileScript compiles a unit's byte code in the build container.
//
//go:embed compile.py
var compileScript []byte

// Paths inside the build container.
const (
	inDir  = "/layers-in" // requirement files and local sources
	caPath = "/layers-ca/ca.crt"
)

// runSpec returns the container run that installs a batch's units into
// /out/<n>, n being the unit's place in the batch.
func (b *Builder) runSpec(batch []*job) (engine.RunSpec, error) {
	first := batch[0].spec
	var (
		files  []archive.File
		script strings.Builder
	)
	script.WriteString("set -u\n")
	for n, j := range batch {
		p := j.spec.Package
		target := fmt.Sprintf("/out/%d", n)
		args := []string{"python3", "-m", "pip", "install", "--no-deps", "--target", target,
			"--root-user-action=ignore", "--disable-pip-version-check", "--no-input", "--no-compile",
			"--no-warn-script-location", "--progress-bar", "off"}
		switch k := kind(j.spec); k {
		case "wheel", "sdist":
			if k == "wheel" {
				bin, err := binaryArgs(j.spec.Target)
				if err != nil {
					return engine.RunSpec{}, err
				}
				args = append(args, bin...)
			} else {
				args = append(args, "--no-binary", p.Name)
			}
			req := fmt.Sprintf("%s==%s", p.Name, p.Version)
			if len(p.Hashes) == 0 {
				args = append(args, req)
				break
			}
			// A lock's hashes make pip refuse any other artifact.
			var b strings.Builder
			b.WriteString(req)
			for _, h := range p.Hashes {
				b.WriteString(" \\\n    --hash=" + h)
			}
			b.WriteString("\n")
			name := fmt.Sprintf("req-%d.txt", n)
			files = append(files, archive.FromBytes(path.Join(strings.TrimPrefix(inDir, "/"), name), []byte(b.String()), false))
			args = append(args, "--require-hashes", "-r", path.Join(inDir, name))
		case "source":
			if p.Source == resolver.SourceURL {
				// In a file, not on the command line: the URL may carry a token.
				name := fmt.Sprintf("req-%d.txt", n)
				line := fmt.Sprintf("%s @ %s\n", p.Name, p.URL)
				files = append(files, archive.FromBytes(path.Join(strings.TrimPrefix(inDir, "/"), name), []byte(line), false))
				args = append(args, "-r", path.Join(inDir, name))
				break
			}
			src, err := digest.LocalPackageFiles(b.o.Root, p.Path)
			if err != nil {
				return engine.RunSpec{}, fmt.Errorf("%s: %w", j.spec, err)
			}
			dir := path.Join(strings.TrimPrefix(inDir, "/"), fmt.Sprintf("src-%d", n))
			for _, f := range src {
				f.Name = path.Join(dir, f.Name)
				files = append(files, f)
			}
			if digest.LocalArchive(b.o.Root, p.Path) {
				args = append(args, "/"+path.Join(dir, src[0].Name)) // pip installs the wheel or sdist file
			} else {
				args = append(args, "/"+dir)
			}
		}
		fmt.Fprintf(&script, "mkdir -p %s && %s || { echo; echo '%s%d'; exit 3; }\n", target, shellJoin(args), failMarker, n)
		if b.o.Prune.Strip {
			// A file strip does not understand stays as it is. Libraries
			// auditwheel vendored into *.libs were rewritten by patchelf,
			// and strip breaks their segment alignment ("ELF load command
			// address/offset not page-aligned" on numpy's OpenBLAS).
			fmt.Fprintf(&script, "before=$(du -sb %s | cut -f1)\n", target)
			fmt.Fprintf(&script, "find %s -type f \\( -name '*.so' -o -name '*.so.*' \\) ! -path '*.libs/*' -exec sh -c 'for f; do strip --strip-unneeded \"$f\" 2>/dev/null || true; done' sh {} +\n", target)
			fmt.Fprintf(&script, "echo \"%s%d $((before - $(du -sb %s | cut -f1)))\"\n", stripMarker, n, target)
		}
		if b.o.Prune.Compile() {
			// After strip, so that its figure holds no byte code; before
			// prune, which keeps the pycs of the sources it keeps. A fresh
			// interpreter per unit; a fixed hash seed, because Pythons
			// before 3.11 marshal a frozenset constant in hash order.
			version := strings.TrimPrefix(j.spec.Target.Runtime, "python")
			fmt.Fprintf(&script, "env -u PYTHONPATH PYTHONHASHSEED=0 python3 -s %s %s %d %s || { echo; echo '%s%d'; exit 3; }\n",
				path.Join(inDir, "compile.py"), target, n, shellJoin([]string{version}), failMarker, n)
		}
	}
	if b.o.Prune.Compile() {
		files = append(files, archive.FromBytes(path.Join(strings.TrimPrefix(inDir, "/"), "compile.py"), compileScript, false))
	}
	env := slices.Clone(b.o.Env)
	if len(b.o.CABundle) > 0 {
		files = append(files, archive.FromBytes(strings.TrimPrefix(caPath, "/"), b.o.CABundle, false))
		env = append(env, "PIP_CERT="+caPath)
	}
	env = mergeEnv(env, indexEnv(first.Index, lockIndex(first)))
	spec := engine.RunSpec{
		Image:    first.Image.ID,
		Platform: first.Image.Platform,
		Cmd:      []string{"sh", "-c", script.String()},
		Env:      env,
		Labels:   map[string]string{"layers.target": first.Target.String()},
	}
	if len(files) > 0 {
		spec.In = []engine.CopyIn{{Dir: "/", Files: files}}
	}
	return spec, nil
}

// mergeEnv returns base with over's variables replacing base's of the same
// name.
func mergeEnv(base, over []string) []string {
	names := map[string]bool{}
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		names[k] = true
	}
	out := slices.DeleteFunc(slices.Clone(base), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return names[k]
	})
	return append(out, over...)
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// markerWatcher collects the stripMarker and compileMarker lines of a
// container's output.
type markerWatcher struct {
	mu       sync.Mutex
	line     []byte
	saved    map[int]int64
	compiled map[int][2]int // unit -> files compiled, files that failed
}

func (w *markerWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		if c != '\n' {
			if len(w.line) < 256 { // marker lines are short
				w.line = append(w.line, c)
			}
			continue
		}
		var n, ok, failed int
		var saved int64
		if _, err := fmt.Sscanf(string(w.line), stripMarker+"%d %d", &n, &saved); err == nil {
			if w.saved == nil {
				w.saved = map[int]int64{}
			}
			w.saved[n] = saved
		} else if _, err := fmt.Sscanf(string(w.line), compileMarker+"%d %d %d", &n, &ok, &failed); err == nil {
			if w.compiled == nil {
				w.compiled = map[int][2]int{}
			}
			w.compiled[n] = [2]int{ok, failed}
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}

func (w *markerWatcher) stripped(n int) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.saved[n]
}

// compiledFiles returns what compile.py reported for unit n: the files
// compiled and those that did not compile.
func (w *markerWatcher) compiledFiles(n int) (ok, failed int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.compiled[n]
	return c[0], c[1]
}
