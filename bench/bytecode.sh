#!/usr/bin/env bash
# What shipping byte code ([prune] bytecode = "compile", the default) buys
# and costs, for the reference set on python3.11: one function per package
# (requests, boto3, pydantic, numpy, pandas, cryptography, PyYAML, orjson,
# each with its dependencies), built twice with empty unit caches, once
# with bytecode = "compile" and once with "strip" (what layers shipped
# before), and verified in the Lambda stand-in image after each build.
# Per function it prints the unzipped bytes and the byte code added, and
# the cold import (verify's figure: every module of the function in one
# fresh `python -I -B` interpreter, the faster of two runs):
#
#   strip       the strip build: no byte code, every import compiled
#   no pyc      the compile build with its byte code ignored
#               (verify's second figure, sys.pycache_prefix at an empty
#               folder): should match "strip"
#   compile     the compile build, as it ships
#
# Target: compile <= 0.5 x strip for boto3 and pandas.
#
#   bench/bytecode.sh
#   LAYERS_BENCH_IMAGE=... LAYERS_BENCH_LAMBDA_IMAGE=... bench/bytecode.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh

LAMBDA_IMAGE="${LAYERS_BENCH_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm}"
repo="$work/repo"
fn() {
	mkdir -p "$repo/functions/$1"
	printf '%s\n' "${@:2}" | sort -u > "$repo/functions/$1/requirements.txt"
	echo "def handler(e, c): return 1" > "$repo/functions/$1/app.py"
}
fn requests requests==2.32.3 urllib3==2.2.3 idna==3.10 certifi==2024.8.30 charset-normalizer==3.4.0
fn boto3 boto3==1.35.54 botocore==1.35.54 s3transfer==0.10.3 jmespath==1.0.1 python-dateutil==2.9.0.post0 six==1.16.0 urllib3==2.2.3
fn pydantic pydantic==2.9.2 pydantic-core==2.23.4 annotated-types==0.7.0 typing-extensions==4.12.2
fn numpy numpy==2.1.3
fn pandas pandas==2.2.3 numpy==2.1.3 python-dateutil==2.9.0.post0 six==1.16.0 pytz==2024.2 tzdata==2024.2
fn cryptography cryptography==43.0.3 cffi==1.17.1 pycparser==2.22
fn pyyaml PyYAML==6.0.2
fn orjson orjson==3.10.11

for mode in strip compile; do
	printf 'runtime = "python3.11"\narchitectures = ["x86_64"]\n\n[build]\nimage = "%s"\n\n[verify]\nimage = "%s"\n\n[prune]\nbytecode = "%s"\n' \
		"$IMAGE" "$LAMBDA_IMAGE" "$mode" > "$repo/layers.toml"
	rm -rf "$repo/.layers" "$LAYERS_CACHE"
	start=$(ms)
	"$work/layers" build --dir "$repo" > /dev/null 2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
	echo "layers build, $mode, cold: $(( $(ms) - start )) ms ($(grep '^units:' "$work/build.log" | cut -d';' -f1))"
	grep -h 'not compiled' "$work/build.log" || true
	"$work/layers" verify --dir "$repo" --json > "$work/verify-$mode.json" 2> "$work/verify.log" || { cat "$work/verify.log"; exit 1; }
	cp "$repo/.layers/build.json" "$work/build-$mode.json"
done

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
def load(kind, mode):
    with open("%s/%s-%s.json" % (work, kind, mode)) as f:
        return json.load(f)
sizes = {m: {f["name"]: f for t in load("build", m)["targets"] for f in t["functions"]} for m in ("strip", "compile")}
times = {m: {f["name"]: f for f in load("verify", m)["functions"]} for m in ("strip", "compile")}
ms = lambda us: "%d ms" % round(us / 1000) if us is not None else "-"
mib = lambda n: "%.1f MiB" % (n / 2**20)
print()
print("%-13s %11s %11s %15s %9s %9s %9s %7s" % ("FUNCTION", "STRIP", "COMPILE", "BYTE CODE", "STRIP", "NO PYC", "COMPILE", "RATIO"))
print("%-13s %11s %11s %15s %9s %9s %9s %7s" % ("", "unzipped", "unzipped", "added", "cold", "cold", "cold", ""))
ok = True
for name in sorted(sizes["compile"]):
    s, c = sizes["strip"][name], sizes["compile"][name]
    added = c["unzipped_bytes"] - s["unzipped_bytes"]
    ts, tc = times["strip"][name], times["compile"][name]
    strip_us, compile_us = ts.get("import_us"), tc.get("import_us")
    ratio = compile_us / strip_us if strip_us and compile_us else None
    print("%-13s %11s %11s %15s %9s %9s %9s %7s" % (
        name, mib(s["unzipped_bytes"]), mib(c["unzipped_bytes"]),
        "%s (+%.0f%%)" % (mib(added), 100 * added / s["unzipped_bytes"]),
        ms(strip_us), ms(tc.get("import_without_bytecode_us")), ms(compile_us),
        "%.2f" % ratio if ratio else "-"))
    if name in ("boto3", "pandas") and not (ratio and ratio <= 0.5):
        ok = False
ts = sum(f["unzipped_bytes"] for f in sizes["strip"].values())
tc = sum(f["unzipped_bytes"] for f in sizes["compile"].values())
print("\nall functions: %s without byte code, %s with it (+%.0f%%)" % (mib(ts), mib(tc), 100 * (tc - ts) / ts))
print("target: compile cold import <= 0.5 x strip for boto3 and pandas: %s" % ("met" if ok else "NOT met"))
sys.exit(0 if ok else 1)
EOF
