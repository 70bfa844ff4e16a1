package engine

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// sshArgs returns the ssh arguments that reach the engine of an ssh://
// DOCKER_HOST: ssh://[user@]host[:port][/path/to/docker.sock].
func sshArgs(u *url.URL) ([]string, error) {
	if u.Hostname() == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("want ssh://[user@]host[:port][/socket-path]")
	}
	args := []string{"-T", "-o", "ConnectTimeout=30"}
	if u.User != nil {
		args = append(args, "-l", u.User.Username())
	}
	if p := u.Port(); p != "" {
		args = append(args, "-p", p)
	}
	args = append(args, "--", u.Hostname(), "docker")
	if u.Path != "" && u.Path != "/" {
		args = append(args, "--host", "unix://"+u.Path)
	}
	return append(args, "system", "dial-stdio"), nil
}

// commandConn is a net.Conn over a process's standard input and output.
type commandConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *TailBuffer

	closeOnce, waitOnce sync.Once
	waitErr             error
}

// dialCommand starts name with args and returns its stdin/stdout as a
// connection. The process ends when the connection is closed.
func dialCommand(name string, args ...string) (net.Conn, error) {
	cmd := exec.Command(name, args...)
	c := &commandConn{cmd: cmd, stderr: NewTailBuffer(4096)}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if c.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return c, nil
}

// Read returns the process's failure, with its last stderr lines, when its
// output ends because it failed (wrong host, refused key).
func (c *commandConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == io.EOF {
		if werr := c.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (c *commandConn) Write(p []byte) (int, error) { return c.stdin.Write(p) }

// CloseWrite half-closes the connection, as hijacked attach streams expect.
func (c *commandConn) CloseWrite() error { return c.stdin.Close() }

func (c *commandConn) Close() error {
	c.closeOnce.Do(func() {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.wait()
	})
	return nil
}

func (c *commandConn) wait() error {
	c.waitOnce.Do(func() {
		if err := c.cmd.Wait(); err != nil {
			c.waitErr = fmt.Errorf("%s: %w: %s", c.cmd.Path, err, strings.TrimSpace(c.stderr.String()))
		}
	})
	return c.waitErr
}

func (c *commandConn) LocalAddr() net.Addr              { return commandAddr{} }
func (c *commandConn) RemoteAddr() net.Addr             { return commandAddr{} }
func (c *commandConn) SetDeadline(time.Time) error      { return nil }
func (c *commandConn) SetReadDeadline(time.Time) error  { return nil }
func (c *commandConn) SetWriteDeadline(time.Time) error { return nil }

type commandAddr struct{}

func (commandAddr) Network() string { return "command" }
func (commandAddr) String() string  { return "command" }

// TailBuffer keeps the last bytes written to it: the end of a process's
// output, which is what an error message needs.
type TailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

// NewTailBuffer returns a TailBuffer that keeps the last max bytes.
func NewTailBuffer(max int) *TailBuffer { return &TailBuffer{max: max} }

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

// String returns what is kept.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
