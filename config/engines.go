package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/layers-dev/layers/internal/tomlpos"
)

// EngineAddress is one Docker engine of [build] engines: a unix://, tcp://
// or ssh:// URL, or the name of a Docker context, which only the machine
// that builds can resolve.
type EngineAddress struct {
	Address string
	// Line is where the address is written in the config file, for errors
	// found when it is dialled.
	Line int
}

// contextName is the rule the docker CLI applies to context names.
var contextName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$`)

// engines checks [build] engines as decoded (an array of addresses, or a
// table of arrays by architecture) and returns the engines by
// architecture: nil when the key is unset, the same list for every
// architecture for an array.
func (v *validator) engines(raw any) map[string][]EngineAddress {
	key := []any{"build", "engines"}
	switch raw := raw.(type) {
	case nil:
		return nil
	case []any:
		list, ok := v.engineList(raw, key)
		if !ok {
			return nil
		}
		out := map[string][]EngineAddress{}
		for _, a := range Architectures {
			out[a] = slices.Clone(list)
		}
		return out
	case map[string]any:
		if len(raw) == 0 {
			v.errorf(key, "empty table: name engines by architecture (%s), or leave engines out for the engine DOCKER_HOST names", strings.Join(Architectures, ", "))
			return nil
		}
		out := map[string][]EngineAddress{}
		for _, arch := range sortedKeys(raw) {
			at := append(slices.Clip(key), arch)
			if !slices.Contains(Architectures, arch) {
				hint := ""
				if alias, ok := archAliases[strings.ToLower(arch)]; ok {
					hint = fmt.Sprintf("; did you mean %q?", alias)
				}
				v.errorf(at, "unknown architecture %s (want %s%s)", tomlString(arch), strings.Join(Architectures, " or "), hint)
				return nil
			}
			list, isList := raw[arch].([]any)
			if !isList {
				v.errorf(at, "want an array of engine addresses, got %s", tomlTypeName(raw[arch]))
				return nil
			}
			if out[arch], isList = v.engineList(list, at); !isList {
				return nil
			}
		}
		return out
	default:
		v.errorf(key, "want an array of engine addresses, or a table of them by architecture, got %s", tomlTypeName(raw))
		return nil
	}
}

// engineList checks one array of engine addresses.
func (v *validator) engineList(list []any, key []any) ([]EngineAddress, bool) {
	if len(list) == 0 {
		v.errorf(key, "must not be empty (leave engines out for the engine DOCKER_HOST names)")
		return nil, false
	}
	out := make([]EngineAddress, 0, len(list))
	for i, e := range list {
		at := append(slices.Clip(key), i)
		s, ok := e.(string)
		if !ok {
			v.errorf(at, "want a string, got %s", tomlTypeName(e))
			return nil, false
		}
		if msg := engineAddressProblem(s); msg != "" {
			v.errorf(at, "%s %s", tomlString(s), msg)
			return nil, false
		}
		if slices.ContainsFunc(out, func(a EngineAddress) bool { return a.Address == s }) {
			v.errorf(at, "%s is listed twice", tomlString(s))
			return nil, false
		}
		out = append(out, EngineAddress{Address: s})
	}
	return out, true
}

// engineAddressProblem says what is wrong with an engine address, "" when
// nothing is.
func engineAddressProblem(s string) string {
	const want = "(want unix:///path/to/docker.sock, tcp://host:port, ssh://host (a user and a port optional), or a Docker context name)"
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "is not an engine address " + want
	}
	scheme, rest, isURL := strings.Cut(s, "://")
	if !isURL {
		if !contextName.MatchString(s) {
			return "is not a Docker context name (letters, digits and _ . + -, starting with a letter or digit) nor an engine URL " + want
		}
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "is not a valid engine URL " + want
	}
	switch scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(rest, "/") || u.Path == "/" {
			return "needs an absolute socket path, like unix:///var/run/docker.sock"
		}
	case "tcp":
		if u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") {
			return "needs a host and no path, like tcp://builder:2376"
		}
	case "ssh":
		if u.Hostname() == "" {
			return "needs a host, like ssh://graviton"
		}
	default:
		return "has an unsupported scheme " + want
	}
	return ""
}

// tomlTypeName names the TOML type of a generically decoded value.
func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "a date or time"
}

// engineLines records where each address of [build] engines is written.
func (c *Config) engineLines(data []byte) {
	if c.Build.EnginesByArch == nil {
		return
	}
	ix := tomlpos.NewIndex(data)
	_, list := c.Build.Engines.([]any)
	for arch, addrs := range c.Build.EnginesByArch {
		for i := range addrs {
			if list {
				addrs[i].Line = ix.Line("build", "engines", i)
			} else {
				addrs[i].Line = ix.Line("build", "engines", arch, i)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
