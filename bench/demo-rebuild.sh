#!/usr/bin/env bash
# Times a no-change rebuild of the demo monorepo (testdata/demo): one cold
# build fills a fresh unit cache, then RUNS rebuilds must each build no unit
# (so start no container) and finish under a second.
#
#   bench/demo-rebuild.sh
#   LAYERS_BENCH_IMAGE=... RUNS=10 bench/demo-rebuild.sh
#
# The stand-in build image is x86_64 only, so the copy builds for x86_64
# with it ([build] image). Behind a proxy that re-signs TLS set
# LAYERS_CA_BUNDLE (defaults to the host's bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${LAYERS_BENCH_IMAGE:-layers-standin/build-python3.11:bookworm}"
RUNS="${RUNS:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -z "${LAYERS_CA_BUNDLE:-}" ]; then
	for f in "${PIP_CERT:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
		if [ -n "$f" ] && [ -r "$f" ]; then export LAYERS_CA_BUNDLE="$f"; break; fi
	done
fi
export LAYERS_CACHE="$work/cache"
go build -o "$work/layers" ./cmd/layers

cp -r testdata/demo "$work/demo"
sed -i 's/^architectures = .*/architectures = ["x86_64"]/' "$work/demo/layers.toml"
printf '\n[build]\nimage = "%s"\n' "$IMAGE" >> "$work/demo/layers.toml"

ms() { date +%s%3N; }
start=$(ms)
"$work/layers" build --dir "$work/demo" > /dev/null 2> "$work/cold.log" || { cat "$work/cold.log"; exit 1; }
echo "cold build of the demo: $(( $(ms) - start )) ms ($(grep '^units:' "$work/cold.log"))"

worst=0
for i in $(seq "$RUNS"); do
	start=$(ms)
	"$work/layers" build --dir "$work/demo" > /dev/null 2> "$work/warm.log"
	took=$(( $(ms) - start ))
	[ "$took" -gt "$worst" ] && worst=$took
	summary="$(grep '^units:' "$work/warm.log")"
	case "$summary" in
	"units: 0 built,"*) ;;
	*) echo "rebuild $i built units (so started containers): $summary"; exit 1 ;;
	esac
	echo "no-change rebuild $i: $took ms, 0 units built, 0 containers"
done
echo "worst no-change rebuild of the demo: $worst ms (target: under 1000 ms)"
[ "$worst" -lt 1000 ]
