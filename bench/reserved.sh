#!/usr/bin/env bash
# What room for Lambda extensions costs: builds the 24-function monorepo of
# real packages that bench/ci-fresh.sh uses, then the same units (from the
# unit cache) with [limits] reserved_layers = 0, 1 and 2, and prints for each
# the layer bytes stored (unzipped and zipped), the layers, and how many
# functions are left with no free slot: their deploy breaks on the first
# extension layer a team adds (Datadog, Powertools, Parameters and Secrets).
#
#   bash bench/reserved.sh
#
# Needs the Docker engine and the build image (LAYERS_BENCH_IMAGE, default
# the python3.11 stand-in); the planner's own figures on generated
# monorepos come from `go test -run xxx -bench Reserved ./planner/`.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

repo="$work/mono"
mkdir -p "$repo"
mono24

for reserved in 0 1 2; do
	printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\n\n[layers]\nprefix = "bench"\n\n[limits]\nreserved_layers = %d\n' \
		"$IMAGE" "$reserved" > "$repo/layers.toml"
	"$work/layers" build --dir "$repo" > /dev/null 2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
	python3 - "$repo/.layers/build.json" "$reserved" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
unzipped = zipped = layers = full = n = 0
for t in m["targets"]:
    for l in t["layers"]:
        layers += 1
        unzipped += l["unzipped_bytes"]
        zipped += l["zipped_bytes"]
    for f in t["functions"]:
        if f["package_type"] == "layers":
            n += 1
            full += len(f["layers"]) >= 5
print(f"reserved_layers = {sys.argv[2]}: {layers} layers, {unzipped / 2**20:.1f} MiB unzipped, "
      f"{zipped / 2**20:.1f} MiB zipped; {full} of {n} functions have no free slot")
PY
done
