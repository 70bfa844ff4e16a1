package engine

import (
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestPlatformFor(t *testing.T) {
	for arch, want := range map[string]string{"x86_64": "linux/amd64", "arm64": "linux/arm64", "aarch64": ""} {
		got, err := PlatformFor(arch)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("%s: %q, %v; want %q", arch, got, err, want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want platform
		ok   bool
	}{
		{"linux/amd64", platform{"linux", "amd64", ""}, true},
		{"linux/arm64/v8", platform{"linux", "arm64", "v8"}, true},
		{"linux", platform{}, false},
		{"/amd64", platform{}, false},
		{"linux/", platform{}, false},
		{"a/b/c/d", platform{}, false},
	}
	for _, tt := range tests {
		got, err := parsePlatform(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("%q: %+v, %v", tt.in, got, err)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("%q: String() = %q", tt.in, got.String())
		}
	}
}

func TestSSHArgs(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"ssh://builder", []string{"-T", "-o", "ConnectTimeout=30", "--", "builder", "docker", "system", "dial-stdio"}},
		{"ssh://ci@big-builder:2222", []string{"-T", "-o", "ConnectTimeout=30", "-l", "ci", "-p", "2222", "--", "big-builder", "docker", "system", "dial-stdio"}},
		{"ssh://ci@big-builder/run/user/1000/docker.sock", []string{"-T", "-o", "ConnectTimeout=30", "-l", "ci", "--", "big-builder", "docker", "--host", "unix:///run/user/1000/docker.sock", "system", "dial-stdio"}},
		{"ssh://", nil},
		{"ssh://host?x=1", nil},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.host)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sshArgs(u)
		if !slices.Equal(got, tt.want) || (err == nil) != (tt.want != nil) {
			t.Errorf("%s: %q, %v", tt.host, got, err)
		}
	}
}

func TestLeftover(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	d := &Docker{hostname: "ci-7", owner: "ci-7:" + strconv.Itoa(os.Getpid())}
	now, old := time.Now(), time.Now().Add(-25*time.Hour)
	tests := []struct {
		owner   string
		created time.Time
		want    bool
	}{
		{d.owner, old, false},
		{"ci-7:" + strconv.Itoa(dead.Process.Pid), now, true},
		{"ci-7:1", now, false}, // pid 1 lives
		{"ci-7:1", old, true},  // but no build runs for a day
		{"other-host:123", now, false},
		{"other-host:123", old, true},
		{"", now, false},
		{"", old, true},
		{"ci-7:x", now, false},
	}
	for _, tt := range tests {
		if got := d.leftover(tt.owner, tt.created); got != tt.want {
			t.Errorf("owner %q created %v: leftover %v, want %v", tt.owner, tt.created, got, tt.want)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := NewTailBuffer(5)
	b.Write([]byte("abc"))
	b.Write([]byte("defgh"))
	if got := b.String(); got != "defgh" {
		t.Errorf("tail %q", got)
	}
}
