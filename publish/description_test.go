package publish

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/layers-dev/layers/planner"
)

func TestDescription(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	var many []planner.PackageRef
	for i := range 40 {
		many = append(many, planner.PackageRef{Name: fmt.Sprintf("package-%02d", i), Version: "1.2.3"})
	}
	for _, c := range []struct {
		name string
		pkgs []planner.PackageRef
		want string // prefix of the description
		cut  bool
	}{
		{"none", nil, "layers sha256:" + sum, false},
		{"some", many[:2], "layers sha256:" + sum + " package-00==1.2.3 package-01==1.2.3", false},
		{"too many", many, "layers sha256:" + sum + " package-00==1.2.3", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := description(sum, c.pkgs)
			if n := utf8.RuneCountInString(d); n > maxDescription {
				t.Errorf("%d characters", n)
			}
			if !strings.HasPrefix(d, c.want) || strings.HasSuffix(d, " ...") != c.cut {
				t.Errorf("description %q", d)
			}
			if got := descriptionSHA256(d); got != sum {
				t.Errorf("hash read back %q", got)
			}
		})
	}
	for _, d := range []string{"", "layers sha256:" + sum[:63], "layers sha256:" + strings.ToUpper(sum), "layers sha256:" + sum + "x", "xlayers sha256:" + sum} {
		if got := descriptionSHA256(d); got != "" {
			t.Errorf("descriptionSHA256(%q) = %q, want none", d, got)
		}
	}
}

func FuzzDescriptionSHA256(f *testing.F) {
	f.Add("layers sha256:" + strings.Repeat("0", 64) + " a==1")
	f.Add("boto3 layer")
	f.Fuzz(func(t *testing.T, d string) {
		sum := descriptionSHA256(d)
		if sum == "" {
			return
		}
		if len(sum) != 64 || !strings.HasPrefix(d, descriptionPrefix+sum) {
			t.Fatalf("descriptionSHA256(%q) = %q", d, sum)
		}
		// What description writes, descriptionSHA256 reads.
		if got := descriptionSHA256(description(sum, []planner.PackageRef{{Name: d, Version: d}})); got != sum {
			t.Fatalf("round trip of %q gave %q", sum, got)
		}
	})
}
