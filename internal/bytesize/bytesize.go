// Package bytesize owns how layers writes a byte count for people: the
// sizes in the summary tables and the report.
package bytesize

import "fmt"

// The binary units, in bytes.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// Binary writes n bytes in binary units, as Lambda states its limits: the
// largest unit n reaches, up to GiB, with two decimals for GiB and one for
// KiB and MiB: "512 B", "1.5 KiB", "3.0 MiB", "1.25 GiB".
func Binary(n int64) string { return BinaryUpTo(n, GiB) }

// BinaryUpTo is Binary with no unit above largest (KiB, MiB or GiB):
// BinaryUpTo(3*GiB, MiB) is "3072.0 MiB".
func BinaryUpTo(n, largest int64) string {
	switch {
	case n >= GiB && largest >= GiB:
		return fmt.Sprintf("%.2f GiB", float64(n)/float64(GiB))
	case n >= MiB && largest >= MiB:
		return fmt.Sprintf("%.1f MiB", float64(n)/float64(MiB))
	case n >= KiB && largest >= KiB:
		return fmt.Sprintf("%.1f KiB", float64(n)/float64(KiB))
	}
	return fmt.Sprintf("%d B", n)
}

// Decimal writes n bytes in SI units, the largest n reaches, up to GB:
// "512 B", "3 kB", "1.5 MB", "2.1 GB".
func Decimal(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
