package verify

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/pep508"
)

// importer is the program run in the runtime image.
//
//go:embed importer.py
var importer []byte

// Where things go in the container.
const (
	scriptDir = "tmp/layers-verify"
	taskRoot  = "/var/task" // LAMBDA_TASK_ROOT: the function's code
)

type runSpec struct {
	image, platform, python string
	modules                 []Module
	layers                  []archive.File // under opt/
	code                    []archive.File // under var/task/
}

// importerOutput is what importer.py prints.
type importerOutput struct {
	Python  string           `json:"python"`
	Machine string           `json:"machine"`
	SysPath []string         `json:"sys_path"`
	Results []importerResult `json:"results"`
	Cold    []string         `json:"cold"`
	// ColdSource are the cold imports with the byte code of /opt and
	// /var/task ignored.
	ColdSource []string `json:"cold_source"`
}

type importerResult struct {
	Module     string   `json:"module"`
	OK         bool     `json:"ok"`
	Type       string   `json:"type"`
	Message    string   `json:"message"`
	Tail       string   `json:"tail"`
	Missing    string   `json:"missing"`
	ImportTime []string `json:"importtime"`
}

// runImports runs importer.py over the modules in one container.
func runImports(ctx context.Context, o Options, s runSpec) (*importerOutput, error) {
	type specModule struct {
		Module string `json:"module"`
		Attr   string `json:"attr,omitempty"`
	}
	spec := struct {
		Paths           []string     `json:"paths"`
		Modules         []specModule `json:"modules"`
		Runs            int          `json:"runs"`
		Timeout         int          `json:"timeout"`
		WithoutByteCode bool         `json:"without_bytecode"`
	}{
		// The Python runtime's sys.path, ../shared/docs/lambda-facts.md.
		Paths: []string{taskRoot, "/opt/python/lib/python" + s.python + "/site-packages", "/opt/python"},
		Runs:  o.Runs, Timeout: int(o.Timeout.Seconds()), WithoutByteCode: true,
	}
	for _, m := range s.modules {
		spec.Modules = append(spec.Modules, specModule{Module: m.Name, Attr: m.Attr})
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	files := append([]archive.File{
		archive.FromBytes(scriptDir+"/importer.py", importer, false),
		archive.FromBytes(scriptDir+"/spec.json", specJSON, false),
	}, s.layers...)
	files = append(files, s.code...)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4096}
	err = o.Engine.Run(ctx, engine.RunSpec{
		Image: s.image, Platform: s.platform,
		// Lambda's images start their runtime emulator; -I keeps PYTHONPATH
		// and the user site out, -B writes no byte code (/opt is read-only
		// on Lambda: a cold start reads the byte code the layers ship and
		// compiles, in memory, what has none).
		Entrypoint: []string{"python3"},
		Cmd:        []string{"-I", "-B", "-X", "importtime", "/" + scriptDir + "/importer.py", "/" + scriptDir + "/spec.json"},
		Env:        []string{"LAMBDA_TASK_ROOT=" + taskRoot},
		Labels:     map[string]string{"layers.verify": "1"},
		In:         []engine.CopyIn{{Dir: "/", Files: files}},
		Stdout:     &stdout, Stderr: stderr,
	})
	if err != nil {
		var ee *engine.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("the import checker failed in %s: %w\n%s", s.image, err, lastLines(stderr.String(), 12))
		}
		return nil, err
	}
	var out importerOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("the import checker's output in %s: %w\n%s", s.image, err, lastLines(stderr.String(), 12))
	}
	if len(out.Results) != len(s.modules) {
		return nil, fmt.Errorf("the import checker reported %d modules of %d", len(out.Results), len(s.modules))
	}
	// Extensions built for another Python fail to import in confusing
	// ways (a cp312 pydantic-core on 3.11): name the real problem.
	if v := out.Python; v != s.python && !strings.HasPrefix(v, s.python+".") {
		return nil, fmt.Errorf("%s runs Python %s, but the layers are for Python %s: set [verify] image to a python%s runtime image", s.image, v, s.python, s.python)
	}
	return &out, nil
}

// fillImports turns the importer's output into module results, the
// function's cold import time and its slowest imports.
func fillImports(res *FunctionResult, mods []Module, out *importerOutput, provided map[string]bool, strict bool) {
	res.Python = out.Python
	for i, m := range mods {
		r := out.Results[i]
		mr := ModuleResult{Module: m.Name, Dist: m.Dist, Handler: m.Dist == "", Status: StatusOK}
		if !r.OK {
			mr.Status = classify(m, r, provided)
			mr.Error = strings.TrimSpace(r.Type + ": " + r.Message)
			mr.Tail, mr.Missing = r.Tail, r.Missing
		}
		for j, text := range r.ImportTime {
			us := topLevelMicros(ParseImportTime(text))
			if j == 0 || us < mr.Micros {
				mr.Micros = us
			}
		}
		res.Modules = append(res.Modules, mr)
	}
	res.ImportMicros = fastest(out.Cold)
	res.SourceImportMicros = fastest(out.ColdSource)
	var timed []ModuleResult
	for _, m := range res.Modules {
		if m.Status == StatusOK && !m.Handler {
			timed = append(timed, m)
		}
	}
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].Micros > timed[j].Micros })
	if len(timed) > 5 {
		timed = timed[:5]
	}
	res.Slowest = timed
}

// fastest returns the fastest of the runs' top-level import times; nil for
// no run.
func fastest(runs []string) *int64 {
	var best *int64
	for _, text := range runs {
		us := topLevelMicros(ParseImportTime(text))
		if best == nil || us < *best {
			best = &us
		}
	}
	return best
}

// classify says whether a failed import is a failure or only lacks an
// optional dependency. It is optional when all of these hold: it is not
// the handler's module (what the handler imports must work); the error is
// a ModuleNotFoundError; and the missing module's top-level name is one no
// distribution the function receives provides, nor any file of its layers
// (so neither the package's own pruned module, nor a module of a received
// distribution that pruning removed). A missing distribution the
// function's metadata requires is the metadata check's to report; what
// is left is a module that imports something its distribution does not
// require, as a pytest plugin imports pytest. provided also holds, by
// normalised name, the distributions the metadata check found missing.
func classify(m Module, r importerResult, provided map[string]bool) string {
	if m.Dist == "" || r.Type != "ModuleNotFoundError" || r.Missing == "" || provided == nil {
		return StatusFailed
	}
	top, _, _ := strings.Cut(r.Missing, ".")
	mine, _, _ := strings.Cut(m.Name, ".")
	if provided[top] || provided[pep508.NormalizeName(top)] || top == mine {
		return StatusFailed
	}
	return StatusOptional
}

// skipCode are folders of a function that never ship with its code.
var skipCode = map[string]bool{
	".git": true, ".hg": true, ".venv": true, "venv": true, "__pycache__": true, "node_modules": true,
	".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true, ".tox": true, ".layers": true,
}

// functionCode returns the function's files for /var/task: those its
// [function] source globs match, else all but caches and environments.
func functionCode(root, rel string, globs []string) ([]archive.File, error) {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	fsys := os.DirFS(dir)
	var out []archive.File
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skipCode[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, ".pyc") {
			return nil
		}
		if len(globs) > 0 && !matchAny(globs, p) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, archive.File{Name: path.Join(strings.TrimPrefix(taskRoot, "/"), p), Exec: info.Mode()&0o111 != 0,
			Size: info.Size(), Open: func() (io.ReadCloser, error) { return fsys.Open(p) }})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("function code in %s: %w", rel, err)
	}
	return out, nil
}

func matchAny(globs []string, p string) bool {
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, p); ok {
			return true
		}
	}
	return false
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
