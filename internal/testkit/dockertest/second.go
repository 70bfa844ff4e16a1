package dockertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/layers-dev/layers/engine"
)

// DefaultSecondHost is the socket of the second engine .ci/docker2.sh
// starts, with its own data root and bridge, for the tests that spread a
// build over two engines.
const DefaultSecondHost = "unix:///run/layers-docker2.sock"

// SecondHost returns the second engine's address: $LAYERS_DOCKER2_HOST,
// else DefaultSecondHost.
func SecondHost() string {
	if h := os.Getenv("LAYERS_DOCKER2_HOST"); h != "" {
		return h
	}
	return DefaultSecondHost
}

// Second returns the second engine, connected, closed when the test ends.
// Without it the test fails in CI and is skipped elsewhere.
func Second(t testing.TB) *engine.Docker {
	t.Helper()
	d, err := engine.DialHost(context.Background(), SecondHost())
	if err != nil {
		missing(t, "no second Docker engine: %v (run .ci/docker2.sh)", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// CutProxy is a unix socket in front of a real engine's socket that
// forwards everything until it is cut: then it closes every connection and
// its socket, as an engine whose daemon died would look to its clients.
// It injects that fault and nothing else; the engine behind it is real.
type CutProxy struct {
	// Host is the proxy's address, to dial instead of the engine's.
	Host string

	target string
	ln     net.Listener

	mu     sync.Mutex
	conns  []net.Conn
	starts int
	after  int           // cut once this many containers have started
	delay  time.Duration // and this long after
	cut    bool
}

// NewCutProxy starts a proxy in front of the engine at the unix:// host
// target; it is cut, at the latest, when the test ends.
func NewCutProxy(t testing.TB, target string) *CutProxy {
	t.Helper()
	path, ok := strings.CutPrefix(target, "unix://")
	if !ok {
		t.Fatalf("CutProxy: %s is no unix:// host", target)
	}
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	p := &CutProxy{Host: "unix://" + sock, target: path, ln: ln, after: -1}
	go p.serve()
	t.Cleanup(p.Cut)
	return p
}

// CutAfterStarts cuts the proxy delay after the n-th container start
// request from now passes through it: the engine vanishes while
// containers run.
func (p *CutProxy) CutAfterStarts(n int, delay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after, p.delay = p.starts+n, delay
}

// IsCut reports whether the proxy has been cut.
func (p *CutProxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Cut closes the socket and every connection through it.
func (p *CutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return
	}
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *CutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() {
			_, _ = io.Copy(up, &startWatcher{r: c, seen: p.started})
			closeWrite(up)
		}()
		go func() {
			_, _ = io.Copy(c, up)
			closeWrite(c)
		}()
	}
}

// started counts a container start request and arms the cut.
func (p *CutProxy) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starts++
	if p.after > 0 && p.starts == p.after {
		time.AfterFunc(p.delay, p.Cut)
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// startWatcher calls seen for every container start request line in the
// client's stream. Request lines are short and start a write of their own
// in the docker client, so a line split across reads is not looked for.
type startWatcher struct {
	r    io.Reader
	seen func()
}

var startLine = []byte("/start HTTP/1.1")

func (w *startWatcher) Read(b []byte) (int, error) {
	n, err := w.r.Read(b)
	if n > 0 && bytes.HasPrefix(b[:n], []byte("POST ")) {
		line, _, _ := bytes.Cut(b[:n], []byte("\r\n"))
		if bytes.Contains(line, []byte("/containers/")) && bytes.HasSuffix(line, startLine) {
			w.seen()
		}
	}
	if errors.Is(err, net.ErrClosed) {
		err = io.EOF
	}
	return n, err
}

// RemoveOwnContainers removes the containers this process left on the
// engine at host: those of runs whose engine vanished behind a CutProxy
// while the real engine kept them. RemoveLeftovers spares them, since
// their owner still runs.
func RemoveOwnContainers(t testing.TB, host string) {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Error(err)
		return
	}
	defer cli.Close()
	ctx := context.Background()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", engine.LabelBuild+"=1"))})
	if err != nil {
		t.Error(err)
		return
	}
	for _, c := range list {
		if strings.HasSuffix(c.Labels[engine.LabelOwner], ":"+strconv.Itoa(os.Getpid())) {
			// The engine may be removing it already: the run's own removal
			// can have reached it before the cut.
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
				t.Error(err)
			}
		}
	}
}
