package config

import (
	"reflect"
	"testing"
)

// TestParseEngines: [build] engines as an array goes to every
// architecture, as a table to the architectures it names, each address
// with the line it is written on; unset is nil (the environment's engine).
func TestParseEngines(t *testing.T) {
	cases := []struct {
		name, doc string
		want      map[string][]EngineAddress
	}{
		{"unset", "[build]\nimage = \"x\"\n", nil},
		{"array", "[build]\nengines = [\n  \"unix:///var/run/docker.sock\",\n  \"ssh://me@builder:2222/run/docker.sock\",\n]\n",
			map[string][]EngineAddress{
				"x86_64": {{"unix:///var/run/docker.sock", 3}, {"ssh://me@builder:2222/run/docker.sock", 4}},
				"arm64":  {{"unix:///var/run/docker.sock", 3}, {"ssh://me@builder:2222/run/docker.sock", 4}},
			}},
		{"table", "[build.engines]\nx86_64 = [\"unix:///var/run/docker.sock\", \"tcp://10.0.0.5:2376\"]\narm64 = [\"graviton\"]\n",
			map[string][]EngineAddress{
				"x86_64": {{"unix:///var/run/docker.sock", 2}, {"tcp://10.0.0.5:2376", 2}},
				"arm64":  {{"graviton", 3}},
			}},
		{"dotted keys, one architecture", "build.engines.arm64 = [\"ssh://graviton\"]\n",
			map[string][]EngineAddress{"arm64": {{"ssh://graviton", 1}}}},
		{"inline table", "[build]\nengines = { x86_64 = [\"desktop-linux\", \"remote.v2+x\"] }\n",
			map[string][]EngineAddress{"x86_64": {{"desktop-linux", 2}, {"remote.v2+x", 2}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("layers.toml", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Build.EnginesByArch, tc.want) {
				t.Errorf("EnginesByArch = %+v, want %+v", c.Build.EnginesByArch, tc.want)
			}
		})
	}
}
