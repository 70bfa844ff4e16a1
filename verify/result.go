package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/layers-dev/layers/internal/atomicfile"
	"github.com/layers-dev/layers/manifest"
)

// ResultFile is where Run writes its results, relative to the root.
const ResultFile = ".layers/verify.json"

// ResultFormat is the format of ResultFile this layers reads and writes.
const ResultFormat = 1

// Module statuses.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
	// StatusOptional is a failed import that only lacks a module no
	// distribution the function receives provides: an optional
	// dependency (see classify). It fails the run only with Strict.
	StatusOptional = "optional"
)

// Result is what `layers verify` found, and what .layers/verify.json holds.
type Result struct {
	Format int `json:"format"`
	// InputsSHA256 is the build manifest's: results about another build
	// are stale.
	InputsSHA256 string `json:"inputs_sha256"`
	// Offline marks a run that only checked metadata.
	Offline   bool             `json:"offline,omitempty"`
	Functions []FunctionResult `json:"functions"`
}

// FunctionResult is one function of one target.
type FunctionResult struct {
	Name         string `json:"name"`
	Runtime      string `json:"runtime"`
	Architecture string `json:"architecture"`
	PackageType  string `json:"package_type"`
	// Image is the image the imports ran in; "" offline.
	Image string `json:"image,omitempty"`
	// Python is the interpreter's version in that image.
	Python   string         `json:"python,omitempty"`
	Layers   []string       `json:"layers,omitempty"`
	Modules  []ModuleResult `json:"modules"`
	Problems []Problem      `json:"problems"`
	// Notes say what was left out and why.
	Notes []string `json:"notes,omitempty"`
	// Unverified says why nothing was imported (an image not built yet,
	// no handler); "" when the function was verified.
	Unverified string `json:"unverified,omitempty"`
	// ImportMicros is the cold import of every module in one fresh
	// interpreter, the fastest of the runs; nil when not measured.
	ImportMicros *int64 `json:"import_us"`
	// SourceImportMicros is the same cold import with the shipped byte
	// code ignored, so every module is compiled as it is imported: what
	// the cold import costs without byte code. nil when not measured.
	SourceImportMicros *int64 `json:"import_without_bytecode_us,omitempty"`
	// Slowest are the five modules that take longest to import alone.
	Slowest []ModuleResult `json:"slowest,omitempty"`
}

// ModuleResult is one module's import.
type ModuleResult struct {
	Module string `json:"module"`
	Dist   string `json:"dist,omitempty"`
	// Handler marks the handler's module.
	Handler bool   `json:"handler,omitempty"`
	Status  string `json:"status"`
	// Error is the exception, Tail the last lines of its traceback.
	Error string `json:"error,omitempty"`
	Tail  string `json:"tail,omitempty"`
	// Missing is the module a ModuleNotFoundError names.
	Missing string `json:"missing,omitempty"`
	// Micros is the module's import alone in a fresh interpreter, with
	// what it imports, the fastest of the runs.
	Micros int64 `json:"import_us,omitempty"`
}

// Failed reports whether the function failed verification.
func (f *FunctionResult) Failed(strict bool) bool {
	if len(f.Problems) > 0 {
		return true
	}
	for _, m := range f.Modules {
		if m.Status == StatusFailed || (strict && m.Status == StatusOptional) {
			return true
		}
	}
	return false
}

// ErrFailed is wrapped by Run's error when a function failed verification.
var ErrFailed = errors.New("verification failed")

// FailedError lists the functions that failed.
type FailedError struct {
	Functions []string // "name (runtime/arch)"
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("verification failed for %d function(s): %s", len(e.Functions), strings.Join(e.Functions, ", "))
}

func (e *FailedError) Unwrap() error { return ErrFailed }

// ReadResult reads the results of the last run at root; (nil, nil) when
// there are none.
func ReadResult(root string) (*Result, error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(ResultFile)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read verify results: %w", err)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", ResultFile, err)
	}
	if r.Format != ResultFormat {
		return nil, fmt.Errorf("%s: format %d, this layers reads format %d: run `layers verify`", ResultFile, r.Format, ResultFormat)
	}
	return &r, nil
}

// writeResult writes r atomically to root's ResultFile.
func writeResult(root string, r *Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write verify results: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, manifest.Dir), 0o755); err != nil {
		return fmt.Errorf("write verify results: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(root, filepath.FromSlash(ResultFile)), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write verify results: %w", err)
	}
	return nil
}

// WriteText writes the results for people: per function its verdict, its
// failures with their traceback's last lines, the requirements it lacks,
// and its cold import time with the slowest imports.
func (r *Result) WriteText(w io.Writer, strict bool) error {
	var b strings.Builder
	for _, f := range r.Functions {
		verdict := "ok"
		if f.Failed(strict) {
			verdict = "FAILED"
		}
		ok, failed, optional := 0, 0, 0
		for _, m := range f.Modules {
			switch m.Status {
			case StatusOK:
				ok++
			case StatusFailed:
				failed++
			case StatusOptional:
				optional++
			}
		}
		if f.Unverified != "" && !f.Failed(strict) {
			fmt.Fprintf(&b, "%s (%s/%s): not verified: %s\n", f.Name, f.Runtime, f.Architecture, f.Unverified)
			continue
		}
		fmt.Fprintf(&b, "%s (%s/%s): %s", f.Name, f.Runtime, f.Architecture, verdict)
		if !r.Offline {
			fmt.Fprintf(&b, ", %d modules imported", ok)
			if failed > 0 {
				fmt.Fprintf(&b, ", %d failed", failed)
			}
			if optional > 0 {
				fmt.Fprintf(&b, ", %d need optional dependencies", optional)
			}
		}
		if len(f.Problems) > 0 {
			fmt.Fprintf(&b, ", %d unsatisfied requirements", len(f.Problems))
		}
		if f.ImportMicros != nil {
			fmt.Fprintf(&b, ", cold import %s", Millis(*f.ImportMicros))
			if f.SourceImportMicros != nil {
				fmt.Fprintf(&b, " (%s without byte code)", Millis(*f.SourceImportMicros))
			}
		}
		b.WriteString("\n")
		for _, m := range f.Modules {
			if m.Status == StatusOK {
				continue
			}
			what := "import " + m.Module
			if m.Dist != "" {
				what += " (" + m.Dist + ")"
			} else if m.Handler {
				what += " (the handler's module)"
			}
			if m.Status == StatusOptional {
				fmt.Fprintf(&b, "  optional: %s needs %s, which no distribution the function receives provides\n", what, m.Missing)
				if !strict {
					continue
				}
			} else {
				fmt.Fprintf(&b, "  function %s: %s failed: %s\n", f.Name, what, m.Error)
			}
			for _, l := range strings.Split(m.Tail, "\n") {
				fmt.Fprintf(&b, "      %s\n", l)
			}
		}
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "  function %s: %s\n", f.Name, p)
		}
		for _, n := range f.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		if len(f.Slowest) > 0 {
			b.WriteString("  slowest imports:")
			for i, m := range f.Slowest {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, " %s %s", m.Module, Millis(m.Micros))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Millis renders microseconds as milliseconds for people.
func Millis(us int64) string {
	if us < 10_000 {
		return fmt.Sprintf("%.1f ms", float64(us)/1000)
	}
	return fmt.Sprintf("%d ms", (us+500)/1000)
}
