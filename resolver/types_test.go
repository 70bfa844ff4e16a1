package resolver

import "testing"

// TestPackageString checks how a package is named in messages: by version
// when one is known, else by its origin, never with a credential or a
// made-up version.
func TestPackageString(t *testing.T) {
	for _, c := range []struct {
		p    Package
		want string
	}{
		{Package{Name: "six", Version: "1.16.0", Source: SourceRegistry}, "six==1.16.0"},
		{Package{Name: "six", Version: "1.16.0", Source: SourceURL, URL: "https://files.example.invalid/six-1.16.0-py3-none-any.whl"}, "six==1.16.0"},
		{Package{Name: "attrs", Source: SourceURL, URL: "git+https://tok:s3cret@git.example.invalid/attrs.git@22.1.0"},
			"attrs @ git+https://****@git.example.invalid/attrs.git@22.1.0"},
		{Package{Name: "shared", Source: SourceLocal, Path: "libs/shared"}, "shared @ ./libs/shared"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}
