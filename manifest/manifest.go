// Package manifest owns .layers/build.json, the build manifest: what
// `layers build` produced (layer zips, container images, each function's
// packaging) and what `layers publish`, `layers verify` and `layers report`
// read. It holds the file's types, its location under the repository root
// and its reading and writing, the plan file, and the lock that keeps two
// runs from writing .layers/ at once; it knows nothing of how a build is
// made.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/layers-dev/layers/internal/atomicfile"
	"github.com/layers-dev/layers/planner"
)

// Where `layers build` writes, relative to the repository root.
const (
	Dir     = ".layers"
	DistDir = ".layers/dist"
	File    = ".layers/build.json"
)

// Format is the manifest format this layers reads and writes; readers
// refuse others.
const Format = 1

// ErrNoManifest is returned by Read for a repository never built.
var ErrNoManifest = errors.New("no build manifest: run `layers build` first")

// Manifest is .layers/build.json.
type Manifest struct {
	Format int    `json:"format"`
	Tool   string `json:"tool"`
	// InputsSHA256 digests every input of the build at build time:
	// publish recomputes it to refuse a manifest older than the inputs.
	InputsSHA256 string `json:"inputs_sha256"`
	// SourceDateEpoch is the time on every zip entry, in Unix seconds.
	SourceDateEpoch int64    `json:"source_date_epoch"`
	Targets         []Target `json:"targets"`
}

// Target is one runtime and architecture of a Manifest.
type Target struct {
	Runtime      string     `json:"runtime"`
	Architecture string     `json:"architecture"`
	Image        BuildImage `json:"build_image"`
	Layers       []Layer    `json:"layers"`
	Functions    []Function `json:"functions"`
	// Images are the functions shipped as container images instead of
	// layers.
	Images []Image `json:"images"`
}

// BuildImage is the build image a target's units were installed in.
type BuildImage struct {
	Ref      string `json:"ref"`      // as configured
	ID       string `json:"id"`       // the image the ref named at build time
	Platform string `json:"platform"` // linux/amd64 or linux/arm64
}

// Layer is one built layer zip.
type Layer struct {
	Name string `json:"name"`
	// File is the zip's path relative to the repository root.
	File          string `json:"file"`
	SHA256        string `json:"sha256"`
	CodeSha256    string `json:"code_sha256"` // base64, as Lambda reports it
	ZippedBytes   int64  `json:"zipped_bytes"`
	UnzippedBytes int64  `json:"unzipped_bytes"`
	// ByteCodeBytes is the part of UnzippedBytes that is compiled byte
	// code ([prune] bytecode).
	ByteCodeBytes int64                `json:"bytecode_bytes,omitempty"`
	Packages      []planner.PackageRef `json:"packages"`
	Functions     []string             `json:"functions"`
	// ContentKey digests the layer's unit keys and the zip time: a zip
	// whose key has not changed need not be rewritten.
	ContentKey string `json:"content_key"`
}

// Function is one function of a target.
type Function struct {
	Name        string              `json:"name"`
	Path        string              `json:"path"`
	PackageType planner.PackageType `json:"package_type"`
	// Layers are the layer names to attach, in order.
	Layers        []string `json:"layers"`
	UnzippedBytes *int64   `json:"unzipped_bytes"`
	// ByteCodeBytes is the part of UnzippedBytes that is compiled byte
	// code: its layers' (or its image's packages').
	ByteCodeBytes int64 `json:"bytecode_bytes,omitempty"`
	// Packages are what the function needs from its layers, its closure
	// (its layers may deliver more): what `layers verify` imports and
	// checks. Manifests written before it was recorded lack it.
	Packages []planner.PackageRef `json:"packages,omitempty"`
}

// Image is a function shipped as a container image.
type Image struct {
	Function string               `json:"function"`
	Reason   string               `json:"reason"`
	Packages []planner.PackageRef `json:"packages"`
	// Tag is the built image's reference in the engine that built it,
	// tagged with its content hash; "" until images are built.
	Tag string `json:"tag,omitempty"`
	// Handler is the module.function the image's CMD names.
	Handler string `json:"handler,omitempty"`
	// ImageID is the ID the engine gave the image.
	ImageID string `json:"image_id,omitempty"`
	// Platform is the image's one platform, linux/amd64 or linux/arm64.
	Platform string `json:"platform,omitempty"`
	// Base is the base image as configured, BaseID the image it named.
	Base   string `json:"base,omitempty"`
	BaseID string `json:"base_id,omitempty"`
	// ContentKey digests everything the image is made of; Tag ends with
	// its first 16 characters, and publish tags the pushed image with it.
	ContentKey string `json:"content_key,omitempty"`
	// SourceSHA256 digests the function's source files as the image got
	// them (digest.Function): publish refuses an image whose
	// source changed since the build.
	SourceSHA256 string `json:"source_sha256,omitempty"`
	// UnzippedBytes is what the image adds under /var/task: the
	// dependencies and the function's source.
	UnzippedBytes int64 `json:"unzipped_bytes,omitempty"`
	// ImageBytes is the image's uncompressed size, base included, which
	// Lambda bounds at 10 GB.
	ImageBytes int64 `json:"image_bytes,omitempty"`
	// Registry is the image's URI (repository@digest) when the build
	// found it in the registry images are pushed to and built nothing:
	// ImageID and ImageBytes are then empty, as the engine has no image.
	Registry string `json:"registry,omitempty"`
}

// Path returns where the manifest of the repository at root lives.
func Path(root string) string {
	return filepath.Join(root, filepath.FromSlash(File))
}

// Read reads the manifest of the repository at root: ErrNoManifest when
// there is none, an error naming the file when it is unreadable or of
// another format.
func Read(root string) (*Manifest, error) {
	data, err := os.ReadFile(Path(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoManifest
	}
	if err != nil {
		return nil, fmt.Errorf("read build manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %d, this layers reads format %d: run `layers build`", File, m.Format, Format)
	}
	return &m, nil
}

// Write writes m as the manifest of the repository at root, atomically:
// readers see the old manifest or the new one, never a part.
func Write(root string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write build manifest: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, Dir), 0o755); err != nil {
		return fmt.Errorf("write build manifest: %w", err)
	}
	if err := atomicfile.WriteFile(Path(root), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write build manifest: %w", err)
	}
	return nil
}

// LayersByName returns the layers of every target by name; a missing or
// unreadable manifest has none. Build uses it to reuse unchanged zips.
func (m *Manifest) LayersByName() map[string]Layer {
	out := map[string]Layer{}
	if m == nil {
		return out
	}
	for _, t := range m.Targets {
		for _, l := range t.Layers {
			out[l.Name] = l
		}
	}
	return out
}

// ReadPlan returns the plan the last build wrote to path ([layers]
// plan_file), or nil when there is none. The plan is a hint for stability,
// so a file that cannot be read or decoded is also nil: the next plan
// starts from scratch, which is always correct.
func ReadPlan(path string) *planner.Plan {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return ParsePlan(data)
}

// ParsePlan decodes a plan as WritePlan writes it, or returns nil.
func ParsePlan(data []byte) *planner.Plan {
	var p planner.Plan
	if json.Unmarshal(data, &p) != nil {
		return nil
	}
	return &p
}

// WritePlan writes p to path atomically, creating its folder.
func WritePlan(path string, p *planner.Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// ByteCodePushesOver reports whether a function of unzipped bytes, over
// limit, would fit without its byteCode bytes of byte code.
func ByteCodePushesOver(unzipped *int64, byteCode, limit int64) bool {
	return unzipped != nil && byteCode > 0 && *unzipped > limit && *unzipped-byteCode <= limit
}
