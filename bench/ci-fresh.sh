#!/usr/bin/env bash
# What a fresh CI runner costs, with and without the remote cache, on a
# generated 24-function monorepo of real packages and on the demo
# (testdata/demo, x86_64 only: the stand-in build image is; its reports
# function ships as a container image, pushed to a local registry):
#
#   (a) cold: empty local cache, empty remote cache; then `layers publish`
#       stores the plan it published;
#   (b) a fresh runner (new checkout, empty local cache) with the remote
#       cache warm: containers started (target 0), wall time (target under
#       5 s plus transfer), bytes downloaded;
#   (c) a fresh runner after one function gains one package: containers
#       started (target: only the new package's), and the share of layer
#       bytes in layers the previous build did not have (target <= 1%).
#
#   bench/ci-fresh.sh
#   ONLY=mono bench/ci-fresh.sh     # or ONLY=demo
#   LAYERS_BENCH_IMAGE=... bench/ci-fresh.sh
#
# AWS is moto_server on 127.0.0.1 (S3 for the cache, Lambda and ECR for
# publish), and images go to Debian's docker-registry on 127.0.0.1.
# Containers are counted from the engine's own create events for layers'
# containers (label layers.build), so run it on an otherwise idle engine.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh

command -v moto_server > /dev/null || { echo "moto_server is needed: pip install 'moto[server]'"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto=$!
regport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$regport" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry=$!
trap 'kill $moto $registry 2> /dev/null; rm -rf "$work"' EXIT
export LAYERS_REGISTRY="127.0.0.1:$regport"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/moto-api/" > /dev/null && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
curl -sf -X PUT "$AWS_ENDPOINT_URL/layers-cache" > /dev/null
export LAYERS_CACHE_URL="s3://layers-cache/bench"

# containers FROM TO counts the layers containers created between two
# engine times (seconds since the epoch).
containers() {
	docker events --since "$1" --until "$2" --filter type=container --filter event=create \
		--filter label=layers.build --format '{{.ID}}' | wc -l
}

# run LABEL DIR: one `layers build` on its own local cache; prints its
# time, containers and the remote cache line.
run() {
	local label=$1 dir=$2 since start took until
	export LAYERS_CACHE="$work/cache-$label"
	since=$(date +%s)
	start=$(ms)
	"$work/layers" build --dir "$dir" > /dev/null 2> "$work/$label.log" || { cat "$work/$label.log"; exit 1; }
	took=$(( $(ms) - start ))
	sleep 1
	until=$(date +%s)
	echo "  ($label) $took ms, $(containers "$since" "$until") containers; $(grep '^units:' "$work/$label.log" | cut -d';' -f1)"
	grep '^remote cache' "$work/$label.log" | sed 's/^/      /' || true
	grep '^plan:\|^warning:' "$work/$label.log" | sed 's/^/      /' || true
}

# newbytes OLD NEW: the share of NEW's layer bytes in layers OLD lacks.
newbytes() {
	python3 - "$1/.layers/build.json" "$2/.layers/build.json" <<'PY'
import json, sys
old = {l["name"] for t in json.load(open(sys.argv[1]))["targets"] for l in t["layers"]}
layers = [l for t in json.load(open(sys.argv[2]))["targets"] for l in t["layers"]]
total = sum(l["unzipped_bytes"] for l in layers)
new = [l for l in layers if l["name"] not in old]
print(f"{100 * sum(l['unzipped_bytes'] for l in new) / total:.2f}% of {total / 1e6:.1f} MB in {len(new)} new layers of {len(layers)}")
PY
}

# story LABEL SRC EDIT: (a), publish, (b) and (c) on copies of SRC; EDIT is
# the function and requirement line (c) adds.
story() {
	local label=$1 src=$2 fn=$3 line=$4
	echo "== $label"
	cp -r "$src" "$work/$label-a"
	run "$label-a" "$work/$label-a"
	"$work/layers" publish --dir "$work/$label-a" > /dev/null 2> "$work/$label-publish.log" || { cat "$work/$label-publish.log"; exit 1; }
	grep '^plan:' "$work/$label-publish.log" | sed 's/^/      /'
	# A fresh runner's engine has none of the images the first one built.
	{ docker images --format '{{.Repository}}:{{.Tag}}' | grep '^layers/' || true; } | xargs -r docker rmi -f > /dev/null
	cp -r "$src" "$work/$label-b"
	run "$label-b" "$work/$label-b"
	grep '^container image' "$work/$label-b.log" | sed 's/^/      /' || true
	cp -r "$src" "$work/$label-c"
	echo "$line" >> "$work/$label-c/functions/$fn/requirements.txt"
	run "$label-c" "$work/$label-c"
	echo "  (c) new layers: $(newbytes "$work/$label-b" "$work/$label-c")"
}

# A 24-function monorepo of real packages: web, model, AWS and data stacks
# mixed as services mix them.
repo="$work/mono"
mkdir -p "$repo"
printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\n\n[layers]\nprefix = "bench"\n' "$IMAGE" > "$repo/layers.toml"
mono24

if [ "${ONLY:-mono}" = mono ]; then
	story mono "$repo" notify "tabulate==0.9.0"
fi

if [ "${ONLY:-demo}" = demo ]; then
	cp -r testdata/demo "$work/demo"
	sed -i 's/^architectures = .*/architectures = ["x86_64"]/' "$work/demo/layers.toml"
	printf '\n[build]\nimage = "%s"\n' "$IMAGE" >> "$work/demo/layers.toml"
	# The demo targets python3.12 and the stand-in has 3.11: byte code it
	# compiled would not load, so the copy ships none.
	printf '\n[prune]\nbytecode = "strip"\n' >> "$work/demo/layers.toml"
	sed -i "s|^repository = \"acme/functions\"\$|&\nbase = \"${LAYERS_BENCH_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm}\"|" "$work/demo/layers.toml"
	# legacy is the demo's pip-compiled function: it gains a package.
	story demo "$work/demo" legacy "tabulate==0.9.0"
fi

