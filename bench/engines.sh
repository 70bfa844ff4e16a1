#!/usr/bin/env bash
# Two engines against one: a cold `layers build` (empty unit cache) of the
# 24-function monorepo (bench/lib.sh's mono24, 21 distinct pins) on the
# default engine alone, then spread over it and a second engine
# ([build.engines]), twice each, alternating, printing the wall-time ratio
# of each pair (two engines / one; below 1 is faster).
#
#   bench/engines.sh
#   LAYERS_DOCKER2_HOST=unix:///run/other.sock bench/engines.sh
#
# The second engine is the one .ci/docker2.sh starts (started here when it
# does not answer). On one machine both engines share its CPUs, network and
# disk, so the ratio says what the spreading costs or gains there, not what
# two machines would give. Both builds leave --jobs to layers: the CPUs of
# the one engine, or of both. The second engine loses its copy of the build
# image before each two-engine build, so the ratio includes copying it
# (docker save/load), as a first build on a new engine pays it;
# LAYERS_BENCH_KEEP_IMAGE=1 keeps it, to measure the builds alone.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh

HOST1="${DOCKER_HOST:-unix:///var/run/docker.sock}"
HOST2="${LAYERS_DOCKER2_HOST:-unix:///run/layers-docker2.sock}"
LAYERS_DOCKER2_HOST="$HOST2" bash .ci/docker2.sh
id="$(docker --host "$HOST1" image inspect --format '{{.Id}}' "$IMAGE")"

# build LABEL ENGINES: a cold build of a fresh mono24 whose [build] section
# ends with ENGINES; prints its wall time in ms and keeps its summary.
build() {
	local label=$1 engines=$2 repo="$work/repo-$1" start took
	rm -rf "$repo" "$LAYERS_CACHE"
	mkdir -p "$repo"
	printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\n%s' "$IMAGE" "$engines" > "$repo/layers.toml"
	mono24
	start=$(ms)
	"$work/layers" build --dir "$repo" > /dev/null 2> "$work/$label.log" || { cat "$work/$label.log" >&2; exit 1; }
	took=$(( $(ms) - start ))
	echo "$label: $took ms ($(grep '^units:' "$work/$label.log" | cut -d';' -f1))" >&2
	grep -h '^engines\|^engine \|copied from engine' "$work/$label.log" | sed 's/^/    /' >&2 || true
	(cd "$repo/.layers/dist" && sha256sum ./*.zip) > "$work/$label.sums"
	echo "$took"
}

for round in 1 2; do
	one=$(build "one-engine-$round" "")
	if [ "${LAYERS_BENCH_KEEP_IMAGE:-}" != 1 ]; then
		docker --host "$HOST2" image rm "$id" > /dev/null 2>&1 || true
	fi
	two=$(build "two-engines-$round" "$(printf 'engines = ["%s", "%s"]\n' "$HOST1" "$HOST2")")
	cmp -s "$work/one-engine-$round.sums" "$work/two-engines-$round.sums" || { echo "round $round: the zips differ" >&2; exit 1; }
	awk -v a="$two" -v b="$one" -v r="$round" 'BEGIN { printf "round %d: two engines %d ms, one engine %d ms, ratio %.2f (zips identical)\n", r, a, b, a / b }'
done
