package resolver

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestClosureRequest checks the request an unresolved closure carries for
// a resolver: requirements that hold on the target with their markers
// dropped, constraints, index options, and the extras and groups that
// chose them; or the input error that says why no resolver can help.
func TestClosureRequest(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		reqs, cons []string
		selection  []string
		index      string
		wantErr    string
		inputErrAt string
	}{
		{name: "requirements with includes", files: map[string]string{
			"functions/api/requirements.txt": "--index-url https://index.example.invalid/simple\n-r ../../common/base.txt\n-c constraints.txt\n" +
				"pywin32>=306 ; sys_platform == \"win32\"\nrequests[socks]>=2.31\n",
			"functions/api/constraints.txt": "urllib3<3\n",
			"common/base.txt":               "six\n",
		}, reqs: []string{"six", "requests[socks]>=2.31"}, cons: []string{"urllib3<3"}, index: "https://index.example.invalid/simple"},
		{name: "pyproject with an extra and a group", files: map[string]string{
			"layers.toml": "[function.api]\nextras = [\"fast\"]\ngroups = [\"lambda\"]\n",
			"functions/api/pyproject.toml": "[project]\nname = \"api\"\nversion = \"1.0\"\ndependencies = [\"six\", \"colorama ; sys_platform == 'win32'\"]\n" +
				"[project.optional-dependencies]\nfast = [\"orjson>=3\"]\nslow = [\"simplejson\"]\n[dependency-groups]\nlambda = [\"aws-xray-sdk\"]\n",
		}, reqs: []string{"six", "orjson>=3", "aws-xray-sdk"}, selection: []string{"extra:fast", "group:lambda"}},
		{name: "dynamic dependencies", files: map[string]string{
			"functions/api/pyproject.toml": "[project]\nname = \"api\"\nversion = \"1.0\"\ndynamic = [\"dependencies\"]\n",
		}, wantErr: "dependencies are dynamic", inputErrAt: "functions/api/pyproject.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := maps.Clone(tt.files)
			files["layers.toml"] = "runtime = \"python3.11\"\narchitectures = [\"x86_64\"]\n" + files["layers.toml"]
			files["functions/api/app.py"] = ""
			cfg := loadConfig(t, writeTree(t, files))
			res, err := Resolve(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Targets[0].Functions[0]
			if len(c.Unresolved) == 0 {
				t.Fatal("the closure is resolved from its files")
			}
			if tt.wantErr != "" {
				err := c.RequestErr
				if c.Request != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), tt.inputErrAt+": ") {
					t.Fatalf("request %v, error %v, want %q at %s", c.Request, err, tt.wantErr, tt.inputErrAt)
				}
				return
			}
			req := c.Request
			if req == nil || c.RequestErr != nil {
				t.Fatalf("no request: %v", c.RequestErr)
			}
			str := func(rs []Requirement) []string {
				var out []string
				for _, r := range rs {
					out = append(out, r.String())
				}
				return out
			}
			if got := str(req.Requirements); !slices.Equal(got, tt.reqs) {
				t.Errorf("requirements %q, want %q", got, tt.reqs)
			}
			if got := str(req.Constraints); !slices.Equal(got, tt.cons) {
				t.Errorf("constraints %q, want %q", got, tt.cons)
			}
			if !slices.Equal(req.Selection, tt.selection) || req.Index.IndexURL != tt.index {
				t.Errorf("selection %q, index %q", req.Selection, req.Index.IndexURL)
			}
		})
	}
}
