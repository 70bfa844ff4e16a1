package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/layers-dev/layers/archive"
	"github.com/layers-dev/layers/engine"
	"github.com/layers-dev/layers/internal/testkit/dockertest"
)

// testLabel marks one test's containers so it can look for them.
const testLabel = "layers.test"

func rawClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// containers lists the containers, running or not, labelled testLabel=id.
func containers(t *testing.T, cli *client.Client, id string) []container.Summary {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", testLabel+"="+id)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func extractTo(dst string) func(io.Reader) error {
	return func(r io.Reader) error {
		_, err := archive.ExtractTar(r, dst)
		return err
	}
}

func TestDialUnreachable(t *testing.T) {
	for _, host := range []string{"unix:///nonexistent/docker.sock", "tcp://127.0.0.1:1", "ssh://nobody@127.0.0.1:1"} {
		t.Setenv("DOCKER_HOST", host)
		_, err := engine.Dial(context.Background())
		var ue *engine.UnreachableError
		if !errors.As(err, &ue) || ue.Host != host || !strings.Contains(err.Error(), host) {
			t.Errorf("%s: error %v, want an *UnreachableError naming the host", host, err)
		}
	}
}

func TestImageID(t *testing.T) {
	d := dockertest.Engine(t)
	ref := dockertest.Image(t, d)
	ctx := context.Background()
	id, err := d.ImageID(ctx, ref, dockertest.Platform)
	if err != nil || !strings.HasPrefix(id, "sha256:") {
		t.Errorf("ImageID = %q, %v", id, err)
	}
	if _, err := d.ImageID(ctx, ref, "linux/arm64"); !errors.Is(err, engine.ErrImageNotFound) || !strings.Contains(err.Error(), "linux/amd64") {
		t.Errorf("wrong platform: %v", err)
	}
	if _, err := d.ImageID(ctx, "layers-test/missing:1", dockertest.Platform); !errors.Is(err, engine.ErrImageNotFound) {
		t.Errorf("missing image: %v", err)
	}
}

func TestPullFailure(t *testing.T) {
	d := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := d.Pull(ctx, "registry.example.invalid/layers/missing:1", "linux/amd64")
	if err == nil || !strings.Contains(err.Error(), "registry.example.invalid/layers/missing:1") {
		t.Errorf("error %v, want a failed pull naming the image", err)
	}
}

const script = `
import json, os, sys
data = open("/work/input/data.json").read()
os.makedirs("/out/pkg/sub")
open("/out/pkg/__init__.py", "w").write("VALUE = %r\n" % json.loads(data)["value"])
open("/out/pkg/sub/tool", "w").write("#!/bin/sh\n")
os.chmod("/out/pkg/sub/tool", 0o700)
os.symlink("__init__.py", "/out/pkg/alias.py")
print("to stdout", os.environ["GREETING"])
print("to stderr", file=sys.stderr)
`

func TestRun(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cli := rawClient(t)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	dst := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := d.Run(context.Background(), engine.RunSpec{
		Image:    image,
		Platform: dockertest.Platform,
		Cmd:      []string{"python3", "main.py"},
		Env:      []string{"GREETING=hello"},
		WorkDir:  "/work",
		Labels:   map[string]string{testLabel: run},
		In: []engine.CopyIn{{Dir: "/", Files: []archive.File{
			archive.FromBytes("work/main.py", []byte(script), false),
			archive.FromBytes("work/input/data.json", []byte(`{"value": 42}`), false),
		}}},
		Out:    []engine.CopyOut{{Path: "/out", Extract: extractTo(dst)}},
		Stdout: &stdout,
		Stderr: &stderr,
	})
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	if stdout.String() != "to stdout hello\n" || stderr.String() != "to stderr\n" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(dst, "pkg", "alias.py")); err != nil || string(b) != "VALUE = 42\n" {
		t.Errorf("copied out %q, %v", b, err)
	}
	if info, err := os.Stat(filepath.Join(dst, "pkg", "sub", "tool")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("tool: %v, %v", info, err)
	}
	if left := containers(t, cli, run); len(left) != 0 {
		t.Errorf("%d containers left", len(left))
	}
}

func TestRunPip(t *testing.T) {
	d := dockertest.Engine(t)
	var stdout bytes.Buffer
	err := d.Run(context.Background(), engine.RunSpec{
		Image:    dockertest.Image(t, d),
		Platform: dockertest.Platform,
		Cmd:      []string{"python3", "-m", "pip", "--version"},
		Stdout:   &stdout,
	})
	if err != nil || !strings.HasPrefix(stdout.String(), "pip ") || !strings.Contains(stdout.String(), "python 3.11") {
		t.Errorf("pip --version: %q, %v", stdout.String(), err)
	}
}

func TestRunFailure(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cli := rawClient(t)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var stderr bytes.Buffer
	copied := false
	err := d.Run(context.Background(), engine.RunSpec{
		Image:    image,
		Platform: dockertest.Platform,
		Cmd:      []string{"sh", "-c", "echo 'ERROR: No matching distribution found for nosuchpkg' >&2; exit 3"},
		Labels:   map[string]string{testLabel: run},
		Out:      []engine.CopyOut{{Path: "/tmp", Extract: func(io.Reader) error { copied = true; return nil }}},
		Stderr:   &stderr,
	})
	var exit *engine.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Errorf("error %v, want exit status 3", err)
	}
	if !strings.Contains(stderr.String(), "No matching distribution") {
		t.Errorf("stderr %q", stderr.String())
	}
	if copied {
		t.Error("files copied out of a failed run")
	}
	if left := containers(t, cli, run); len(left) != 0 {
		t.Errorf("%d containers left", len(left))
	}

	// A missing folder to copy out is an error, and still no leftovers.
	err = d.Run(context.Background(), engine.RunSpec{
		Image: image, Platform: dockertest.Platform, Cmd: []string{"true"},
		Labels: map[string]string{testLabel: run},
		Out:    []engine.CopyOut{{Path: "/nonexistent", Extract: extractTo(t.TempDir())}},
	})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Errorf("error %v, want one naming /nonexistent", err)
	}
	if left := containers(t, cli, run); len(left) != 0 {
		t.Errorf("%d containers left", len(left))
	}
}

// signalWriter closes ready when it first sees word.
type signalWriter struct {
	word  string
	ready chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.word)) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func TestRunCancel(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cli := rawClient(t)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &signalWriter{word: "started", ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- d.Run(ctx, engine.RunSpec{
			Image: image, Platform: dockertest.Platform,
			Cmd:    []string{"sh", "-c", "echo started; sleep 300"},
			Labels: map[string]string{testLabel: run},
			Stdout: out,
		})
	}()
	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("container did not start")
	}
	if n := len(containers(t, cli, run)); n != 1 {
		t.Fatalf("%d running containers, want 1", n)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after cancel")
	}
	if left := containers(t, cli, run); len(left) != 0 {
		t.Errorf("%d containers left after cancel", len(left))
	}
}

func TestRemoveLeftovers(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cli := rawClient(t)
	ctx := context.Background()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	hostname, _ := os.Hostname()
	owners := map[string]bool{ // owner label -> should be removed
		fmt.Sprintf("%s:%d", hostname, dead.Process.Pid): true,
		fmt.Sprintf("%s:%d", hostname, os.Getpid()):      false, // this process: a live run
		"other-host:1": false, // cannot tell; too young to remove
	}
	ids := map[string]string{}
	for owner := range owners {
		c, err := cli.ContainerCreate(ctx, &container.Config{
			Image: image, Cmd: []string{"sleep", "300"},
			Labels: map[string]string{engine.LabelBuild: "1", engine.LabelOwner: owner, testLabel: run},
		}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[c.ID] = owner
		t.Cleanup(func() { cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}) })
	}
	n, err := d.RemoveLeftovers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("removed %d containers, want at least the dead owner's", n)
	}
	for _, c := range containers(t, cli, run) {
		if owners[ids[c.ID]] {
			t.Errorf("container of %s survived", ids[c.ID])
		}
		delete(ids, c.ID)
	}
	for _, owner := range ids {
		if !owners[owner] {
			t.Errorf("container of live owner %s removed", owner)
		}
	}
}

// TestSSH reaches the engine through the ssh:// code path, with an ssh
// stand-in that runs `docker system dial-stdio` locally, as sshd would on
// the remote side.
func TestSSH(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatalf("the docker CLI is needed to stand in for the remote side: %v", err)
	}
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "args")
	fake := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %q\nunset DOCKER_HOST\nexec %q system dial-stdio\n", argsFile, docker)
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DOCKER_HOST", "ssh://ci@big-builder.example.invalid:2222")
	remote, err := engine.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close()
	var stdout bytes.Buffer
	dst := t.TempDir()
	err = remote.Run(context.Background(), engine.RunSpec{
		Image: image, Platform: dockertest.Platform,
		Cmd:    []string{"sh", "-c", "mkdir /out && echo over-ssh | tee /out/f"},
		Out:    []engine.CopyOut{{Path: "/out", Extract: extractTo(dst)}},
		Stdout: &stdout,
	})
	if err != nil || stdout.String() != "over-ssh\n" {
		t.Errorf("Run over ssh: %q, %v", stdout.String(), err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "over-ssh\n" {
		t.Errorf("copied out %q", b)
	}
	args, _ := os.ReadFile(argsFile)
	if want := "-l\nci\n-p\n2222\n--\nbig-builder.example.invalid\ndocker\nsystem\ndial-stdio\n"; !strings.HasSuffix(string(args), want) {
		t.Errorf("ssh arguments\n%s\nwant suffix\n%s", args, want)
	}
}

// TestRunLostExitEvent puts a proxy in front of the real engine that
// answers every /wait call with headers and then nothing, as dockerd was
// seen to do under load: Run must still learn the exit status (polling
// the container's state), return the output and fail a non-zero exit.
func TestRunLostExitEvent(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	d.Close()

	upstream := os.Getenv("DOCKER_HOST")
	if upstream == "" {
		upstream = client.DefaultDockerHost
	}
	sock, ok := strings.CutPrefix(upstream, "unix://")
	if !ok {
		t.Skipf("the proxy forwards to a unix socket; DOCKER_HOST is %s", upstream)
	}
	var swallowed atomic.Int32
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/wait") {
			swallowed.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the exit event never comes
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	pd, err := engine.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pd.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	err = pd.Run(ctx, engine.RunSpec{Image: image, Platform: dockertest.Platform,
		Cmd: []string{"sh", "-c", "echo done"}, Stdout: &stdout})
	if err != nil || stdout.String() != "done\n" {
		t.Errorf("Run with a lost exit event = %v, output %q; want success and the output", err, stdout.String())
	}
	err = pd.Run(ctx, engine.RunSpec{Image: image, Platform: dockertest.Platform, Cmd: []string{"sh", "-c", "exit 3"}})
	var ee *engine.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("Run of exit 3 with a lost exit event = %v, want exit status 3", err)
	}
	if swallowed.Load() < 2 {
		t.Errorf("the proxy swallowed %d wait calls; the test did not test the fault", swallowed.Load())
	}
}

// TestRunMemory runs a container with folders in memory: one bounded to
// what the run asks, one to the engine's share (a 2×CPUs-th of its
// memory), where the kernel's default would be half of it.
func TestRunMemory(t *testing.T) {
	d := dockertest.Engine(t)
	image := dockertest.Image(t, d)
	cli := rawClient(t)
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	run := func(bytes int64) {
		t.Helper()
		out.Reset()
		err := d.Run(context.Background(), engine.RunSpec{
			Image: image, Platform: dockertest.Platform,
			Cmd:    []string{"python3", "-c", "import os; s = os.statvfs('/m'); print(s.f_blocks * s.f_frsize)"},
			Memory: []string{"/m"}, MemoryBytes: bytes,
			Labels: map[string]string{testLabel: "memory"},
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
	}
	run(1 << 20)
	if got := strings.TrimSpace(out.String()); got != strconv.Itoa(1<<20) {
		t.Errorf("a 1 MiB memory folder holds %s bytes", got)
	}
	run(0)
	got, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
	// The kernel rounds the size up to whole pages.
	if want := info.MemTotal / int64(2*info.NCPU); err != nil || got < want || got > want+4096 {
		t.Errorf("the engine's share: %s bytes, want %d (%d bytes of memory, %d CPUs)", out.String(), want, info.MemTotal, info.NCPU)
	}
}
