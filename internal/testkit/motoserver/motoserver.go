// Package motoserver starts moto_server, the AWS emulator, for tests that
// talk to Lambda, S3 and ECR over real HTTP with the real SDK.
//
// Each Start gets a server of its own on a free 127.0.0.1 port, stopped
// when the test ends, so tests never see each other's layers or buckets.
// Without moto_server on PATH, a test fails under CI=true (CI installs it:
// a skipped publish test there would hide a broken publish) and skips with
// the reason elsewhere.
package motoserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region tests use; moto accepts any.
const Region = "us-east-1"

// AccountID is the account moto pretends the caller is in.
const AccountID = "123456789012"

// startTimeout bounds the wait for a new server to answer.
const startTimeout = 30 * time.Second

// Server is a running moto_server.
type Server struct {
	// Endpoint is its base URL, like http://127.0.0.1:40123.
	Endpoint string
}

// Start starts a moto_server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		msg := "moto_server is not installed (pip install 'moto[server]'; .ci/run installs it)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("motoserver: %v", err)
	}
	logFile, err := os.CreateTemp(t.TempDir(), "moto-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so stopping it stops the workers it forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("motoserver: start: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("motoserver: moto_server exited before answering:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("motoserver: no answer from %s after %s", s.Endpoint, startTimeout)
		}
	}
}

// Setenv points the AWS SDK's default configuration at s for the rest of
// t: AWS_ENDPOINT_URL, static test credentials and Region, with any
// profile or service-specific endpoint of the host environment cleared.
// It uses t.Setenv, so t and its parents must not be parallel.
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            s.Endpoint,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL_LAMBDA":     "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_ENDPOINT_URL_ECR":        "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// Config returns an SDK configuration for s: its endpoint, static test
// credentials and Region. S3 clients made from it still need UsePathStyle.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

// Reset drops everything the server holds (layers, buckets, repositories).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("motoserver: reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("motoserver: reset: %s", resp.Status)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
