package planner

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// Layer names are prefix + hint + "-" + hash; these bound the last two so a
// name with the longest prefix still fits MaxLayerNameLength.
const (
	maxHintLength = 40
	hashLength    = 16
)

// layerOrigin says how a layer came to be, for Explain.
type layerOrigin struct {
	shared  bool    // built from a block of sharing classes
	classes int     // sharing classes merged into the block
	copied  []int32 // units copied in because most attachers needed them
	kept    bool    // reused unchanged from Input.Previous
}

// layerAcc collects a layer while functions choose theirs.
type layerAcc struct {
	units   []int32
	bytes   int64   // planning bytes
	fns     []int32 // indices into live, ascending
	origin  layerOrigin
	name    string
	seq     int  // creation order: a tie-breaker independent of input order
	dropped bool // no function attaches it any more; forgotten
}

// addLayer records that function f attaches a layer holding units; layers
// with the same content are one layer.
func (ts *targetState) addLayer(f int32, units []int32, o layerOrigin) {
	key := unitsKey(units)
	l := ts.layers[key]
	if l == nil {
		l = &layerAcc{units: units, bytes: ts.bytesOf(units), origin: o, seq: ts.seq}
		ts.seq++
		ts.layers[key] = l
		ts.all = append(ts.all, l)
		for _, u := range units {
			ts.layersOf[u] = append(ts.layersOf[u], l)
		}
	} else if o.shared && !l.origin.shared {
		o.kept = o.kept || l.origin.kept
		l.origin = o
	}
	if i, ok := slices.BinarySearch(l.fns, f); !ok {
		l.fns = slices.Insert(l.fns, i, f)
	}
	fs := ts.live[f]
	fs.layers = append(fs.layers, l)
}

func unitsKey(us []int32) string {
	b := make([]byte, 0, 4*len(us))
	for _, u := range us {
		b = binary.LittleEndian.AppendUint32(b, uint32(u))
	}
	return string(b)
}

// output names the layers and reports every function.
func (ts *targetState) output() TargetPlan {
	tp := TargetPlan{Target: ts.target, Layers: make([]Layer, 0, len(ts.all)), Functions: make([]FunctionPlan, 0, len(ts.fns))}
	previous := ts.previousNames()
	for _, l := range ts.all {
		l.name = ts.layerName(l, previous)
		tp.Layers = append(tp.Layers, ts.layer(l))
	}
	slices.SortFunc(tp.Layers, func(a, b Layer) int { return cmp.Compare(a.Name, b.Name) })
	for _, fs := range ts.fns {
		if fs.image != "" {
			tp.Functions = append(tp.Functions, ts.imagePlan(fs))
		} else {
			tp.Functions = append(tp.Functions, ts.layersPlan(fs))
		}
	}
	return tp
}

// layerName derives a layer's name from its target and content: the
// prefix, a readable hint (what the layer is for, see hint) and a hash of
// the target and the sorted packages. A layer of the previous plan with the
// same prefix and hash keeps its name, hint included: the hint may be
// chosen otherwise now (its functions' direct requirements changed, or an
// older layers chose it), and a new name would publish the same content
// again.
func (ts *targetState) layerName(l *layerAcc, previous map[string][]string) string {
	h := sha256.New()
	h.Write([]byte(ts.target.Runtime + "\x00" + ts.target.Architecture + "\x00"))
	for _, u := range l.units {
		un := &ts.units[u]
		h.Write([]byte(un.key.name + "\x00" + un.key.version + "\x00" + un.key.source + "\n"))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:hashLength]
	for _, name := range previous[sum] {
		if ts.hintOf(l, strings.TrimSuffix(strings.TrimPrefix(name, ts.prefix), "-"+sum)) {
			return name
		}
	}
	return ts.prefix + shortHint(ts.hint(l)) + "-" + sum
}

// shortHint makes a package or group name a layer name's hint.
func shortHint(s string) string {
	s = sanitize(s)
	if len(s) > maxHintLength {
		s = s[:maxHintLength]
	}
	return s
}

// hintOf reports whether hint names a package or a group of layer l: a
// previous name whose hint is not one of them was made with another prefix.
func (ts *targetState) hintOf(l *layerAcc, hint string) bool {
	for _, u := range l.units {
		un := &ts.units[u]
		if shortHint(un.key.name) == hint || un.group >= 0 && shortHint(ts.groups[un.group]) == hint {
			return true
		}
	}
	return false
}

// hint names what a layer is for, so that a person reading layer names
// (in the console, all they see) knows what is inside: the package most
// of its functions ask for directly (the largest of a tie), else its
// largest package. A package of a user group stands for its group, which
// counts as one package (asked for by the functions asking for a member,
// with all members' bytes). Further ties go to the name first in order.
// The largest package alone names badly: a large dependency (botocore) is
// rarely what anyone asked for, and the largest package asked for can be a
// small one riding along (python-dateutil next to boto3).
func (ts *targetState) hint(l *layerAcc) string {
	type candidate struct {
		name  string
		asked int   // functions of the layer asking for it directly
		bytes int64 // known bytes in the layer
	}
	var cands []candidate
	byGroup := map[int]int{} // group -> index in cands
	for _, u := range l.units {
		un := &ts.units[u]
		asked := 0
		for _, f := range l.fns {
			if _, ok := slices.BinarySearch(ts.live[f].direct, un.key.name); ok {
				asked++
			}
		}
		bytes := un.size.Bytes // a guess for an unknown size names no layer
		if un.size.Kind == SizeUnknown {
			bytes = 0
		}
		if un.group < 0 {
			cands = append(cands, candidate{un.key.name, asked, bytes})
			continue
		}
		i, ok := byGroup[un.group]
		if !ok {
			i = len(cands)
			byGroup[un.group] = i
			cands = append(cands, candidate{name: ts.groups[un.group]})
		}
		cands[i].asked = max(cands[i].asked, asked)
		cands[i].bytes += bytes
	}
	best := slices.MinFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(b.asked, a.asked), cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.name, b.name))
	})
	return best.name
}

// previousNames maps a hash to the names of the previous plan's layers of
// this target that end with it.
func (ts *targetState) previousNames() map[string][]string {
	out := map[string][]string{}
	if ts.previous == nil {
		return out
	}
	for _, tp := range ts.previous.Targets {
		if tp.Target != ts.target {
			continue
		}
		for _, l := range tp.Layers {
			if i := strings.LastIndexByte(l.Name, '-'); i >= 0 && len(l.Name)-i-1 == hashLength && strings.HasPrefix(l.Name, ts.prefix) {
				out[l.Name[i+1:]] = append(out[l.Name[i+1:]], l.Name)
			}
		}
	}
	return out
}

// sanitize replaces the characters a layer name may not hold by '-'.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !validName(string(c)) {
			b[i] = '-'
		}
	}
	return string(b)
}

func (ts *targetState) ref(u int32) PackageRef {
	un := &ts.units[u]
	return PackageRef{Name: un.key.name, Version: un.key.version, Source: un.key.source, Local: un.local}
}

func (ts *targetState) layer(l *layerAcc) Layer {
	size, known, est := ts.sum(l.units)
	out := Layer{
		Name:          l.name,
		Kind:          LayerFunction,
		Packages:      make([]PackageRef, len(l.units)),
		Functions:     make([]string, len(l.fns)),
		UnzippedBytes: ptrIf(size, known),
		Estimated:     est,
	}
	if l.origin.shared {
		out.Kind, out.Classes = LayerShared, l.origin.classes
	}
	out.Kept = l.origin.kept
	for i, u := range l.units {
		out.Packages[i] = ts.ref(u)
		if g := ts.units[u].group; g >= 0 && !slices.Contains(out.Groups, ts.groups[g]) {
			out.Groups = append(out.Groups, ts.groups[g])
		}
	}
	slices.Sort(out.Groups)
	for _, u := range l.origin.copied {
		// Later passes may have pruned a copy from the layer.
		if contains(l.units, u) {
			out.Copied = append(out.Copied, ts.units[u].key.name)
		}
	}
	for i, f := range l.fns {
		out.Functions[i] = ts.live[f].fn.Name
	}
	return out
}

// sum adds the sizes of units; known is false when one is unknown.
func (ts *targetState) sum(us []int32) (total int64, known, estimated bool) {
	known = true
	for _, u := range us {
		switch sz := ts.units[u].size; sz.Kind {
		case SizeUnknown:
			known = false
		case SizeEstimated:
			estimated = true
			total += sz.Bytes
		default:
			total += sz.Bytes
		}
	}
	return total, known, estimated
}

func ptrIf(v int64, ok bool) *int64 {
	if !ok {
		return nil
	}
	return &v
}

func (ts *targetState) layersPlan(fs *fnState) FunctionPlan {
	fp := FunctionPlan{
		Name:         fs.fn.Name,
		PackageType:  PackageLayers,
		Layers:       make([]string, len(fs.layers)),
		CodeBytes:    fs.fn.CodeBytes,
		NeededLayers: fs.classes,
	}
	var layers int64
	known, est := true, false
	for i, l := range fs.layers {
		fp.Layers[i] = l.name
		size, k, e := ts.sum(l.units)
		layers += size
		known, est = known && k, est || e
	}
	slices.Sort(fp.Layers)
	for _, u := range fs.code {
		fp.CodePackages = append(fp.CodePackages, ts.ref(u))
	}
	closure, cKnown, cEst := ts.sum(fs.units)
	fp.ClosureBytes = ptrIf(closure, cKnown)
	// Layers never hold less than the closure, so what they hold beyond it
	// (including a package delivered twice) is extra.
	fp.ExtraBytes = ptrIf(layers-closure, known)
	code, kKnown, kEst := ts.sum(fs.code)
	fp.UnzippedBytes = ptrIf(fs.fn.CodeBytes+code+layers, known && kKnown)
	fp.Estimated = est || cEst || kEst
	return fp
}

func (ts *targetState) imagePlan(fs *fnState) FunctionPlan {
	fp := FunctionPlan{
		Name:        fs.fn.Name,
		PackageType: PackageImage,
		Layers:      []string{},
		Reason:      fs.image,
		CodeBytes:   fs.fn.CodeBytes,
		Packages:    make([]PackageRef, len(fs.dists)),
	}
	var total int64
	known := true
	for i, d := range fs.dists {
		fp.Packages[i] = PackageRef(d)
		switch sz := ts.sizeOf(d); sz.Kind {
		case SizeUnknown:
			known = false
		case SizeEstimated:
			fp.Estimated = true
			total += sz.Bytes
		default:
			total += sz.Bytes
		}
	}
	fp.ClosureBytes = ptrIf(total, known)
	fp.UnzippedBytes = ptrIf(total+fs.fn.CodeBytes, known)
	return fp
}

// groupDigits formats a non-negative n with ',' between groups of three
// digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
