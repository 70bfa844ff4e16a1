package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/layers-dev/layers/archive"
)

const (
	// dialTimeout bounds the first ping, so a wrong DOCKER_HOST fails fast.
	dialTimeout = 20 * time.Second
	// removeTimeout bounds the removal of a container after its run,
	// which must happen even when the run's context is cancelled.
	removeTimeout = 30 * time.Second
	// leftoverAge is when a container owned by a process on another
	// host, whose liveness cannot be checked, counts as left over.
	leftoverAge = 24 * time.Hour
)

// Docker is an Engine over the Docker Engine API. It is safe for
// concurrent use: the builder runs several containers at once.
type Docker struct {
	cli      *client.Client
	host     string // the engine address as the user gave it
	hostname string
	owner    string // LabelOwner value of this process's containers

	infoOnce sync.Once // info asks the engine once
	infoVal  system.Info
	infoErr  error
}

var _ Engine = (*Docker)(nil)

// Dial connects to the engine named by the environment (DOCKER_HOST,
// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION; ssh:// hosts go
// through the ssh command as the docker CLI does) and checks that it
// answers. An engine that does not answer is an *UnreachableError.
func Dial(ctx context.Context) (*Docker, error) {
	host := os.Getenv(client.EnvOverrideHost)
	if host == "" {
		host = client.DefaultDockerHost
	}
	return DialHost(ctx, host)
}

// DialHost connects to the engine at host (unix://, tcp:// or ssh://) and
// checks that it answers. A tcp:// host uses the TLS settings of the
// environment (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), as Dial does.
func DialHost(ctx context.Context, host string) (*Docker, error) {
	return DialEndpoint(ctx, Endpoint{Host: host})
}

// DialEndpoint connects to the engine at e and checks that it answers. An
// engine that does not answer is an *UnreachableError; its Host is e.Name
// when set, so the user reads the address they wrote.
func DialEndpoint(ctx context.Context, e Endpoint) (*Docker, error) {
	name := e.Name
	if name == "" {
		name = e.Host
	}
	var (
		cli *client.Client
		err error
	)
	if strings.HasPrefix(e.Host, "ssh://") {
		cli, err = sshClient(e.Host)
	} else {
		opts := []client.Opt{}
		switch {
		case e.TLSDir != "":
			opts = append(opts, withTLSDir(e.TLSDir, e.SkipTLSVerify))
		case strings.HasPrefix(e.Host, "tcp://") || os.Getenv(client.EnvOverrideHost) == e.Host:
			// As client.FromEnv: the environment's TLS settings belong
			// to DOCKER_HOST, and to tcp:// hosts named in layers.toml.
			opts = append(opts, client.WithTLSClientConfigFromEnv())
		}
		opts = append(opts, client.WithHost(e.Host), client.WithVersionFromEnv(), client.WithAPIVersionNegotiation())
		cli, err = client.NewClientWithOpts(opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("docker engine at %s: %w", name, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, err := cli.Ping(pingCtx); err != nil {
		cli.Close()
		return nil, &UnreachableError{Host: name, Err: err, Source: e.Source}
	}
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	return &Docker{cli: cli, host: name, hostname: hostname, owner: hostname + ":" + strconv.Itoa(os.Getpid())}, nil
}

// sshClient returns a client whose connections are `ssh HOST docker system
// dial-stdio` processes, the docker CLI's way to reach an engine over ssh.
func sshClient(host string) (*client.Client, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, err
	}
	args, err := sshArgs(u)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{}
	cli, err := client.NewClientWithOpts(
		client.WithHTTPClient(&http.Client{Transport: tr}),
		// The host name is never resolved: every connection is a new
		// ssh process.
		client.WithHost("http://docker.invalid"),
		client.WithVersionFromEnv(),
		client.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, err
	}
	tr.Proxy = nil // the proxy variables are for the ssh side, if anything
	tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
		return dialCommand("ssh", args...)
	}
	return cli, nil
}

// Host returns the engine's address as configured.
func (d *Docker) Host() string { return d.host }

// Close releases the client's connections.
func (d *Docker) Close() error { return d.cli.Close() }

// ImageID implements Engine.
func (d *Docker) ImageID(ctx context.Context, ref, plat string) (string, error) {
	want, err := parsePlatform(plat)
	if err != nil {
		return "", err
	}
	inspect, err := d.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("image %s: %w", ref, ErrImageNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	got := platform{os: inspect.Os, arch: inspect.Architecture, variant: inspect.Variant}
	if got.os != want.os || got.arch != want.arch || (want.variant != "" && got.variant != want.variant) {
		return "", fmt.Errorf("image %s is for %s, not %s: %w", ref, got, want, ErrImageNotFound)
	}
	return inspect.ID, nil
}

// Pull implements Engine.
func (d *Docker) Pull(ctx context.Context, ref, plat string) error {
	if _, err := parsePlatform(plat); err != nil {
		return err
	}
	rc, err := d.cli.ImagePull(ctx, ref, image.PullOptions{Platform: plat})
	if err != nil {
		return fmt.Errorf("pull %s for %s: %w", ref, plat, err)
	}
	defer rc.Close()
	if err := readStream(rc); err != nil {
		return fmt.Errorf("pull %s for %s: %w", ref, plat, err)
	}
	return nil
}

// readStream reads the JSON progress stream of a pull or an image load.
// The engine reports a failure inside the stream, with an HTTP 200
// already sent.
func readStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" || msg.ErrorDetail.Message != "" {
			return errors.New(strings.TrimSpace(msg.Error + " " + msg.ErrorDetail.Message))
		}
	}
}

// Run implements Engine. The container is created, given its input files,
// attached to and waited for before it starts, so no output and no exit is
// missed, and removed on every path out.
func (d *Docker) Run(ctx context.Context, spec RunSpec) (err error) {
	id, remove, err := d.create(ctx, &container.Config{
		Image:        spec.Image,
		Entrypoint:   spec.Entrypoint,
		Cmd:          spec.Cmd,
		Env:          spec.Env,
		WorkingDir:   spec.WorkDir,
		Labels:       spec.Labels,
		AttachStdout: true,
		AttachStderr: true,
	}, spec.Platform, spec.Scratch, d.tmpfs(ctx, spec.Memory, spec.MemoryBytes), spec.In)
	if remove != nil {
		defer remove(&err)
	}
	if err != nil {
		return err
	}

	att, err := d.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("attach to container %.12s: %w", id, err)
	}
	logged := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(orDiscard(spec.Stdout), orDiscard(spec.Stderr), att.Reader)
		logged <- err
	}()
	// Runs before the removal: closing the connection ends the copy, and
	// waiting for it keeps Stdout and Stderr unused once Run returns.
	logsDone := false
	defer func() {
		att.Close()
		if !logsDone {
			<-logged
		}
	}()

	waitC, waitErr := d.cli.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := d.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("start container %.12s: %w", id, err)
	}
	code, polled, err := d.wait(ctx, id, waitC, waitErr)
	if err != nil {
		return err
	}
	// The output stream ends with the container. An engine that lost the
	// exit event may have lost the end of the stream too: then give it a
	// moment and close it.
	logsDone = true
	var logErr error
	if polled {
		select {
		case logErr = <-logged:
		case <-time.After(streamGrace):
			att.Close()
			logErr = <-logged
		}
	} else {
		logErr = <-logged
	}
	if logErr != nil && ctx.Err() == nil && !polled {
		return fmt.Errorf("read output of container %.12s: %w", id, logErr)
	}
	if code != 0 {
		return &ExitError{Code: int(code)}
	}
	for _, out := range spec.Out {
		if err := d.copyOut(ctx, id, out); err != nil {
			return err
		}
	}
	return nil
}

// create creates a container from cfg for platform, labelled as this
// run's (LabelBuild, LabelOwner, on top of cfg.Labels), with an anonymous
// volume at each scratch path and the tmpfs mounts of memory (path to
// options), without starting it, and copies in into it. Its output goes
// to whoever attaches, never to a log the engine keeps on its disk.
// Whenever the container exists, remove is non-nil: deferred with the
// caller's named error, it removes the container on every path out and
// reports a failed removal in that error when nothing failed before.
func (d *Docker) create(ctx context.Context, cfg *container.Config, platform string, scratch []string, memory map[string]string, in []CopyIn) (id string, remove func(*error), err error) {
	plat, err := parsePlatform(platform)
	if err != nil {
		return "", nil, err
	}
	labels := maps.Clone(cfg.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelBuild], labels[LabelOwner] = "1", d.owner
	c := *cfg
	c.Labels = labels
	// No log driver: the engine's default (json-file) writes every byte
	// of output to its disk as JSON too, which halves what a container
	// can stream out (measured: 139 MB in 7.4 s, 2.0 s without).
	host := &container.HostConfig{Tmpfs: memory, LogConfig: container.LogConfig{Type: "none"}}
	for _, p := range scratch {
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeVolume, Target: p})
	}
	created, err := d.cli.ContainerCreate(ctx, &c, host, nil,
		&ocispec.Platform{OS: plat.os, Architecture: plat.arch, Variant: plat.variant}, "")
	if err != nil {
		return "", nil, fmt.Errorf("create container from %s: %w", cfg.Image, err)
	}
	id = created.ID
	remove = func(errp *error) {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		rmErr := d.cli.ContainerRemove(rmCtx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if rmErr != nil && !cerrdefs.IsNotFound(rmErr) && *errp == nil {
			*errp = fmt.Errorf("remove container %.12s: %w", id, rmErr)
		}
	}
	for _, f := range in {
		if err := d.copyIn(ctx, id, f); err != nil {
			return id, remove, err
		}
	}
	return id, remove, nil
}

func (d *Docker) copyIn(ctx context.Context, id string, in CopyIn) error {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(archive.WriteTar(pw, in.Files, archive.DefaultTime))
	}()
	defer pr.Close()
	if err := d.cli.CopyToContainer(ctx, id, in.Dir, pr, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copy files into container %.12s:%s: %w", id, in.Dir, err)
	}
	return nil
}

func (d *Docker) copyOut(ctx context.Context, id string, out CopyOut) error {
	rc, _, err := d.cli.CopyFromContainer(ctx, id, out.Path)
	if err != nil {
		return fmt.Errorf("copy %s out of container %.12s: %w", out.Path, id, err)
	}
	defer rc.Close()
	if err := out.Extract(rc); err != nil {
		return fmt.Errorf("copy %s out of container %.12s: %w", out.Path, id, err)
	}
	return nil
}

// RemoveLeftovers implements Engine. A container labelled LabelBuild is
// left over when its owner is a process on this host that no longer
// exists, or when it is older than a day (owners on other hosts sharing a
// remote engine cannot be checked, and no build runs that long). Live
// runs, this one included, keep their containers.
func (d *Docker) RemoveLeftovers(ctx context.Context) (int, error) {
	list, err := d.cli.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", LabelBuild+"=1")),
	})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	removed := 0
	for _, c := range list {
		if !d.leftover(c.Labels[LabelOwner], time.Unix(c.Created, 0)) {
			continue
		}
		err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		// Another run may be removing the same leftover: gone, or going
		// (the engine's 409 "removal already in progress"), is removed.
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			return removed, fmt.Errorf("remove leftover container %.12s: %w", c.ID, err)
		}
		removed++
	}
	return removed, nil
}

func (d *Docker) leftover(owner string, created time.Time) bool {
	if owner == d.owner {
		return false
	}
	if time.Since(created) > leftoverAge {
		return true
	}
	host, pidText, ok := strings.Cut(owner, ":")
	pid, err := strconv.Atoi(pidText)
	return ok && err == nil && host == d.hostname && pid > 0 && !processExists(pid)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// waitPoll is how often Run asks the engine for a container's state while
// it waits for the exit event, and streamGrace how long it then waits for
// the end of the output stream.
const (
	waitPoll    = 2 * time.Second
	streamGrace = 5 * time.Second
)

// wait returns the exit status of the started container id: from the
// engine's wait stream, or, when the engine never sends the exit event
// (dockerd 20.10 was seen to lose it under load, leaving a build hanging
// on a container that had exited), from polling its state. polled says
// which.
func (d *Docker) wait(ctx context.Context, id string, waitC <-chan container.WaitResponse, waitErr <-chan error) (code int64, polled bool, err error) {
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		select {
		case w := <-waitC:
			if w.Error != nil {
				return 0, false, fmt.Errorf("container %.12s: %s", id, w.Error.Message)
			}
			return w.StatusCode, false, nil
		case err := <-waitErr:
			if ctx.Err() != nil {
				return 0, false, ctx.Err()
			}
			return 0, false, fmt.Errorf("wait for container %.12s: %w", id, err)
		case <-tick.C:
			info, err := d.cli.ContainerInspect(ctx, id)
			if err != nil {
				continue // the wait stream or the next poll decides
			}
			if st := info.State; st != nil && st.Status == container.StateExited {
				return int64(st.ExitCode), true, nil
			}
		}
	}
}

// memoryShare is the part of an engine's memory each in-memory folder of a
// container gets by default (RunSpec.MemoryBytes 0): a 2×CPUs-th, so that
// as many containers as the engine has CPUs, each filling one such folder,
// leave half of its memory to everything else.
func memoryShare(memTotal int64, cpus int) int64 {
	return memTotal / int64(2*max(cpus, 1))
}

// tmpfs returns the tmpfs mounts of paths, each bounded to bytes, or to
// the engine's memoryShare when bytes is 0. An engine that does not say
// its memory gets the kernel's default bound (half of it).
func (d *Docker) tmpfs(ctx context.Context, paths []string, bytes int64) map[string]string {
	if len(paths) == 0 {
		return nil
	}
	if bytes == 0 {
		if info, err := d.info(ctx); err == nil && info.MemTotal > 0 {
			bytes = memoryShare(info.MemTotal, info.NCPU)
		}
	}
	opts := "exec"
	if bytes > 0 {
		opts += ",size=" + strconv.FormatInt(bytes, 10)
	}
	m := make(map[string]string, len(paths))
	for _, p := range paths {
		m[p] = opts
	}
	return m
}

// info returns what the engine says of itself (its CPUs, its memory),
// asked once.
func (d *Docker) info(ctx context.Context) (system.Info, error) {
	d.infoOnce.Do(func() {
		d.infoVal, d.infoErr = d.cli.Info(ctx)
		if d.infoErr != nil {
			d.infoErr = fmt.Errorf("engine %s: info: %w", d.host, d.infoErr)
		}
	})
	return d.infoVal, d.infoErr
}
