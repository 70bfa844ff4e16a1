#!/usr/bin/env bash
# A cold `layers build` (empty unit cache, zips included) against uv
# installing the same distinct pins, cold, for the same target
# (`uv pip install --no-deps --target`, manylinux2014 x86_64, CPython 3.11),
# on the host: what the network and an installer allow. Two monorepos, each
# run twice: pins39 (4 functions, 39 distinct pins) and mono24 (24
# functions of real packages). Target (issue 15): ratio <= 2. Layers ship
# byte code, which uv's plain install does not write: a second ratio is
# against `uv pip install --compile-bytecode` of the same pins. A third
# build keeps only the uv binary layers installs in the build image (as a
# runner with the remote cache, or any machine after its first build,
# has it) and installs every package cold again.
#
#   bash bench/cold-vs-uv.sh
#   ONLY=pins39 bash bench/cold-vs-uv.sh
#   INSTALLERS="uv pip" bash bench/cold-vs-uv.sh   # also [build] installer = "pip"
#
# Needs the Docker engine and the build image (LAYERS_BENCH_IMAGE); uv comes
# from PyPI into a cached virtual environment. Behind a proxy that re-signs
# TLS, both sides trust LAYERS_CA_BUNDLE (defaults to the host's bundle).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

uv="$(uv_bin)"
declare -A ours
export SSL_CERT_FILE="${LAYERS_CA_BUNDLE:-${SSL_CERT_FILE:-}}"

# measure NAME GENERATOR: builds the monorepo twice with layers (once per
# installer in INSTALLERS, default uv) and installs its distinct pins
# twice with uv, each from empty caches (the uv binary layers puts in the
# build container included: it is fetched once per empty unit cache).
measure() {
	local name=$1 gen=$2 run start theirs installer
	repo="$work/$name"
	mkdir -p "$repo"
	"$gen"
	cat "$repo"/functions/*/requirements.txt | sort -u > "$work/$name-pins.txt"
	echo "$name: $(ls "$repo/functions" | wc -l) functions, $(wc -l < "$work/$name-pins.txt") distinct pins"
	for run in 1 2; do
		for installer in ${INSTALLERS:-uv}; do
			printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\ninstaller = "%s"\n' "$IMAGE" "$installer" > "$repo/layers.toml"
			rm -rf "$repo/.layers" "$work/cache"
			start=$(ms)
			LAYERS_CACHE="$work/cache" "$work/layers" build --dir "$repo" > /dev/null 2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
			ours[$installer]=$(( $(ms) - start ))
		done
		# The same build where only the uv binary is cached, as on a
		# runner with the remote cache or any machine after its first
		# build: every package is still installed cold.
		printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\ninstaller = "uv"\n' "$IMAGE" > "$repo/layers.toml"
		for unit in "$work/cache/units"/*/; do
			grep -q '"runtime": "tool"' "$unit/unit.json" || rm -rf "$unit"
		done
		rm -rf "$repo/.layers"
		start=$(ms)
		LAYERS_CACHE="$work/cache" "$work/layers" build --dir "$repo" > /dev/null 2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
		tool=$(( $(ms) - start ))
		grep -q '^units: [1-9][0-9]* built, 0 from cache' "$work/build.log" || { echo "the build with the uv tool cached reused units:"; tail -1 "$work/build.log"; exit 1; }
		rm -rf "$work/uv-cache" "$work/uv-out"
		start=$(ms)
		"$uv" pip install -q --no-deps --target "$work/uv-out" --cache-dir "$work/uv-cache" \
			--python-platform x86_64-manylinux2014 --python-version 3.11 -r "$work/$name-pins.txt"
		theirs=$(( $(ms) - start ))
		# The same install with byte code, as layers ships it (uv compiles
		# with a Python of the host).
		rm -rf "$work/uv-cache" "$work/uv-out"
		start=$(ms)
		"$uv" pip install -q --no-deps --target "$work/uv-out" --cache-dir "$work/uv-cache" --compile-bytecode \
			--python-platform x86_64-manylinux2014 --python-version 3.11 -r "$work/$name-pins.txt"
		compiled=$(( $(ms) - start ))
		for installer in ${INSTALLERS:-uv}; do
			awk -v r="$run" -v i="$installer" -v a="${ours[$installer]}" -v b="$theirs" -v c="$compiled" \
				'BEGIN { printf "  run %d: layers build (installer %s) %d ms; uv install %d ms: ratio %.1f (target <= 2); uv install --compile-bytecode %d ms: ratio %.1f\n", r, i, a, b, a / b, c, a / c }'
		done
		awk -v r="$run" -v a="$tool" -v b="$theirs" -v c="$compiled" \
			'BEGIN { printf "  run %d: layers build with only the uv tool cached %d ms: ratio %.1f to uv install, %.1f to uv install --compile-bytecode\n", r, a, a / b, a / c }'
	done
}

[ "${ONLY:-pins39}" = pins39 ] && measure pins39 pins39
[ "${ONLY:-mono24}" = mono24 ] && measure mono24 mono24
exit 0
