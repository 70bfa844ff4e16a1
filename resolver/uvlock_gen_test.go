package resolver

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// uvGenLock writes the text of a uv.lock for a synthetic monorepo: members
// workspace members (nine in ten are functions, the rest shared libraries)
// over registry distinct registry packages, with what makes real locks
// costly to read: a dependency DAG whose low-numbered packages are the
// popular ones (think six, typing-extensions), markers on about a fifth of
// the edges, extras, dev groups, package metadata, wheels and sdists, and a
// few names forked by Python version into two versions each.
func uvGenLock(members, registry int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.Grow(registry * 1500)
	b.WriteString("version = 1\nrevision = 3\nrequires-python = \">=3.10\"\nresolution-markers = [\n    \"python_full_version >= '3.11'\",\n    \"python_full_version < '3.11'\",\n]\n\n[manifest]\nmembers = [\n")
	libs := max(members/10, 1)
	memberName := func(i int) string {
		if i < libs {
			return fmt.Sprintf("lib-%03d", i)
		}
		return fmt.Sprintf("fn-%03d", i)
	}
	for i := range members {
		fmt.Fprintf(&b, "    %q,\n", memberName(i))
	}
	b.WriteString("]\n")

	forked := make([]bool, registry)
	for i := range forked {
		forked[i] = r.IntN(20) == 0
	}
	hasExtra := make([]bool, registry)
	for i := range hasExtra {
		hasExtra[i] = r.IntN(10) == 0
	}
	markers := []string{
		"python_full_version < '3.11'",
		"sys_platform == 'win32'",
		"platform_machine == 'x86_64'",
		"implementation_name != 'PyPy'",
		"platform_python_implementation == 'CPython' and python_full_version >= '3.12'",
		"sys_platform == 'darwin' or sys_platform == 'win32'",
	}
	const index = "https://index.example.invalid/simple"
	hex := func() string {
		return fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}
	// dep writes the dependency entries for an edge to registry package j:
	// two entries, split by Python version, when j is forked.
	dep := func(j int, withExtra bool) {
		name := fmt.Sprintf("pkg-%04d", j)
		extra := ""
		if withExtra && hasExtra[j] {
			extra = `, extra = ["speedups"]`
		}
		marker := ""
		if r.IntN(5) == 0 {
			marker = markers[r.IntN(len(markers))]
		}
		if !forked[j] {
			if marker != "" {
				marker = fmt.Sprintf(", marker = %q", marker)
			}
			fmt.Fprintf(&b, "    { name = %q%s%s },\n", name, extra, marker)
			return
		}
		for k, fork := range []string{"python_full_version < '3.11'", "python_full_version >= '3.11'"} {
			m := fork
			if marker != "" {
				m = fork + " and (" + marker + ")"
			}
			fmt.Fprintf(&b, "    { name = %q, version = \"1.%d.%d\", source = { registry = %q }%s, marker = %q },\n", name, j%7, k, index, extra, m)
		}
	}
	// pick favours low numbers: the foundations most packages share.
	pick := func(below int) int {
		u := r.Float64()
		return int(u * u * u * float64(below))
	}
	for i := range registry {
		name := fmt.Sprintf("pkg-%04d", i)
		versions := []string{fmt.Sprintf("%d.%d.%d", 1+i%5, i%13, i%3)}
		if forked[i] {
			versions = []string{fmt.Sprintf("1.%d.0", i%7), fmt.Sprintf("1.%d.1", i%7)}
		}
		var deps []int
		if i > 0 && r.IntN(10) >= 4 {
			for range 1 + r.IntN(4) {
				deps = append(deps, pick(i))
			}
		}
		for k, v := range versions {
			fmt.Fprintf(&b, "\n[[package]]\nname = %q\nversion = %q\nsource = { registry = %q }\n", name, v, index)
			if forked[i] {
				fmt.Fprintf(&b, "resolution-markers = [\n    %q,\n]\n", []string{"python_full_version < '3.11'", "python_full_version >= '3.11'"}[k])
			}
			if len(deps) > 0 {
				b.WriteString("dependencies = [\n")
				for _, j := range deps {
					dep(j, false)
				}
				b.WriteString("]\n")
			}
			fmt.Fprintf(&b, "sdist = { url = \"https://files.example.invalid/packages/%02x/%s-%s.tar.gz\", hash = \"sha256:%s\", size = %d, upload-time = \"2025-01-02T03:04:05Z\" }\nwheels = [\n", i%256, name, v, hex(), 10000+r.IntN(5000000))
			for _, tag := range []string{"cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64", "cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64"}[:1+r.IntN(4)] {
				fmt.Fprintf(&b, "    { url = \"https://files.example.invalid/packages/%02x/%s-%s-%s.whl\", hash = \"sha256:%s\", size = %d, upload-time = \"2025-01-02T03:04:05Z\" },\n", i%256, strings.ReplaceAll(name, "-", "_"), v, tag, hex(), 10000+r.IntN(5000000))
			}
			b.WriteString("]\n")
			if hasExtra[i] && i > 0 {
				b.WriteString("\n[package.optional-dependencies]\nspeedups = [\n")
				for range 1 + r.IntN(2) {
					dep(pick(i), false)
				}
				b.WriteString("]\n")
			}
		}
	}
	for i := range members {
		name := memberName(i)
		folder := "functions/" + name
		if i < libs {
			folder = "libs/" + name
		}
		fmt.Fprintf(&b, "\n[[package]]\nname = %q\nversion = \"0.1.0\"\nsource = { editable = %q }\ndependencies = [\n", name, folder)
		var direct []string
		// Functions lean on the well-known top of the graph (boto3,
		// pandas); libraries sit lower.
		top := registry
		if i < libs {
			top = registry / 2
		}
		for range 3 + r.IntN(10) {
			j := top - 1 - pick(top)
			dep(j, true)
			direct = append(direct, fmt.Sprintf("pkg-%04d", j))
		}
		if i >= libs {
			for range r.IntN(3) {
				l := memberName(r.IntN(libs))
				fmt.Fprintf(&b, "    { name = %q },\n", l)
				direct = append(direct, l)
			}
		}
		b.WriteString("]\n\n[package.optional-dependencies]\ntracing = [\n")
		dep(r.IntN(registry), false)
		b.WriteString("]\n\n[package.dev-dependencies]\ndev = [\n")
		for range 2 {
			dep(r.IntN(registry), false)
		}
		b.WriteString("]\n\n[package.metadata]\nrequires-dist = [\n")
		for _, d := range direct {
			fmt.Fprintf(&b, "    { name = %q, specifier = \">=1\" },\n", d)
		}
		b.WriteString("]\nprovides-extras = [\"tracing\"]\n\n[package.metadata.requires-dev]\ndev = [{ name = \"pytest\", specifier = \">=8\" }]\n")
	}
	return []byte(b.String())
}

// TestUVLockGenerated keeps the benchmark's input honest: it parses, every
// member resolves, and closures are of a realistic size.
func TestUVLockGenerated(t *testing.T) {
	lock, err := parseUVLock("/repo", "uv.lock", uvGenLock(500, 1500))
	if err != nil {
		t.Fatal(err)
	}
	env := uvTestEnv(t, "python3.12", "x86_64")
	members, total := lock.Members(), 0
	if len(members) != 500 {
		t.Fatalf("%d members", len(members))
	}
	for _, m := range members {
		got, err := lock.Closure(LockRequest{Project: m, Extras: []string{"tracing"}, Groups: []string{"dev"}, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		total += len(got)
	}
	if avg := total / len(members); avg < 20 || avg > 400 {
		t.Errorf("closures average %d packages", avg)
	}
}

// BenchmarkUVLockClosure parses a 500-member, 1,500-package workspace lock
// and works out every member's closure for one target, once per iteration.
func BenchmarkUVLockClosure(b *testing.B) {
	data := uvGenLock(500, 1500)
	env := uvTestEnv(b, "python3.12", "x86_64")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		lock, err := parseUVLock("/repo", "uv.lock", data)
		if err != nil {
			b.Fatal(err)
		}
		total = 0
		for _, m := range lock.Members() {
			got, err := lock.Closure(LockRequest{Project: m, Env: env})
			if err != nil {
				b.Fatal(err)
			}
			total += len(got)
		}
	}
	b.ReportMetric(float64(total)/500, "pkgs/closure")
}
