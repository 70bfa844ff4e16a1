// Package iac finds the Lambda runtime that a repository's existing
// infrastructure code already sets for its Python functions: AWS SAM
// templates, Serverless Framework files and Terraform. It reads lines, not
// the languages: a setting written in a form it does not know (a variable,
// an anchor, CDK code) is simply not found, never an error.
package iac

import (
	"context"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
)

// Tool is the infrastructure-as-code tool a file belongs to.
type Tool string

// The tools whose files Scan reads.
const (
	SAM        Tool = "SAM"
	Serverless Tool = "Serverless"
	Terraform  Tool = "Terraform"
)

// Setting is one runtime a file sets.
type Setting struct {
	Path    string // relative to the root, with forward slashes
	Line    int    // 1-based
	Tool    Tool
	Runtime string // e.g. "python3.12"
}

// maxDepth bounds how many folders deep Scan looks.
const maxDepth = 6

// skip are folders that hold no infrastructure code of the repository's
// own (build output, dependencies).
var skip = map[string]bool{"node_modules": true, "venv": true, "__pycache__": true, "site-packages": true, "cdk.out": true}

// ToolOf returns the tool whose file name is name: template.yaml or
// template.yml (SAM), serverless.yml or serverless.yaml, *.tf.
func ToolOf(name string) (Tool, bool) {
	switch {
	case name == "template.yaml" || name == "template.yml":
		return SAM, true
	case name == "serverless.yml" || name == "serverless.yaml":
		return Serverless, true
	case strings.HasSuffix(name, ".tf"):
		return Terraform, true
	}
	return "", false
}

// Scan walks root for the files of every tool, skipping hidden and
// vendored folders, and returns the Python runtimes they set, by file and
// line. Unreadable files and folders are skipped.
func Scan(ctx context.Context, root string) ([]Setting, error) {
	var out []Setting
	fsys := os.DirFS(root)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(name, ".") || skip[name] || strings.Count(p, "/")+1 > maxDepth) {
				return fs.SkipDir
			}
			return nil
		}
		tool, ok := ToolOf(name)
		if !ok || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err != nil || fi.Size() > 4<<20 {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		for _, s := range Parse(tool, data) {
			s.Path = path.Clean(p)
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

var patterns = map[Tool]*regexp.Regexp{
	// Runtime: python3.12 (a function's Properties or Globals.Function)
	SAM: regexp.MustCompile(`^\s*Runtime:\s*["']?(python3\.[0-9]+)["']?\s*(?:#.*)?$`),
	// runtime: python3.12 (provider.runtime or a function's own)
	Serverless: regexp.MustCompile(`^\s*runtime:\s*["']?(python3\.[0-9]+)["']?\s*(?:#.*)?$`),
	// runtime = "python3.12" (aws_lambda_function, modules' inputs)
	Terraform: regexp.MustCompile(`^\s*runtime\s*=\s*"(python3\.[0-9]+)"\s*(?:(?:#|//).*)?$`),
}

// Parse returns the Python runtimes that the file data of tool sets, with
// their lines; Path is left empty.
func Parse(tool Tool, data []byte) []Setting {
	re := patterns[tool]
	if re == nil {
		return nil
	}
	var out []Setting
	for i, line := range strings.Split(string(data), "\n") {
		if m := re.FindStringSubmatch(strings.TrimSuffix(line, "\r")); m != nil {
			out = append(out, Setting{Line: i + 1, Tool: tool, Runtime: m[1]})
		}
	}
	return out
}
