package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/diag"
)

// TestParseErrorFiles parses every testdata/invalid/*.toml file, whose first
// line reads "# want: <the exact error>".
func TestParseErrorFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			header, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(header, "# want: ")
			if !ok {
				t.Fatalf("first line %q is no '# want: ' line", header)
			}
			checkError(t, data, want)
		})
	}
}

// TestParseErrors covers the remaining error cases, one line number each.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		// Decoding.
		{"syntax error in table header", "runtime = \"python3.12\"\n[limits\n", `layers.toml:2: invalid TOML: expected ']' to close table name`},
		{"unterminated string", "\n\nruntime = \"python3.12\n", `layers.toml:3: invalid TOML: basic strings cannot have new lines`},
		{"duplicate key", "runtime = \"python3.12\"\nruntime = \"python3.13\"", `layers.toml:2: runtime: key runtime is already defined`},
		{"architectures not an array", `architectures = "x86_64"`, `layers.toml:1: architectures: want an array of strings, got string`},
		{"array element type", "architectures = [\n\"x86_64\",\n3]", `layers.toml:3: architectures: want a string, got integer`},
		{"function not a table", "[function]\napi = 3", `layers.toml:2: function.api: want a table, got integer`},
		{"limits float", "[limits]\nlayers_per_function = 4.5", `layers.toml:2: limits.layers_per_function: want an integer, got float`},
		{"limits too large", "[limits]\nfunction_unzipped_bytes = 99999999999999999999", `layers.toml:2: limits.function_unzipped_bytes: decimal number is too large to fit in a 64-bit signed integer`},
		{"local_in_code string", "[layers]\nlocal_in_code = \"yes\"", `layers.toml:2: layers.local_in_code: want a boolean, got string`},
		{"max_extra string", "[layers]\nmax_extra = \"0.5\"", `layers.toml:2: layers.max_extra: want a number, got string`},
		{"limits not a table", `limits = 3`, `layers.toml:1: limits: want a table, got integer`},
		{"layers not a table", `layers = "x"`, `layers.toml:1: layers: want a table, got string`},
		{"functions table not a table", `function = 3`, `layers.toml:1: function: want a table, got integer`},
		{"groups not a table", `layers.groups = 3`, `layers.toml:1: layers.groups: want a table, got integer`},
		{"unzipped bytes float", "[limits]\nfunction_unzipped_bytes = 1.5", `layers.toml:2: limits.function_unzipped_bytes: want an integer, got float`},
		{"array element inline table", `exclude = [{ name = "x" }]`, `layers.toml:1: exclude: want a string, got inline table`},
		{"date", `runtime = 1979-05-27`, `layers.toml:1: runtime: want a string, got local date`},
		{"array of tables", "\n[[limits]]", `layers.toml:2: limits: cannot store an array table in a struct`},
		{"group not an array", "[layers.groups]\ndata = \"numpy\"", `layers.toml:2: layers.groups.data: want an array of strings, got string`},

		// [build] and [prune].
		{"build image with space", "[build]\nimage = \"my image\"", `layers.toml:2: build.image: invalid image reference "my image"`},
		{"function image flag", "[function.api]\nimage = \"--pull\"", `layers.toml:2: function.api.image: invalid image reference "--pull"`},
		{"ca bundle spaces", "[build]\nca_bundle = \" ca.pem\"", `layers.toml:2: build.ca_bundle: " ca.pem" has leading or trailing spaces`},
		{"prune pattern absolute", "[prune]\npatterns = [\"**/*.md\",\n\"/etc/x\"]", `layers.toml:3: prune.patterns: "/etc/x": globs are relative to the unit's folder and cannot start with /`},
		{"prune keep malformed", "[prune]\nkeep = [\"a/[b\"]", `layers.toml:2: prune.keep: "a/[b": invalid glob`},
		{"prune strip string", "[prune]\nstrip = \"yes\"", `layers.toml:2: prune.strip: want a boolean, got string`},
		{"prune bytecode unknown", "[prune]\ntests = true\nbytecode = \"none\"", `layers.toml:3: prune.bytecode: want "compile" (ship byte code compiled for the runtime) or "strip" (none), got "none"`},
		{"prune bytecode bool", "[prune]\nbytecode = false", `layers.toml:2: prune.bytecode: want a string, got boolean`},
		{"prune bytecode empty", "[prune]\nbytecode = \"\"", `layers.toml:2: prune.bytecode: want "compile" (ship byte code compiled for the runtime) or "strip" (none), got ""`},
		{"build installer unknown", "[build]\nimage = \"x\"\ninstaller = \"poetry\"", `layers.toml:3: build.installer: want "uv" (wheels installed in parallel by uv) or "pip", got "poetry"`},
		{"function bytecode", "[function.api]\nruntime = \"python3.11\"\npackage = \"image\"\nbytecode = \"Strip\"", `layers.toml:4: function.api.bytecode: want "compile" (ship byte code compiled for the runtime) or "strip" (none), got "Strip"`},
		{"image bytecode compile", "[prune]\nbytecode = \"strip\"\n[function.api]\npackage = \"image\"\nbytecode = \"compile\"", `layers.toml:5: function.api.bytecode: "compile" needs [prune] bytecode = "compile": an image leaves out the byte code of units compiled for all functions, and with "strip" there is none`},
		{"function bytecode in layers", "[function.api]\nbytecode = \"strip\"", `layers.toml:2: function.api.bytecode: only a function with package = "image" can choose its own byte code: functions in layers share their packages' units with other functions; set [prune] bytecode for all of them`},
		{"cache url not s3", "[cache]\nurl = \"gs://bucket/x\"", `layers.toml:2: cache.url: invalid remote cache URL "gs://bucket/x" (want s3://BUCKET/PREFIX)`},
		{"cache url bad bucket", "[cache]\n\nurl = \"s3://Bad_Bucket/x\"", `layers.toml:3: cache.url: invalid remote cache URL "s3://Bad_Bucket/x" (want s3://BUCKET/PREFIX)`},
		{"cache write string", "[cache]\nwrite = \"no\"", `layers.toml:2: cache.write: want a boolean, got string`},
		{"engines string", "[build]\nengines = \"unix:///var/run/docker.sock\"", `layers.toml:2: build.engines: want an array of engine addresses, or a table of them by architecture, got string`},
		{"engines empty", "[build]\nengines = []", `layers.toml:2: build.engines: must not be empty (leave engines out for the engine DOCKER_HOST names)`},
		{"engines element", "[build]\nengines = [\n\"unix:///a.sock\",\n3]", `layers.toml:4: build.engines: want a string, got integer`},
		{"engines twice", "[build]\nengines = [\"ctx\",\n\"ctx\"]", `layers.toml:3: build.engines: "ctx" is listed twice`},
		{"engines scheme", "[build]\nengines = [\"http://builder:2375\"]", `layers.toml:2: build.engines: "http://builder:2375" has an unsupported scheme (want unix:///path/to/docker.sock, tcp://host:port, ssh://host (a user and a port optional), or a Docker context name)`},
		{"engines relative socket", "[build]\nengines = [\"unix://docker.sock\"]", `layers.toml:2: build.engines: "unix://docker.sock" needs an absolute socket path, like unix:///var/run/docker.sock`},
		{"engines tcp without host", "[build]\nengines = [\"tcp://:2375\"]", `layers.toml:2: build.engines: "tcp://:2375" needs a host and no path, like tcp://builder:2376`},
		{"engines ssh without host", "[build]\nengines = [\"ssh://\"]", `layers.toml:2: build.engines: "ssh://" needs a host, like ssh://graviton`},
		{"engines context name", "[build]\nengines = [\"my context\"]", `layers.toml:2: build.engines: "my context" is not an engine address (want unix:///path/to/docker.sock, tcp://host:port, ssh://host (a user and a port optional), or a Docker context name)`},
		{"engines context chars", "[build]\nengines = [\"-ctx\"]", `layers.toml:2: build.engines: "-ctx" is not a Docker context name (letters, digits and _ . + -, starting with a letter or digit) nor an engine URL (want unix:///path/to/docker.sock, tcp://host:port, ssh://host (a user and a port optional), or a Docker context name)`},
		{"engines table empty", "[build.engines]\n", `layers.toml:1: build.engines: empty table: name engines by architecture (x86_64, arm64), or leave engines out for the engine DOCKER_HOST names`},
		{"engines table arch", "[build.engines]\nx86_64 = [\"a\"]\namd64 = [\"b\"]", `layers.toml:3: build.engines.amd64: unknown architecture "amd64" (want x86_64 or arm64; did you mean "x86_64"?)`},
		{"engines table value", "[build.engines]\narm64 = \"graviton\"", `layers.toml:2: build.engines.arm64: want an array of engine addresses, got string`},
		{"engines table element", "[build.engines]\narm64 = [\"graviton\",\n\"ssh://\"]", `layers.toml:3: build.engines.arm64: "ssh://" needs a host, like ssh://graviton`},
		{"engines number", "[build]\nengines = 2", `layers.toml:2: build.engines: want an array of engine addresses, or a table of them by architecture, got integer`},

		// Unknown keys.
		{"unknown table", "runtime = \"python3.12\"\n\n[limit]\nreserved_layers = 1", `layers.toml:3: unknown key "limit" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},
		{"unknown dotted key", `limits.layers = 3`, `layers.toml:1: unknown key "layers" in [limits] (known: function_unzipped_bytes, layers_per_function, reserved_layers)`},
		{"unknown key in layers", "[layers]\nprefix = \"a\"\nmax = 1", `layers.toml:3: unknown key "max" in [layers] (known: groups, local_in_code, max_extra, plan_file, prefix)`},
		{"unknown subtable of a function", "[function.api.extra]\nx = 1", `layers.toml:1: unknown key "extra" in [function.api] (known: architectures, bytecode, extras, groups, handler, image, package, requirements, runtime, source)`},
		{"unknown key in quoted function", "[function.\"a b\"]\nruntim = \"python3.12\"", `layers.toml:2: unknown key "runtim" in [function."a b"] (known: architectures, bytecode, extras, groups, handler, image, package, requirements, runtime, source)`},
		{"key case", "architectures = [\"arm64\"]\nRuntime = \"python3.12\"", `layers.toml:2: unknown key "Runtime" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},
		{"key case in table", "[Limits]\nreserved_layers = 1", `layers.toml:1: unknown key "Limits" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},
		{"key case in function", "[function.api]\nRuntime = \"python3.12\"", `layers.toml:2: unknown key "Runtime" in [function.api] (known: architectures, bytecode, extras, groups, handler, image, package, requirements, runtime, source)`},
		{"fields TOML does not see", "Path = \"x\"", `layers.toml:1: unknown key "Path" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},
		{"first of several unknown keys", "a = 1\nb = 2", `layers.toml:1: unknown key "a" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},

		// Values.
		{"empty runtime", `runtime = ""`, `layers.toml:1: runtime: unsupported runtime "" (supported: python3.9, python3.10, python3.11, python3.12, python3.13, python3.14)`},
		{"empty architectures", "\narchitectures = []", `layers.toml:2: architectures: must not be empty (want x86_64 and/or arm64)`},
		{"architecture alias", `architectures = ["AMD64"]`, `layers.toml:1: architectures: unknown architecture "AMD64" (want x86_64 or arm64; did you mean "x86_64"?)`},
		{"absolute glob", "functions = [\n  \"functions/*\",\n  \"/srv/functions/*\",\n]", `layers.toml:3: functions: glob "/srv/functions/*" must be relative to the config file's folder`},
		{"empty glob", `functions = [""]`, `layers.toml:1: functions: empty glob`},
		{"exclude twice", "exclude = [\"Typing_Extensions\",\n\"typing-extensions\"]", `layers.toml:2: exclude: "typing-extensions" is listed twice`},
		{"exclude name edge", `exclude = ["-boto3"]`, `layers.toml:1: exclude: invalid distribution name "-boto3"`},
		{"layers per function 0", "[limits]\nlayers_per_function = 0", `layers.toml:2: limits.layers_per_function: 0 is out of range 1..5`},
		{"layers per function 6", "[limits]\nlayers_per_function = 6", `layers.toml:2: limits.layers_per_function: 6 is out of range 1..5`},
		{"reserved default per function", "[limits]\nreserved_layers = 5", `layers.toml:2: limits.reserved_layers: 5 must be less than layers_per_function (5)`},
		{"reserved negative", "[limits]\nreserved_layers = -1", `layers.toml:2: limits.reserved_layers: -1 must not be negative`},
		{"unzipped bytes", "[limits]\n\nfunction_unzipped_bytes = 0", `layers.toml:3: limits.function_unzipped_bytes: 0 must be positive`},
		{"prefix too long", "[layers]\nprefix = \"" + strings.Repeat("x", 65) + "\"", `layers.toml:2: layers.prefix: "` + strings.Repeat("x", 65) + `" may only hold letters, digits, "-" and "_", at most 64 of them`},
		{"plan_file outside", "[layers]\nplan_file = \"../plan.json\"", `layers.toml:2: layers.plan_file: "../plan.json" must be a path inside the repository`},
		{"plan_file absolute", "[layers]\nplan_file = \"/tmp/plan.json\"", `layers.toml:2: layers.plan_file: "/tmp/plan.json" must be a path inside the repository`},
		{"max_extra negative", "[layers]\nmax_extra = -0.1", `layers.toml:2: layers.max_extra: -0.1 is out of range 0..1`},
		{"max_extra nan", "[layers]\nmax_extra = nan", `layers.toml:2: layers.max_extra: NaN is out of range 0..1`},
		{"max_extra inf", "[layers]\nmax_extra = inf", `layers.toml:2: layers.max_extra: +Inf is out of range 0..1`},
		{"group name", "[layers.groups]\n\"a b\" = [\"numpy\"]", `layers.toml:2: layers.groups."a b": group name may only hold letters, digits, "-" and "_", at most 64 of them`},
		{"group empty", "[layers.groups]\ndata = []", `layers.toml:2: layers.groups.data: empty group`},
		{"group member name", "[layers.groups]\ndata = [\"numpy\", \"pandas!\"]", `layers.toml:2: layers.groups.data: invalid distribution name "pandas!"`},
		{"distribution in two groups", "[layers.groups]\nsci = [\"numpy\"]\ndata = [\n  \"pandas\",\n  \"NumPy\",\n]", `layers.toml:2: layers.groups.sci: "numpy" is also in group "data"`},
		{"distribution in group and exclude", "exclude = [\"numpy\"]\n[layers.groups]\ndata = [\"pandas\", \"numpy\"]", `layers.toml:3: layers.groups.data: "numpy" is also in exclude`},

		// Function overrides.
		{"function runtime", "[function.api]\nruntime = \"python3.12\"\n[function.worker]\nruntime = \"python4\"", `layers.toml:4: function.worker.runtime: unsupported runtime "python4" (supported: python3.9, python3.10, python3.11, python3.12, python3.13, python3.14)`},
		{"function architectures empty", "[function.api]\narchitectures = []", `layers.toml:2: function.api.architectures: must not be empty (want x86_64 and/or arm64)`},
		{"function architecture", "[function.api]\narchitectures = [\"arm64\", \"arm\"]", `layers.toml:2: function.api.architectures: unknown architecture "arm" (want x86_64 or arm64)`},
		{"function architecture twice", "[function.api]\narchitectures = [\n\"arm64\",\n\"arm64\"]", `layers.toml:4: function.api.architectures: "arm64" is listed twice`},
		{"function requirements absolute", "[function.api]\nrequirements = \"/etc/requirements.txt\"", `layers.toml:2: function.api.requirements: "/etc/requirements.txt" must be relative to the function folder`},
		{"function extra", "[function.api]\nextras = [\"a\", \"b c\"]", `layers.toml:2: function.api.extras: invalid extra name "b c"`},
		{"function group", "[function.api]\ngroups = [\"dev\", \"Dev\"]", `layers.toml:2: function.api.groups: "dev" is listed twice`},
		{"function package", "[function.api]\npackage = \"zip\"", `layers.toml:2: function.api.package: want "layers" or "image", got "zip"`},
		{"function handler", "[function.api]\nhandler = \"app\"", `layers.toml:2: function.api.handler: invalid handler "app" (want module.function, like "app.handler")`},
		{"function handler shape", "[function.api]\nhandler = \"app.handler()\"", `layers.toml:2: function.api.handler: invalid handler "app.handler()" (want module.function, like "app.handler")`},
		{"default handler", "runtime = \"python3.12\"\nhandler = \"handler\"", `layers.toml:2: handler: invalid handler "handler" (want module.function, like "app.handler")`},
		{"function source", "[function.api]\nsource = [\"src/{a,b\"]", `layers.toml:2: function.api.source: invalid glob "src/{a,b"`},
		{"function source absolute", "[function.api]\nsource = [\"/src\"]", `layers.toml:2: function.api.source: glob "/src" must be relative to the function folder`},
		{"quoted function name", "[function.\"svc/api\"]\npackage = \"zip\"", `layers.toml:2: function."svc/api".package: want "layers" or "image", got "zip"`},

		// The first problem in the document wins, whatever its kind.
		{"value before unknown key", "runtime = \"python2\"\nfoo = 1", `layers.toml:1: runtime: unsupported runtime "python2" (supported: python3.9, python3.10, python3.11, python3.12, python3.13, python3.14)`},
		{"unknown key before value", "foo = 1\nruntime = \"python2\"", `layers.toml:1: unknown key "foo" (known: architectures, build, cache, exclude, function, functions, handler, image, layers, limits, prune, publish, runtime, verify)`},
		{"section order", "[layers]\nprefix = \"a b\"\n[limits]\nlayers_per_function = 9", `layers.toml:2: layers.prefix: "a b" may only hold letters, digits, "-" and "_", at most 64 of them`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, []byte(tc.doc), tc.want)
		})
	}
}

// checkError parses data as layers.toml and wants exactly one *diag.Error
// whose text is want.
func checkError(t *testing.T, data []byte, want string) {
	t.Helper()
	c, err := Parse("layers.toml", data)
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want error %s", c, want)
	}
	if c != nil {
		t.Errorf("Parse returned a config with its error")
	}
	var d *diag.Error
	if !errors.As(err, &d) {
		t.Errorf("Parse error %T is no *diag.Error", err)
	}
	if err.Error() != want {
		t.Errorf("Parse error\n got %s\nwant %s", err, want)
	}
}
