package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	info := func(v string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/layers-dev/layers", Version: v}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	const rev = "f3ad6f0ccc58aa11bb22cc33dd44ee55ff667788"
	tests := []struct {
		name                    string
		version, commit         string
		read                    func() (*debug.BuildInfo, bool)
		wantVersion, wantCommit string
	}{
		{"linker stamped", "1.2.3", "abc1234", info("v9.9.9", "vcs.revision", rev), "1.2.3", "abc1234"},
		{"linker stamped with v", "v1.2.3", "abc1234", none, "1.2.3", "abc1234"},
		{"go install at a release", "dev", "", info("v1.2.3"), "1.2.3", ""},
		{"go install at a pseudo-version", "dev", "", info("v0.0.0-20261203093500-f3ad6f0ccc58"), "dev", ""},
		{"go install past a tag", "dev", "", info("v1.2.4-0.20261203093500-f3ad6f0ccc58"), "dev", ""},
		{"go build in a checkout", "dev", "", info("(devel)", "vcs.revision", rev), "dev", "f3ad6f0"},
		{"go build in a dirty checkout", "dev", "", info("v1.2.3+dirty", "vcs.revision", rev, "vcs.modified", "true"), "dev", "f3ad6f0-dirty"},
		{"no build info", "dev", "", none, "dev", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, c := resolve(tt.version, tt.commit, tt.read)
			if v != tt.wantVersion || c != tt.wantCommit {
				t.Errorf("resolve = %q, %q; want %q, %q", v, c, tt.wantVersion, tt.wantCommit)
			}
		})
	}
}
