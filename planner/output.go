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
	for _, l := range ts.all {
		l.name = ts.layerName(l.units)
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

// layerName derives a layer's name from its target and content only: the
// prefix, a readable hint (the first group, else the first package) and a
// hash of the target and the sorted packages.
func (ts *targetState) layerName(units []int32) string {
	h := sha256.New()
	h.Write([]byte(ts.target.Runtime + "\x00" + ts.target.Architecture + "\x00"))
	hint := ""
	for _, u := range units {
		un := &ts.units[u]
		h.Write([]byte(un.key.name + "\x00" + un.key.version + "\x00" + un.key.source + "\n"))
		if un.group >= 0 && (hint == "" || ts.groups[un.group] < hint) {
			hint = ts.groups[un.group]
		}
	}
	if hint == "" {
		hint = ts.units[units[0]].key.name
	}
	hint = sanitize(hint)
	if len(hint) > maxHintLength {
		hint = hint[:maxHintLength]
	}
	return ts.prefix + hint + "-" + hex.EncodeToString(h.Sum(nil))[:hashLength]
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
