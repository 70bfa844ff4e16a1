package builder

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

// tarOutScript streams a batch's output to the container's stdout.
//
//go:embed tarout.py
var tarOutScript []byte

// Paths inside the build container.
const (
	inDir  = "/layers-in" // requirement files and local sources
	caPath = "/layers-ca/ca.crt"
)

// outDir holds each unit's files in /out/<n>, n being the unit's place in
// its batch, and the installers' working folder (scratchDir). Only the
// units' folders stream out.
const outDir = "/out"

// scratchDir is the installers' working folder (uv's cache, pip's
// temporary files and cache), in outDir: on the same file system as the
// units, so that uv hard-links the files it unpacked into them instead of
// copying, and in memory when they are.
const scratchDir = outDir + "/.layers-scratch"

// logDir holds each unit's output in the container, printed in unit order
// once every install has ended, so that marker lines never interleave.
const logDir = "/layers-log"

// runSpec returns the container run that installs a batch's units into
// /out/<n> and streams them out on its stdout (tarout.py). Each unit has a
// script of its own (install, strip, compile); uv batches run up to
// uvParallel of them at once, pip batches one after another.
//
// A batch of wheels has its /out in memory unless onDisk is set: an
// install writes many small files, and on a slow disk they cost more than
// the download (measured for 23 wheels, 195 MB installed: uv 2.3 s and
// compile 5.8 s in memory, 7.6 s and 12.7 s on a volume). A batch that
// outgrows its memory runs again on disk (runBatch). Batches that build
// sdists or local sources, whose build trees can be large, stay on disk: a
// volume, which skips the image's copy-on-write layer.
func (b *Builder) runSpec(ctx context.Context, batch []*job, onDisk bool) (engine.RunSpec, error) {
	first := batch[0].spec
	uv := b.usesUV(first)
	var files []archive.File
	for n, j := range batch {
		install, compile, extra, err := b.unitScript(n, j.spec, uv)
		if err != nil {
			return engine.RunSpec{}, err
		}
		files = append(files, extra...)
		files = append(files, inFile(fmt.Sprintf("unit-%d.sh", n), []byte(install)))
		if compile != "" {
			files = append(files, inFile(fmt.Sprintf("compile-%d.sh", n), []byte(compile)))
		}
	}
	if b.o.Prune.Compile() {
		files = append(files, inFile("compile.py", compileScript))
	}
	files = append(files, inFile("tarout.py", tarOutScript))
	files, env := withCA(files, b.o.Env, b.o.CABundle)
	pipEnv := indexEnv(first.Index, lockIndex(first))
	env = mergeEnv(env, append(pipEnv, "TMPDIR="+scratchDir, "PIP_CACHE_DIR="+scratchDir+"/pip-cache"))
	parallel := 1
	if uv {
		bin, err := b.uvBinary(ctx, first)
		if err != nil {
			return engine.RunSpec{}, err
		}
		files = append(files, bin)
		prefetch, err := uvPrefetch(batch, len(b.o.CABundle) > 0)
		if err != nil {
			return engine.RunSpec{}, err
		}
		files = append(files, prefetch...)
		env = mergeEnv(env, append(uvIndexEnv(pipEnv), "UV_CACHE_DIR="+uvCacheDir, "UV_LINK_MODE=hardlink",
			"UV_PYTHON_DOWNLOADS=never", "UV_NO_PROGRESS=1"))
		parallel = uvParallel
	}
	spec := engine.RunSpec{
		Image:    first.Image.ID,
		Platform: first.Image.Platform,
		Cmd:      []string{"sh", "-c", runnerScript(len(batch), parallel, b.o.Prune.Compile())},
		Env:      env,
		Labels:   map[string]string{"layers.target": first.Target.String()},
		In:       []engine.CopyIn{{Dir: "/", Files: files}},
	}
	if kind(first) == "wheel" && !onDisk {
		spec.Memory, spec.MemoryBytes = []string{outDir}, b.o.MemoryBytes
	} else {
		spec.Scratch = []string{outDir}
	}
	return spec, nil
}

// inFile is a file the container finds in inDir.
func inFile(name string, data []byte) archive.File {
	return archive.FromBytes(path.Join(strings.TrimPrefix(inDir, "/"), name), data, false)
}

// runnerScript runs the units' scripts, each with its output in logDir:
// first every unit's install (unit-N.sh), parallel at a time, since
// downloads wait on the network; then, when compile is set, every unit's
// compile (compile-N.sh), as many at once as the engine has CPUs: a unit
// of fewer than 64 files compiles on one core, and a batch has many such
// (measured for 23 units: 6.2 s, against 7.4 to 9.3 s one unit at a
// time). It then prints the outputs in unit order and, when a unit
// failed, ends with the failed unit's output and its failMarker line.
//
// Everything it prints goes to stderr: stdout carries the units' files,
// which tarout.py streams from the start, each unit as soon as it is
// done (logDir/N.done) and the ones before it are out, so the host
// extracts the first units while the last ones compile. When a unit
// fails, logDir/abort stops it.
func runnerScript(units, parallel int, compile bool) string {
	var s strings.Builder
	fmt.Fprintf(&s, "set -u\nexec 3>&1 1>&2\nmkdir -p %s %s\n", logDir, scratchDir)
	fmt.Fprintf(&s, "python3 -I %s %d %s >&3 &\nout=$!\n", path.Join(inDir, "tarout.py"), units, logDir)
	phase := func(name string, parallel string, last bool) {
		done := ""
		if last {
			done = fmt.Sprintf(" && touch %s/$0.done", logDir)
		}
		// xargs stops starting units once one exits 255; what it says of
		// that is kept apart, and shown only when no unit's output
		// explains it.
		fmt.Fprintf(&s, "seq 0 %d | xargs -P %s -n 1 sh -c 'sh %s/%s-$0.sh >> %s/$0 2>&1%s || { touch %s/$0.failed; exit 255; }' 2>> %s/xargs\n",
			units-1, parallel, inDir, name, logDir, done, logDir, logDir)
	}
	phaseMark(&s, "start")
	fmt.Fprintf(&s, "if [ -e %s/prefetch.sh ]; then\nsh %s/prefetch.sh\n", inDir, inDir) // uv's batches
	phaseMark(&s, "prefetched")
	s.WriteString("fi\n")
	phase("unit", strconv.Itoa(parallel), !compile)
	s.WriteString("status=$?\n")
	phaseMark(&s, "installed")
	if compile {
		s.WriteString("if [ $status -eq 0 ]; then\n")
		phase("compile", "$(nproc 2>/dev/null || echo 1)", true)
		s.WriteString("status=$?\n")
		phaseMark(&s, "compiled")
		s.WriteString("fi\n")
	}
	fmt.Fprintf(&s, "[ $status -eq 0 ] || touch %s/abort\n", logDir)
	fmt.Fprintf(&s, "for n in $(seq 0 %d); do [ -e %s/$n.failed ] || cat %s/$n 2>/dev/null; done\n", units-1, logDir, logDir)
	fmt.Fprintf(&s, "for n in $(seq 0 %d); do if [ -e %s/$n.failed ]; then cat %s/$n; echo; echo \"%s$n\"; exit 3; fi; done\n",
		units-1, logDir, logDir, failMarker)
	fmt.Fprintf(&s, "[ $status -eq 0 ] || { cat %s/xargs; exit $status; }\n", logDir)
	s.WriteString("wait $out || exit $?\n")
	phaseMark(&s, "streamed")
	return s.String()
}

// unitScript returns the shell scripts that install unit n into /out/<n>
// and strip it, and that compile it (empty without compile), and the
// files they need in the container.
func (b *Builder) unitScript(n int, s UnitSpec, uv bool) (install, compile string, _ []archive.File, _ error) {
	p := s.Package
	target := fmt.Sprintf("/out/%d", n)
	var files []archive.File
	args := []string{"python3", "-m", "pip", "install", "--no-deps", "--target", target,
		"--root-user-action=ignore", "--disable-pip-version-check", "--no-input", "--no-compile",
		"--no-warn-script-location", "--progress-bar", "off"}
	hashFile := ""
	switch k := kind(s); k {
	case "wheel", "sdist":
		if k == "wheel" {
			bin, err := binaryArgs(s.Target)
			if err != nil {
				return "", "", nil, err
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
		// A lock's hashes make the installer refuse any other artifact.
		var b strings.Builder
		b.WriteString(req)
		for _, h := range p.Hashes {
			b.WriteString(" \\\n    --hash=" + h)
		}
		b.WriteString("\n")
		hashFile = path.Join(inDir, fmt.Sprintf("req-%d.txt", n))
		files = append(files, inFile(path.Base(hashFile), []byte(b.String())))
		args = append(args, "--require-hashes", "-r", hashFile)
	case "source":
		if p.Source == resolver.SourceURL {
			// In a file, not on the command line: the URL may carry a token.
			name := fmt.Sprintf("req-%d.txt", n)
			files = append(files, inFile(name, []byte(fmt.Sprintf("%s @ %s\n", p.Name, p.URL))))
			args = append(args, "-r", path.Join(inDir, name))
			break
		}
		src, err := digest.LocalPackageFiles(b.o.Root, p.Path)
		if err != nil {
			return "", "", nil, fmt.Errorf("%s: %w", s, err)
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
	var script strings.Builder
	fmt.Fprintf(&script, "set -u\nmkdir -p %s\n", target)
	if uv {
		ua, err := uvArgs(s, target, hashFile, len(b.o.CABundle) > 0)
		if err != nil {
			return "", "", nil, err
		}
		// Offline first when the batch's wheels were prefetched; online
		// when that fails, as the units of a batch whose prefetch failed.
		uvLog := fmt.Sprintf("%s/%d.uv", logDir, n)
		offline := slices.Insert(slices.Clone(ua), 3, "--offline")
		fmt.Fprintf(&script, "status=1\nif [ -e %s ]; then %s > %s 2>&1; status=$?; fi\n", prefetchedFlag, shellJoin(offline), uvLog)
		fmt.Fprintf(&script, "if [ $status -ne 0 ]; then rm -rf %s && mkdir -p %s && %s > %s 2>&1; status=$?; fi\ncat %s\n",
			target, target, shellJoin(ua), uvLog, uvLog)
		fmt.Fprintf(&script, "if [ $status -ne 0 ]; then\n\t%s %s || exit 3\n", uvFallback, uvLog)
		fmt.Fprintf(&script, "\techo 'layers: no wheel uv can select for the target; pip picks among every tag the runtime loads'\n")
		fmt.Fprintf(&script, "\trm -rf %s && mkdir -p %s && %s || exit 3\nfi\n", target, target, shellJoin(args))
		// uv leaves its lock file in the target, and creates the empty
		// folders a wheel lists, which pip skips: the same files either way.
		fmt.Fprintf(&script, "rm -f %s/.lock\nfind %s -mindepth 1 -type d -empty -delete\n", target, target)
	} else {
		fmt.Fprintf(&script, "%s || exit 3\n", shellJoin(args))
	}
	if b.o.Prune.Strip {
		// A file strip does not understand stays as it is. Libraries
		// auditwheel vendored into *.libs were rewritten by patchelf,
		// and strip breaks their segment alignment ("ELF load command
		// address/offset not page-aligned" on numpy's OpenBLAS).
		// A full file system is not such a file: the batch fails, and
		// runs again on disk when its folder was in memory.
		stripErr := fmt.Sprintf("%s/%d.strip", logDir, n)
		fmt.Fprintf(&script, "before=$(du -sb %s | cut -f1)\n", target)
		fmt.Fprintf(&script, "find %s -type f \\( -name '*.so' -o -name '*.so.*' \\) ! -path '*.libs/*' -exec sh -c 'for f; do strip --strip-unneeded \"$f\" 2>> %s || true; done' sh {} +\n", target, stripErr)
		fmt.Fprintf(&script, "if grep -q '%s' %s 2>/dev/null; then cat %s; exit 3; fi\n", noSpace, stripErr, stripErr)
		fmt.Fprintf(&script, "echo \"%s%d $((before - $(du -sb %s | cut -f1)))\"\n", stripMarker, n, target)
	}
	if b.o.Prune.Compile() {
		// After strip, so that its figure holds no byte code; before
		// prune, which keeps the pycs of the sources it keeps. A fresh
		// interpreter per unit; a fixed hash seed, because Pythons
		// before 3.11 marshal a frozenset constant in hash order.
		version := strings.TrimPrefix(s.Target.Runtime, "python")
		compile = fmt.Sprintf("env -u PYTHONPATH PYTHONHASHSEED=0 python3 -s %s %s %d %s || exit 3\n",
			path.Join(inDir, "compile.py"), target, n, shellJoin([]string{version}))
	}
	return script.String(), compile, files, nil
}

// withCA returns files and a copy of env, with the CA bundle pip and uv
// trust in the container (caPath, PIP_CERT) when there is one.
func withCA(files []archive.File, env []string, bundle []byte) ([]archive.File, []string) {
	env = slices.Clone(env)
	if len(bundle) > 0 {
		files = append(files, archive.FromBytes(strings.TrimPrefix(caPath, "/"), bundle, false))
		env = append(env, "PIP_CERT="+caPath)
	}
	return files, env
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

// phaseMarker starts the line the runner prints as a phase of the batch
// ends, followed by the phase and the container's clock in nanoseconds.
const phaseMarker = "layers-phase: "

// phaseMark prints a phaseMarker line. An image whose date(1) does not
// know %N prints a number too small for a time in nanoseconds, which
// markerWatcher ignores.
func phaseMark(s *strings.Builder, phase string) {
	fmt.Fprintf(s, "echo \"%s%s $(date +%%s%%N)\"\n", phaseMarker, phase)
}

// markerWatcher collects the stripMarker, compileMarker and phaseMarker
// lines of a container's output.
type markerWatcher struct {
	mu       sync.Mutex
	line     []byte
	saved    map[int]int64
	compiled map[int][2]int // unit -> files compiled, files that failed
	phases   map[string]int64
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
		var phase string
		if _, err := fmt.Sscanf(string(w.line), phaseMarker+"%s %d", &phase, &saved); err == nil && saved > 1e15 {
			if w.phases == nil {
				w.phases = map[string]int64{}
			}
			w.phases[phase] = saved
		} else if _, err := fmt.Sscanf(string(w.line), stripMarker+"%d %d", &n, &saved); err == nil {
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

// phaseTimes returns how long each phase the container reported took.
func (w *markerWatcher) phaseTimes() Phases {
	w.mu.Lock()
	defer w.mu.Unlock()
	between := func(from, to string) time.Duration {
		a, b := w.phases[from], w.phases[to]
		if a == 0 || b < a {
			return 0
		}
		return time.Duration(b - a)
	}
	p := Phases{Install: between("start", "installed"), Download: between("start", "prefetched"), Compile: between("installed", "compiled")}
	if p.Compile > 0 {
		p.Stream = between("compiled", "streamed")
	} else {
		p.Stream = between("installed", "streamed")
	}
	return p
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
