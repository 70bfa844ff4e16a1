package archive

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriteZip zips a 32 MiB tree of 2,048 files shaped like Python
// sources (compressible text) and extension modules (random bytes).
func BenchmarkWriteZip(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	for i := range 2048 {
		data := make([]byte, 16<<10)
		if i%4 == 0 {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		} else {
			const src = "def f(x):\n    return x + 1\n"
			for j := range data {
				data[j] = src[j%len(src)]
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("pkg%02d", i%32), fmt.Sprintf("mod%04d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	files, err := Collect(os.DirFS(dir), "python")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		if err := WriteZip(io.Discard, files, DefaultTime); err != nil {
			b.Fatal(err)
		}
	}
}
