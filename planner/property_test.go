package planner_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/layers-dev/layers/planner"
	"pgregory.net/rapid"
)

// TestMain runs the property tests over thousands of monorepos unless
// -rapid.checks or RAPID_CHECKS says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !set && !env {
		if err := flag.Set("rapid.checks", "5000"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

var targets = []planner.Target{py312, {Runtime: "python3.11", Architecture: "arm64"}}

// genInput draws a small monorepo designed to hit the corners: shared and
// private packages, several versions, names spelled differently, local
// packages, unknown and estimated sizes, tight budgets and size limits,
// groups, forced images.
func genInput(t *rapid.T) planner.Input {
	names := rapid.IntRange(1, 12).Draw(t, "names")
	spell := func(i int) string {
		return rapid.SampledFrom([]string{"pkg%d", "Pkg%d", "pkg_%d", "pkg.%d"}).Draw(t, "spelling")
	}
	var in planner.Input
	in.Sizes = map[planner.Unit]planner.Size{}
	for _, tg := range targets {
		for i := range names {
			for _, v := range []string{"1", "2"} {
				kind := planner.SizeKind(rapid.IntRange(0, 2).Draw(t, "kind"))
				if kind == planner.SizeUnknown {
					continue
				}
				bytes := rapid.OneOf(rapid.Int64Range(0, 2_000_000), rapid.Int64Range(10_000_000, 150_000_000)).Draw(t, "bytes")
				in.Sizes[planner.Unit{Target: tg, Name: fmt.Sprintf(spell(i), i), Version: v}] = planner.Size{Bytes: bytes, Kind: kind}
			}
		}
		in.Sizes[planner.Unit{Target: tg, Name: "lib", Version: "0", Source: "path:lib"}] = planner.Size{Bytes: 30_000, Kind: planner.SizeMeasured}
	}
	fns := rapid.IntRange(1, 14).Draw(t, "functions")
	for i := range fns {
		f := planner.Function{
			Name:      fmt.Sprintf("fn%d", i),
			Target:    targets[rapid.IntRange(0, len(targets)-1).Draw(t, "target")],
			CodeBytes: rapid.Int64Range(0, 3_000_000).Draw(t, "code"),
		}
		for j := range names {
			if rapid.Float64Range(0, 1).Draw(t, "take") < 0.45 {
				v := rapid.SampledFrom([]string{"1", "1", "1", "2"}).Draw(t, "version")
				f.Closure = append(f.Closure, planner.Dist{Name: fmt.Sprintf(spell(j), j), Version: v})
			}
		}
		if rapid.Bool().Draw(t, "local") {
			f.Closure = append(f.Closure, planner.Dist{Name: "lib", Version: "0", Source: "path:lib", Local: true})
		}
		in.Functions = append(in.Functions, f)
	}
	in.Limits.LayersPerFunction = rapid.IntRange(0, 6).Draw(t, "layers")
	per := in.Limits.LayersPerFunction
	if per == 0 {
		per = planner.DefaultLayersPerFunction
	}
	in.Limits.ReservedLayers = rapid.IntRange(0, min(per, 3)).Draw(t, "reserved")
	if rapid.Bool().Draw(t, "tight") {
		in.Limits.FunctionUnzippedBytes = rapid.Int64Range(1_000_000, 300_000_000).Draw(t, "limit")
	}
	in.LocalWithCode = rapid.Bool().Draw(t, "localWithCode")
	in.Rules.Prefix = rapid.SampledFrom([]string{"", "app", "my-app_"}).Draw(t, "prefix")
	if rapid.Bool().Draw(t, "maxExtraSet") {
		x := rapid.Float64Range(0, 1).Draw(t, "maxExtra")
		in.Rules.MaxExtra = &x
	}
	perm := rapid.Permutation(rangeInts(names)).Draw(t, "groupOrder")
	for g := range rapid.IntRange(0, 2).Draw(t, "groups") {
		size := rapid.IntRange(0, len(perm)).Draw(t, "groupSize")
		grp := planner.Group{Name: fmt.Sprintf("g%d", g)}
		for _, j := range perm[:size] {
			grp.Packages = append(grp.Packages, fmt.Sprintf("PKG-%d", j))
		}
		perm = perm[size:]
		in.Rules.Groups = append(in.Rules.Groups, grp)
	}
	for i := range fns {
		if rapid.Float64Range(0, 1).Draw(t, "image") < 0.1 {
			in.Rules.Images = append(in.Rules.Images, fmt.Sprintf("fn%d", i))
		}
	}
	return in
}

func rangeInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// shuffled returns the input with every slice in another order.
func shuffled(in planner.Input, seed uint64) planner.Input {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := in
	out.Functions = slices.Clone(in.Functions)
	rng.Shuffle(len(out.Functions), func(i, j int) { out.Functions[i], out.Functions[j] = out.Functions[j], out.Functions[i] })
	for i := range out.Functions {
		c := slices.Clone(out.Functions[i].Closure)
		rng.Shuffle(len(c), func(a, b int) { c[a], c[b] = c[b], c[a] })
		out.Functions[i].Closure = c
	}
	out.Rules.Groups = slices.Clone(in.Rules.Groups)
	for i := range out.Rules.Groups {
		p := slices.Clone(out.Rules.Groups[i].Packages)
		rng.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		out.Rules.Groups[i].Packages = p
	}
	rng.Shuffle(len(out.Rules.Groups), func(a, b int) { out.Rules.Groups[a], out.Rules.Groups[b] = out.Rules.Groups[b], out.Rules.Groups[a] })
	out.Rules.Images = slices.Clone(in.Rules.Images)
	rng.Shuffle(len(out.Rules.Images), func(a, b int) { out.Rules.Images[a], out.Rules.Images[b] = out.Rules.Images[b], out.Rules.Images[a] })
	return out
}

func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		p, err := planner.Split(in)
		if err != nil {
			t.Fatalf("Split: %v", err)
		}
		checkInvariants(t, in, p)
		want, _ := json.Marshal(p)
		q, err := planner.Split(shuffled(in, rapid.Uint64().Draw(t, "seed")))
		if err != nil {
			t.Fatalf("Split shuffled: %v", err)
		}
		if got, _ := json.Marshal(q); !bytes.Equal(got, want) {
			t.Fatalf("the plan depends on the input order:\n%s\n%s", want, got)
		}
	})
}

// fataler is what checkInvariants needs from *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkInvariants checks every guarantee of a plan against its input.
func checkInvariants(t fataler, in planner.Input, p *planner.Plan) {
	t.Helper()
	limits := p.Limits
	budget := limits.LayersPerFunction - limits.ReservedLayers
	forced := map[string]bool{}
	for _, n := range in.Rules.Images {
		forced[n] = true
	}
	groupOf := map[string]string{}
	for _, g := range in.Rules.Groups {
		for _, n := range g.Packages {
			groupOf[planner.NormalizeName(n)] = g.Name
		}
	}
	size := func(tg planner.Target, r planner.PackageRef) (int64, bool) {
		for u, s := range in.Sizes {
			if u.Target == tg && planner.NormalizeName(u.Name) == r.Name && u.Version == r.Version && u.Source == r.Source && s.Kind != planner.SizeUnknown {
				return s.Bytes, true
			}
		}
		return 0, false
	}
	inputs := map[string]planner.Function{}
	for _, f := range in.Functions {
		inputs[f.Name] = f
	}
	planned := 0
	for ti, tp := range p.Targets {
		if ti > 0 {
			prev := p.Targets[ti-1].Target
			if prev.Runtime > tp.Target.Runtime || prev.Runtime == tp.Target.Runtime && prev.Architecture >= tp.Target.Architecture {
				t.Fatalf("targets out of order: %v, %v", prev, tp.Target)
			}
		}
		layers := map[string]planner.Layer{}
		users := map[string][]string{}
		for i, l := range tp.Layers {
			if i > 0 && tp.Layers[i-1].Name >= l.Name {
				t.Fatalf("layers out of order or duplicate: %s, %s", tp.Layers[i-1].Name, l.Name)
			}
			if !layerName.MatchString(l.Name) || !strings.HasPrefix(l.Name, in.Rules.Prefix) {
				t.Fatalf("bad layer name %q", l.Name)
			}
			if len(l.Packages) == 0 || len(l.Functions) == 0 {
				t.Fatalf("layer %s is empty or unused", l.Name)
			}
			var sum int64
			known := true
			for j, r := range l.Packages {
				if j > 0 && l.Packages[j-1].Name >= r.Name {
					t.Fatalf("layer %s holds two versions of %s or is unsorted", l.Name, r.Name)
				}
				n, ok := size(tp.Target, r)
				sum, known = sum+n, known && ok
			}
			if known != (l.UnzippedBytes != nil) || known && *l.UnzippedBytes != sum {
				t.Fatalf("layer %s: size %v, packages sum to %d (known %v)", l.Name, l.UnzippedBytes, sum, known)
			}
			layers[l.Name] = l
		}
		for _, fp := range tp.Functions {
			planned++
			f, ok := inputs[fp.Name]
			if !ok || f.Target != tp.Target {
				t.Fatalf("unknown function %s in %v", fp.Name, tp.Target)
			}
			closure := map[string]planner.PackageRef{}
			var knownClosure int64
			for _, d := range f.Closure {
				r := planner.PackageRef{Name: planner.NormalizeName(d.Name), Version: d.Version, Source: d.Source}
				if _, dup := closure[r.Name]; !dup {
					n, _ := size(tp.Target, r)
					knownClosure += n
				}
				closure[r.Name] = r
			}
			if fp.PackageType == planner.PackageImage {
				if len(fp.Layers) != 0 || fp.Reason == "" {
					t.Fatalf("image %s: layers %v, reason %q", fp.Name, fp.Layers, fp.Reason)
				}
				switch {
				case forced[fp.Name]:
				case strings.HasPrefix(fp.Reason, "closure "):
					if knownClosure+f.CodeBytes <= limits.FunctionUnzippedBytes {
						t.Fatalf("%s is an image (%s) but its known sizes fit", fp.Name, fp.Reason)
					}
				case strings.HasPrefix(fp.Reason, "needs "):
					if budget > 0 {
						t.Fatalf("%s is an image (%s) with a budget of %d", fp.Name, fp.Reason, budget)
					}
				default:
					t.Fatalf("%s: unexpected reason %q", fp.Name, fp.Reason)
				}
				continue
			}
			if forced[fp.Name] {
				t.Fatalf("%s should be an image", fp.Name)
			}
			if len(fp.Layers) > budget {
				t.Fatalf("%s attaches %d layers, budget %d", fp.Name, len(fp.Layers), budget)
			}
			got := map[string]planner.PackageRef{}
			where := map[string][]string{}
			total := f.CodeBytes
			for _, ln := range fp.Layers {
				l, ok := layers[ln]
				if !ok {
					t.Fatalf("%s attaches unknown layer %s", fp.Name, ln)
				}
				users[ln] = append(users[ln], fp.Name)
				for _, r := range l.Packages {
					if prev, ok := got[r.Name]; ok && (prev.Version != r.Version || prev.Source != r.Source) {
						t.Fatalf("%s receives two versions of %s", fp.Name, r.Name)
					}
					if want, ok := closure[r.Name]; ok && (want.Version != r.Version || want.Source != r.Source) {
						t.Fatalf("%s receives %s==%s, it resolved %s", fp.Name, r.Name, r.Version, want.Version)
					}
					got[r.Name] = r
					where[r.Name] = append(where[r.Name], ln)
					n, _ := size(tp.Target, r)
					total += n
				}
			}
			for _, r := range fp.CodePackages {
				n, _ := size(tp.Target, r)
				total += n
			}
			for name, want := range closure {
				local := slices.ContainsFunc(f.Closure, func(d planner.Dist) bool { return planner.NormalizeName(d.Name) == name && d.Local })
				if local && in.LocalWithCode {
					if !slices.ContainsFunc(fp.CodePackages, func(r planner.PackageRef) bool { return r.Name == name }) {
						t.Fatalf("%s: local %s is neither in layers nor in code", fp.Name, name)
					}
					continue
				}
				if g, ok := got[name]; !ok || g.Version != want.Version {
					t.Fatalf("%s does not receive %s==%s", fp.Name, name, want.Version)
				}
			}
			if total > limits.FunctionUnzippedBytes {
				t.Fatalf("%s: %d known bytes exceed the %d limit", fp.Name, total, limits.FunctionUnzippedBytes)
			}
			// Each layer the function attaches holds all or none of its
			// members of a group (those it receives in layers).
			byGroup := map[string][]string{}
			for name := range closure {
				if g, ok := groupOf[name]; ok && len(where[name]) > 0 {
					byGroup[g] = append(byGroup[g], name)
				}
			}
			for g, members := range byGroup {
				for _, ln := range fp.Layers {
					n := 0
					for _, m := range members {
						if slices.Contains(where[m], ln) {
							n++
						}
					}
					if n != 0 && n != len(members) {
						t.Fatalf("%s attaches %s, which holds %d of its %d members of group %s", fp.Name, ln, n, len(members), g)
					}
				}
			}
		}
		for name, l := range layers {
			if !slices.Equal(l.Functions, users[name]) {
				t.Fatalf("layer %s lists %v, attached by %v", name, l.Functions, users[name])
			}
		}
	}
	if planned != len(in.Functions) {
		t.Fatalf("%d functions planned, %d given", planned, len(in.Functions))
	}
}

// TestPropertyPrevious plans a monorepo with the plan of another one (an
// edited copy of it, or an unrelated one) as Input.Previous: the
// invariants still hold, the order of the input still does not matter, and
// replanning an unchanged monorepo with its own plan gives the same plan.
func TestPropertyPrevious(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		p := checkFixedPoint(t, in)
		var other planner.Input
		if rapid.Bool().Draw(t, "unrelated") {
			other = genInput(t)
		} else {
			other = edited(t, in)
		}
		other.Previous = p
		r, err := planner.Split(other)
		if err != nil {
			t.Fatalf("Split with a previous plan: %v", err)
		}
		checkInvariants(t, other, r)
		want, _ := json.Marshal(r)
		s, err := planner.Split(shuffled(other, rapid.Uint64().Draw(t, "seed")))
		if err != nil {
			t.Fatalf("Split shuffled: %v", err)
		}
		if got, _ := json.Marshal(s); !bytes.Equal(got, want) {
			t.Fatalf("the plan depends on the input order:\n%s\n%s", want, got)
		}
	})
}

// edited returns a copy of in where one function gains or loses a package,
// or changes its version.
func edited(t *rapid.T, in planner.Input) planner.Input {
	in.Functions = slices.Clone(in.Functions)
	i := rapid.IntRange(0, len(in.Functions)-1).Draw(t, "editFn")
	f := in.Functions[i]
	c := slices.Clone(f.Closure)
	switch op := rapid.IntRange(0, 2).Draw(t, "edit"); {
	case op == 0 && len(c) > 0:
		c = slices.Delete(c, 0, 1)
	case op == 1 && len(c) > 0:
		if c[0].Version == "1" {
			c[0].Version = "2"
		} else {
			c[0].Version = "1"
		}
	default:
		n := fmt.Sprintf("pkg%d", rapid.IntRange(0, 11).Draw(t, "newPkg"))
		if !slices.ContainsFunc(c, func(d planner.Dist) bool { return planner.NormalizeName(d.Name) == n }) {
			c = append(c, planner.Dist{Name: n, Version: "1"})
		}
	}
	f.Closure = c
	in.Functions[i] = f
	return in
}

func layerNames(p *planner.Plan) []string {
	var out []string
	for _, tp := range p.Targets {
		for _, l := range tp.Layers {
			out = append(out, l.Name)
		}
		for _, f := range tp.Functions {
			out = append(out, f.Name+":"+strings.Join(f.Layers, ","))
		}
	}
	return out
}
