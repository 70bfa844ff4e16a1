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

. bench/lib.sh
RUNS="${RUNS:-5}"

cp -r testdata/demo "$work/demo"
sed -i 's/^architectures = .*/architectures = ["x86_64"]/' "$work/demo/layers.toml"
printf '\n[build]\nimage = "%s"\n' "$IMAGE" >> "$work/demo/layers.toml"
# The demo targets python3.12 and the stand-in has 3.11: byte code it
# compiled would not load, so the copy ships none.
printf '\n[prune]\nbytecode = "strip"\n' >> "$work/demo/layers.toml"
# reports is a container image: its base is the stand-in Lambda image too.
sed -i "s|^repository = \"acme/functions\"\$|&\nbase = \"${LAYERS_BENCH_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm}\"|" "$work/demo/layers.toml"

start=$(ms)
"$work/layers" build --dir "$work/demo" > /dev/null 2> "$work/cold.log" || { cat "$work/cold.log"; exit 1; }
echo "cold build of the demo: $(( $(ms) - start )) ms ($(grep '^units:' "$work/cold.log"))"

rebuilds "$work/demo" "$RUNS" "the demo"
