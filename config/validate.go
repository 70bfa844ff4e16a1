package config

import (
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// validate checks every value of a decoded config, normalising names in
// place, and returns the problems found. A list reports its first problem
// only: the others come later in the document.
func (c *Config) validate() []problem {
	v := &validator{}

	v.runtime(c.Runtime, "runtime")
	v.architectures(c.Architectures, "architectures")
	if c.Handler != "" && !handler.MatchString(c.Handler) {
		v.errorf([]any{"handler"}, "invalid handler %s (want module.function, like \"app.handler\")", tomlString(c.Handler))
	}
	v.globs(c.Functions, "the config file's folder", "functions")
	c.Exclude = v.names(c.Exclude, "distribution", "exclude")

	for _, name := range slices.Sorted(maps.Keys(c.Function)) {
		f := c.Function[name]
		at := func(key ...any) []any { return append([]any{"function", name}, key...) }
		if f.Runtime != "" {
			v.runtime(f.Runtime, at("runtime")...)
		}
		if f.Architectures != nil {
			v.architectures(f.Architectures, at("architectures")...)
		}
		if filepath.IsAbs(f.Requirements) || strings.HasPrefix(f.Requirements, "/") {
			v.errorf(at("requirements"), "%s must be relative to the function folder", tomlString(f.Requirements))
		}
		f.Extras = v.names(f.Extras, "extra", at("extras")...)
		f.Groups = v.names(f.Groups, "dependency group", at("groups")...)
		if f.Package != "" && f.Package != PackageLayers && f.Package != PackageImage {
			v.errorf(at("package"), "want %q or %q, got %s", PackageLayers, PackageImage, tomlString(f.Package))
		}
		if f.Handler != "" && !handler.MatchString(f.Handler) {
			v.errorf(at("handler"), "invalid handler %s (want module.function, like \"app.handler\")", tomlString(f.Handler))
		}
		v.globs(f.Source, "the function folder", at("source")...)
		v.image(f.Image, at("image")...)
		if f.Bytecode != "" {
			v.bytecode(f.Bytecode, at("bytecode")...)
			// Layers are made of units that several functions share,
			// built in one mode: only an image's packages are its own.
			switch {
			case f.Bytecode == c.Prune.Bytecode || f.Bytecode == BytecodeStrip && f.Package == PackageImage:
			case f.Package != PackageImage:
				v.errorf(at("bytecode"), "only a function with package = %q can choose its own byte code: functions in layers share their packages' units with other functions; set [prune] bytecode for all of them", PackageImage)
			default:
				v.errorf(at("bytecode"), "%q needs [prune] bytecode = %q: an image leaves out the byte code of units compiled for all functions, and with %q there is none", BytecodeCompile, BytecodeCompile, BytecodeStrip)
			}
		}
		c.Function[name] = f
	}

	l := c.Limits
	perFunctionOK := l.LayersPerFunction >= 1 && l.LayersPerFunction <= maxLayersPerFunction
	if !perFunctionOK {
		v.errorf([]any{"limits", "layers_per_function"}, "%d is out of range 1..%d", l.LayersPerFunction, maxLayersPerFunction)
	}
	switch {
	case l.ReservedLayers < 0:
		v.errorf([]any{"limits", "reserved_layers"}, "%d must not be negative", l.ReservedLayers)
	case perFunctionOK && l.ReservedLayers >= l.LayersPerFunction:
		v.errorf([]any{"limits", "reserved_layers"}, "%d must be less than layers_per_function (%d)", l.ReservedLayers, l.LayersPerFunction)
	}
	if l.FunctionUnzippedBytes <= 0 {
		v.errorf([]any{"limits", "function_unzipped_bytes"}, "%d must be positive", l.FunctionUnzippedBytes)
	}

	if p := c.Layers.Prefix; !layerName.MatchString(p) && p != "" {
		v.errorf([]any{"layers", "prefix"}, "%s %s", tomlString(p), layerNameRule)
	}
	if m := c.Layers.MaxExtra; m != nil && !(*m >= 0 && *m <= 1) { // NaN fails both
		v.errorf([]any{"layers", "max_extra"}, "%v is out of range 0..1", *m)
	}
	v.layerGroups(c.Layers.Groups, c.Exclude)
	if !insideRoot(c.Layers.PlanFile) {
		v.errorf([]any{"layers", "plan_file"}, "%s must be a path inside the repository", tomlString(c.Layers.PlanFile))
	}

	v.image(c.Build.Image, "build", "image")
	if b := c.Build.CABundle; strings.TrimSpace(b) != b {
		v.errorf([]any{"build", "ca_bundle"}, "%s has leading or trailing spaces", tomlString(b))
	}
	if i := c.Build.Installer; i != InstallerUV && i != InstallerPip {
		v.errorf([]any{"build", "installer"}, "want %q (wheels installed in parallel by uv) or %q, got %s", InstallerUV, InstallerPip, tomlString(i))
	}
	c.Build.EnginesByArch = v.engines(c.Build.Engines)
	v.pruneGlobs(c.Prune.Patterns, "patterns")
	v.pruneGlobs(c.Prune.Keep, "keep")
	v.bytecode(c.Prune.Bytecode, "prune", "bytecode")
	v.publish(&c.Publish)
	v.cache(&c.Cache)
	v.imageSection(&c.Image)
	v.image(c.Verify.Image, "verify", "image")
	return v.problems
}

// validator collects problems.
type validator struct {
	problems []problem
}

// errorf records "key: message" at key, a tomlpos path.
func (v *validator) errorf(key []any, format string, args ...any) {
	var parts []string
	for _, k := range key {
		if s, ok := k.(string); ok {
			parts = append(parts, s)
		}
	}
	msg := keyString(parts...) + ": " + fmt.Sprintf(format, args...)
	v.problems = append(v.problems, problem{key: key, msg: msg})
}

func (v *validator) runtime(r string, key ...any) {
	if !slices.Contains(Runtimes, r) {
		v.errorf(key, "unsupported runtime %s (supported: %s)", tomlString(r), strings.Join(Runtimes, ", "))
	}
}

// archAliases are other names people use for an architecture.
var archAliases = map[string]string{"amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}

func (v *validator) architectures(archs []string, key ...any) {
	if len(archs) == 0 {
		v.errorf(key, "must not be empty (want %s)", strings.Join(Architectures, " and/or "))
	}
	for i, a := range archs {
		at := append(slices.Clip(key), i)
		switch {
		case !slices.Contains(Architectures, a):
			hint := ""
			if alias, ok := archAliases[strings.ToLower(a)]; ok {
				hint = fmt.Sprintf("; did you mean %q?", alias)
			}
			v.errorf(at, "unknown architecture %s (want %s%s)", tomlString(a), strings.Join(Architectures, " or "), hint)
			return
		case slices.Contains(archs[:i], a):
			v.errorf(at, "%q is listed twice", a)
			return
		}
	}
}

// image checks a build image reference: empty (the default) or one word.
func (v *validator) image(ref string, key ...any) {
	if ref != "" && (strings.ContainsFunc(ref, unicode.IsSpace) || strings.HasPrefix(ref, "-")) {
		v.errorf(key, "invalid image reference %s", tomlString(ref))
	}
}

// pruneGlobs checks [prune] globs, which are matched against paths inside a
// unit's folder.
func (v *validator) pruneGlobs(globs []string, field string) {
	for i, g := range globs {
		reason := ""
		switch {
		case g == "":
			reason = "empty glob"
		case strings.HasPrefix(g, "/"):
			reason = "globs are relative to the unit's folder and cannot start with /"
		case slices.Contains(strings.Split(g, "/"), ".."):
			reason = `globs cannot contain ".."`
		case !doublestar.ValidatePattern(g):
			reason = "invalid glob"
		}
		if reason != "" {
			v.errorf([]any{"prune", field, i}, "%s: %s", tomlString(g), reason)
			return
		}
	}
}

// bytecode checks a byte-code mode.
func (v *validator) bytecode(mode string, key ...any) {
	if mode != BytecodeCompile && mode != BytecodeStrip {
		v.errorf(key, "want %q (ship byte code compiled for the runtime) or %q (none), got %s", BytecodeCompile, BytecodeStrip, tomlString(mode))
	}
}

// globs checks doublestar patterns relative to a folder (base, for messages).
func (v *validator) globs(globs []string, base string, key ...any) {
	for i, g := range globs {
		at := append(slices.Clip(key), i)
		switch {
		case g == "":
			v.errorf(at, "empty glob")
		case !doublestar.ValidatePattern(g):
			v.errorf(at, "invalid glob %s", tomlString(g))
		case strings.HasPrefix(g, "/") || filepath.IsAbs(g):
			v.errorf(at, "glob %s must be relative to %s", tomlString(g), base)
		default:
			continue
		}
		return
	}
}

// names checks and normalises a list of distribution, extra or dependency
// group names: one naming rule (PEP 508) and one normal form (PEP 503,
// which PEP 685 and PEP 735 reuse). A name listed twice is an error.
func (v *validator) names(names []string, what string, key ...any) []string {
	if names == nil {
		return nil
	}
	out := make([]string, len(names))
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		at := append(slices.Clip(key), i)
		norm, ok := normalize(n)
		switch {
		case !ok:
			v.errorf(at, "invalid %s name %s", what, tomlString(n))
			return names
		case seen[norm]:
			v.errorf(at, "%q is listed twice", norm)
			return names
		}
		out[i], seen[norm] = norm, true
	}
	return out
}

// layerGroups checks [layers.groups] and normalises its distributions:
// valid group names, no empty group, no distribution in two groups or both
// in a group and in exclude.
func (v *validator) layerGroups(groups map[string][]string, exclude []string) {
	owner := map[string]string{} // distribution -> group
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		key := []any{"layers", "groups", g}
		if !layerName.MatchString(g) {
			v.errorf(key, "group name %s", layerNameRule)
		}
		if len(groups[g]) == 0 {
			v.errorf(key, "empty group")
		}
		n := len(v.problems)
		groups[g] = v.names(groups[g], "distribution", key...)
		if len(v.problems) > n {
			continue
		}
		for i, d := range groups[g] {
			at := append(slices.Clip(key), i)
			if other, ok := owner[d]; ok {
				v.errorf(at, "%q is also in group %q", d, other)
				break
			}
			owner[d] = g
			if slices.Contains(exclude, d) {
				v.errorf(at, "%q is also in exclude", d)
				break
			}
		}
	}
}

var (
	// distName is PEP 508's name rule.
	distName = regexp.MustCompile(`^(?i:[a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$`)
	// nameSeparators are the runs PEP 503 folds into one "-".
	nameSeparators = regexp.MustCompile(`[-_.]+`)
	// handler is module.function, the module a dotted or slashed path.
	handler = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*([./][A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_][A-Za-z0-9_]*$`)
	// layerName is what a layer name prefix or a layer group name may hold,
	// Lambda allowing [a-zA-Z0-9-_] in layer names.
	layerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

const layerNameRule = `may only hold letters, digits, "-" and "_", at most 64 of them`

// normalize returns the PEP 503 normal form of a PEP 508 name, and whether
// the name is valid.
func normalize(name string) (string, bool) {
	if !distName.MatchString(name) {
		return name, false
	}
	return strings.ToLower(nameSeparators.ReplaceAllString(name, "-")), true
}

var (
	// region is an AWS region name, like "eu-west-1" or "us-gov-west-1".
	region = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	// s3Bucket is an S3 bucket name (the general-purpose rules).
	s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// accountID and orgID are the principals AddLayerVersionPermission takes.
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	orgID     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	// ecrRepository is an ECR repository name.
	ecrRepository = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	// registryHost is host[:port], as an image reference starts.
	registryHost = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)
)

// maxLicenseInfo is the longest LicenseInfo Lambda takes.
const maxLicenseInfo = 512

func (v *validator) cache(c *Cache) {
	if c.URL == "" {
		return
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!s3Bucket.MatchString(u.Host) || strings.Contains(u.Host, "..") || slices.Contains(strings.Split(u.Path, "/"), "..") {
		v.errorf([]any{"cache", "url"}, "invalid remote cache URL %s (want s3://BUCKET/PREFIX)", tomlString(c.URL))
	}
}

func (v *validator) publish(p *Publish) {
	at := func(key string) []any { return []any{"publish", key} }
	if p.Region != "" && !region.MatchString(p.Region) {
		v.errorf(at("region"), "invalid AWS region %s (like \"eu-west-1\")", tomlString(p.Region))
	}
	if p.Profile != "" && strings.TrimSpace(p.Profile) != p.Profile {
		v.errorf(at("profile"), "%s has leading or trailing spaces", tomlString(p.Profile))
	}
	if p.S3Bucket != "" && (!s3Bucket.MatchString(p.S3Bucket) || strings.Contains(p.S3Bucket, "..")) {
		v.errorf(at("s3_bucket"), "invalid S3 bucket name %s", tomlString(p.S3Bucket))
	}
	if strings.HasPrefix(p.S3Prefix, "/") || slices.Contains(strings.Split(p.S3Prefix, "/"), "..") {
		v.errorf(at("s3_prefix"), "%s must not start with / or contain ..", tomlString(p.S3Prefix))
	}
	if p.InlineMaxBytes <= 0 || p.InlineMaxBytes > DefaultInlineMaxBytes {
		v.errorf(at("inline_max_bytes"), "%d is out of range 1..%d (Lambda takes at most 50 MB inline)", p.InlineMaxBytes, DefaultInlineMaxBytes)
	}
	for i, who := range p.ShareWith {
		if who != "*" && !accountID.MatchString(who) && !orgID.MatchString(who) {
			v.errorf([]any{"publish", "share_with", i}, "invalid principal %s (want a 12-digit account id, \"*\" or an organisation id \"o-...\")", tomlString(who))
			break
		}
		if slices.Contains(p.ShareWith[:i], who) {
			v.errorf([]any{"publish", "share_with", i}, "%s is listed twice", tomlString(who))
			break
		}
	}
	if n := utf8.RuneCountInString(p.LicenseInfo); n > maxLicenseInfo {
		v.errorf(at("license_info"), "%d characters, Lambda takes at most %d", n, maxLicenseInfo)
	}
	if !insideRoot(p.Outputs) {
		v.errorf(at("outputs"), "%s must be a path inside the repository", tomlString(p.Outputs))
	}
}

// insideRoot reports whether path, relative to the repository root, names
// a file inside it.
func insideRoot(path string) bool {
	return path != "" && !filepath.IsAbs(path) && !strings.HasPrefix(path, "/") && !slices.Contains(strings.Split(filepath.ToSlash(path), "/"), "..")
}

func (v *validator) imageSection(im *Image) {
	v.image(im.Base, "image", "base")
	if im.Repository != "" && (len(im.Repository) < 2 || len(im.Repository) > 256 || !ecrRepository.MatchString(im.Repository)) {
		v.errorf([]any{"image", "repository"}, "invalid ECR repository name %s (lowercase letters, digits, . _ - and /)", tomlString(im.Repository))
	}
	if im.Registry != "" && !registryHost.MatchString(im.Registry) {
		v.errorf([]any{"image", "registry"}, "invalid registry %s (want host or host:port)", tomlString(im.Registry))
	}
}
