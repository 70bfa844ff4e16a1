package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

// The methods in this file serve the container-image fallback: assembling
// a function's image (ImageInfo, Commit) and pushing it (Tag, Push,
// Untag). They are not part of Engine, so the builder's fakes need not
// grow; the packages that need them declare narrow interfaces of their own
// that *Docker satisfies.

// ImageInfo is what image assembly and publishing need to know of a local
// image.
type ImageInfo struct {
	ID       string
	Platform string // os/arch[/variant]
	// Size is the image's uncompressed size, all its layers included.
	Size       int64
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	Labels     map[string]string
}

// ImageInfo returns what the engine knows of the local image ref, or an
// error wrapping ErrImageNotFound.
func (d *Docker) ImageInfo(ctx context.Context, ref string) (ImageInfo, error) {
	inspect, err := d.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return ImageInfo{}, fmt.Errorf("image %s: %w", ref, ErrImageNotFound)
	}
	if err != nil {
		return ImageInfo{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	info := ImageInfo{
		ID:       inspect.ID,
		Platform: platform{os: inspect.Os, arch: inspect.Architecture, variant: inspect.Variant}.String(),
		Size:     inspect.Size,
	}
	if c := inspect.Config; c != nil {
		info.Entrypoint, info.Cmd, info.Env, info.WorkingDir = c.Entrypoint, c.Cmd, c.Env, c.WorkingDir
		info.Labels = maps.Clone(c.Labels)
	}
	return info, nil
}

// CommitSpec describes an image made from a base image plus files.
type CommitSpec struct {
	Base     string // ID or reference of a local image
	Platform string // "linux/amd64" or "linux/arm64"
	In       []CopyIn
	// The new image's configuration. Commit does not inherit the base's
	// entrypoint when Cmd is given, so the caller passes it on.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkDir    string
	// Labels are the new image's labels, in addition to the base's.
	Labels map[string]string
	// Ref is the repository:tag the new image gets.
	Ref string
}

// Commit creates a container from spec.Base without starting it, copies
// spec.In into it, commits it as a new image tagged spec.Ref and removes
// the container on every path out. It returns the new image's ID.
//
// The container carries LabelBuild and LabelOwner, so a killed run's
// container is a leftover like any other. The engine copies a container's
// labels into the committed image; they are overwritten there, or every
// container later run from the image (by layers verify, by the user) would
// look like this run's leftover to RemoveLeftovers.
func (d *Docker) Commit(ctx context.Context, spec CommitSpec) (_ string, err error) {
	id, remove, err := d.create(ctx, &container.Config{Image: spec.Base}, spec.Platform, nil, nil, spec.In)
	if remove != nil {
		defer remove(&err)
	}
	if err != nil {
		return "", err
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelBuild], labels[LabelOwner] = "image", ""
	resp, err := d.cli.ContainerCommit(ctx, id, container.CommitOptions{
		Reference: spec.Ref,
		Config: &container.Config{
			Entrypoint: spec.Entrypoint,
			Cmd:        spec.Cmd,
			Env:        spec.Env,
			WorkingDir: spec.WorkDir,
			Labels:     labels,
		},
	})
	if err != nil {
		return "", fmt.Errorf("commit container %.12s as %s: %w", id, spec.Ref, err)
	}
	return resp.ID, nil
}

// Tag gives the local image source the reference target as well.
func (d *Docker) Tag(ctx context.Context, source, target string) error {
	if err := d.cli.ImageTag(ctx, source, target); err != nil {
		return fmt.Errorf("tag %s as %s: %w", source, target, err)
	}
	return nil
}

// Untag removes the reference ref; the image stays while other references
// name it.
func (d *Docker) Untag(ctx context.Context, ref string) error {
	_, err := d.cli.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: false})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("untag %s: %w", ref, err)
	}
	return nil
}

// PushError is a push the engine reported as failed, in its stream or in
// its answer.
type PushError struct {
	Ref string
	Msg string
}

func (e *PushError) Error() string { return fmt.Sprintf("push %s: %s", e.Ref, e.Msg) }

// Push pushes the local image ref to its registry with auth, the base64url
// JSON credentials the engine expects (registry.EncodeAuthConfig), and
// returns the manifest digest the registry answered with. progress, when
// set, receives the engine's status lines.
func (d *Docker) Push(ctx context.Context, ref, auth string, progress func(string)) (string, error) {
	rc, err := d.cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return "", &PushError{Ref: ref, Msg: err.Error()}
	}
	defer rc.Close()
	return readPush(ref, rc, progress)
}

// readPush reads a push's progress stream. The engine answers 200 before
// it starts, so a failure only shows as an error message in the stream;
// the digest comes in the aux message of the last step.
func readPush(ref string, r io.Reader, progress func(string)) (string, error) {
	dec := json.NewDecoder(r)
	digest := ""
	for {
		var msg struct {
			Status      string `json:"status"`
			ID          string `json:"id"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
			Aux struct {
				Tag    string `json:"Tag"`
				Digest string `json:"Digest"`
				Size   int64  `json:"Size"`
			} `json:"aux"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			return "", &PushError{Ref: ref, Msg: "reading the engine's answer: " + err.Error()}
		}
		if msg.Error != "" || msg.ErrorDetail.Message != "" {
			text := msg.ErrorDetail.Message
			if text == "" {
				text = msg.Error
			}
			return "", &PushError{Ref: ref, Msg: strings.TrimSpace(text)}
		}
		if msg.Aux.Digest != "" {
			digest = msg.Aux.Digest
		}
		if progress != nil && msg.Status != "" && msg.ID == "" {
			progress(msg.Status)
		}
	}
	if digest == "" {
		return "", &PushError{Ref: ref, Msg: "the engine reported no digest"}
	}
	return digest, nil
}
