// Package tomlpos finds the line of a value inside a TOML document, so that
// errors found after decoding (a bad requirement string, an unknown runtime)
// can still name "file:line".
//
// It is only called on the error path: decoding stays on go-toml/v2's fast
// path and the document is re-scanned here when a message needs a line.
package tomlpos

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Path elements are strings (keys) or ints (array indexes).
type Path []any

// Line returns the 1-based line where the value at path starts, or the line
// of the closest enclosing key/table found, or 0 when nothing matches.
// Array tables ([[package]]) are indexed like arrays: Path{"package", 3, "name"}.
func Line(data []byte, path ...any) int {
	idx := index(data)
	want := canon(path)
	for {
		if l, ok := idx[want]; ok {
			return l
		}
		i := strings.LastIndexByte(want, sep)
		if i < 0 {
			return 0
		}
		want = want[:i]
	}
}

const sep = '\x1f'

func canon(path []any) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte(sep)
		}
		switch v := p.(type) {
		case int:
			b.WriteByte('#')
			b.WriteString(strconv.Itoa(v))
		case string:
			b.WriteString(v)
		default:
			b.WriteString("?")
		}
	}
	return b.String()
}

func join(prefix, part string) string {
	if prefix == "" {
		return part
	}
	return prefix + string(sep) + part
}

func elem(prefix string, i int) string { return join(prefix, "#"+strconv.Itoa(i)) }

// index maps every key path in data to the line its value starts on. A
// document with a syntax error is indexed up to the error.
func index(data []byte) map[string]int {
	out := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // array-table path -> element count so far
	table := ""
	// Lines from a newline index: the parser's own Shape rescans the
	// document from the start on every call.
	var newlines []int
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	line := func(r unstable.Range) int { return sort.SearchInts(newlines, int(r.Offset)) + 1 }
	resolve := func(it unstable.Iterator) (string, int) {
		cur, l := "", 0
		for it.Next() {
			k := it.Node()
			cur = join(cur, string(k.Data))
			l = line(k.Raw)
			if n, ok := arrays[cur]; ok && it.Node().Next() != nil {
				cur = elem(cur, n-1)
			}
		}
		return cur, l
	}
	var value func(path string, n *unstable.Node, fallback int)
	value = func(path string, n *unstable.Node, fallback int) {
		l := fallback
		if n.Raw.Length > 0 {
			l = line(n.Raw)
		}
		if _, seen := out[path]; !seen {
			out[path] = l
		}
		switch n.Kind {
		case unstable.Array:
			i := 0
			for it := n.Children(); it.Next(); {
				c := it.Node()
				if c.Kind == unstable.Comment {
					continue
				}
				value(elem(path, i), c, l)
				i++
			}
		case unstable.InlineTable:
			for it := n.Children(); it.Next(); {
				kv := it.Node()
				if kv.Kind != unstable.KeyValue {
					continue
				}
				k, kl := keyPath(path, kv.Key(), line)
				value(k, kv.Value(), kl)
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			t, l := resolve(e.Key())
			if n, ok := arrays[t]; ok {
				t = elem(t, n-1)
			}
			table = t
			if _, seen := out[t]; !seen {
				out[t] = l
			}
		case unstable.ArrayTable:
			t, l := resolve(e.Key())
			n := arrays[t]
			arrays[t] = n + 1
			if _, seen := out[t]; !seen {
				out[t] = l
			}
			table = elem(t, n)
			out[table] = l
		case unstable.KeyValue:
			k, kl := keyPath(table, e.Key(), line)
			value(k, e.Value(), kl)
		}
	}
	return out
}

func keyPath(prefix string, it unstable.Iterator, line func(unstable.Range) int) (string, int) {
	cur, l := prefix, 0
	for it.Next() {
		k := it.Node()
		cur = join(cur, string(k.Data))
		l = line(k.Raw)
	}
	return cur, l
}
