// Package config owns layers.toml: its schema, its defaults, strict
// validation with "file:line" errors, and the starter file `layers init`
// writes.
//
// A repository without layers.toml gets the defaults (see Default). A file
// is decoded over those defaults, so an absent key keeps its default and a
// present one must be valid: unknown keys, wrong types and bad values are
// *diag.Error values naming the file and line, and Parse reports one of
// them, the first in the document (syntax and type errors stop decoding, so
// they win over later-found problems).
//
// Adding a section or key for a later issue touches three places, all in this
// package: a field with a `toml` tag on Config (or on a struct it holds),
// its default in Default, and its checks in validate.go. Unknown-key
// detection, key suggestions and error lines follow from the tags. Starter
// must show the new key too: its test fails for a key it does not show.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/repofs"
)

// FileName is the name of the config file at a repository's root.
const FileName = "layers.toml"

// DefaultRuntime is the runtime of functions that name none.
const DefaultRuntime = "python3.12"

// Runtimes lists the Lambda Python runtimes layers builds for, oldest first.
// It is the one list of supported runtimes; treat it as read-only.
var Runtimes = []string{"python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"}

// Architectures lists the Lambda instruction set architectures by their
// Lambda names; treat it as read-only.
var Architectures = []string{"x86_64", "arm64"}

// Package modes: how a function is shipped.
const (
	PackageLayers = "layers" // code zip plus shared layers (the default)
	PackageImage  = "image"  // container image in ECR
)

// Publish defaults.
const (
	// DefaultInlineMaxBytes is the largest zip PublishLayerVersion takes
	// inline: 50 MB (Lambda rejects larger requests).
	DefaultInlineMaxBytes = 50_000_000
	// DefaultOutputs is where publish writes the outputs for
	// infrastructure code, relative to the root.
	DefaultOutputs = ".layers/outputs.json"
	// DefaultPlanFile is where build keeps its plan, relative to the root.
	DefaultPlanFile = ".layers/plan.json"
)

// Lambda's own limits, used as defaults.
const (
	maxLayersPerFunction         = 5
	defaultFunctionUnzippedBytes = 262144000 // 250 MiB: code plus all layers, unzipped
	// DefaultReservedLayers keeps one slot free for an extension layer
	// (Powertools, Datadog, Parameters and Secrets): without it, a team's
	// first extension breaks the deploy of every function whose five
	// slots the plan filled. bench/reserved.sh measured the cost on 24
	// functions of real packages: 1.8% more layer bytes, where 5 of the 24
	// had no free slot; `go test -bench Reserved ./planner/` on generated
	// monorepos: 22% more, where 62% had none.
	DefaultReservedLayers = 1
)

// Config is a decoded, validated layers.toml.
type Config struct {
	// Path is the file the config came from as given to Load or Parse, ""
	// for the defaults.
	Path string `toml:"-"`
	// Root is the folder that globs in Functions are relative to: the
	// config file's folder, or the root given to Default.
	Root string `toml:"-"`

	// Runtime is the Lambda runtime of every function without an override.
	Runtime string `toml:"runtime"`
	// Architectures are built for every function without an override; not
	// empty, no duplicates.
	Architectures []string `toml:"architectures"`
	// Handler is the module.function of every function without its own
	// (Function.Handler): what a container image's CMD names and what
	// verify imports. "" means none.
	Handler string `toml:"handler"`
	// Functions are doublestar globs of function folders relative to Root.
	// Empty means discovery: uv workspace members and functions/*.
	Functions []string `toml:"functions"`
	// Exclude lists distributions never put in layers, PEP 503-normalised.
	Exclude []string `toml:"exclude"`
	// Function holds per-function overrides by function name. Names that
	// match no function are the resolver's to report.
	Function map[string]Function `toml:"function"`
	// Limits bounds what the planner may produce.
	Limits Limits `toml:"limits"`
	// Layers tunes how packages are split into layers.
	Layers Layers `toml:"layers"`
	// Build says how units are installed in the build container.
	Build Build `toml:"build"`
	// Prune says which files of an installed unit are deleted before it is
	// measured and zipped.
	Prune Prune `toml:"prune"`
	// Publish says where and how `layers publish` publishes.
	Publish Publish `toml:"publish"`
	// Image says how functions packaged as container images are built and
	// pushed.
	Image Image `toml:"image"`
	// Verify says where `layers verify` imports the built layers.
	Verify Verify `toml:"verify"`
	// Cache says where the remote tier of the caches is.
	Cache Cache `toml:"cache"`
}

// Cache are the [cache] settings: the remote tier that CI runners and
// laptops share, behind the local unit cache ($LAYERS_CACHE).
type Cache struct {
	// URL is s3://BUCKET/PREFIX; "" means no remote tier.
	// LAYERS_CACHE_URL and --cache-url override it.
	URL string `toml:"url"`
	// Write uploads what a run builds, and the plan publish published.
	// false reads without writing: pull requests from forks must not
	// poison the cache (LAYERS_CACHE_READ_ONLY, --cache-read-only).
	Write bool `toml:"write"`
}

// Publish are the [publish] settings.
type Publish struct {
	// Region is the AWS region; "" leaves it to --region and the SDK's
	// environment and profile.
	Region string `toml:"region"`
	// Profile is the shared-config profile; "" leaves it to --profile and
	// AWS_PROFILE.
	Profile string `toml:"profile"`
	// S3Bucket receives zips larger than InlineMaxBytes; "" means none, and
	// such a zip is an error before anything is published.
	S3Bucket string `toml:"s3_bucket"`
	// S3Prefix starts the key of every uploaded zip ("" for none).
	S3Prefix string `toml:"s3_prefix"`
	// InlineMaxBytes is the largest zip sent inline in PublishLayerVersion;
	// larger zips go through S3Bucket.
	InlineMaxBytes int64 `toml:"inline_max_bytes"`
	// ShareWith are the principals every layer version is shared with:
	// 12-digit account ids, "*" (everyone) or an organisation id "o-...".
	ShareWith []string `toml:"share_with"`
	// LicenseInfo goes into every layer version (at most 512 characters).
	LicenseInfo string `toml:"license_info"`
	// Outputs is the outputs file for infrastructure code, relative to Root.
	Outputs string `toml:"outputs"`
}

// Image are the [image] settings for functions packaged as container
// images.
type Image struct {
	// Base is the base image; "" means the runtime's Lambda image for the
	// architecture (Target.LambdaImage).
	Base string `toml:"base"`
	// Repository is the ECR repository name images are pushed to; required
	// when a function is an image.
	Repository string `toml:"repository"`
	// ScanOnPush turns on ECR image scanning for a repository layers
	// creates.
	ScanOnPush bool `toml:"scan_on_push"`
	// TagImmutability makes tags immutable in a repository layers creates.
	TagImmutability bool `toml:"tag_immutability"`
	// Registry overrides the registry host images are pushed to (a pull-
	// through cache, a proxy, a local registry in tests); "" means the one
	// ECR's authorization token names. LAYERS_REGISTRY overrides it.
	Registry string `toml:"registry"`
}

// Verify are the [verify] settings.
type Verify struct {
	// Image is the runtime image layers are imported in; "" means the
	// runtime's Lambda image for the architecture (Target.LambdaImage).
	Image string `toml:"image"`
}

// Build are the [build] settings.
type Build struct {
	// Image is the build image reference for every function without its
	// own; "" means the runtime's SAM build image for the architecture.
	Image string `toml:"image"`
	// CABundle is a PEM file, relative to Root, that pip in the build
	// container trusts instead of the image's own bundle: needed behind
	// proxies that re-sign TLS. LAYERS_CA_BUNDLE overrides it.
	CABundle string `toml:"ca_bundle"`
	// Installer is InstallerUV (the default) or InstallerPip: what
	// installs wheels in the build container. Source distributions and
	// local or URL packages are always built by pip.
	Installer string `toml:"installer"`
	// Engines is [build] engines as written: an array of Docker engine
	// addresses for every architecture, or a table of such arrays by
	// architecture ([build.engines] x86_64 = [...]). Unset means the
	// engine the environment names (DOCKER_HOST), as without the key.
	Engines any `toml:"engines"`
	// EnginesByArch is Engines checked, by architecture; nil when
	// Engines is unset. An architecture the table leaves out builds on
	// the environment's engine.
	EnginesByArch map[string][]EngineAddress `toml:"-"`
}

// Installers, [build] installer.
const (
	// InstallerUV installs wheels with uv, in parallel, in the build
	// container (uv itself is installed there once, by pip, and cached).
	InstallerUV = "uv"
	// InstallerPip installs every unit with pip, one after another.
	InstallerPip = "pip"
)

// Byte-code modes, [prune] bytecode and [function.NAME] bytecode.
const (
	// BytecodeCompile ships byte code compiled for the runtime's Python, so
	// that a cold start does not compile every import (the default).
	BytecodeCompile = "compile"
	// BytecodeStrip ships no byte code: smaller, slower cold starts.
	BytecodeStrip = "strip"
)

// Prune are the [prune] settings; builder/prune documents each rule. The
// default ships compiled byte code and removes nothing else.
type Prune struct {
	// Tests removes the test folders of packages.
	Tests bool `toml:"tests"`
	// Patterns are doublestar globs of files to remove, relative to the
	// site-packages folder.
	Patterns []string `toml:"patterns"`
	// Keep are globs that win over every removal rule.
	Keep []string `toml:"keep"`
	// Strip removes debug symbols from shared objects, with the build
	// image's strip.
	Strip bool `toml:"strip"`
	// Bytecode is BytecodeCompile or BytecodeStrip.
	Bytecode string `toml:"bytecode"`
}

// Function is one function's settings. In Config.Function it holds
// overrides (zero values inherit); from For it holds the effective values.
type Function struct {
	// Runtime overrides Config.Runtime.
	Runtime string `toml:"runtime"`
	// Architectures override Config.Architectures.
	Architectures []string `toml:"architectures"`
	// Requirements names the dependency file, relative to the function
	// folder; "" lets the resolver find it.
	Requirements string `toml:"requirements"`
	// Extras of the function's own project to install (normalised).
	Extras []string `toml:"extras"`
	// Groups are PEP 735 dependency groups to install (normalised).
	Groups []string `toml:"groups"`
	// Package is PackageLayers or PackageImage.
	Package string `toml:"package"`
	// Handler is the module.function Lambda calls, like "app.handler";
	// "" inherits Config.Handler.
	Handler string `toml:"handler"`
	// Source are doublestar globs of the function's files, relative to its
	// folder.
	Source []string `toml:"source"`
	// Image overrides Build.Image. Functions of one runtime and
	// architecture share units, so they must agree on the image.
	Image string `toml:"image"`
	// Bytecode overrides Prune.Bytecode for the packages in this
	// function's image; only a function with Package PackageImage may set
	// it (layers are made of units shared by functions).
	Bytecode string `toml:"bytecode"`
}

// Limits are the bounds the planner works within.
type Limits struct {
	// LayersPerFunction is how many layers a function may use, 1..5.
	LayersPerFunction int `toml:"layers_per_function"`
	// ReservedLayers of those are left free for layers added outside
	// layers (extensions, say); less than LayersPerFunction. Default
	// [DefaultReservedLayers].
	ReservedLayers int `toml:"reserved_layers"`
	// FunctionUnzippedBytes bounds a function's code plus its layers,
	// unzipped.
	FunctionUnzippedBytes int64 `toml:"function_unzipped_bytes"`
}

// Layers are the knobs of the split into layers.
type Layers struct {
	// Prefix starts every layer name: [A-Za-z0-9_-], at most 64 bytes.
	Prefix string `toml:"prefix"`
	// MaxExtra is a fraction in [0, 1]; nil leaves it to the planner.
	MaxExtra *float64 `toml:"max_extra"`
	// Groups maps a layer group name to distributions (normalised) that
	// always share a layer; a distribution is in one group at most.
	Groups map[string][]string `toml:"groups"`
	// LocalInCode ships the repository's own (local) packages with the
	// function code instead of in layers.
	LocalInCode bool `toml:"local_in_code"`
	// PlanFile is where build keeps the plan it built, relative to Root;
	// the next plan keeps the layers of that one that are still valid.
	// The default lives in .layers/, which a fresh CI checkout lacks:
	// pointing it at a tracked file keeps layers stable across CI runs.
	PlanFile string `toml:"plan_file"`
}

// Default returns the configuration of a repository at root that has no
// layers.toml.
func Default(root string) *Config {
	return &Config{
		Root:          root,
		Runtime:       DefaultRuntime,
		Architectures: []string{"x86_64"},
		Limits: Limits{
			LayersPerFunction:     maxLayersPerFunction,
			ReservedLayers:        DefaultReservedLayers,
			FunctionUnzippedBytes: defaultFunctionUnzippedBytes,
		},
		Layers: Layers{PlanFile: DefaultPlanFile},
		Build:  Build{Installer: InstallerUV},
		Prune:  Prune{Bytecode: BytecodeCompile},
		Cache:  Cache{Write: true},
		Publish: Publish{
			InlineMaxBytes: DefaultInlineMaxBytes,
			Outputs:        DefaultOutputs,
		},
	}
}

// PlanPath is the absolute path of [layers] plan_file.
func (c *Config) PlanPath() string {
	return filepath.Join(c.Root, filepath.FromSlash(c.Layers.PlanFile))
}

// Load reads the config of the repository at root. With file "", that is
// root/layers.toml when it exists and Default(root) when it does not; a file
// given explicitly (relative to the working directory) must exist.
func Load(root, file string) (*Config, error) {
	explicit := file != ""
	if !explicit {
		file = filepath.Join(root, FileName)
	}
	data, err := repofs.ReadPath(file)
	switch {
	case err == nil:
		return Parse(file, data)
	case diag.IsInput(err):
		return nil, err
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return Default(root), nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, &diag.Error{Path: file, Msg: "config file does not exist", Err: err}
	default:
		return nil, fmt.Errorf("read config: %w", err)
	}
}

// For returns the effective settings of the function called name: its
// overrides over the global values, with Package defaulted. The result
// shares no slices with c.
func (c *Config) For(name string) Function {
	f := c.Function[name]
	if f.Runtime == "" {
		f.Runtime = c.Runtime
	}
	if f.Architectures == nil {
		f.Architectures = c.Architectures
	}
	if f.Package == "" {
		f.Package = PackageLayers
	}
	if f.Handler == "" {
		f.Handler = c.Handler
	}
	if f.Image == "" {
		f.Image = c.Build.Image
	}
	if f.Bytecode == "" {
		f.Bytecode = c.Prune.Bytecode
	}
	f.Architectures = slices.Clone(f.Architectures)
	f.Extras = slices.Clone(f.Extras)
	f.Groups = slices.Clone(f.Groups)
	f.Source = slices.Clone(f.Source)
	return f
}

// TargetsFor returns the targets the function called name is built for.
func (c *Config) TargetsFor(name string) []Target {
	return c.For(name).Targets()
}
