// Package engine owns every conversation with a container engine: the
// narrow Engine interface that the builder, verify and the image publisher
// depend on, and its implementation over the Docker Engine API.
//
// Files move in and out of containers only as tar streams
// (CopyToContainer, CopyFromContainer), never through bind mounts, so a
// remote engine (DOCKER_HOST=tcp://… or ssh://…) works like a local one.
// Every container carries the LabelBuild label, is removed when its run
// ends or is cancelled, and is cleaned up by RemoveLeftovers when a killed
// run could not remove it.
//
// Pool spreads runs over several engines ([build] engines), each for one
// or more platforms, and takes out an engine that fails mid-build.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/client"

	"github.com/layers-dev/layers/archive"
)

// Engine is what the builder needs from a container engine.
type Engine interface {
	// ImageID returns the ID of the local image ref for platform
	// ("linux/amd64"), or an error wrapping ErrImageNotFound when the
	// engine has no such image for that platform.
	ImageID(ctx context.Context, ref, platform string) (string, error)
	// Pull fetches ref for platform from its registry.
	Pull(ctx context.Context, ref, platform string) error
	// Run runs one container to completion and removes it, also when ctx
	// is cancelled. A non-zero exit is an *ExitError.
	Run(ctx context.Context, spec RunSpec) error
	// RemoveLeftovers removes the containers that earlier runs left
	// behind when they were killed, and returns how many it removed.
	RemoveLeftovers(ctx context.Context) (int, error)
}

// Labels every container gets.
const (
	// LabelBuild marks a container as created by layers (value "1").
	LabelBuild = "layers.build"
	// LabelOwner names the process that owns the container, as
	// "hostname:pid", so that a run never removes another live run's
	// containers as leftovers.
	LabelOwner = "layers.build.owner"
)

// ErrImageNotFound is wrapped by ImageID's error when the image is missing
// or is for another platform.
var ErrImageNotFound = errors.New("image not found")

// EnsureImage returns the ID of the local image ref for platform, pulling
// it first when the engine lacks it or when pull is set. Only a missing
// image is a reason to pull: any other error of the first look (an engine
// that does not answer) is returned as it is. Callers add what the image
// is for to the error.
func EnsureImage(ctx context.Context, e Engine, ref, platform string, pull bool) (string, error) {
	if !pull {
		id, err := e.ImageID(ctx, ref, platform)
		if err == nil || !errors.Is(err, ErrImageNotFound) {
			return id, err
		}
	}
	if err := e.Pull(ctx, ref, platform); err != nil {
		return "", err
	}
	return e.ImageID(ctx, ref, platform)
}

// RunSpec describes one container run.
type RunSpec struct {
	Image    string // ID or reference of a local image
	Platform string // "linux/amd64" or "linux/arm64"
	// Entrypoint replaces the image's entrypoint when not nil: Lambda's
	// images start their runtime interface emulator, not a shell.
	Entrypoint []string
	Cmd        []string
	// Env holds KEY=value pairs. It is the only way secrets such as
	// private index credentials reach the container: they are never
	// written into files that are copied in or out.
	Env     []string
	WorkDir string
	// Scratch are folders that get a volume of their own, removed with
	// the container: writes there skip the image's copy-on-write layer,
	// several times faster for an install's many small files. Out may
	// read them.
	Scratch []string
	// Memory are folders in memory (tmpfs), gone when the container
	// exits, so Out cannot read them: for caches, temporary files and
	// output the command streams on its stdout. Writes there cost no
	// disk, often the slowest part of an install.
	Memory []string
	// MemoryBytes bounds what each Memory folder holds; past it, writes
	// fail with "No space left on device". 0 is the engine's share: a
	// 2×CPUs-th of its memory.
	MemoryBytes int64
	Labels      map[string]string // in addition to LabelBuild and LabelOwner
	In          []CopyIn          // copied in before the container starts
	Out         []CopyOut         // copied out after it exits with status 0
	// Stdout and Stderr receive the container's demultiplexed output;
	// nil discards it.
	Stdout, Stderr io.Writer
}

// CopyIn puts files into the container under Dir, a folder that exists in
// the image ("/" or "/tmp"); the files' own folders are created.
type CopyIn struct {
	Dir   string
	Files []archive.File
}

// CopyOut reads Path, a folder in the stopped container, as a tar stream
// rooted at the folder's name. The stream is untrusted: pass it to
// archive.ExtractTar.
type CopyOut struct {
	Path    string
	Extract func(tar io.Reader) error
}

// ExitError is a container that exited with a non-zero status.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("container exited with status %d", e.Code)
}

// UnreachableError is an engine that did not answer, named by its address
// so the user knows which DOCKER_HOST was tried.
type UnreachableError struct {
	Host string
	Err  error
	// Source is where the address was configured ("layers.toml:12"), ""
	// for DOCKER_HOST.
	Source string
}

func (e *UnreachableError) Error() string {
	if client.IsErrConnectionFailed(e.Err) && !strings.HasPrefix(e.Host, "ssh://") {
		// The client's own text only repeats the address; over ssh it
		// carries what ssh said.
		if e.Source != "" {
			return fmt.Sprintf("cannot reach the Docker engine at %s: is it running? (%s names it in [build] engines)", e.Host, e.Source)
		}
		return fmt.Sprintf("cannot reach the Docker engine at %s: is it running? (DOCKER_HOST selects another engine)", e.Host)
	}
	if e.Source != "" {
		return fmt.Sprintf("cannot reach the Docker engine at %s (%s, [build] engines): %v", e.Host, e.Source, e.Err)
	}
	return fmt.Sprintf("cannot reach the Docker engine at %s: %v", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// PlatformFor returns the engine platform of a Lambda architecture.
func PlatformFor(architecture string) (string, error) {
	switch architecture {
	case "x86_64":
		return "linux/amd64", nil
	case "arm64":
		return "linux/arm64", nil
	}
	return "", fmt.Errorf("unknown architecture %q (want x86_64 or arm64)", architecture)
}

// platform is an engine platform split into its parts.
type platform struct {
	os, arch, variant string
}

func parsePlatform(s string) (platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return platform{}, fmt.Errorf("platform %q: want os/arch such as linux/amd64", s)
	}
	p := platform{os: parts[0], arch: parts[1]}
	if len(parts) == 3 {
		p.variant = parts[2]
	}
	return p, nil
}

func (p platform) String() string {
	if p.variant != "" {
		return p.os + "/" + p.arch + "/" + p.variant
	}
	return p.os + "/" + p.arch
}
