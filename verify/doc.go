// Package verify owns `layers verify`: the proof that every function's
// layers work in the Lambda runtime, and what they cost at a cold start.
//
// For each function of the build manifest it checks, offline, that every
// Requires-Dist of the distributions the function needs is satisfied by
// what its layers deliver (as `pip check` would), then starts the runtime
// image with the layers extracted into /opt in order, sys.path set as the
// runtime sets it, and imports every top-level module of every
// distribution of the function's closure, plus the handler's module, each
// in a fresh forked interpreter, timing them with `python -X importtime`.
// The cold import of all of them is timed with the byte code the layers
// ship and again with it ignored, so the gain byte code brings shows.
// A function packaged as an image has its handler imported in its image.
//
// Results go to .layers/verify.json (ResultFile), which `layers report`
// draws. See Modules for which modules are imported, and classify for when
// a failed import is an optional dependency rather than a failure.
package verify
