package resolver

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
)

// reqRepo is a small repository the in-memory cases share: local projects
// described by each kind of static metadata, archives, and include targets.
var reqRepo = map[string]string{
	"libs/core/pyproject.toml":             "[project]\nname = \"Core_Lib\"\nversion = \"1.4.0\"\n",
	"libs/dyn/pyproject.toml":              "[project]\nname = \"dyn\"\ndynamic = [\"version\"]\n",
	"libs/poetry/pyproject.toml":           "[tool.poetry]\nname = \"poetry-lib\"\nversion = \"0.2.0\"\n",
	"libs/cfg/setup.cfg":                   "[metadata]\nname = cfg-lib\nversion = 3.1\n\n[options]\npackages = find:\n",
	"libs/cfg/setup.py":                    "from setuptools import setup\nsetup()\n",
	"libs/attr/setup.cfg":                  "[metadata]\nName = attr-lib\nversion = attr: attr_lib.__version__\n",
	"libs/attr/setup.py":                   "",
	"libs/bare/setup.py":                   "",
	"libs/empty/README.md":                 "not a project\n",
	"dist/orders-1.0.tar.gz":               "",
	"dist/orders_api-2.1-py3-none-any.whl": "",
	"wheels/README.md":                     "",
}

func reqMemFS(files ...map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, m := range files {
		for name, data := range m {
			fsys[name] = &fstest.MapFile{Data: []byte(data)}
		}
	}
	return fsys
}

// parseMem parses requirements.txt of reqRepo plus files; getenv knows env.
func parseMem(files, env map[string]string) (*RequirementsFile, error) {
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return parseRequirements(reqMemFS(reqRepo, files), "/repo", "requirements.txt", getenv)
}

func renderReq(r Requirement) string {
	s := fmt.Sprintf("%s:%d %s", r.Path, r.Line, r.Requirement.String())
	if r.Editable {
		s += " (editable)"
	}
	if r.LocalPath != "" {
		s += " path=" + r.LocalPath
	}
	for _, h := range r.Hashes {
		s += " " + h
	}
	return s
}

func renderReqs(rs []Requirement) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = renderReq(r)
	}
	return out
}

func renderReqPackages(ps []Package) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		s := fmt.Sprintf("%s %s %s", p.Name, p.Version, p.Source)
		if p.URL != "" {
			s += " " + p.URL
		}
		if p.Path != "" {
			s += " " + p.Path
		}
		if len(p.Hashes) > 0 {
			s += fmt.Sprintf(" hashes=%d", len(p.Hashes))
		}
		out[i] = s
	}
	return out
}

func reqTargetEnv(t testing.TB, runtime, arch string) pep508.Env {
	t.Helper()
	env, err := pep508.TargetEnv(runtime, arch)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestRequirementsLines(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		files map[string]string
		env   map[string]string
		want  []string
		cons  []string
	}{{
		name: "comments and blank lines",
		text: "# full-line comment\nrequests==2.32.3  # trailing comment\n  # indented comment\n\nidna==3.7\t# after a tab\n",
		want: []string{"requirements.txt:2 requests==2.32.3", "requirements.txt:5 idna==3.7"},
	}, {
		name: "hash inside a URL is not a comment",
		text: "attrs @ https://files.example.invalid/attrs-24.2.0.tar.gz#sha256=abc\n",
		want: []string{"requirements.txt:1 attrs @ https://files.example.invalid/attrs-24.2.0.tar.gz#sha256=abc"},
	}, {
		name: "hashes on continuation lines",
		text: "requests==2.32.3 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\n    # via -r requirements.in\nurllib3==2.2.3\n",
		want: []string{"requirements.txt:1 requests==2.32.3 sha256:aaa sha256:bbb", "requirements.txt:5 urllib3==2.2.3"},
	}, {
		name: "several hashes on one line, space and = forms",
		text: "six==1.16.0 --hash sha256:aa --hash=sha384:bb --hash=sha512:cc\n",
		want: []string{"requirements.txt:1 six==1.16.0 sha256:aa sha384:bb sha512:cc"},
	}, {
		name: "a comment line ends a continuation",
		text: "six==1.16.0 \\\n# a comment\nidna==3.7\n",
		want: []string{"requirements.txt:1 six==1.16.0", "requirements.txt:3 idna==3.7"},
	}, {
		name: "a comment ending in a backslash does not continue",
		text: "# note \\\nsix==1.16.0\n",
		want: []string{"requirements.txt:2 six==1.16.0"},
	}, {
		// pip joins before stripping comments: the next line ends up in the comment.
		name: "a trailing comment swallows the continued line",
		text: "six==1.16.0 # pinned \\\nidna==3.7\nattrs==24.2.0\n",
		want: []string{"requirements.txt:1 six==1.16.0", "requirements.txt:3 attrs==24.2.0"},
	}, {
		name: "a backslash on the last line",
		text: "six==1.16.0 \\",
		want: []string{"requirements.txt:1 six==1.16.0"},
	}, {
		name: "CRLF and CR line endings",
		text: "six==1.16.0\r\nidna==3.7\rattrs==24.2.0\r\n",
		want: []string{"requirements.txt:1 six==1.16.0", "requirements.txt:2 idna==3.7", "requirements.txt:3 attrs==24.2.0"},
	}, {
		name: "Python's other line breaks split lines but not line numbers",
		text: "six==1.16.0\fidna==3.7\nattrs==24.2.0\u2028h11==0.14.0\n",
		want: []string{"requirements.txt:1 six==1.16.0", "requirements.txt:1 idna==3.7", "requirements.txt:2 attrs==24.2.0", "requirements.txt:2 h11==0.14.0"},
	}, {
		name: "UTF-8 byte-order mark",
		text: "\ufeffsix==1.16.0\n",
		want: []string{"requirements.txt:1 six==1.16.0"},
	}, {
		name: "UTF-16 file",
		text: "\xff\xfes\x00i\x00x\x00=\x00=\x001\x00.\x000\x00\n\x00i\x00d\x00n\x00a\x00\n\x00",
		want: []string{"requirements.txt:1 six==1.0", "requirements.txt:2 idna"},
	}, {
		name: "extras, markers and specifiers",
		text: "Requests[Socks, security]==2.32.3\n" +
			"pydantic>=2.7,<3 ; python_version >= \"3.10\"\n" +
			"uvloop==0.20.0;sys_platform != 'win32'\n" +
			"orjson (==3.10.7)\n" +
			"legacy===1.0-custom\n",
		want: []string{
			"requirements.txt:1 requests[security,socks]==2.32.3",
			`requirements.txt:2 pydantic>=2.7,<3; python_version >= "3.10"`,
			"requirements.txt:3 uvloop==0.20.0; sys_platform != 'win32'",
			"requirements.txt:4 orjson==3.10.7",
			"requirements.txt:5 legacy===1.0-custom",
		},
	}, {
		name: "URLs: PEP 508, bare wheel, bare sdist with marker, VCS with #egg",
		text: "api @ https://files.example.invalid/api-1.0-py3-none-any.whl ; python_version >= '3.10'\n" +
			"https://files.example.invalid/wheels/attrs-24.2.0-py3-none-any.whl\n" +
			"https://files.example.invalid/sdists/h11-0.14.0.tar.gz; sys_platform == 'linux'\n" +
			"git+https://git.example.invalid/platform/audit.git@v1.2#egg=audit-log\n",
		want: []string{
			"requirements.txt:1 api @ https://files.example.invalid/api-1.0-py3-none-any.whl ; python_version >= '3.10'",
			"requirements.txt:2 attrs @ https://files.example.invalid/wheels/attrs-24.2.0-py3-none-any.whl",
			"requirements.txt:3 h11 @ https://files.example.invalid/sdists/h11-0.14.0.tar.gz ; sys_platform == 'linux'",
			"requirements.txt:4 audit-log @ git+https://git.example.invalid/platform/audit.git@v1.2#egg=audit-log",
		},
	}, {
		name: "local folders and archives",
		text: "./libs/core\nlibs/cfg[extra]\n./dist/orders-1.0.tar.gz\ndist/orders_api-2.1-py3-none-any.whl\n" +
			"poetry-lib @ file:///repo/libs/poetry\nfile:libs/attr#egg=attr-lib\n",
		want: []string{
			"requirements.txt:1 core-lib path=libs/core",
			"requirements.txt:2 cfg-lib[extra] path=libs/cfg",
			"requirements.txt:3 orders path=dist/orders-1.0.tar.gz",
			"requirements.txt:4 orders-api path=dist/orders_api-2.1-py3-none-any.whl",
			"requirements.txt:5 poetry-lib @ file:///repo/libs/poetry path=libs/poetry",
			"requirements.txt:6 attr-lib @ file:libs/attr#egg=attr-lib path=libs/attr",
		},
	}, {
		name: "editables: local folders and VCS URLs in every spelling",
		text: "-e ./libs/core\n--editable=libs/poetry\n-elibs/cfg[aws]\n--edit libs/dyn\n" +
			"-e file:libs/bare#egg=bare\n-e \"attr-lib @ file:libs/attr\"\n" +
			"-e git+https://git.example.invalid/org/repo.git@main#egg=repo\n" +
			"-e git://git.example.invalid/org/other.git#egg=other\n",
		want: []string{
			"requirements.txt:1 core-lib (editable) path=libs/core",
			"requirements.txt:2 poetry-lib (editable) path=libs/poetry",
			"requirements.txt:3 cfg-lib[aws] (editable) path=libs/cfg",
			"requirements.txt:4 dyn (editable) path=libs/dyn",
			"requirements.txt:5 bare @ file:libs/bare#egg=bare (editable) path=libs/bare",
			"requirements.txt:6 attr-lib @ file:libs/attr (editable) path=libs/attr",
			"requirements.txt:7 repo @ git+https://git.example.invalid/org/repo.git@main#egg=repo (editable)",
			"requirements.txt:8 other @ git+git://git.example.invalid/org/other.git#egg=other (editable)",
		},
	}, {
		// pip ignores per-requirement options on editable lines and words after options.
		name: "what pip ignores",
		text: "-e ./libs/core --hash=sha256:aa trailing words\nsix==1.16.0 -r not-read.txt --pre\n--hash=sha256:bb\n",
		want: []string{"requirements.txt:1 core-lib (editable) path=libs/core", "requirements.txt:2 six==1.16.0"},
	}, {
		name: "environment variables",
		text: "--index-url https://${IDX_USER}:${IDX_TOKEN}@index.example.invalid/simple\n" +
			"internal @ https://${IDX_USER}:${IDX_TOKEN}@files.example.invalid/internal-${VERSION}.tar.gz\n" +
			"${PINNED}\n",
		env: map[string]string{"IDX_USER": "ci", "IDX_TOKEN": "t0k", "VERSION": "1.2", "PINNED": "attrs==24.2.0"},
		want: []string{
			"requirements.txt:2 internal @ https://ci:t0k@files.example.invalid/internal-1.2.tar.gz",
			"requirements.txt:3 attrs==24.2.0",
		},
	}, {
		name: "includes, relative to the including file",
		text: "-r reqs/base.txt\n--requirement=reqs/extra.txt\n-c constraints.txt\nsix\n",
		files: map[string]string{
			"reqs/base.txt":             "attrs==24.2.0\n-r ../common.txt\n",
			"reqs/extra.txt":            "-e ../libs/core\n",
			"common.txt":                "idna==3.7\n",
			"constraints.txt":           "six==1.16.0\n-r reqs/from-constraints.txt\nurllib3==2.2.3\n",
			"reqs/from-constraints.txt": "h11==0.14.0\n",
		},
		want: []string{
			"reqs/base.txt:1 attrs==24.2.0",
			"common.txt:1 idna==3.7",
			"reqs/extra.txt:1 core-lib (editable) path=libs/core",
			"reqs/from-constraints.txt:1 h11==0.14.0", // pip: -r inside a constraints file adds requirements
			"requirements.txt:4 six",
		},
		cons: []string{"constraints.txt:1 six==1.16.0", "constraints.txt:3 urllib3==2.2.3"},
	}, {
		name:  "short options with attached values",
		text:  "-rbase.txt\n-cpins.txt\n",
		files: map[string]string{"base.txt": "six\n", "pins.txt": "six==1.16.0\n"},
		want:  []string{"base.txt:1 six"},
		cons:  []string{"pins.txt:1 six==1.16.0"},
	}, {
		name:  "the first -r of a line wins, as in pip",
		text:  "-r a.txt -r b.txt\n",
		files: map[string]string{"a.txt": "six==1.16.0\n"},
		want:  []string{"a.txt:1 six==1.16.0"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"requirements.txt": c.text}
			for k, v := range c.files {
				files[k] = v
			}
			f, err := parseMem(files, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderReqs(f.Requirements); !slices.Equal(got, c.want) {
				t.Errorf("requirements:\n got %q\nwant %q", got, c.want)
			}
			if got := renderReqs(f.Constraints); !slices.Equal(got, c.cons) && len(got)+len(c.cons) > 0 {
				t.Errorf("constraints:\n got %q\nwant %q", got, c.cons)
			}
		})
	}
}

func TestRequirementsOptions(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		files map[string]string
		env   map[string]string
		want  IndexOptions
	}{{
		name: "index options, with variables",
		text: "-i https://${IDX_USER}:${IDX_TOKEN}@index.example.invalid/simple\n" +
			"--extra-index-url https://mirror.example.invalid/simple\n--extra-index-url=https://mirror.example.invalid/simple\n--pre\n",
		env: map[string]string{"IDX_USER": "ci", "IDX_TOKEN": "t0k"},
		want: IndexOptions{
			IndexURL:       "https://ci:t0k@index.example.invalid/simple",
			ExtraIndexURLs: []string{"https://mirror.example.invalid/simple"},
			Pre:            true,
		},
	}, {
		name:  "a later --index-url replaces the index and the extras before it, as in pip",
		text:  "--extra-index-url https://a.example.invalid/simple\n-r more.txt\n--extra-index-url https://c.example.invalid/simple\n",
		files: map[string]string{"more.txt": "--index-url https://b.example.invalid/simple\n"},
		want: IndexOptions{
			IndexURL:       "https://b.example.invalid/simple",
			ExtraIndexURLs: []string{"https://c.example.invalid/simple"},
		},
	}, {
		name: "--no-index drops every index, before and after",
		text: "--index-url https://a.example.invalid/simple\n--no-index\n-i https://b.example.invalid/simple\n--extra-index-url https://c.example.invalid/simple\n",
		want: IndexOptions{NoIndex: true},
	}, {
		name: "unique prefixes of long options, as optparse allows",
		text: "--index https://a.example.invalid/simple\n--extra-index https://b.example.invalid/simple\n--only-b :all:\n",
		want: IndexOptions{
			IndexURL:       "https://a.example.invalid/simple",
			ExtraIndexURLs: []string{"https://b.example.invalid/simple"},
			OnlyBinary:     []string{":all:"},
		},
	}, {
		name: "find-links: relative to the file when it exists there, first of a line only",
		text: "-f ../wheels\n--find-links=https://links.example.invalid/ -f ignored\n-f ./not-here\n",
		want: IndexOptions{FindLinks: []string{"wheels", "https://links.example.invalid/", "./not-here"}},
	}, {
		name: "format control follows pip's FormatControl, even on requirement lines",
		text: "--no-binary Pillow,lxml\n--only-binary lxml\nsix==1.16.0 --only-binary numpy\n--no-binary :all:,:none:,psycopg2\n",
		want: IndexOptions{NoBinary: []string{"psycopg2"}},
	}, {
		name: ":all: replaces everything before it",
		text: "--no-binary grpcio\n--only-binary :all:\n--no-binary grpcio\n",
		want: IndexOptions{OnlyBinary: []string{":all:"}, NoBinary: []string{"grpcio"}},
	}, {
		name: "options that do not change the packages are accepted",
		text: "--prefer-binary\n--require-hashes\n--no-require-hashes\n--trusted-host mirror.example.invalid\n" +
			"--use-feature=fast-deps\n--all-releases :all:\n--only-final six\nsix==1.16.0 -C editable_mode=compat --config-settings=k=v\n",
		want: IndexOptions{},
	}, {
		name:  "-r lines carry no other option, as in pip",
		text:  "-r more.txt --pre --index-url https://a.example.invalid/simple\n",
		files: map[string]string{"more.txt": ""},
		want:  IndexOptions{},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"requirements.txt": c.text}
			for k, v := range c.files {
				files[k] = v
			}
			fsys := reqMemFS(reqRepo, files)
			getenv := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
			// The file sits in a subfolder so that relative find-links are told apart.
			fsys["fn/requirements.txt"] = fsys["requirements.txt"]
			for k := range c.files {
				fsys["fn/"+k] = fsys[k]
			}
			f, err := parseRequirements(fsys, "/repo", "fn/requirements.txt", getenv)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%+v", f.Options); got != fmt.Sprintf("%+v", c.want) {
				t.Errorf("options:\n got %s\nwant %+v", got, c.want)
			}
		})
	}
}

func TestRequirementsErrors(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		files map[string]string
		env   map[string]string
		want  string
	}{
		// Options, as optparse reports them.
		{"unknown option", "six==1.16.0\n--frobnicate\n", nil, nil, "requirements.txt:2: no such option: --frobnicate"},
		{"unknown short option", "-x six\n", nil, nil, "requirements.txt:1: no such option: -x"},
		{"ambiguous prefix", "--no x\n", nil, nil, "requirements.txt:1: ambiguous option: --no (--no-binary, --no-index, --no-require-hashes?)"},
		{"flag with a value", "--pre=yes\n", nil, nil, "requirements.txt:1: --pre option does not take a value"},
		{"missing value", "six==1.16.0\n-r\n", nil, nil, "requirements.txt:2: -r option requires 1 argument"},
		{"missing long value", "--index-url\n", nil, nil, "requirements.txt:1: --index-url option requires 1 argument"},
		{"weak hash", "six==1.16.0 --hash=md5:abc\n", nil, nil, "requirements.txt:1: allowed hash algorithms for --hash are sha256, sha384, sha512"},
		{"hash without algorithm", "six==1.16.0 \\\n  --hash=abc\n", nil, nil, "requirements.txt:1: arguments to --hash must be a hash name followed by a value, like --hash=sha256:abcde…"},
		{"config setting without =", "six==1.16.0 -C nokey\n", nil, nil, "requirements.txt:1: arguments to -C must be of the form KEY=VAL"},
		{"format control without value", "--no-binary --pre\n", nil, nil, "requirements.txt:1: --no-binary / --only-binary option requires 1 argument"},
		{"unclosed quote", "six==1.16.0 --hash=\"sha256:abc\n", nil, nil, `requirements.txt:1: could not split options "--hash=\"sha256:abc": no closing quotation`},

		// Requirements.
		{"bad specifier", "six==1.16.0\nrequests>=2.x\n", nil, nil, `requirements.txt:2: invalid requirement "requests>=2.x": invalid specifier ">=2.x": invalid version in ">=2.x"`},
		{"= instead of ==", "requests=2.32.3\n", nil, nil, `requirements.txt:1: invalid requirement "requests=2.32.3": invalid specifier "=2.32.3": "=2.32.3" does not start with an operator (==, !=, <=, >=, <, >, ~=, ===) (= is not a valid operator: did you mean ==?)`},
		{"bad marker", "six==1.16.0 ; os_name = 'posix'\n", nil, nil, `requirements.txt:1: invalid marker "os_name = 'posix'": at column 9: expected a comparison operator (<=, <, !=, ==, >=, >, ~=, ===, in, not in), found "= 'posix'"`},
		{"bad marker on a continued line", "six==1.16.0\n\nnumpy==2.1.2 ; python_version >= \"3.10\" and \\\n    platform_machin == \"x86_64\"\n", nil, nil,
			`requirements.txt:3: invalid marker "python_version >= \"3.10\" and     platform_machin == \"x86_64\"": at column 34: unknown marker variable "platform_machin"`},
		{"unset variable stays as written", "six==${SIX_VERSION}\n", nil, nil, `requirements.txt:1: invalid requirement "six==${SIX_VERSION}": invalid specifier "==${SIX_VERSION}": invalid version in "==${SIX_VERSION}"`},
		{"lowercase variables are not expanded", "six==${six}\n", nil, map[string]string{"six": "1.16.0"}, `requirements.txt:1: invalid requirement "six==${six}": invalid specifier "==${six}": invalid version in "==${six}"`},
		{"expanded secrets stay out of messages", "https://${TOKEN}@files.example.invalid/download?id=3\n", nil, map[string]string{"TOKEN": "hunter2"},
			"requirements.txt:1: cannot tell the package name of https://${TOKEN}@files.example.invalid/download?id=3: write it as name @ URL"},
		{"path that does not exist", "./libs/missing\n", nil, nil, "requirements.txt:1: ./libs/missing looks like a path, but there is no project folder or archive there"},
		{"folder that is not a project", "./libs/empty\n", nil, nil, "requirements.txt:1: directory ./libs/empty is not installable: neither setup.py nor pyproject.toml found"},
		{"archive that does not exist", "./dist/gone-1.0.tar.gz\n", nil, nil, "requirements.txt:1: archive ./dist/gone-1.0.tar.gz does not exist"},
		{"local path outside the repository", "../elsewhere/pkg-1.0.tar.gz\n", nil, nil, "requirements.txt:1: ../elsewhere/pkg-1.0.tar.gz is outside the repository"},
		{"file URL outside the repository", "pkg @ file:///opt/pkg\n", nil, nil, "requirements.txt:1: /opt/pkg is outside the repository"},
		{"remote file URL", "pkg @ file://fileserver/share/pkg\n", nil, nil, `requirements.txt:1: file://fileserver/share/pkg: non-local file URL (host "fileserver")`},
		{"setup.py only, no name", "./libs/bare\n", nil, nil, "requirements.txt:1: cannot tell the package name of ./libs/bare: neither pyproject.toml nor setup.cfg declares it statically"},
		{"name differs from metadata", "-e file:libs/core#egg=other\n", nil, nil, "requirements.txt:1: libs/core is named core-lib in its metadata, not other"},
		{"URL without a name", "https://files.example.invalid/download?id=3\n", nil, nil, "requirements.txt:1: cannot tell the package name of https://files.example.invalid/download?id=3: write it as name @ URL"},
		{"bad egg", "git+https://git.example.invalid/x.git#egg=-x\n", nil, nil, "requirements.txt:1: #egg=-x in git+https://git.example.invalid/x.git#egg=-x is not a project name"},
		{"editable folder that does not exist", "-e ./libs/nope\n", nil, nil, "requirements.txt:1: editable ./libs/nope: no such project folder"},
		{"editable folder outside the repository", "-e /etc\n", nil, nil, "requirements.txt:1: /etc is outside the repository"},
		{"bad wheel file name in a URL", "attrs @ https://files.example.com/attrs-latest.whl\n", nil, nil, "requirements.txt:1: invalid wheel file name \"attrs-latest.whl\": wrong number of parts"},
		{"editable archive URL", "-e https://files.example.invalid/x-1.0.tar.gz\n", nil, nil, "requirements.txt:1: https://files.example.invalid/x-1.0.tar.gz is not a valid editable requirement: it should be a path to a local project or a VCS URL"},
		{"editable VCS URL without a name", "-e git+https://git.example.invalid/x.git\n", nil, nil, "requirements.txt:1: cannot tell the package name of git+https://git.example.invalid/x.git: write it as name @ URL or add #egg=name"},

		// Local project metadata.
		{"broken pyproject.toml", "-e ./libs/broken\n", map[string]string{"libs/broken/pyproject.toml": "[project]\nname = \"broken\"\nversion = 1.0\"\n"}, nil,
			"libs/broken/pyproject.toml:3: toml: expected newline but got U+0022 '\"'"},
		{"bad version in pyproject.toml", "-e ./libs/badver\n", map[string]string{"libs/badver/pyproject.toml": "[project]\nname = \"badver\"\n\nversion = \"one\"\n"}, nil,
			`libs/badver/pyproject.toml:4: invalid version "one"`},
		{"wrong type in pyproject.toml", "-e ./libs/typed\n", map[string]string{"libs/typed/pyproject.toml": "[project]\nname = 7\n"}, nil,
			`libs/typed/pyproject.toml:2: invalid project name 7: want a string of letters, digits, '.', '_' and '-'`},
		{"bad dynamic version in Poetry 2", "-e ./libs/p2\n", map[string]string{"libs/p2/pyproject.toml": "[project]\nname = \"p2\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"v-next\"\n"}, nil,
			`libs/p2/pyproject.toml:6: invalid version "v-next"`},
		{"archive named otherwise", "api @ file:dist/orders_api-2.1-py3-none-any.whl\n", nil, nil,
			"requirements.txt:1: dist/orders_api-2.1-py3-none-any.whl is named orders-api in its file name, not api"},
		{"bad name in setup.cfg", "-e ./libs/badname\n", map[string]string{"libs/badname/setup.cfg": "[metadata]\n# the package\nname = -bad-\n", "libs/badname/setup.py": ""}, nil,
			`libs/badname/setup.cfg:3: invalid project name "-bad-"`},

		// Includes and constraints.
		{"include cycle", "-r a.txt\n", map[string]string{"a.txt": "six==1.16.0\n-r b.txt\n", "b.txt": "\n--requirement=a.txt\n"}, nil,
			"b.txt:2: include cycle: a.txt -> b.txt -> a.txt"},
		{"file including itself", "six==1.16.0\n-r ./requirements.txt\n", nil, nil, "requirements.txt:2: include cycle: requirements.txt -> requirements.txt"},
		{"missing include", "six==1.16.0\n-r base.txt\n", nil, nil, "requirements.txt:2: cannot open requirements file base.txt: no such file"},
		{"missing constraints file", "-c pins/constraints.txt\n", nil, nil, "requirements.txt:1: cannot open constraints file pins/constraints.txt: no such file"},
		{"remote include", "-r https://files.example.invalid/requirements.txt\n", nil, nil, "requirements.txt:1: requirements file https://files.example.invalid/requirements.txt is remote: layers reads only files in the repository"},
		{"include outside the repository", "-c ../../pins.txt\n", nil, nil, "requirements.txt:1: constraints file ../../pins.txt is outside the repository"},
		{"editable constraint", "-c pins.txt\n", map[string]string{"pins.txt": "six==1.16.0\n-e ./libs/core\n"}, nil, "pins.txt:2: editable requirements are not allowed as constraints"},
		{"constraint with extras", "-c pins.txt\n", map[string]string{"pins.txt": "requests[socks]==2.32.3\n"}, nil, "pins.txt:1: constraints cannot have extras"},
		{"error inside an include", "six==1.16.0\n-r base.txt\n", map[string]string{"base.txt": "# base\n\nidna=3.7\n"}, nil,
			`base.txt:3: invalid requirement "idna=3.7": invalid specifier "=3.7": "=3.7" does not start with an operator (==, !=, <=, >=, <, >, ~=, ===) (= is not a valid operator: did you mean ==?)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"requirements.txt": c.text}
			for k, v := range c.files {
				files[k] = v
			}
			_, err := parseMem(files, c.env)
			var d *diag.Error
			if !errors.As(err, &d) {
				t.Fatalf("got %v, want a *diag.Error", err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
			for _, v := range c.env {
				if strings.Contains(err.Error(), v) {
					t.Errorf("message shows the value of a variable: %s", err)
				}
			}
		})
	}
}

func TestRequirementsMissingRootFile(t *testing.T) {
	_, err := ParseRequirementsFile("testdata/requirements", "nowhere/requirements.txt", nil)
	if err == nil || diag.IsInput(err) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a plain not-exist error", err)
	}
}

// fixtureGetenv stands in for CI's environment.
func fixtureGetenv(k string) (string, bool) {
	v, ok := map[string]string{"PYPI_USER": "ci", "PYPI_TOKEN": "t0k"}[k]
	return v, ok
}

func TestRequirementsFixtures(t *testing.T) {
	py312 := reqTargetEnv(t, "python3.12", "x86_64")
	py39arm := reqTargetEnv(t, "python3.9", "arm64")
	cases := []struct {
		file     string
		env      pep508.Env
		reqs     int // requirement lines, before markers
		options  IndexOptions
		packages []string
	}{{
		file: "service/requirements.txt",
		env:  py312,
		reqs: 15,
		options: IndexOptions{
			IndexURL:       "https://ci:t0k@index.example.invalid/simple",
			ExtraIndexURLs: []string{"https://mirror.example.invalid/simple"},
			OnlyBinary:     []string{":all:"},
			NoBinary:       []string{"legacy-auth"},
		},
		packages: []string{
			"audit-log  url git+https://git.example.invalid/platform/audit-log.git@3f2c1d9#egg=audit-log",
			"aws-lambda-powertools 3.2.0 registry",
			"boto3 1.35.36 registry", // from constraints.txt; botocore and urllib3 are not added
			"internal-metrics 1.4.0 url https://files.example.invalid/wheels/internal_metrics-1.4.0-py3-none-any.whl",
			"jmespath 1.1.0 registry hashes=2",
			"legacy-auth  local libs/legacy", // setup.cfg's version is attr:, known only after a build
			"orjson 3.10.7 registry",
			"pydantic 2.9.2 registry",
			"python-dateutil 2.9.0.post0 registry",
			"requests 2.32.3 registry",
			"shared-utils 0.3.1 local libs/shared",
			"six 1.16.0 registry",
			"uvloop 0.20.0 registry",
		},
	}, {
		file: "service/requirements.txt",
		env:  py39arm,
		reqs: 15,
		options: IndexOptions{
			IndexURL:       "https://ci:t0k@index.example.invalid/simple",
			ExtraIndexURLs: []string{"https://mirror.example.invalid/simple"},
			OnlyBinary:     []string{":all:"},
			NoBinary:       []string{"legacy-auth"},
		},
		packages: []string{
			"audit-log  url git+https://git.example.invalid/platform/audit-log.git@3f2c1d9#egg=audit-log",
			"aws-lambda-powertools 3.2.0 registry",
			"boto3 1.35.36 registry",
			"internal-metrics 1.4.0 url https://files.example.invalid/wheels/internal_metrics-1.4.0-py3-none-any.whl",
			"jmespath 1.1.0 registry hashes=2",
			"legacy-auth  local libs/legacy",
			"orjson 3.10.7 registry",
			"pydantic 1.10.18 registry", // the constraint for pydantic 2 does not apply below 3.10
			"python-dateutil 2.9.0.post0 registry",
			"requests 2.32.3 registry",
			"shared-utils 0.3.1 local libs/shared",
			"six 1.16.0 registry",
			"uvloop 0.20.0 registry",
		},
	}, {
		file:    "pip-compile/requirements.txt",
		env:     py312,
		reqs:    11,
		options: IndexOptions{IndexURL: "https://index.example.invalid/simple"},
		packages: []string{
			"aws-lambda-powertools 3.37.0 registry hashes=2",
			"aws-xray-sdk 2.15.0 registry hashes=2",
			"boto3 1.44.8 registry hashes=2",
			"botocore 1.44.8 registry hashes=2",
			"jmespath 1.1.0 registry hashes=2",
			"python-dateutil 2.9.0.post0 registry hashes=2",
			"s3transfer 0.19.3 registry hashes=2",
			"six 1.17.0 registry hashes=2",
			"typing-extensions 4.16.0 registry hashes=2",
			"urllib3 2.8.0 registry hashes=2",
			"wrapt 2.5.2 registry hashes=101",
		},
	}, {
		// uv's universal resolution forks on python_version: one line per fork.
		file: "uv-pip-compile/requirements.txt",
		env:  py312,
		reqs: 20,
		packages: []string{
			"annotated-types 0.8.0 registry", "anyio 4.16.0 registry", "certifi 2026.10.19.post1 registry",
			"h11 0.16.0 registry", "httpcore 1.0.9 registry", "httpx 0.28.1 registry", "idna 3.20 registry",
			"orjson 3.13.0 registry", "pydantic 2.14.4 registry", "pydantic-core 2.50.5 registry",
			"typing-extensions 4.16.0 registry", "typing-inspection 0.4.5 registry",
		},
	}, {
		file: "uv-pip-compile/requirements.txt",
		env:  py39arm,
		reqs: 20,
		packages: []string{
			"annotated-types 0.7.0 registry", "anyio 4.12.1 registry", "certifi 2026.10.19.post1 registry",
			"exceptiongroup 1.3.2 registry", "h11 0.16.0 registry", "httpcore 1.0.9 registry", "httpx 0.28.1 registry",
			"idna 3.20 registry", "orjson 3.11.5 registry", "pydantic 2.13.5 registry", "pydantic-core 2.46.5 registry",
			"tomli 2.5.0 registry", "typing-extensions 4.16.0 registry", "typing-inspection 0.4.2 registry",
		},
	}, {
		file: "uv-export/requirements.txt",
		env:  py312,
		reqs: 8,
		packages: []string{
			"attrs 26.1.0 registry", "aws-lambda-powertools 3.37.0 registry",
			"inventory 1.4.0 local uv-export", "inventory-core 0.9.2 local uv-export/packages/core",
			"jmespath 1.1.0 registry", "python-dateutil 4.0.0 registry", "typing-extensions 4.16.0 registry", "tzdata 2026.6 registry",
		},
	}, {
		file: "uv-export/requirements-hashes.txt",
		env:  py312,
		reqs: 8,
		packages: []string{
			"attrs 26.1.0 registry hashes=2", "aws-lambda-powertools 3.37.0 registry hashes=2",
			"inventory 1.4.0 local uv-export", "inventory-core 0.9.2 local uv-export/packages/core",
			"jmespath 1.1.0 registry hashes=2", "python-dateutil 4.0.0 registry hashes=2",
			"typing-extensions 4.16.0 registry hashes=2", "tzdata 2026.6 registry hashes=2",
		},
	}, {
		file:     "editable/requirements.txt",
		env:      py312,
		reqs:     2,
		packages: []string{"orders-core 2.0.1 local editable/orders-core", "structlog 24.4.0 registry"},
	}}
	for _, c := range cases {
		t.Run(c.file+" "+c.env.Values["python_version"], func(t *testing.T) {
			f, err := ParseRequirementsFile("testdata/requirements", c.file, fixtureGetenv)
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != c.file || len(f.Requirements) != c.reqs {
				t.Errorf("path %s with %d requirements, want %s with %d", f.Path, len(f.Requirements), c.file, c.reqs)
			}
			if got := fmt.Sprintf("%+v", f.Options); got != fmt.Sprintf("%+v", c.options) {
				t.Errorf("options:\n got %s\nwant %+v", got, c.options)
			}
			if u := f.Pinned(c.env); len(u) > 0 {
				t.Errorf("unpinned: %q", renderReqs(u))
			}
			pkgs, err := f.Packages(c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderReqPackages(pkgs); !slices.Equal(got, c.packages) {
				t.Errorf("packages:\n got %q\nwant %q", got, c.packages)
			}
		})
	}
}

func TestRequirementsFixtureLines(t *testing.T) {
	f, err := ParseRequirementsFile("testdata/requirements", "service/requirements.txt", fixtureGetenv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"common/base.txt:2 aws-lambda-powertools[tracer]==3.2.0",
		"common/base.txt:3 python-dateutil==2.9.0.post0",
		`common/base.txt:4 six==1.16.0; python_version >= "3"`,
		"service/requirements.txt:14 boto3",
		"service/requirements.txt:15 requests[security,socks]==2.32.3",
		`service/requirements.txt:16 pydantic==2.9.2; python_version >= "3.10"`,
		`service/requirements.txt:17 pydantic==1.10.18; python_version < "3.10"`,
		`service/requirements.txt:18 orjson==3.10.7; platform_machine == "x86_64" or platform_machine == "aarch64"`,
		`service/requirements.txt:19 uvloop==0.20.0; sys_platform != "win32"     and platform_python_implementation == "CPython"`,
		"service/requirements.txt:21 jmespath==1.1.0 sha256:472c87d80f36026ae83c6ddd0f1d05d4e510134ed462851fd5f754c8c3cbb88d sha256:a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64",
		`service/requirements.txt:24 colorama==0.4.6; sys_platform == "win32"`,
		"service/requirements.txt:27 shared-utils (editable) path=libs/shared",
		"service/requirements.txt:28 legacy-auth path=libs/legacy",
		"service/requirements.txt:29 internal-metrics @ https://files.example.invalid/wheels/internal_metrics-1.4.0-py3-none-any.whl",
		"service/requirements.txt:30 audit-log @ git+https://git.example.invalid/platform/audit-log.git@3f2c1d9#egg=audit-log (editable)",
	}
	if got := renderReqs(f.Requirements); !slices.Equal(got, want) {
		t.Errorf("requirements:\n got %q\nwant %q", got, want)
	}
	wantCons := []string{
		"service/constraints.txt:3 boto3==1.35.36",
		"service/constraints.txt:4 botocore==1.35.36",
		"service/constraints.txt:5 urllib3==2.2.3",
		`service/constraints.txt:6 pydantic==2.9.2; python_version >= "3.10"`,
	}
	if got := renderReqs(f.Constraints); !slices.Equal(got, wantCons) {
		t.Errorf("constraints:\n got %q\nwant %q", got, wantCons)
	}
}

func TestRequirementsFixtureErrors(t *testing.T) {
	cases := []struct{ file, want string }{
		{"cycle/a.txt", "cycle/b.txt:3: include cycle: cycle/a.txt -> cycle/b.txt -> cycle/a.txt"},
		{"missing-include/requirements.txt", "missing-include/requirements.txt:3: cannot open requirements file common/shared.txt: no such file"},
		{"bad-marker/requirements.txt", `bad-marker/requirements.txt:3: invalid marker "python_version >= \"3.10\" and     platform_machin == \"x86_64\"": at column 34: unknown marker variable "platform_machin"`},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, err := ParseRequirementsFile("testdata/requirements", c.file, nil)
			if !diag.IsInput(err) || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestRequirementsPackages(t *testing.T) {
	py312 := reqTargetEnv(t, "python3.12", "x86_64")
	cases := []struct {
		name     string
		text     string
		files    map[string]string
		packages []string
		unpinned []string
		err      string
	}{{
		name:     "a constraint pins an unpinned requirement and adds nothing",
		text:     "-c pins.txt\nrequests>=2.31\n",
		files:    map[string]string{"pins.txt": "requests==2.32.3\nurllib3==2.2.3\n"},
		packages: []string{"requests 2.32.3 registry"},
	}, {
		name:     "constraints whose markers do not apply are ignored",
		text:     "-c pins.txt\nrequests==2.31.0\n",
		files:    map[string]string{"pins.txt": "requests==2.32.3 ; python_version < '3.9'\n"},
		packages: []string{"requests 2.31.0 registry"},
	}, {
		name:     "a pin on another line of the same name pins a range",
		text:     "requests>=2.31\n-r more.txt\n",
		files:    map[string]string{"more.txt": "requests==2.32.3\n"},
		packages: []string{"requests 2.32.3 registry"},
	}, {
		name:     "the same pin twice, through a diamond of includes",
		text:     "-r a.txt\n-r b.txt\n",
		files:    map[string]string{"a.txt": "-r common.txt\n", "b.txt": "-r common.txt\n", "common.txt": "six==1.16.0\n"},
		packages: []string{"six 1.16.0 registry"},
	}, {
		name:     "hashes of one name are intersected, as pip does",
		text:     "six==1.16.0 --hash=sha256:aa --hash=sha256:bb\n-c pins.txt\n",
		files:    map[string]string{"pins.txt": "six==1.16.0 --hash=sha256:bb --hash=sha256:cc\n"},
		packages: []string{"six 1.16.0 registry hashes=1"},
	}, {
		name:     "a constraint's hashes apply",
		text:     "-c pins.txt\nsix\n",
		files:    map[string]string{"pins.txt": "six==1.16.0 --hash=sha256:bb\n"},
		packages: []string{"six 1.16.0 registry hashes=1"},
	}, {
		name:     "a local project satisfies a pin of its static version",
		text:     "-e ./libs/core\ncore-lib==1.4.0\n",
		packages: []string{"core-lib 1.4.0 local libs/core"},
	}, {
		name:     "Poetry 2 keeps a dynamic version in tool.poetry",
		text:     "-e ./libs/p2\n",
		files:    map[string]string{"libs/p2/pyproject.toml": "[project]\nname = \"p2\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"2.0.0\"\n"},
		packages: []string{"p2 2.0.0 local libs/p2"},
	}, {
		name:     "static metadata of every kind",
		text:     "-e ./libs/core\n./libs/poetry\n./libs/cfg\n-e ./libs/attr\n./dist/orders-1.0.tar.gz\n",
		packages: []string{"attr-lib  local libs/attr", "cfg-lib 3.1 local libs/cfg", "core-lib 1.4.0 local libs/core", "orders 1.0 local dist/orders-1.0.tar.gz", "poetry-lib 0.2.0 local libs/poetry"},
	}, {
		name:     "local paths from a function folder: its own folder first, then the root",
		text:     "-r functions/orders/requirements.txt\n",
		files:    map[string]string{"functions/orders/requirements.txt": "-e ../../libs/core\n-e ./libs/poetry\n-e ./vendored\n", "functions/orders/vendored/setup.cfg": "[metadata]\nname = vendored\n", "functions/orders/vendored/setup.py": ""},
		packages: []string{"core-lib 1.4.0 local libs/core", "poetry-lib 0.2.0 local libs/poetry", "vendored  local functions/orders/vendored"},
	}, {
		name:     "a pin tells the version a build would",
		text:     "-e ./libs/dyn\ndyn==0.5\n",
		packages: []string{"dyn 0.5 local libs/dyn"},
	}, {
		name:     "unpinned requirements",
		text:     "six==1.16.0\nrequests>=2.31\nidna==3.*\nattrs ; python_version < '3.9'\n",
		unpinned: []string{"requirements.txt:2 requests>=2.31", "requirements.txt:3 idna==3.*"},
		err:      "requirements.txt:2: requests>=2.31 is not pinned: pin it with == (or compile the file with pip-compile or uv pip compile)",
	}, {
		name:  "two pins of one name",
		text:  "six==1.16.0\nidna==3.7\n-r more.txt\n",
		files: map[string]string{"more.txt": "# pinned again\nsix==1.17.0\n"},
		err:   "more.txt:2: six==1.17.0 conflicts with six==1.16.0 at requirements.txt:1",
	}, {
		name:  "a pin outside its constraint is reported at the requirement",
		text:  "-c pins.txt\n\nrequests==2.31.0\n",
		files: map[string]string{"pins.txt": "requests>=2.32\n"},
		err:   "requirements.txt:3: requests==2.31.0 conflicts with constraint requests>=2.32 at pins.txt:1",
	}, {
		name:  "a constraint pin outside the requirement's range",
		text:  "requests>=2.32\n-c pins.txt\n",
		files: map[string]string{"pins.txt": "requests==2.31.0\n"},
		err:   "requirements.txt:1: requests>=2.32 conflicts with constraint requests==2.31.0 at pins.txt:1",
	}, {
		name:  "two constraints that disagree",
		text:  "-c pins.txt\nrequests\n",
		files: map[string]string{"pins.txt": "requests==2.31.0\nrequests!=2.31.0\n"},
		err:   "pins.txt:2: requests!=2.31.0 conflicts with requests==2.31.0 at pins.txt:1",
	}, {
		name: "a local project and a registry pin",
		text: "core-lib==1.3.0\n-e ./libs/core\n",
		err:  "requirements.txt:1: core-lib==1.3.0 conflicts with -e ./libs/core at requirements.txt:2",
	}, {
		name: "two URLs for one name",
		text: "api @ https://files.example.invalid/api-1.0-py3-none-any.whl\napi @ https://files.example.invalid/api-1.1-py3-none-any.whl\n",
		err:  "requirements.txt:2: api @ https://files.example.invalid/api-1.1-py3-none-any.whl conflicts with api @ https://files.example.invalid/api-1.0-py3-none-any.whl at requirements.txt:1",
	}, {
		name:  "hashes with nothing in common",
		text:  "six==1.16.0 --hash=sha256:aa\n-c pins.txt\n",
		files: map[string]string{"pins.txt": "six==1.16.0 --hash=sha256:bb\n"},
		err:   "requirements.txt:1: the hashes of six==1.16.0 share none with those of constraint six==1.16.0 at pins.txt:1",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"requirements.txt": c.text}
			for k, v := range c.files {
				files[k] = v
			}
			f, err := parseMem(files, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderReqs(f.Pinned(py312)); !slices.Equal(got, c.unpinned) && len(got)+len(c.unpinned) > 0 {
				t.Errorf("unpinned:\n got %q\nwant %q", got, c.unpinned)
			}
			pkgs, err := f.Packages(py312)
			if c.err != "" {
				if !diag.IsInput(err) || err.Error() != c.err {
					t.Errorf("got  %v\nwant %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := renderReqPackages(pkgs); !slices.Equal(got, c.packages) {
				t.Errorf("packages:\n got %q\nwant %q", got, c.packages)
			}
		})
	}
}

// FuzzRequirements parses arbitrary bytes as a requirements file in a small
// in-memory repository: parsing, Pinned and Packages must never panic, and
// every failure must be one *diag.Error.
func FuzzRequirements(f *testing.F) {
	for _, name := range []string{"service/requirements.txt", "pip-compile/requirements.txt", "uv-pip-compile/requirements.txt", "uv-export/requirements-hashes.txt", "bad-marker/requirements.txt"} {
		data, err := os.ReadFile("testdata/requirements/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	env := reqTargetEnv(f, "python3.12", "arm64")
	getenv := func(k string) (string, bool) {
		v, ok := map[string]string{"TOKEN": "t0k", "PIN": "six==1.16.0", "SELF": "${SELF}x"}[k]
		return v, ok
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := reqMemFS(reqRepo, map[string]string{
			"pins.txt":  "six==1.16.0\nrequests==2.32.3 --hash=sha256:aa\n-e ./libs/core\n",
			"other.txt": "-r requirements.txt\nidna==3.7\n",
		})
		fsys["requirements.txt"] = &fstest.MapFile{Data: data}
		rf, err := parseRequirements(fsys, "/repo", "requirements.txt", getenv)
		if err != nil {
			var d *diag.Error
			if !errors.As(err, &d) || d.Path == "" {
				t.Fatalf("not a diag error: %v", err)
			}
			return
		}
		for _, r := range append(rf.Requirements, rf.Constraints...) {
			if r.Line < 1 || r.Name == "" || !pep508.ValidName(r.Name) {
				t.Fatalf("bad requirement %q at %s:%d", r.Name, r.Path, r.Line)
			}
		}
		rf.Pinned(env)
		if _, err := rf.Packages(env); err != nil && !diag.IsInput(err) {
			t.Fatalf("not a diag error: %v", err)
		}
	})
}

func BenchmarkParseRequirements(b *testing.B) {
	data, err := os.ReadFile("testdata/requirements/pip-compile/requirements.txt")
	if err != nil {
		b.Fatal(err)
	}
	fsys := fstest.MapFS{"requirements.txt": &fstest.MapFile{Data: data}}
	env := reqTargetEnv(b, "python3.12", "x86_64")
	b.ReportAllocs()
	for b.Loop() {
		f, err := parseRequirements(fsys, "/repo", "requirements.txt", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Packages(env); err != nil {
			b.Fatal(err)
		}
	}
}
