// Package registrytest starts a real container registry for tests that
// push images: Debian's docker-registry (distribution v2) on a free
// 127.0.0.1 port, with its storage in the test's temporary folder. The
// engine treats 127.0.0.0/8 as an insecure registry by default, so pushes
// go over plain HTTP with no daemon configuration.
//
// Without docker-registry a test fails under CI=true (.ci/aws.sh installs
// it: a skipped push test there would hide a broken publish) and skips
// with the reason elsewhere.
package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is where Debian's docker-registry package installs the server.
const Binary = "/usr/bin/docker-registry"

// Manifest media types a registry answers with.
const (
	MediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// Accept lists every manifest type: a registry answers with what it
// stored, list or not, instead of converting.
var Accept = strings.Join([]string{MediaDockerManifest, MediaDockerList, MediaOCIManifest, MediaOCIIndex}, ", ")

const startTimeout = 20 * time.Second

// Server is a registry owned by one test.
type Server struct {
	// Host is host:port, as image references start.
	Host string

	t       testing.TB
	bin     string
	config  string
	log     string
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// Start starts a registry for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		p, lookErr := exec.LookPath("docker-registry")
		if lookErr != nil {
			msg := "docker-registry is not installed (apt-get install docker-registry; .ci/aws.sh installs it)"
			if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		bin = p
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	s := &Server{Host: fmt.Sprintf("127.0.0.1:%d", port), t: t, bin: bin,
		config: filepath.Join(dir, "config.yml"), log: filepath.Join(dir, "registry.log")}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), s.Host)
	if err := os.WriteFile(s.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.Restart()
	return s
}

// Stop stops the registry; its storage stays for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.stopped {
		return
	}
	s.stopped = true
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// Restart starts the registry again on the same address and storage,
// after Stop, and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && !s.stopped {
		return
	}
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "serve", s.config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("registrytest: start: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(exited) }()
	s.cmd, s.exited, s.stopped = cmd, exited, false
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := http.Get("http://" + s.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(s.log)
			s.t.Fatalf("registrytest: docker-registry exited before answering:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("registrytest: no answer from %s after %s", s.Host, startTimeout)
		}
	}
}

// Manifest is a manifest as the registry serves it.
type Manifest struct {
	MediaType string // the Content-Type the registry answered with
	Digest    string // Docker-Content-Digest
	Body      []byte
	// Platforms are the entries' platforms of a list or index, empty for
	// a single image.
	Platforms []string
}

// Manifest fetches repo's manifest ref (a tag or a digest), accepting
// every manifest type; ok is false when the registry has none.
func (s *Server) Manifest(ctx context.Context, repo, ref string) (m Manifest, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Host+"/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		return Manifest{}, false, err
	}
	req.Header.Set("Accept", Accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Manifest{}, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Manifest{}, false, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return Manifest{}, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return Manifest{}, false, fmt.Errorf("GET manifest %s:%s: %s: %s", repo, ref, resp.Status, body)
	}
	m = Manifest{MediaType: resp.Header.Get("Content-Type"), Digest: resp.Header.Get("Docker-Content-Digest"), Body: body}
	var doc struct {
		Manifests []struct {
			Platform struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if json.Unmarshal(body, &doc) == nil {
		for _, e := range doc.Manifests {
			m.Platforms = append(m.Platforms, e.Platform.OS+"/"+e.Platform.Architecture)
		}
	}
	return m, true, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
