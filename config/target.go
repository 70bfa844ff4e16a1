package config

import "strings"

// Target is one runtime + architecture pair: what a closure is resolved for
// and a unit is built for.
type Target struct {
	Runtime      string // one of Runtimes, like "python3.12"
	Architecture string // one of Architectures, like "x86_64"
}

// String returns "runtime/architecture", like "python3.12/x86_64".
func (t Target) String() string { return t.Runtime + "/" + t.Architecture }

// PythonVersion returns the runtime's Python version, like "3.12".
func (t Target) PythonVersion() string { return strings.TrimPrefix(t.Runtime, "python") }

// LambdaImage returns AWS's Lambda base image for the target's runtime and
// architecture, what a function runs on in AWS:
// public.ecr.aws/lambda/python:3.X, with -arm64 for arm64. It is the
// default base of a function's image and the default image verify runs.
func (t Target) LambdaImage() string {
	ref := "public.ecr.aws/lambda/python:" + t.PythonVersion()
	if t.Architecture == "arm64" {
		ref += "-arm64"
	}
	return ref
}

// Platform returns the container platform, like "linux/amd64"; "" for an
// architecture not in Architectures.
func (t Target) Platform() string { return machines[t.Architecture].platform }

// Machine returns the kernel's name for the architecture (platform.machine()
// in Python, the tag in wheel names), like "aarch64"; "" for an
// architecture not in Architectures.
func (t Target) Machine() string { return machines[t.Architecture].machine }

// machines describes every entry of Architectures.
var machines = map[string]struct{ platform, machine string }{
	"x86_64": {"linux/amd64", "x86_64"},
	"arm64":  {"linux/arm64", "aarch64"},
}

// Targets returns the function's targets, one per architecture, in the
// order of f.Architectures. Call it on the result of Config.For.
func (f Function) Targets() []Target {
	out := make([]Target, len(f.Architectures))
	for i, a := range f.Architectures {
		out[i] = Target{Runtime: f.Runtime, Architecture: a}
	}
	return out
}
