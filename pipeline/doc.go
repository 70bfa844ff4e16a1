// Package pipeline owns the order of the stages and what each command
// hands the user: resolve every function's closure, plan the layers, and
// (with later stages) build and publish them. The CLI calls one function
// here per command; the stages themselves live in resolver/, planner/ and
// builder/.
package pipeline
