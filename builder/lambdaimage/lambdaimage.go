// Package lambdaimage owns the container-image fallback's build: the
// Lambda image of a function that cannot ship as a zip with layers. The
// image is the Lambda Python base image plus one layer holding the
// function's dependencies, taken from the same cached units the layers
// are made of (nothing is downloaded twice), byte code included (compiled
// by the build image's Python, the runtime's), and the function's own
// source, all under LAMBDA_TASK_ROOT (/var/task); its CMD is the handler.
//
// The image is assembled by committing a created, never started container
// from the base after a deterministic tar of /var/task was copied in: the
// same tar-stream path the unit installs use, so remote engines work, no
// Dockerfile is interpreted and no builder (classic or BuildKit) is
// involved. It keeps the base's platform, so it is a single-architecture
// image, which is all Lambda accepts.
//
// An image is named by its content key, a digest of everything that goes
// into it (the base image's ID, the platform, the units' keys, the source
// files, the handler): a build that finds its tag in the engine builds
// nothing.
package lambdaimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/builder"
	"github.com/layers-dev/layers/builder/prune"
	"github.com/layers-dev/layers/config"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/digest"
)

// TaskRoot is LAMBDA_TASK_ROOT, where the Lambda base image's runtime
// looks for the handler and where AWS's own recipes install
// dependencies.
const TaskRoot = "/var/task"

// MaxImageBytes is Lambda's limit on an image, uncompressed and with all
// its layers: "10 GB". Read as 10^10 bytes, the smaller reading: an image
// refused here would at worst have been accepted a few hundred megabytes
// later, while the other reading could let through one AWS refuses at
// deploy time.
const MaxImageBytes int64 = 10_000_000_000

// format is part of every content key: bump it when the image's layout
// changes, so no image of the old layout is taken for a new one.
const format = 1

// Repository is the local repository every function image is tagged in,
// as Repository/<function>:<content key prefix>.
const Repository = "layers"

// Engine is what building an image needs of the container engine;
// *engine.Docker has it.
type Engine interface {
	ImageInfo(ctx context.Context, ref string) (engine.ImageInfo, error)
	Commit(ctx context.Context, spec engine.CommitSpec) (string, error)
}

var _ Engine = (*engine.Docker)(nil)

// Spec is one function's image.
type Spec struct {
	Function string
	Target   config.Target
	// Base is the base image, resolved for the target's platform.
	Base builder.Image
	// Handler is the module.function the image's CMD names.
	Handler string
	// Units are the function's whole closure.
	Units []builder.Unit
	// Source are the function's own files, with names relative to the
	// function folder (digest.FunctionFiles).
	Source []archive.File
	// StripByteCode leaves the units' byte code out of the image
	// ([function.NAME] bytecode = "strip"); otherwise /var/task holds the
	// byte code the build image's Python, the runtime's, compiled.
	StripByteCode bool
}

// Result is a built (or found) image.
type Result struct {
	// Tag is the image's local reference, layers/<function>:<key prefix>.
	Tag        string
	ID         string
	Platform   string
	ContentKey string
	// ContentBytes is the size of what the image adds under /var/task.
	ContentBytes int64
	// ImageBytes is the image's uncompressed size, base included.
	ImageBytes int64
	// Built is false when the engine already had the tag.
	Built bool
	Took  time.Duration
}

// TooLargeError is an image over MaxImageBytes.
type TooLargeError struct {
	Function string
	Bytes    int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("function %s: its image would be %d bytes, over Lambda's %d-byte limit for container images", e.Function, e.Bytes, MaxImageBytes)
}

// Tag returns the local reference of a function's image with content key
// key.
func Tag(function, key string) string {
	return Repository + "/" + repoComponent(function) + ":" + key[:16]
}

// repoComponent turns a function name into a repository path component:
// lowercase letters and digits, single separators inside.
func repoComponent(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			sep = false
			b.WriteRune(r)
		default:
			sep = true
		}
	}
	if b.Len() == 0 {
		return "function"
	}
	return b.String()
}

// Find returns what the image of s is (its tag, content key and content
// size), and whether the engine already has it, in which case the result
// has its ID and size too. It builds nothing.
func Find(ctx context.Context, e Engine, s Spec) (Result, bool, error) {
	start := time.Now()
	if s.Base.ID == "" || s.Base.Platform == "" {
		return Result{}, false, errors.New("lambdaimage: the base image must be resolved")
	}
	// The key and the size come from the units' cache entries, so that a
	// build that finds the image never walks the units' files.
	key, err := contentKey(s)
	if err != nil {
		return Result{}, false, fmt.Errorf("function %s: %w", s.Function, err)
	}
	res := Result{Tag: Tag(s.Function, key), Platform: s.Base.Platform, ContentKey: key, ContentBytes: contentBytes(s)}
	info, err := e.ImageInfo(ctx, res.Tag)
	switch {
	case err == nil && info.Platform == s.Base.Platform && info.Labels[labelKey] == key:
		res.ID, res.ImageBytes, res.Took = info.ID, info.Size, time.Since(start)
		return res, true, nil
	case err != nil && !errors.Is(err, engine.ErrImageNotFound):
		return Result{}, false, err
	}
	return res, false, nil
}

// Build returns the image of s: the one the engine already has under its
// tag, else a new one.
func Build(ctx context.Context, e Engine, s Spec) (Result, error) {
	start := time.Now()
	res, found, err := Find(ctx, e, s)
	if err != nil || found {
		return res, err
	}
	key := res.ContentKey
	files, content, err := taskFiles(s)
	if err != nil {
		return Result{}, fmt.Errorf("function %s: %w", s.Function, err)
	}
	res.ContentBytes = content
	base, err := e.ImageInfo(ctx, s.Base.ID)
	if err != nil {
		return Result{}, fmt.Errorf("function %s: base image %s: %w", s.Function, s.Base.Ref, err)
	}
	if total := base.Size + content; total > MaxImageBytes {
		return Result{}, &TooLargeError{Function: s.Function, Bytes: total}
	}
	id, err := e.Commit(ctx, engine.CommitSpec{
		Base:     s.Base.ID,
		Platform: s.Base.Platform,
		In:       []engine.CopyIn{{Dir: "/", Files: files}},
		// Commit drops the base's entrypoint once a command is given.
		Entrypoint: base.Entrypoint,
		Cmd:        []string{s.Handler},
		Env:        withEnv(base.Env, "LAMBDA_TASK_ROOT", TaskRoot),
		WorkDir:    TaskRoot,
		Labels:     map[string]string{labelKey: key, labelFunction: s.Function, labelHandler: s.Handler},
		Ref:        res.Tag,
	})
	if err != nil {
		return Result{}, fmt.Errorf("function %s: build image: %w", s.Function, err)
	}
	info, err := e.ImageInfo(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("function %s: %w", s.Function, err)
	}
	if info.Platform != s.Base.Platform {
		return Result{}, fmt.Errorf("function %s: the engine built an image for %s, not %s", s.Function, info.Platform, s.Base.Platform)
	}
	if info.Size > MaxImageBytes {
		return Result{}, &TooLargeError{Function: s.Function, Bytes: info.Size}
	}
	res.ID, res.ImageBytes, res.Built, res.Took = info.ID, info.Size, true, time.Since(start)
	return res, nil
}

// Labels of a built image.
const (
	labelKey      = "layers.image.content-key"
	labelFunction = "layers.image.function"
	labelHandler  = "layers.image.handler"
)

// withEnv returns env with name set to value unless env sets it already:
// the base image's own value wins.
func withEnv(env []string, name, value string) []string {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return slices.Clone(env)
		}
	}
	return append(slices.Clone(env), name+"="+value)
}

// taskFiles lists what goes under /var/task: every unit's files, then the
// function's own, with the bytes of their regular files. A function file
// that a package also holds is an error naming both: one would silently
// shadow the other.
func taskFiles(s Spec) ([]archive.File, int64, error) {
	root := strings.TrimPrefix(TaskRoot, "/")
	owner := map[string]string{}
	files := []archive.File{{Name: root, Dir: true}}
	var bytes int64
	for _, u := range s.Units {
		fs, err := archive.Collect(os.DirFS(u.Dir), root)
		if err != nil {
			return nil, 0, fmt.Errorf("unit %s: %w", u.Spec, err)
		}
		for _, f := range fs {
			if s.StripByteCode && (prune.IsByteCode(strings.TrimPrefix(f.Name, root+"/")) || f.Dir && path.Base(f.Name) == "__pycache__") {
				continue
			}
			if f.Dir {
				files = append(files, f)
				continue
			}
			if other, ok := owner[f.Name]; ok {
				return nil, 0, fmt.Errorf("%s is in two packages, %s and %s", strings.TrimPrefix(f.Name, root+"/"), other, u.Spec.Package.Name)
			}
			owner[f.Name] = u.Spec.Package.Name
			files = append(files, f)
			bytes += f.Size
		}
	}
	for _, f := range s.Source {
		f.Name = path.Join(root, f.Name)
		if f.Dir {
			files = append(files, f)
			continue
		}
		if other, ok := owner[f.Name]; ok {
			return nil, 0, fmt.Errorf("its file %s is also in package %s: rename it, or leave it out with [function.%s] source",
				strings.TrimPrefix(f.Name, root+"/"), other, s.Function)
		}
		owner[f.Name] = "the function"
		files = append(files, f)
		bytes += f.Size
	}
	slices.SortStableFunc(files, func(a, b archive.File) int { return strings.Compare(a.Name, b.Name) })
	return files, bytes, nil
}

// contentBytes is the size of what goes under /var/task, from the units'
// cache entries and the source files' sizes.
func contentBytes(s Spec) int64 {
	var n int64
	for _, u := range s.Units {
		n += u.Bytes
		if s.StripByteCode {
			n -= u.ByteCode
		}
	}
	for _, f := range s.Source {
		if !f.Dir {
			n += f.Size
		}
	}
	return n
}

// contentKey digests everything the image is made of.
func contentKey(s Spec) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "lambda image %d\nbase %s\nplatform %s\nhandler %s\n", format, s.Base.ID, s.Base.Platform, s.Handler)
	if s.StripByteCode {
		fmt.Fprintf(h, "no byte code\n")
	}
	units := make([]string, 0, len(s.Units))
	for _, u := range s.Units {
		units = append(units, u.Key.Digest())
	}
	slices.Sort(units)
	for _, u := range units {
		fmt.Fprintf(h, "unit %s\n", u)
	}
	src, err := digest.Files(s.Source)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "source %s\n", src)
	return hex.EncodeToString(h.Sum(nil)), nil
}
