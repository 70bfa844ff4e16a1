#!/usr/bin/env bash
# Compares a cold `layers build` (empty unit cache) of a 10-function
# monorepo with heavy sharing against what today's tools do: one container
# per function, pip installing that function's whole requirements file,
# then zipping it, one function after the other. Target: ratio <= 0.5.
#
#   bench/cold.sh
#   LAYERS_BENCH_IMAGE=... bench/cold.sh
#
# Both sides download from the package index with no pip cache. Behind a
# proxy that re-signs TLS set LAYERS_CA_BUNDLE (defaults to the host's bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh

repo="$work/repo"
mkdir -p "$repo"
printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\n' "$IMAGE" > "$repo/layers.toml"
shop10

start=$(ms)
"$work/layers" build --dir "$repo" > /dev/null 2> "$work/layers.log" || { cat "$work/layers.log"; exit 1; }
ours=$(( $(ms) - start ))
echo "layers build, cold: $ours ms ($(grep '^units:' "$work/layers.log" | cut -d';' -f1))"

tags="--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --only-binary=:all: --python-version 3.11 --implementation cp"
start=$(ms)
for dir in "$repo"/functions/*/; do
	name="$(basename "$dir")"
	cid=$(docker create -e PIP_CERT=/ca.crt -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$IMAGE" sh -c \
		"python3 -m pip install -q --root-user-action=ignore -r /req.txt --target /out $tags && cd /out && python3 -m zipfile -c /tmp/f.zip . ")
	docker cp -q "$LAYERS_CA_BUNDLE" "$cid:/ca.crt"
	docker cp -q "$dir/requirements.txt" "$cid:/req.txt"
	docker start -a "$cid" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; docker rm -f "$cid" > /dev/null; exit 1; }
	docker rm "$cid" > /dev/null
done
theirs=$(( $(ms) - start ))
echo "per-function pip, one container each: $theirs ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio: %.2f (target: <= 0.5)\n", a / b; exit !(a / b <= 0.5) }'
