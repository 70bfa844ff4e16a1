#!/usr/bin/env bash
# How far from optimal is the planner? Exports small generated monorepos
# (every synth shape, 20-60 functions) with the greedy plan's figures, then
# solves each exactly as an integer program (HiGHS through scipy) under
# the same constraints, and prints greedy against optimum (bench/milp.py
# says what the program models).
#
#   bench/milp.sh                                  # 20,40,60 functions, seeds 1-3, 60 s each
#   SIZES=20,30 SEEDS=2 TIME_LIMIT=120 bench/milp.sh
#
# HiGHS (highspy, with scipy for the sparse matrices) is a measurement
# tool, not a dependency of layers: it is installed with pip, from pip's
# configured index, into a virtualenv under the cache directory
# (MILP_VENV), created on first use. scipy.optimize.milp runs the same
# HiGHS but cannot start from a given plan, and without the greedy plan
# as its start HiGHS found no plan at all within a minute, even for 20
# functions.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES:-20,40,60}"
SEEDS="${SEEDS:-3}"
TIME_LIMIT="${TIME_LIMIT:-60}"
SLACK="${SLACK:-1.5}"
MILP_VENV="${MILP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/layers-bench/milp-venv}"

if ! "$MILP_VENV/bin/python" -c 'import highspy, scipy.sparse' 2>/dev/null; then
	python3 -m venv "$MILP_VENV"
	"$MILP_VENV/bin/pip" install --quiet highspy scipy numpy
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go test -count=1 -run '^TestExportInstances$' ./planner/ \
	-args -milp.out="$work/instances.json" -milp.sizes="$SIZES" -milp.seeds="$SEEDS" >/dev/null
"$MILP_VENV/bin/python" bench/milp.py "$work/instances.json" --time-limit "$TIME_LIMIT" --slack "$SLACK"
