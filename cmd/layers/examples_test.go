package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI examples and the release configuration are read by people and by
// services this suite cannot run. What it checks offline: they parse, every
// layers command they run exists with the flags they pass, they take the
// steps the README promises, and the files they download are the ones a
// release (.goreleaser.yaml, make dist) makes.

const (
	githubExample = "../../examples/github-actions.yml"
	gitlabExample = "../../examples/gitlab-ci.yml"
	goreleaser    = "../../.goreleaser.yaml"
)

func readYAML(t *testing.T, path string) (string, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b), doc
}

// scripts returns the shell text under the keys that hold commands, anywhere
// in a document.
func scripts(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "run" || strings.HasSuffix(k, "script") {
				out = append(out, texts(x)...)
			} else {
				out = append(out, scripts(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, scripts(x)...)
		}
	}
	return out
}

// texts flattens a string or a list of them.
func texts(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, texts(x)...)
		}
		return out
	}
	return nil
}

// commandStart is where a shell command begins: a line's start or a
// control operator.
var commandStart = regexp.MustCompile(`(?m)(?:^|&&|\|\||;|\||\$\()\s*`)

// invocations returns the arguments of every `layers ...` command in script.
func invocations(script string) [][]string {
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, loc := range commandStart.FindAllStringIndex(line, -1) {
			f := strings.Fields(line[loc[1]:])
			if len(f) == 0 || f[0] != "layers" {
				continue
			}
			args := []string{}
			for _, a := range f[1:] {
				if i := strings.IndexAny(a, "&|;)"); i >= 0 {
					if i > 0 {
						args = append(args, a[:i])
					}
					break
				}
				args = append(args, a)
			}
			out = append(out, args)
		}
	}
	return out
}

// invocationError says why args are no layers command with its flags.
func invocationError(args []string) error {
	root := newRootCmd(io.Discard, io.Discard)
	root.InitDefaultVersionFlag()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	cmd.InitDefaultHelpFlag()
	return cmd.ParseFlags(rest)
}

// checkExample checks what both examples must do and returns the commands
// they run, as "build --verify", "publish", ...
func checkExample(t *testing.T, path string, mentions []string) []string {
	t.Helper()
	text, doc := readYAML(t, path)
	var run []string
	for _, s := range scripts(doc) {
		for _, args := range invocations(s) {
			if err := invocationError(args); err != nil {
				t.Errorf("%s: layers %s: %v", path, strings.Join(args, " "), err)
			}
			run = append(run, strings.Join(args, " "))
		}
	}
	for _, want := range []string{"--version", "build --verify", "report", "publish"} {
		if !slices.Contains(run, want) {
			t.Errorf("%s: never runs `layers %s`; it runs %q", path, want, run)
		}
	}
	for _, want := range append(mentions,
		"LAYERS_CACHE_URL: s3://", // the remote tier
		"LAYERS_CACHE_READ_ONLY",  // for pull requests
		"/layers_linux_amd64",     // the release binary ...
		"/SHA256SUMS",             // ... and its checksum, as .goreleaser.yaml names them
		"sha256sum",               // checked
		"cmd/layers@v",            // the go install alternative
		".layers/report.html",     // kept as an artifact
	) {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not mention %q", path, want)
		}
	}
	return run
}

func TestGitHubActionsExample(t *testing.T) {
	checkExample(t, githubExample, []string{
		"aws-actions/configure-aws-credentials@", "role-to-assume:", "id-token: write",
		"actions/upload-artifact@",
	})
	_, doc := readYAML(t, githubExample)
	if _, ok := doc["on"]; !ok {
		t.Errorf("%s: no `on:` triggers", githubExample)
	}
	// Publishing happens on main only.
	jobs, _ := doc["jobs"].(map[string]any)
	published := false
	for name, j := range jobs {
		steps, _ := j.(map[string]any)["steps"].([]any)
		for _, s := range steps {
			step, _ := s.(map[string]any)
			run, _ := step["run"].(string)
			if !strings.Contains(run, "layers publish") {
				continue
			}
			published = true
			if cond, _ := step["if"].(string); !strings.Contains(cond, "refs/heads/main") {
				t.Errorf("%s: job %s publishes under if: %q, not on main only", githubExample, name, cond)
			}
		}
	}
	if !published {
		t.Errorf("%s: no step runs layers publish", githubExample)
	}
}

func TestGitLabCIExample(t *testing.T) {
	checkExample(t, gitlabExample, []string{
		"docker:27-dind", "id_tokens:", "aws sts assume-role-with-web-identity", "artifacts:",
	})
	_, doc := readYAML(t, gitlabExample)
	// A job that publishes runs on the default branch only.
	published := false
	for name, v := range doc {
		job, ok := v.(map[string]any)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		if !slices.ContainsFunc(texts(job["script"]), func(s string) bool { return strings.Contains(s, "layers publish") }) {
			continue
		}
		published = true
		rules, _ := job["rules"].([]any)
		if len(rules) == 0 {
			t.Errorf("%s: job %s publishes without rules", gitlabExample, name)
		}
		for _, r := range rules {
			if cond, _ := r.(map[string]any)["if"].(string); cond != "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" {
				t.Errorf("%s: job %s publishes under rule %q", gitlabExample, name, cond)
			}
		}
	}
	if !published {
		t.Errorf("%s: no job runs layers publish", gitlabExample)
	}
}

func TestInvocations(t *testing.T) {
	script := `layers --version
mkdir -p x && cd x && install -m 0755 layers_linux_amd64 layers
test -f .layers/build.json && layers report --out r.html # a comment
# layers never
go install github.com/layers-dev/layers/cmd/layers@v1
echo $(layers outputs --format env)`
	got := invocations(script)
	want := [][]string{{"--version"}, {"report", "--out", "r.html"}, {"outputs", "--format", "env"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("invocations = %q, want %q", got, want)
	}
	for _, args := range [][]string{{"build", "--no-such-flag"}, {"--no-such-flag"}, {"report", "--out"}} {
		if invocationError(args) == nil {
			t.Errorf("layers %s: no error", strings.Join(args, " "))
		}
	}
	if err := invocationError([]string{"build", "--verify"}); err != nil {
		t.Errorf("layers build --verify: %v", err)
	}
}

// TestGoreleaserConfig holds .goreleaser.yaml to what the examples download
// and what `make dist` builds; `goreleaser check` validates the rest.
func TestGoreleaserConfig(t *testing.T) {
	var cfg struct {
		Version int `yaml:"version"`
		Builds  []struct {
			Main         string   `yaml:"main"`
			Env          []string `yaml:"env"`
			Goos         []string `yaml:"goos"`
			Goarch       []string `yaml:"goarch"`
			Flags        []string `yaml:"flags"`
			Ldflags      []string `yaml:"ldflags"`
			ModTimestamp string   `yaml:"mod_timestamp"`
		} `yaml:"builds"`
		Archives []struct {
			Formats      []string `yaml:"formats"`
			NameTemplate string   `yaml:"name_template"`
		} `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
		} `yaml:"checksum"`
	}
	b, err := os.ReadFile(goreleaser)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", goreleaser, err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf("%s: want version 2, one build, one archive: %+v", goreleaser, cfg)
	}
	bd := cfg.Builds[0]
	ld := strings.Join(bd.Ldflags, " ")
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"main ./cmd/layers", bd.Main == "./cmd/layers"},
		{"CGO_ENABLED=0", slices.Contains(bd.Env, "CGO_ENABLED=0")},
		{"linux and darwin", slices.Equal(bd.Goos, []string{"linux", "darwin"})},
		{"amd64 and arm64", slices.Equal(bd.Goarch, []string{"amd64", "arm64"})},
		{"-trimpath", slices.Contains(bd.Flags, "-trimpath")},
		{"-buildid= in ldflags", strings.Contains(ld, "-buildid=")},
		{"buildinfo.Version in ldflags", strings.Contains(ld, "-X github.com/layers-dev/layers/internal/buildinfo.Version=")},
		{"buildinfo.Commit in ldflags", strings.Contains(ld, "-X github.com/layers-dev/layers/internal/buildinfo.Commit=")},
		{"mod_timestamp from the commit", bd.ModTimestamp == "{{ .CommitTimestamp }}"},
		{"bare binaries", slices.Equal(cfg.Archives[0].Formats, []string{"binary"})},
		{"named layers_OS_ARCH", cfg.Archives[0].NameTemplate == "{{ .ProjectName }}_{{ .Os }}_{{ .Arch }}"},
		{"checksums in SHA256SUMS", cfg.Checksum.NameTemplate == "SHA256SUMS"},
	} {
		if !c.ok {
			t.Errorf("%s: want %s", goreleaser, c.what)
		}
	}
}
