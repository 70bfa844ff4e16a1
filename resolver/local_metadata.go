package resolver

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// A local package's name and version come from static files only: the
// resolver never runs a build.

// localInfo is a local package's metadata as far as static files tell.
type localInfo struct {
	name    string // normalised; "" when no static file declares it
	version string // "" when dynamic or unknown
}

// pyprojectMetadata is what the resolver needs of a local project's
// pyproject.toml. Values are decoded as any so that one of the wrong type
// gets a message in TOML terms, or is ignored where it does not matter.
// It is not pyprojectDoc on purpose: that type checks every dependency
// table, and a local package's own tables must not fail a build that only
// needs its name and version.
type pyprojectMetadata struct {
	Project *struct {
		Name    any `toml:"name"`
		Version any `toml:"version"`
		Dynamic any `toml:"dynamic"`
	} `toml:"project"`
	Tool struct {
		Poetry *struct {
			Name    any `toml:"name"`
			Version any `toml:"version"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

// readInput reads a file a requirements file leads to (a local package's
// metadata): inside the repository, regular and bounded.
func (p *reqParser) readInput(rel string) ([]byte, error) {
	if _, err := p.repoPath(".", rel); err != nil {
		var o *repofs.OutsideError
		errors.As(err, &o)
		return nil, &diag.Error{Path: rel, Msg: o.Reason(), Err: err}
	}
	return repofs.Read(p.fsys, rel)
}

// folderMetadata reads a local project's name and version from
// pyproject.toml ([project], then [tool.poetry]) or setup.cfg ([metadata]).
func (p *reqParser) folderMetadata(dir string) (localInfo, error) {
	if info, ok := p.meta[dir]; ok {
		return info, nil
	}
	info, err := readFolderMetadata(dir, p.readInput)
	if err != nil {
		return info, err
	}
	p.meta[dir] = info
	return info, nil
}

// readFolderMetadata is folderMetadata with read reading a file of the
// repository; an error read returns that is no input error counts as a
// missing file.
func readFolderMetadata(dir string, read func(rel string) ([]byte, error)) (localInfo, error) {
	var info localInfo
	file := path.Join(dir, "pyproject.toml")
	if data, err := read(file); err != nil && diag.IsInput(err) {
		return info, err
	} else if err == nil {
		var err error
		if info, err = pyprojectInfo(file, data); err != nil {
			return info, err
		}
	}
	if info.name == "" {
		cfg := path.Join(dir, "setup.cfg")
		if data, err := read(cfg); err != nil && diag.IsInput(err) {
			return info, err
		} else if err == nil {
			var err error
			if info, err = setupCfgMetadata(cfg, data); err != nil {
				return info, err
			}
		}
	}
	return info, nil
}

func pyprojectInfo(file string, data []byte) (localInfo, error) {
	var doc pyprojectMetadata
	if err := toml.Unmarshal(data, &doc); err != nil {
		// go-toml's own words, as these messages have always read.
		return localInfo{}, tomlpos.Error(file, err, func(f tomlpos.Failure) string { return "toml: " + f.Msg })
	}
	var name, version any
	var table []any
	poetry := doc.Tool.Poetry
	switch {
	case doc.Project != nil && doc.Project.Name != nil:
		name, version, table = doc.Project.Name, doc.Project.Version, []any{"project"}
		dynamic, _ := doc.Project.Dynamic.([]any)
		if version == nil && poetry != nil && slices.Contains(dynamic, any("version")) {
			version = poetry.Version // Poetry 2 keeps a dynamic version there
		}
	case poetry != nil && poetry.Name != nil:
		name, version, table = poetry.Name, poetry.Version, []any{"tool", "poetry"}
	default:
		return localInfo{}, nil
	}
	at := func(key string) int {
		if key == "version" && doc.Project != nil && doc.Project.Version == nil && table[0] == "project" {
			return tomlpos.Line(data, "tool", "poetry", "version")
		}
		return tomlpos.Line(data, append(slices.Clone(table), key)...)
	}
	n, ok := name.(string)
	if !ok || !pep508.ValidName(n) {
		return localInfo{}, diag.Errorf(file, at("name"), "invalid project name %v: want a string of letters, digits, '.', '_' and '-'", tomlValue(name))
	}
	info := localInfo{name: pep508.NormalizeName(n)}
	if version != nil {
		v, ok := version.(string)
		if !ok {
			return localInfo{}, diag.Errorf(file, at("version"), "invalid version %v: want a string", tomlValue(version))
		}
		if _, err := pep440.Parse(v); err != nil {
			return localInfo{}, diag.Errorf(file, at("version"), "%v", err)
		}
		info.version = v
	}
	return info, nil
}

// tomlValue shows a decoded value the way it was likely written.
func tomlValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// setupCfgMetadata reads [metadata] name and version the way configparser
// does: case-insensitive keys, "=" or ":", indented continuation lines.
func setupCfgMetadata(file string, data []byte) (localInfo, error) {
	var info localInfo
	values := map[string]string{}
	lines := map[string]int{}
	section, key := "", ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if key != "" && section == "metadata" {
				values[key] = strings.TrimSpace(values[key] + "\n" + trimmed)
			}
			continue
		case trimmed[0] == '[' && strings.HasSuffix(trimmed, "]"):
			section, key = strings.TrimSpace(trimmed[1:len(trimmed)-1]), ""
			continue
		}
		k, v, ok := cutAny(trimmed, "=:")
		if !ok || section != "metadata" {
			key = ""
			continue
		}
		key = strings.ToLower(strings.TrimSpace(k))
		values[key] = strings.TrimSpace(v)
		lines[key] = i + 1
	}
	if name := values["name"]; name != "" {
		if !pep508.ValidName(name) {
			return info, diag.Errorf(file, lines["name"], "invalid project name %q", name)
		}
		info.name = pep508.NormalizeName(name)
	}
	if v := values["version"]; v != "" && !strings.HasPrefix(v, "attr:") && !strings.HasPrefix(v, "file:") {
		if _, err := pep440.Parse(v); err != nil {
			return info, diag.Errorf(file, lines["version"], "%v", err)
		}
		info.version = v
	}
	return info, nil
}

func cutAny(s, seps string) (before, after string, ok bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
