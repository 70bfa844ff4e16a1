// Package tomlpos finds the line of a value inside a TOML document, so that
// errors found after decoding (a bad requirement string, an unknown runtime)
// can still name "file:line".
//
// Decoding stays on go-toml/v2's fast path; the document is scanned again
// here, once, with go-toml's own parser. Errors go-toml itself returns are
// turned into the same "file:line" shape by Error, worded by each caller.
package tomlpos

import (
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Line returns the line of the value at path in data: NewIndex(data).Line.
// Array tables ([[package]]) are indexed like arrays: Line(data, "package",
// 3, "name").
func Line(data []byte, path ...any) int {
	return NewIndex(data).Line(path...)
}

// Index maps every key path of a document to the line its value starts
// on. Build it once when many values need lines (a pyproject's
// requirements all carry theirs); Line builds one for a single lookup.
type Index struct {
	exact map[string]int
	// folded has the paths in lower case: go-toml matches struct fields
	// regardless of case, so [tool.Poetry] is read as [tool.poetry].
	folded map[string]int
}

const sep = "\x1f"

// add records the line of path, when it has none yet.
func (ix *Index) add(path string, line int) {
	if _, seen := ix.exact[path]; !seen {
		ix.exact[path] = line
	}
	if f := strings.ToLower(path); f != path {
		if _, seen := ix.folded[f]; !seen {
			ix.folded[f] = line
		}
	}
}

// addWithParents is add for a table header or a dotted key, which also
// define the tables above them ([a.b.c] defines a and a.b).
func (ix *Index) addWithParents(path string, line int) {
	for end := 0; end < len(path); {
		next := strings.Index(path[end+1:], sep)
		if next < 0 {
			end = len(path)
		} else {
			end += 1 + next
		}
		ix.add(path[:end], line)
	}
}

// Line returns the 1-based line where the value at path starts (strings
// are keys, ints array indexes), else the line of the closest enclosing key
// or table, else 0. Keys also match regardless of case, as go-toml decodes
// them.
func (ix *Index) Line(keys ...any) int {
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch k := k.(type) {
		case string:
			parts[i] = k
		case int:
			parts[i] = "#" + strconv.Itoa(k)
		}
	}
	for n := len(parts); n > 0; n-- {
		p := strings.Join(parts[:n], sep)
		if l, ok := ix.exact[p]; ok {
			return l
		}
		if l, ok := ix.folded[strings.ToLower(p)]; ok {
			return l
		}
	}
	return 0
}

// NewIndex indexes data. A document with a syntax error is indexed up to
// the error.
func NewIndex(data []byte) *Index {
	ix := &Index{exact: map[string]int{}, folded: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	// Lines come from the newline offsets: Parser.Shape rescans the
	// document from its start on every call.
	var newlines []int
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	line := func(n *unstable.Node) int {
		i, _ := slices.BinarySearch(newlines, int(n.Raw.Offset))
		return i + 1
	}
	join := func(prefix, part string) string {
		if prefix == "" {
			return part
		}
		return prefix + sep + part
	}
	arrays := map[string]int{} // array-table path -> elements so far
	keyPath := func(prefix string, it unstable.Iterator) (string, int) {
		cur, l := prefix, 0
		for it.Next() {
			k := it.Node()
			cur, l = join(cur, string(k.Data)), line(k)
			if n, ok := arrays[cur]; ok && k.Next() != nil {
				cur = join(cur, "#"+strconv.Itoa(n-1))
			}
		}
		return cur, l
	}
	var value func(at string, n *unstable.Node, l int)
	value = func(at string, n *unstable.Node, l int) {
		if n.Raw.Length > 0 {
			l = line(n)
		}
		ix.add(at, l)
		switch n.Kind {
		case unstable.Array:
			i := 0
			for it := n.Children(); it.Next(); {
				if c := it.Node(); c.Kind != unstable.Comment {
					value(join(at, "#"+strconv.Itoa(i)), c, l)
					i++
				}
			}
		case unstable.InlineTable:
			for it := n.Children(); it.Next(); {
				if kv := it.Node(); kv.Kind == unstable.KeyValue {
					k, kl := keyPath(at, kv.Key())
					value(k, kv.Value(), kl)
				}
			}
		}
	}
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			t, l := keyPath("", e.Key())
			if e.Kind == unstable.ArrayTable {
				ix.addWithParents(t, l)
				n := arrays[t]
				arrays[t] = n + 1
				t = join(t, "#"+strconv.Itoa(n))
			}
			table = t
			ix.addWithParents(t, l)
		case unstable.KeyValue:
			k, kl := keyPath(table, e.Key())
			parts := 0
			for it := e.Key(); it.Next(); {
				parts++
			}
			if parts > 1 {
				ix.addWithParents(k, kl)
			}
			value(k, e.Value(), kl)
		}
	}
	return ix
}
