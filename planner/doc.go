// Package planner decides which Python distributions go into which AWS
// Lambda layers: the splitter. It is pure: it reads no file, network or
// clock, and depends on the standard library only. Its input is plain Go
// values ([Input]: functions with their resolved closures, a size for each
// distribution, limits, rules); its output is a [Plan]: the layers (content,
// functions, size), each function's layers or the reason it must be a
// container image.
//
// # What it optimises
//
// A unit is one distribution (name, version, source) built for one target
// (runtime, architecture). The planner minimises the bytes stored and
// uploaded (the sum of all layer sizes; the lower bound stores each unit
// once) while it bounds the extra bytes a function receives (bytes in its
// layers that are not in its closure) and keeps layers stable, so that a
// small change rebuilds and republishes little.
//
// # What it guarantees
//
// For every function deployed with layers: its layers hold its whole
// closure (local packages included, unless Input.LocalWithCode ships them
// with its code); it never receives two versions of a distribution, nor a
// version other than the one it resolved (it may receive the same package
// twice, from two layers: identical files, counted as extra bytes); it
// attaches at most layers_per_function - reserved_layers layers; its code
// plus its layers stay within function_unzipped_bytes, counting known sizes;
// the members of a user group it has sit in one of its layers. A function
// becomes an image only for a reason named with its numbers: package =
// "image", known sizes over the limit, or no layer available. Unknown sizes
// never make an image; a layer or function whose size depends on an unknown
// size reports a nil size. The plan is a function of the input's content,
// not its order: targets, layers, functions and packages are sorted and
// every tie is broken on names. A layer's name is prefix, a readable hint
// and 16 hex digits of a SHA-256 of its target and content, at most 140
// characters of [a-zA-Z0-9-_]. The hint says what is inside: the package
// most of the layer's functions ask for directly (Function.Direct), else
// its largest, a group standing for its members. A layer of
// Input.Previous with the same prefix and hash keeps its name.
//
// # The algorithm, per target
//
//  0. With Input.Previous (the plan published last), each function first
//     attaches again the previous layers it attached whose content is
//     still valid for it: every package still resolved by some function,
//     one version per name and none the function resolved to another
//     version, no group split, something it needs, within three times
//     MaxExtra and its size limit; the most shared first, keeping a slot
//     free for what they leave. A kept layer keeps its content, hence its
//     name. The steps below then plan only what the kept layers leave; step
//     4 never changes a kept layer, nor moves a function whose kept layers
//     hold its whole closure.
//  1. Functions forced to images or over the size limit are set apart; their
//     packages do not make layers. Members of a user group a function has
//     are tied into one atom; an atom holding two versions of a name is
//     copied into each of its functions' own layers instead.
//  2. Rounds, while functions have packages left and at least two free
//     slots. A sharing class is the set of packages still needed by exactly
//     the same functions: a class never gives anyone extra bytes, but
//     classes shatter when functions differ slightly (a function of 40
//     packages commonly spans 30 classes). The rounds do not merge classes:
//     each function attaches every class if they fit, else its largest
//     shared classes (all but two slots in the first round, one in later
//     rounds), or an existing layer that serves it at least as well, and
//     step 4 merges layers once every layer exists. Merging classes here,
//     greedily over the whole monorepo, spent the functions' MaxExtra on
//     merges chosen before any layer existed, and one function gaining one
//     package tipped which classes merged: on generated monorepos of 300
//     functions, the rounds without merges change half as many layer bytes
//     per change from scratch, and store about as much (BENCHMARKS.md).
//     A new layer also receives copies of packages most of
//     its functions still need, when the others can take them within
//     MaxExtra: small popular packages then ride along large shared layers
//     instead of being copied into every function's own layer. Widest
//     layers first; a function that also chose, this round, a class holding
//     such a package receives it twice, which counts towards three times
//     MaxExtra only (step 4 removes the copy from the other layer when all
//     its functions receive the package here): otherwise a single one of
//     hundreds of functions holding a popular package in another class
//     kept it out, and it was copied into dozens of smaller layers.
//  3. What no shared layer delivered goes into the function's own layer
//     (kind "function"). Functions whose leftovers are alike share one when
//     the stored bytes it saves outweigh the extra bytes it delivers.
//  4. Copies revisited, once every layer exists (the rounds choose before
//     later rounds create layers). Each function storing bytes alone
//     picks afresh, greedily, at most its budget of the layers others
//     attach that cover most of its closure, and copies only the rest into
//     its own layer, when that layer is smaller than what it stored alone.
//     A layer few functions attach (at most 16) is dissolved when its
//     functions, covered that way without it, copy fewer bytes than it
//     holds. A package stored in three layers or more is hoisted into one
//     layer the functions needing it attach anyway (most stored bytes
//     first), when the copies this lets other layers drop outweigh the
//     extra bytes it delivers divided by 16, and every function attaching
//     that layer can receive it: copies pile up in the function layers of
//     functions with no slot left, and a popular library otherwise sits in
//     a dozen of them. Function layers, and shared ones few functions
//     attach, merge pairwise when the stored bytes saved exceed a
//     sixteenth of the extra bytes delivered. A package is removed from a
//     layer when every function attaching it gets it from another of its
//     layers or does not need it; it is added to a layer (attached by at
//     most 64 functions)
//     when that lets two or more layers attached only by its functions drop
//     their copies. Merges, additions, removals and hoists never change a
//     layer by less than a twentieth of its size, so large layers keep
//     stable contents (a layer may then deliver a small package twice), and
//     cover looks only at layers found through packages held by at most 32
//     layers, which keeps this step close to linear. Reattaching and
//     dissolving run again after merges and additions. Last, a function
//     detaches the layers that deliver it nothing it needs and does not
//     receive from another of its layers (fattening may leave such a
//     layer), least shared first, so the plan replanned with itself as
//     Input.Previous stays the same. Each step checks the same invariants
//     as the rounds: whole closure, one version per name, whole groups,
//     size limit, layer budget.
//
// # Stability and the previous plan
//
// Planned from scratch, the plan is a greedy optimum of the whole
// monorepo: one function gaining one package puts 6 to 8% of the layer
// bytes into new layers on average (300 generated functions, every shape
// of BENCHMARKS.md), and 20 to 25% at the 90th percentile, when the change
// tips which small packages step 4 moves. Most of that churn is step 4's:
// each of its passes sees the whole monorepo. So the rounds do not merge
// classes, and step 4 never changes a large layer for a small package. A
// greedy optimum of discrete choices is still not stable under small
// changes; the previous plan is what keeps layers stable. Callers that keep the plan they published and
// pass it as Input.Previous get the layers of unchanged functions back
// unchanged. The functions that changed are planned afresh around their
// kept layers, so forty changes in a row store about as much as planning
// the final monorepo from scratch (TestPreviousDrift). Planning from
// scratch now and then (Previous nil) lets the plan follow a monorepo that
// changed a lot.
//
// # Figures
//
// The benchmark figures (time, memory, stored bytes over the lower bound,
// extra bytes, churn with and without the previous plan, the trade
// MaxExtra makes) are in BENCHMARKS.md beside this file, with the command
// that measures them. Most of the gap to the lower bound is the price of
// the five-layer limit: a function whose packages span more classes than
// it has slots receives copies of the rest in a layer of its own.
//
// # The knob: MaxExtra
//
// Rules.MaxExtra (max_extra in layers.toml) bounds the fraction of extra
// bytes, relative to its closure, functions receive in exchange for
// sharing. The rounds (steps 2 and 3) keep every function within it,
// except for packages fattening delivers twice, which only count towards
// three times MaxExtra. Step 4 lets a function receive up to three times
// as much when that spares copies, but only while fewer than half the
// functions are over MaxExtra: MaxExtra bounds the median function (on
// the generated monorepos; the twice-delivered packages are not counted
// against that half), three times MaxExtra every function (in planning
// bytes: unknown sizes count as
// UnknownSizeEstimate). Higher gives fewer, bigger shared layers and fewer
// copies; lower gives more, tighter layers and more copies. 0 stores what
// sharing classes and exact copies allow. The default, 0.10, is where the
// benchmarks on generated monorepos stop gaining (BenchmarkMaxExtra): above
// it, the median function receives more extra bytes for little or no
// saving in stored bytes.
//
// # Unknown sizes
//
// A distribution whose size is unknown is planned as UnknownSizeEstimate
// bytes (1 MiB, a typical pure-Python package) for grouping and for the
// limits on extra bytes; it is ignored when deciding whether a function fits
// the size limit, so an unknown size never makes an image.
//
// Synthetic monorepos for tests and benchmarks come from package
// [github.com/layers-dev/layers/planner/synth].
package planner
