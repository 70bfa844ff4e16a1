package iac

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/internal/testkit/testfs"
)

func TestParse(t *testing.T) {
	cases := []struct {
		tool Tool
		text string
		want []Setting
	}{
		{SAM, "Globals:\n  Function:\n    Runtime: python3.11\n    Handler: app.handler\nResources:\n  Api:\n    Properties:\n      Runtime: \"python3.12\"  # the api is newer\n      Runtime: nodejs20.x\n",
			[]Setting{{Line: 3, Tool: SAM, Runtime: "python3.11"}, {Line: 8, Tool: SAM, Runtime: "python3.12"}}},
		{Serverless, "provider:\n  name: aws\n  runtime: python3.11\r\nfunctions:\n  x:\n    runtime: 'python3.13'\n    # runtime: python3.9\n",
			[]Setting{{Line: 3, Tool: Serverless, Runtime: "python3.11"}, {Line: 6, Tool: Serverless, Runtime: "python3.13"}}},
		{Terraform, "resource \"aws_lambda_function\" \"x\" {\n  runtime       = \"python3.12\" // pinned\n  # runtime = \"python3.9\"\n  handler = \"app.handler\"\n}\n",
			[]Setting{{Line: 2, Tool: Terraform, Runtime: "python3.12"}}},
		{Terraform, "runtime = var.runtime\n", nil},
	}
	for _, c := range cases {
		if got := Parse(c.tool, []byte(c.text)); !slices.Equal(got, c.want) {
			t.Errorf("Parse(%s, %q) = %v, want %v", c.tool, c.text, got, c.want)
		}
	}
}

func TestScan(t *testing.T) {
	dir := testfs.Tree(t, map[string]string{
		"infra/main.tf":                         "runtime = \"python3.11\"\n",
		"services/api/serverless.yml":           "provider:\n  runtime: python3.12\n",
		"template.yaml":                         "Globals:\n  Function:\n    Runtime: python3.11\n",
		"node_modules/x/serverless.yml":         "provider:\n  runtime: python3.9\n",
		".aws-sam/build/template.yaml":          "Runtime: python3.9\n",
		"infra/.terraform/modules/m/main.tf":    "runtime = \"python3.9\"\n",
		"functions/api/template.yaml.orig":      "Runtime: python3.9\n",
		"a/b/c/d/e/f/g/too-deep/serverless.yml": "provider:\n  runtime: python3.9\n",
	})
	got, err := Scan(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, x := range got {
		s = append(s, x.Path+":"+string(rune('0'+x.Line))+" "+string(x.Tool)+" "+x.Runtime)
	}
	want := "infra/main.tf:1 Terraform python3.11, services/api/serverless.yml:2 Serverless python3.12, template.yaml:3 SAM python3.11"
	if strings.Join(s, ", ") != want {
		t.Errorf("Scan = %s\nwant   %s", strings.Join(s, ", "), want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Runtime: python3.12\n", "runtime: python3.11\n", "runtime = \"python3.13\"\n")
	f.Add("  Runtime:  'python3.9'  # x\r\n", "runtime: \"python3.10\"", "runtime = \"python3.14\" // y")
	f.Fuzz(func(t *testing.T, sam, sls, tf string) {
		for tool, text := range map[Tool]string{SAM: sam, Serverless: sls, Terraform: tf} {
			lines := strings.Count(text, "\n") + 1
			for _, s := range Parse(tool, []byte(text)) {
				if s.Tool != tool || s.Line < 1 || s.Line > lines || !strings.HasPrefix(s.Runtime, "python3.") {
					t.Fatalf("Parse(%s, %q): bad setting %+v", tool, text, s)
				}
			}
		}
	})
}
