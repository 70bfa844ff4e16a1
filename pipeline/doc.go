// Package pipeline owns the order of the stages that turn a repository's
// input files into layers, and what `layers plan`, `layers build` and
// `layers init` hand the user:
//
//	resolver  closures from the input files (pure)
//	builder   the pip resolver for unpinned inputs, then units in the build image
//	planner   the split into layers, on the units' sizes (pure)
//	builder   layer zips, and container images for functions that cannot fit
//	manifest  .layers/build.json, the plan file, and the build stamp (stamp)
//
// Plan stops after the planner and writes nothing. One buildRun carries
// a build's state from stage to stage; each stage reads what the earlier
// ones produced and never calls back into them.
//
// The commands after a build are not stages of this pipeline: they read
// what a build wrote (.layers/build.json and the zips) and live in their
// own packages, which the CLI calls directly: publish (and gc, outputs),
// verify, report, and the unit cache's ls and prune (builder/cache).
package pipeline
