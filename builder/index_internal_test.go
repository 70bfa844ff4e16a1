package builder

import (
	"testing"

	"github.com/layers-dev/layers/resolver"
)

func TestLockIndex(t *testing.T) {
	cases := []struct {
		pkg  resolver.Package
		want string
	}{
		{resolver.Package{Source: resolver.SourceRegistry, URL: "https://private.example.com/simple"}, "https://private.example.com/simple"},
		{resolver.Package{Source: resolver.SourceRegistry, URL: "https://index.example.invalid/simple"}, ""},
		{resolver.Package{Source: resolver.SourceRegistry}, ""},
		{resolver.Package{Source: resolver.SourceURL, URL: "https://git.example.com/x.git"}, ""},
	}
	for _, c := range cases {
		if got := lockIndex(UnitSpec{Package: c.pkg}); got != c.want {
			t.Errorf("lockIndex(%+v) = %q, want %q", c.pkg, got, c.want)
		}
	}
}
