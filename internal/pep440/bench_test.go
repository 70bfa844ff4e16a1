package pep440

import "testing"

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("3.12.11"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	x, y := MustParse("1.26.4"), MustParse("1.26.4.post1")
	b.ReportAllocs()
	for b.Loop() {
		Compare(x, y)
	}
}

func BenchmarkParseSpecifier(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSpecifier(">=2.8.1,<3"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContains(b *testing.B) {
	s, err := ParseSpecifier(">=2.8.1,!=2.9.*,<3")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !s.Contains("2.31.0") {
			b.Fatal("no match")
		}
	}
}
