package tomlpos

import "testing"

const doc = `# comment
runtime = "python3.12"
architectures = [
  "x86_64",
  "arm64",
]

[function.orders]
runtime = "python3.11"
extras = ["a", "b"]

[[package]]
name = "a"
deps = [{ name = "x" }, { name = "y" }]

[[package]]
name = "b"

[package.dependencies]
requests = "^2.0"
point = { x = 1,
  y = 2 }
`

func TestLine(t *testing.T) {
	cases := []struct {
		path []any
		want int
	}{
		{[]any{"runtime"}, 2},
		{[]any{"architectures"}, 3},
		{[]any{"architectures", 1}, 5},
		{[]any{"function", "orders"}, 8},
		{[]any{"function", "orders", "runtime"}, 9},
		{[]any{"function", "orders", "extras", 1}, 10},
		{[]any{"package", 0, "name"}, 13},
		{[]any{"package", 0, "deps", 1, "name"}, 14},
		{[]any{"package", 1, "name"}, 17},
		{[]any{"package", 1, "dependencies", "requests"}, 20},
		{[]any{"package", 1, "dependencies", "point", "y"}, 22},
		{[]any{"package", 1, "missing"}, 16},
		{[]any{"nothing"}, 0},
	}
	for _, c := range cases {
		if got := Line([]byte(doc), c.path...); got != c.want {
			t.Errorf("Line(%v) = %d, want %d", c.path, got, c.want)
		}
	}
}

func FuzzLine(f *testing.F) {
	f.Add([]byte(doc), "package")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		_ = Line(data, key, 0, "name")
	})
}

// Keys match regardless of case, as go-toml decodes them, and a dotted
// header defines the tables above it.
func TestLineFoldedAndImplicit(t *testing.T) {
	const doc = "x = 1\n[Tool.Poetry]\nname = \"a\"\n\n[a.b.c]\nd = 1\n"
	if got := Line([]byte(doc), "tool", "poetry", "name"); got != 3 {
		t.Errorf("folded key: line %d, want 3", got)
	}
	if got := Line([]byte(doc), "a", "b"); got != 5 {
		t.Errorf("implicit table: line %d, want 5", got)
	}
}
