package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/layers-dev/layers/internal/atomicfile"
	"github.com/layers-dev/layers/internal/diag"
)

// StarterInput is what `layers init` found in a repository.
type StarterInput struct {
	Runtime string // "" for DefaultRuntime
	// RuntimeSource says where Runtime comes from, for the comment above it.
	RuntimeSource string
	Architectures []string // empty for the default
	Functions     []string // function globs to write; empty when discovery finds them
	Workspace     bool     // the repository is a uv workspace
	Discovered    []string // function folders found, listed in a comment
	// LeftOut are folders that look like functions and are left out, with
	// the reason, listed in a comment.
	LeftOut []string
	// Overrides are [function.NAME] tables to write, by function name.
	Overrides map[string]StarterOverride
}

// StarterOverride is a function's own runtime, and why it has one.
type StarterOverride struct {
	Runtime string
	Why     string
}

// Starter returns a commented layers.toml for `layers init`: runtime,
// architectures and (when given) functions and per-function runtimes are
// set; every other key appears commented out with its default or an
// example. Given supported runtimes and architectures and valid globs, the
// result parses with Parse.
func Starter(in StarterInput) []byte {
	if in.Runtime == "" {
		in.Runtime = DefaultRuntime
	}
	if len(in.Architectures) == 0 {
		in.Architectures = Default("").Architectures
	}
	archs := tomlArray(in.Architectures)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	// set writes a key/value line, commented out unless on, with a trailing
	// comment lined up.
	set := func(on bool, kv, comment string) {
		if !on {
			kv = "# " + kv
		}
		if comment == "" {
			w("%s", kv)
			return
		}
		w("%-38s # %s", kv, comment)
	}

	w("# layers.toml: how `layers` builds Lambda layers for this repository.")
	w("# Written by `layers init`. Every key is optional; a commented-out key shows")
	w("# its default (or an example): uncomment it to change it.")
	w("")
	w("# Lambda runtime of the functions: %s … %s.", Runtimes[0], Runtimes[len(Runtimes)-1])
	if in.RuntimeSource != "" {
		for _, line := range wrap("layers init chose it from "+commentText(in.RuntimeSource)+".", 76) {
			w("# %s", line)
		}
	}
	set(true, "runtime = "+tomlString(in.Runtime), "")
	w("")
	w("# Architectures to build the functions for: %s.", strings.Join(Architectures, " and/or "))
	set(true, "architectures = "+archs, "")
	w("")
	w("# Function folders: globs relative to this file's folder (** spans folders).")
	w("# Unset, functions are discovered: the members of the uv workspace if there")
	w("# is one, and the folders matching functions/*.")
	switch {
	case len(in.Functions) > 0: // set below: discovery does not apply
	case in.Workspace:
		w("# This repository is a uv workspace, so its members are functions.")
	default:
		w("# This repository is not a uv workspace, so functions/* are the functions.")
	}
	if len(in.Discovered) > 0 {
		w("# layers init found these function folders:")
		for _, d := range in.Discovered {
			w("#   %s", commentText(d))
		}
	}
	if len(in.LeftOut) > 0 {
		w("# and left out these, which look like functions:")
		for _, d := range in.LeftOut {
			w("#   %s", commentText(d))
		}
	}
	set(len(in.Functions) > 0, "functions = "+tomlArray(in.Functions), "")
	w("")
	w("# The handler (module.function) of every function without its own: the CMD")
	w("# of functions shipped as container images, and what `layers verify` imports.")
	set(false, `handler = "app.handler"`, "default: none")
	w("")
	w("# Distributions never put in layers, like ones the runtime already has.")
	set(false, "exclude = []", `e.g. ["boto3", "botocore"]`)
	w("")
	w("# Overrides for one function; NAME is the function's name as `layers plan`")
	w("# shows it. Paths are relative to the function's folder.")
	set(false, "[function.NAME]", "")
	set(false, "runtime = "+tomlString(in.Runtime), "default: the runtime above")
	set(false, "architectures = "+archs, "default: the architectures above")
	set(false, `requirements = "requirements.txt"`, "default: found in the function folder")
	set(false, "extras = []", "extras of the function's project to install")
	set(false, "groups = []", "dependency groups (PEP 735) to install")
	set(false, fmt.Sprintf("package = %q", PackageLayers), fmt.Sprintf("%q, or %q for a container image", PackageLayers, PackageImage))
	set(false, `handler = "app.handler"`, "module.function that Lambda calls")
	set(false, "source = []", "globs of the function's own files")
	set(false, `image = "my-registry/build-python:tag"`, "default: the [build] image")
	set(false, fmt.Sprintf("bytecode = %q", BytecodeCompile), "an image's own choice; default: the [prune] bytecode")
	for _, name := range slices.Sorted(maps.Keys(in.Overrides)) {
		o := in.Overrides[name]
		w("")
		for _, line := range wrap(commentText(o.Why)+".", 76) {
			w("# %s", line)
		}
		w("[function.%s]", tableKey(name))
		set(true, "runtime = "+tomlString(o.Runtime), "")
	}
	w("")
	w("# Lambda's limits, which the split into layers keeps to.")
	set(false, "[limits]", "")
	set(false, fmt.Sprintf("layers_per_function = %d", maxLayersPerFunction), fmt.Sprintf("layers per function, 1..%d", maxLayersPerFunction))
	set(false, "reserved_layers = 1", "of those, kept free for an extension layer (Powertools, Datadog)")
	set(false, fmt.Sprintf("function_unzipped_bytes = %d", defaultFunctionUnzippedBytes), "code plus layers, unzipped (250 MiB)")
	w("")
	w("# How packages are split into layers.")
	set(false, "[layers]", "")
	set(false, `prefix = ""`, `starts every layer name: letters, digits, "-", "_"`)
	set(false, "max_extra = 0.10", "share 0..1 of unneeded bytes in a function's layers; unset: the planner's")
	set(false, "local_in_code = false", "true: the repository's own packages ship with the code")
	set(false, fmt.Sprintf("plan_file = %q", DefaultPlanFile), "the last build's plan, kept for stable layers; commit it for CI")
	w("# Distributions that always share one layer, by group name.")
	set(false, "[layers.groups]", "")
	set(false, `data = ["numpy", "pandas"]`, "")
	w("")
	w("# How units (one package each) are installed, in the Lambda build image.")
	set(false, "[build]", "")
	set(false, `image = "public.ecr.aws/sam/build-python3.12:latest-x86_64"`, "default: the runtime's SAM build image")
	set(false, `ca_bundle = "certs/proxy-ca.pem"`, "CA bundle pip and uv trust (TLS-intercepting proxies)")
	set(false, fmt.Sprintf("installer = %q", InstallerUV), fmt.Sprintf("or %q: one unit after another, for an index uv cannot use", InstallerPip))
	w("# Docker engines the units are spread over, for every architecture; or a table")
	w("# by architecture, x86_64 = [...] and arm64 = [...], under build.engines.")
	w("# unix://, tcp://, ssh:// or a Docker context name; default: DOCKER_HOST.")
	set(false, `engines = ["unix:///var/run/docker.sock", "ssh://builder@graviton"]`, "")
	w("")
	w("# What ships of every installed package. By default its byte code is compiled")
	w("# for the runtime (faster cold starts, about 40%% more bytes) and nothing is")
	w("# removed; each rule below can break an import, so check with `layers verify`.")
	set(false, "[prune]", "")
	set(false, fmt.Sprintf("bytecode = %q", BytecodeCompile), fmt.Sprintf("or %q: no byte code, Lambda compiles at every cold start", BytecodeStrip))
	set(false, "tests = false", "remove the tests folders inside packages")
	set(false, `patterns = ["**/*.md"]`, "doublestar globs of files to remove")
	set(false, `keep = []`, "globs that are never removed")
	set(false, "strip = false", "strip debug symbols from .so files (can corrupt some)")
	w("")
	w("# The remote cache CI runners share: units, resolutions and the published plan.")
	w("# Credentials come from the AWS SDK's usual chain. See README, \"In CI\".")
	set(false, "[cache]", "")
	set(false, `url = "s3://my-bucket/layers-cache"`, "default: LAYERS_CACHE_URL, else none")
	set(false, "write = true", "false: read only (pull requests from forks)")
	w("")
	w("# Where `layers publish` publishes. Credentials come from the AWS SDK's usual")
	w("# chain (environment, profile, SSO, instance role).")
	set(false, "[publish]", "")
	set(false, `region = "eu-west-1"`, "default: --region, then AWS_REGION / the profile's")
	set(false, `profile = "ci"`, "default: --profile, then AWS_PROFILE")
	set(false, `s3_bucket = "my-artifacts"`, "bucket for zips over inline_max_bytes")
	set(false, `s3_prefix = "layers/"`, "key prefix in that bucket")
	set(false, fmt.Sprintf("inline_max_bytes = %d", DefaultInlineMaxBytes), "larger zips go through S3 (50 MB)")
	set(false, `share_with = []`, `account ids, "*" or "o-…" organisation ids`)
	set(false, `license_info = "MIT"`, "license of every layer version")
	set(false, fmt.Sprintf("outputs = %s", tomlString(DefaultOutputs)), "ARNs and image URIs for IaC")
	w("")
	w("# Functions packaged as container images (package = \"image\", or too big for layers).")
	set(false, "[image]", "")
	set(false, `base = "public.ecr.aws/lambda/python:3.12"`, "default: the runtime's Lambda image")
	set(false, `repository = "acme/functions"`, "ECR repository the images are pushed to")
	set(false, "scan_on_push = false", "scan images when pushed (new repositories)")
	set(false, "tag_immutability = false", "immutable tags (new repositories)")
	set(false, `registry = "127.0.0.1:5000"`, "push here instead of ECR's endpoint (proxies, tests)")
	w("")
	w("# Where `layers verify` imports the built layers.")
	set(false, "[verify]", "")
	set(false, `image = "public.ecr.aws/lambda/python:3.12"`, "default: the runtime's Lambda image")
	return []byte(b.String())
}

// WriteStarter writes data to path atomically: to a temporary file in the
// same folder, renamed into place. It refuses to replace an existing file
// unless force; that error wraps fs.ErrExist.
func WriteStarter(path string, data []byte, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return &diag.Error{Path: path, Msg: "already exists; not overwriting it", Err: fs.ErrExist}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("write config: %w", err)
		}
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// tomlString quotes s as a TOML basic string. Invalid UTF-8, which a TOML
// document cannot hold, becomes U+FFFD.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlArray(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = tomlString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// commentText returns s if it can stand in a TOML comment as is, else s
// quoted: comments hold no control characters, and a line break would end
// the comment.
func commentText(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// tableKey returns name as a TOML key: bare when it can be, else quoted.
func tableKey(name string) string {
	if name != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) < 0 {
		return name
	}
	return tomlString(name)
}

// wrap breaks text into lines of at most width bytes at spaces (a word
// longer than width stands alone).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
