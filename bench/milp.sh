#!/usr/bin/env bash
# How far from optimal is the planner? Exports small generated monorepos
# (every synth shape, 20-60 functions) with the greedy plan's figures, then
# bounds each one's optimum under the same constraints: a lower bound by
# column generation over layers (the LP over every possible layer and its
# users), a better plan by diving on that LP and a MILP over the layers it
# found (HiGHS). It prints greedy against the best plan and the bound,
# "optimal" where they meet (bench/milp.py says what it models and why
# the bound is valid).
#
#   bench/milp.sh                                  # 20,40,60 functions, seeds 1-3
#   SIZES=20,30 SEEDS=2 TIME_LIMIT=120 bench/milp.sh
#
# TIME_LIMIT is in seconds per instance, for column generation and again
# for the plan (about 2 * TIME_LIMIT per instance); PRICING_LIMIT bounds
# each exact pricing MILP. HiGHS runs on one thread.
#
# HiGHS (highspy) is a measurement tool, not a dependency of layers: it
# is installed with pip, from pip's configured index, into a virtualenv
# under the cache directory (MILP_VENV), created on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES:-20,40,60}"
SEEDS="${SEEDS:-3}"
TIME_LIMIT="${TIME_LIMIT:-60}"
PRICING_LIMIT="${PRICING_LIMIT:-15}"
MILP_VENV="${MILP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/layers-bench/milp-venv}"

if ! "$MILP_VENV/bin/python" -c 'import highspy, numpy' 2>/dev/null; then
	python3 -m venv "$MILP_VENV"
	"$MILP_VENV/bin/pip" install --quiet highspy numpy
fi

"$MILP_VENV/bin/python" bench/milp.py --self-test >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go test -count=1 -run '^TestExportInstances$' ./planner/ \
	-args -milp.out="$work/instances.json" -milp.sizes="$SIZES" -milp.seeds="$SEEDS" >/dev/null
"$MILP_VENV/bin/python" bench/milp.py "$work/instances.json" --time-limit "$TIME_LIMIT" --pricing-limit "$PRICING_LIMIT"
