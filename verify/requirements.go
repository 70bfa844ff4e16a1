package verify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/layers-dev/layers/internal/pep508"
)

// Problem kinds of the metadata check.
const (
	// ProblemMissing: a requirement names a distribution the function does
	// not receive.
	ProblemMissing = "missing"
	// ProblemConflict: the function receives the distribution at a version
	// outside the requirement's specifier.
	ProblemConflict = "conflict"
	// ProblemNotInstalled: the plan puts a distribution in the function's
	// layers, but its .dist-info is not there.
	ProblemNotInstalled = "not-installed"
	// ProblemInvalid: a Requires-Dist line does not parse.
	ProblemInvalid = "invalid"
)

// Problem is one unsatisfied requirement of a distribution a function
// receives, as `pip check` would report it.
type Problem struct {
	Kind         string `json:"kind"`
	Distribution string `json:"distribution"`
	Version      string `json:"version"`
	// Requirement is the Requires-Dist value at fault.
	Requirement string `json:"requirement,omitempty"`
	// Found is the version the function receives, for a conflict.
	Found string `json:"found,omitempty"`
}

func (p Problem) String() string {
	switch p.Kind {
	case ProblemMissing:
		return fmt.Sprintf("%s %s requires %s, which the function does not receive", p.Distribution, p.Version, p.Requirement)
	case ProblemConflict:
		return fmt.Sprintf("%s %s requires %s, but the function receives %s", p.Distribution, p.Version, p.Requirement, p.Found)
	case ProblemNotInstalled:
		return fmt.Sprintf("%s %s is in the plan, but no .dist-info of it is in the function's layers", p.Distribution, p.Version)
	}
	return fmt.Sprintf("%s %s: Requires-Dist %q does not parse", p.Distribution, p.Version, p.Requirement)
}

// CheckRequirements checks that every Requires-Dist of the distributions a
// function needs (needed, normalised names; with their dependencies, as far
// as they reach) is satisfied by the distributions it receives (received):
// the name present, the version in the specifier. Markers are evaluated in
// env, with the extras that the function's own distributions ask of each
// other in effect: extras asked for by the function's input file are not
// known here, so their requirements go unchecked. Names in provided (the
// [exclude] list: the runtime provides them) count as present.
func CheckRequirements(needed []string, received map[string]*Dist, env pep508.Env, provided map[string]bool) []Problem {
	var problems []Problem
	type edge struct {
		from *Dist
		req  pep508.Requirement
	}
	extras := map[string]map[string]bool{}
	inSet := map[string]bool{}
	var order []*Dist
	for _, n := range needed {
		d, ok := received[n]
		if !ok {
			if !provided[n] {
				problems = append(problems, Problem{Kind: ProblemNotInstalled, Distribution: n})
			}
			continue
		}
		if !inSet[n] {
			inSet[n] = true
			order = append(order, d)
		}
	}
	parsed := map[*Dist][]pep508.Requirement{}
	for _, d := range received {
		for _, s := range d.Requires {
			r, err := pep508.ParseRequirement(s)
			if err != nil {
				if inSet[d.Name] {
					problems = append(problems, Problem{Kind: ProblemInvalid, Distribution: d.Name, Version: d.Version, Requirement: s})
				}
				continue
			}
			parsed[d] = append(parsed[d], r)
		}
	}
	// Extras and reachable distributions grow together until neither
	// changes: an extra asked for can pull in more requirements.
	var edges []edge
	for changed := true; changed; {
		changed = false
		edges = edges[:0]
		for i := 0; i < len(order); i++ {
			d := order[i]
			e := env.WithExtras(keys(extras[d.Name])...)
			for _, r := range parsed[d] {
				if r.Marker != nil && !r.Marker.Evaluate(e) {
					continue
				}
				edges = append(edges, edge{d, r})
				to, ok := received[r.Name]
				if !ok {
					continue
				}
				if !inSet[to.Name] {
					inSet[to.Name] = true
					order = append(order, to)
					changed = true
				}
				for _, x := range r.Extras {
					if extras[to.Name] == nil {
						extras[to.Name] = map[string]bool{}
					}
					if !extras[to.Name][x] {
						extras[to.Name][x] = true
						changed = true
					}
				}
			}
		}
	}
	for _, ed := range edges {
		to, ok := received[ed.req.Name]
		switch {
		case !ok && provided[ed.req.Name]:
		case !ok:
			problems = append(problems, Problem{Kind: ProblemMissing, Distribution: ed.from.Name, Version: ed.from.Version, Requirement: requirementText(ed.req)})
		case ed.req.URL == "" && !ed.req.Specifier.Contains(to.Version):
			problems = append(problems, Problem{Kind: ProblemConflict, Distribution: ed.from.Name, Version: ed.from.Version,
				Requirement: requirementText(ed.req), Found: to.Version})
		}
	}
	sort.Slice(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if a.Distribution != b.Distribution {
			return a.Distribution < b.Distribution
		}
		return a.Requirement < b.Requirement
	})
	return problems
}

// requirementText is a requirement without its marker: the marker held,
// so it adds nothing to the message.
func requirementText(r pep508.Requirement) string {
	r.Marker = nil
	return strings.TrimSpace(r.String())
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
