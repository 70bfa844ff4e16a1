#!/usr/bin/env bash
# Times a no-change rebuild of a small monorepo with `layers build`: one
# cold build fills a fresh unit cache, then RUNS rebuilds must each build no
# unit (so start no container) and finish well under a second.
#
#   bench/rebuild.sh            # uses the stand-in image .ci/docker.sh builds
#   LAYERS_BENCH_IMAGE=... RUNS=10 bench/rebuild.sh
#
# pip in the container must reach the package index: behind a proxy that
# re-signs TLS set LAYERS_CA_BUNDLE (defaults to the host's bundle here).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
RUNS="${RUNS:-5}"

repo="$work/repo"
mkdir -p "$repo"
cat > "$repo/layers.toml" <<TOML
runtime = "python3.11"
architectures = ["x86_64"]

[build]
image = "$IMAGE"
TOML
fn orders    six==1.16.0 requests==2.32.3 urllib3==2.2.3 idna==3.10 certifi==2024.8.30 charset-normalizer==3.4.0
fn payments  six==1.16.0 requests==2.32.3 urllib3==2.2.3 idna==3.10 certifi==2024.8.30 charset-normalizer==3.4.0 PyYAML==6.0.2
fn notify    six==1.16.0 PyYAML==6.0.2
fn reports   six==1.16.0 python-dateutil==2.9.0.post0
fn thumbs    idna==3.10 attrs==24.2.0

start=$(ms)
"$work/layers" build --dir "$repo" > /dev/null 2> "$work/cold.log" || { cat "$work/cold.log"; exit 1; }
echo "cold build: $(( $(ms) - start )) ms ($(grep '^units:' "$work/cold.log"))"

rebuilds "$repo" "$RUNS" "the monorepo"
