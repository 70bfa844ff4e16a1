package planner

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Split plans the layers of every function in the input. It fails only on
// invalid input; a function that cannot be deployed with layers is reported
// as an image, never as an error.
func Split(in Input) (*Plan, error) {
	s, err := newSettings(in)
	if err != nil {
		return nil, err
	}
	byTarget := map[Target][]*Function{}
	seen := map[string]bool{}
	for i := range in.Functions {
		f := &in.Functions[i]
		if f.Name == "" {
			return nil, errors.New("planner: a function has no name")
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("planner: function %q appears twice", f.Name)
		}
		seen[f.Name] = true
		if f.CodeBytes < 0 {
			return nil, fmt.Errorf("planner: function %q: negative code size %d", f.Name, f.CodeBytes)
		}
		byTarget[f.Target] = append(byTarget[f.Target], f)
	}
	targets := make([]Target, 0, len(byTarget))
	for t := range byTarget {
		targets = append(targets, t)
	}
	slices.SortFunc(targets, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.Runtime, b.Runtime), cmp.Compare(a.Architecture, b.Architecture))
	})
	p := &Plan{Limits: s.limits, MaxExtra: s.maxExtra, Targets: make([]TargetPlan, 0, len(targets))}
	for _, t := range targets {
		tp, err := s.planTarget(t, byTarget[t])
		if err != nil {
			return nil, err
		}
		p.Targets = append(p.Targets, tp)
	}
	return p, nil
}

// settings are the validated, normalised parts of an Input shared by targets.
type settings struct {
	limits        Limits
	budget        int
	maxExtra      float64
	prefix        string
	groupOf       map[string]int // normalised package name -> index in groups
	groups        []string       // group names
	images        map[string]bool
	sizes         map[Unit]Size // normalised names
	localWithCode bool
	previous      *Plan
}

func newSettings(in Input) (*settings, error) {
	s := &settings{
		limits:        in.Limits,
		maxExtra:      DefaultMaxExtra,
		groupOf:       map[string]int{},
		images:        map[string]bool{},
		sizes:         make(map[Unit]Size, len(in.Sizes)),
		localWithCode: in.LocalWithCode,
		previous:      in.Previous,
	}
	if s.limits.LayersPerFunction == 0 {
		s.limits.LayersPerFunction = DefaultLayersPerFunction
	}
	if s.limits.FunctionUnzippedBytes == 0 {
		s.limits.FunctionUnzippedBytes = DefaultFunctionUnzippedBytes
	}
	if s.limits.LayersPerFunction < 0 || s.limits.ReservedLayers < 0 || s.limits.FunctionUnzippedBytes < 0 {
		return nil, fmt.Errorf("planner: negative limit in %+v", in.Limits)
	}
	if s.limits.ReservedLayers > s.limits.LayersPerFunction {
		return nil, fmt.Errorf("planner: %d reserved layers but only %d layers per function", s.limits.ReservedLayers, s.limits.LayersPerFunction)
	}
	s.budget = s.limits.LayersPerFunction - s.limits.ReservedLayers
	if in.Rules.MaxExtra != nil {
		s.maxExtra = *in.Rules.MaxExtra
		if math.IsNaN(s.maxExtra) || s.maxExtra < 0 || s.maxExtra > 1 {
			return nil, fmt.Errorf("planner: max_extra %v is outside [0, 1]", s.maxExtra)
		}
	}
	if len(in.Rules.Prefix) > MaxPrefixLength {
		return nil, fmt.Errorf("planner: layer name prefix %q is longer than %d characters", in.Rules.Prefix, MaxPrefixLength)
	}
	if !validName(in.Rules.Prefix) {
		return nil, fmt.Errorf("planner: layer name prefix %q may only hold letters, digits, '-' and '_'", in.Rules.Prefix)
	}
	s.prefix = in.Rules.Prefix
	if s.prefix != "" && !strings.HasSuffix(s.prefix, "-") && !strings.HasSuffix(s.prefix, "_") {
		s.prefix += "-"
	}
	// Sort groups by name so that indices, and therefore the plan, do not
	// depend on the order of the rules.
	groups := slices.Clone(in.Rules.Groups)
	slices.SortFunc(groups, func(a, b Group) int { return cmp.Compare(a.Name, b.Name) })
	for i, g := range groups {
		if g.Name == "" {
			return nil, errors.New("planner: a group has no name")
		}
		if i > 0 && groups[i-1].Name == g.Name {
			return nil, fmt.Errorf("planner: group %q is defined twice", g.Name)
		}
		s.groups = append(s.groups, g.Name)
		for _, p := range g.Packages {
			n := NormalizeName(p)
			if j, ok := s.groupOf[n]; ok && j != i {
				return nil, fmt.Errorf("planner: package %q is in groups %q and %q", p, s.groups[j], g.Name)
			}
			s.groupOf[n] = i
		}
	}
	for _, name := range in.Rules.Images {
		s.images[name] = true
	}
	for u, sz := range in.Sizes {
		if sz.Kind != SizeUnknown && sz.Bytes < 0 {
			return nil, fmt.Errorf("planner: negative size %d for %s==%s", sz.Bytes, u.Name, u.Version)
		}
		if sz.Kind > SizeMeasured {
			return nil, fmt.Errorf("planner: invalid size kind %d for %s==%s", sz.Kind, u.Name, u.Version)
		}
		u.Name = NormalizeName(u.Name)
		// Two spellings of one name: prefer the better-known size, then the
		// larger, so the result does not depend on map order.
		if old, ok := s.sizes[u]; ok && (old.Kind > sz.Kind || old.Kind == sz.Kind && old.Bytes >= sz.Bytes) {
			continue
		}
		s.sizes[u] = sz
	}
	return s, nil
}

// NormalizeName returns the PEP 503 normalised form of a distribution name:
// lower case, with each run of '-', '_' and '.' replaced by one '-'.
func NormalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			if i > 0 && (name[i-1] == '-' || name[i-1] == '_' || name[i-1] == '.') {
				continue
			}
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
