package bytesize_test

import (
	"testing"

	"github.com/layers-dev/layers/internal/bytesize"
)

func TestBinary(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{-5, "-5 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{bytesize.MiB - 1, "1024.0 KiB"},
		{3 * bytesize.MiB, "3.0 MiB"},
		{250_000_000, "238.4 MiB"},
		{bytesize.GiB, "1.00 GiB"},
		{10_000_000_000, "9.31 GiB"},
	} {
		if got := bytesize.Binary(c.n); got != c.want {
			t.Errorf("Binary(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestBinaryUpTo(t *testing.T) {
	for _, c := range []struct {
		n, largest int64
		want       string
	}{
		{512, bytesize.MiB, "512 B"},
		{1536, bytesize.MiB, "1.5 KiB"},
		{3 * bytesize.GiB, bytesize.MiB, "3072.0 MiB"},
		{3 * bytesize.GiB, bytesize.KiB, "3145728.0 KiB"},
		{3 * bytesize.GiB, bytesize.GiB, "3.00 GiB"},
	} {
		if got := bytesize.BinaryUpTo(c.n, c.largest); got != c.want {
			t.Errorf("BinaryUpTo(%d, %d) = %q, want %q", c.n, c.largest, got, c.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1 kB"},
		{2600, "3 kB"},
		{1_500_000, "1.5 MB"},
		{250_000_000, "250.0 MB"},
		{2_100_000_000, "2.1 GB"},
		// The pipeline's progress lines, as its TestHumanBytes has them.
		{1500, "2 kB"},
		{2_500_000, "2.5 MB"},
		{3_000_000_000, "3.0 GB"},
	} {
		if got := bytesize.Decimal(c.n); got != c.want {
			t.Errorf("Decimal(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
