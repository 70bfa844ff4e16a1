package planner

// Defaults applied when a field of [Limits] or [Rules] is left at its zero value.
const (
	// DefaultLayersPerFunction is Lambda's quota of layers per function.
	DefaultLayersPerFunction = 5
	// DefaultFunctionUnzippedBytes is Lambda's quota for a function's code plus
	// all its layers, unzipped (250 MiB).
	DefaultFunctionUnzippedBytes int64 = 262_144_000
	// DefaultMaxExtra is the MaxExtra used when [Rules.MaxExtra] is nil; the
	// package documentation says why.
	DefaultMaxExtra = 0.10
	// UnknownSizeEstimate is the size assumed for a distribution whose size
	// is unknown when grouping and bounding extra bytes. It is never counted
	// when deciding whether a function fits its size limit, so it never makes
	// a function an image.
	UnknownSizeEstimate int64 = 1 << 20
	// MaxLayerNameLength is Lambda's limit on a layer name.
	MaxLayerNameLength = 140
	// MaxPrefixLength is the longest accepted [Rules.Prefix]; the rest of the
	// 140 characters is kept for the readable hint and the content hash.
	MaxPrefixLength = 80
)

// Target is one Lambda runtime and architecture. The same distribution and
// version built for two targets are two different artifacts, so each target
// is planned on its own.
type Target struct {
	// Runtime is the Lambda runtime identifier, e.g. "python3.12".
	Runtime string `json:"runtime"`
	// Architecture is "x86_64" or "arm64".
	Architecture string `json:"architecture"`
}

// Dist is one resolved distribution in a function's closure.
type Dist struct {
	// Name is the distribution name; the planner compares names after PEP 503
	// normalisation.
	Name string `json:"name"`
	// Version is the resolved version.
	Version string `json:"version"`
	// Source says where the distribution comes from (an index, a path, a VCS
	// URL: the caller's [resolver.Package.Origin]). The planner only
	// compares it, and shows it for a distribution with no version: the same
	// name and version from two sources are two different artifacts.
	Source string `json:"source,omitempty"`
	// Local marks a package built from a path inside the repository.
	Local bool `json:"local,omitempty"`
}

// Closure is the full set of distributions a function needs at run time, for
// its target.
type Closure []Dist

// Function is one Lambda function to plan.
type Function struct {
	// Name identifies the function; names are unique across all targets.
	Name string
	// Target is the runtime and architecture the function runs on.
	Target Target
	// Closure is the function's resolved dependency closure.
	Closure Closure
	// CodeBytes is the unzipped size of the function's own code.
	CodeBytes int64
}

// SizeKind says how much a [Size] can be trusted.
type SizeKind uint8

// Size kinds, from least to most trustworthy.
const (
	// SizeUnknown: nothing is known; the zero value, and the meaning of a
	// distribution missing from [Input.Sizes].
	SizeUnknown SizeKind = iota
	// SizeEstimated: estimated from the lock file's wheel size for the target.
	SizeEstimated
	// SizeMeasured: the unzipped size measured by the builder.
	SizeMeasured
)

// Size is the unzipped size of one distribution built for one target.
type Size struct {
	// Bytes is the unzipped size; ignored when Kind is SizeUnknown.
	Bytes int64
	// Kind says whether Bytes was measured, estimated, or is unknown.
	Kind SizeKind
}

// Unit identifies one distribution built for one target: the key of
// [Input.Sizes].
type Unit struct {
	// Target is the runtime and architecture the distribution is built for.
	Target Target
	// Name, Version and Source are those of the [Dist].
	Name, Version, Source string
}

// Limits are the quotas a plan must respect. Zero values mean the defaults.
type Limits struct {
	// LayersPerFunction is the number of layers a function may attach
	// (layers_per_function, default 5).
	LayersPerFunction int `json:"layers_per_function"`
	// ReservedLayers are kept free for extensions such as Datadog or
	// Powertools (reserved_layers, default 0).
	ReservedLayers int `json:"reserved_layers"`
	// FunctionUnzippedBytes bounds a function's code plus all its layers,
	// unzipped (function_unzipped_bytes, default 262,144,000).
	FunctionUnzippedBytes int64 `json:"function_unzipped_bytes"`
}

// Group is a named set of distributions users pin together: for every
// function, the members it has land in one layer.
type Group struct {
	// Name is the group's name in layers.toml, e.g. "aws".
	Name string
	// Packages are distribution names, e.g. boto3, botocore, s3transfer.
	Packages []string
}

// Rules are the user's choices from layers.toml.
type Rules struct {
	// Prefix starts every layer name; it may hold [a-zA-Z0-9-_] only and at
	// most MaxPrefixLength characters. A "-" separates it from the rest unless
	// it already ends with "-" or "_".
	Prefix string
	// Groups are distributions pinned together.
	Groups []Group
	// Images names functions configured with package = "image".
	Images []string
	// MaxExtra bounds the fraction of extra bytes (bytes a function
	// receives that are not in its closure, relative to its closure size) the
	// planner delivers in exchange for sharing, in [0, 1]: none receives
	// more than three times as much, and on generated monorepos the median
	// function stays within it (see the package doc: a guide, not a strict
	// bound, since packages delivered twice are not counted). Higher
	// gives fewer, bigger shared layers and less storage; lower gives more,
	// tighter layers. Nil means DefaultMaxExtra.
	MaxExtra *float64
}

// Input is everything the planner needs.
type Input struct {
	// Functions to plan; their targets define the targets of the plan.
	Functions []Function
	// Sizes of each distribution per target. A missing entry is unknown.
	Sizes map[Unit]Size
	// Limits are Lambda's quotas as configured.
	Limits Limits
	// Rules are the user's grouping and naming choices.
	Rules Rules
	// Previous is the plan published last, if any. A layer of it whose
	// content is still valid for a function that attached it is attached
	// again unchanged (same content, same name) before anything else is
	// planned, so a small change rebuilds and republishes few layers. Only
	// the targets, the layers' names, packages, kind, classes and copies,
	// and the functions' names and layers are read. Nil plans from scratch.
	Previous *Plan
	// LocalWithCode ships local packages (Dist.Local) inside each function's
	// code instead of in layers; their sizes count towards the function's
	// code.
	LocalWithCode bool
}

// PackageType is how a function is deployed.
type PackageType string

// Package types.
const (
	// PackageLayers is a zip function with its dependencies in layers.
	PackageLayers PackageType = "layers"
	// PackageImage is a container image holding code and dependencies.
	PackageImage PackageType = "image"
)

// LayerKind says why a layer exists.
type LayerKind string

// Layer kinds.
const (
	// LayerShared is built from sharing classes (packages needed by the same
	// functions), possibly merged to fit budgets, plus copies of packages
	// most of its functions need.
	LayerShared LayerKind = "shared"
	// LayerFunction holds what no shared layer delivered to a function: its
	// own packages and copies of shared ones that did not fit its budget. It
	// may be shared by functions whose leftovers are alike.
	LayerFunction LayerKind = "function"
)

// PackageRef is one distribution inside a layer or an image.
type PackageRef struct {
	// Name is the PEP 503 normalised distribution name.
	Name string `json:"name"`
	// Version is the resolved version.
	Version string `json:"version"`
	// Source is the Dist's source, if any.
	Source string `json:"source,omitempty"`
	// Local marks a package built from a path in the repository.
	Local bool `json:"local,omitempty"`
}

// String names the package for people: name==version, or name @ source
// when only a build can tell the version (a VCS URL).
func (r PackageRef) String() string { return label(r.Name, r.Version, r.Source) }

// String names the distribution as [PackageRef.String] does.
func (d Dist) String() string { return label(d.Name, d.Version, d.Source) }

// release is the version, or the source while the version is unknown.
func (r PackageRef) release() string {
	if r.Version == "" && r.Source != "" {
		return r.Source
	}
	return r.Version
}

func label(name, version, source string) string {
	if version == "" && source != "" {
		return name + " @ " + source
	}
	return name + "==" + version
}

// Layer is one layer to build and publish.
type Layer struct {
	// Name is derived from the content: prefix, a readable hint, and a hash
	// of the target and the sorted packages.
	Name string `json:"name"`
	// Kind says why the layer exists.
	Kind LayerKind `json:"kind"`
	// Packages are the layer's content, sorted by name.
	Packages []PackageRef `json:"packages"`
	// Functions are the functions that attach the layer, sorted.
	Functions []string `json:"functions"`
	// Groups are the user groups whose packages the layer holds.
	Groups []string `json:"groups,omitempty"`
	// Classes is the number of sharing classes (packages needed by exactly
	// the same functions) merged into a shared layer; more than one means
	// packages were merged, so some functions receive extra bytes.
	Classes int `json:"classes,omitempty"`
	// Copied names packages copied into a shared layer because most of its
	// functions needed them; they also live in other layers.
	Copied []string `json:"copied,omitempty"`
	// Kept is true when the layer is reused unchanged from Input.Previous.
	Kept bool `json:"kept,omitempty"`
	// UnzippedBytes is the layer's size; nil when a package size is unknown.
	UnzippedBytes *int64 `json:"unzipped_bytes"`
	// Estimated is true when some package sizes are lock-file estimates.
	Estimated bool `json:"estimated,omitempty"`
}

// FunctionPlan is how one function is deployed.
type FunctionPlan struct {
	// Name is the function's name.
	Name string `json:"name"`
	// PackageType is "layers" or "image".
	PackageType PackageType `json:"package_type"`
	// Layers are the names of the layers to attach, sorted: no two of them
	// hold different versions of a package, so their order does not matter.
	Layers []string `json:"layers"`
	// Reason says why the function is an image, with the numbers.
	Reason string `json:"reason,omitempty"`
	// CodeBytes is the size of the function's own code.
	CodeBytes int64 `json:"code_bytes"`
	// CodePackages are local packages shipped inside the function code
	// (Input.LocalWithCode).
	CodePackages []PackageRef `json:"code_packages,omitempty"`
	// Packages is the whole closure of an image function: what its image
	// must install.
	Packages []PackageRef `json:"packages,omitempty"`
	// ClosureBytes is the size of the packages the function needs from
	// layers (or from its image); nil when a size is unknown.
	ClosureBytes *int64 `json:"closure_bytes"`
	// ExtraBytes is the size of the packages its layers deliver that it does
	// not need; nil when a size is unknown.
	ExtraBytes *int64 `json:"extra_bytes,omitempty"`
	// UnzippedBytes is code plus all layers (or code plus closure for an
	// image); nil when a size is unknown.
	UnzippedBytes *int64 `json:"unzipped_bytes"`
	// Estimated is true when some sizes behind these figures are estimates.
	Estimated bool `json:"estimated,omitempty"`
	// NeededLayers is the number of layers the function would attach if it
	// attached every shared layer holding its packages; when it exceeds the
	// budget, the smallest are copied into one function layer.
	NeededLayers int `json:"needed_layers,omitempty"`
}

// TargetPlan is the plan for one target.
type TargetPlan struct {
	// Target is the runtime and architecture.
	Target Target `json:"target"`
	// Layers are sorted by name.
	Layers []Layer `json:"layers"`
	// Functions are sorted by name.
	Functions []FunctionPlan `json:"functions"`
}

// Plan is the planner's result: one TargetPlan per target, sorted by runtime
// then architecture.
type Plan struct {
	// Limits are the effective limits (defaults filled in).
	Limits Limits `json:"limits"`
	// MaxExtra is the effective MaxExtra.
	MaxExtra float64 `json:"max_extra"`
	// Targets holds one plan per target.
	Targets []TargetPlan `json:"targets"`
}
