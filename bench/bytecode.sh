#!/usr/bin/env bash
# What shipping byte code ([prune] bytecode = "compile", the default) buys
# and costs, for the reference set on python3.11: one function per package
# (requests, boto3, pydantic, numpy, pandas, cryptography, PyYAML, orjson,
# each with its dependencies), built twice with empty unit caches, once
# with bytecode = "compile" and once with "strip" (what layers shipped
# before), and verified in the Lambda stand-in image after each build.
# Per function it prints the unzipped bytes and the byte code added, and
# the cold import of every module verify imports for the function, in a
# fresh `python3 -I -B` with the function's layers in /opt, in CPU time (the
# fastest of LAYERS_BENCH_RUNS runs, default 7; the wall-time ratio and
# verify's own two-run wall-time figures follow):
#
#   strip                  the strip build: no byte code, every import compiled
#   compile, pycs ignored  the compile build with the layers' byte code
#                          ignored, as verify's second figure ignores it:
#                          should match strip
#   compile                the compile build, as it ships
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

# cold.py runs in the Lambda stand-in, with a function's layers in /opt: it
# imports all of verify's modules of the function in a fresh `python3 -I
# -B` (nothing written), timed inside the interpreter, RUNS times with the
# layers' byte code and RUNS times with it ignored, alternating, and prints
# the fastest of each, in CPU time and in wall time. The table shows CPU
# time: importing is CPU-bound (compiling, unmarshalling, executing module
# bodies), and on a shared machine wall time mostly measures the other work.
RUNS="${LAYERS_BENCH_RUNS:-7}"
cat > "$work/cold.py" <<'PY'
import json, subprocess, sys
spec = json.load(open(sys.argv[1]))
# With IGNORE, the byte code under /opt is ignored as verify ignores it:
# cache_from_source names no file for it, so each module of the layers is
# compiled from source; the standard library's byte code is read either way.
code = """import sys, time
if %r:
    import _frozen_importlib_external as ext
    original = ext.cache_from_source
    def cache_from_source(path, debug_override=None, *, optimization=None):
        if path.startswith('/opt/'):
            return '/nonexistent' + path + '.pyc'
        return original(path, debug_override, optimization=optimization)
    ext.cache_from_source = cache_from_source
sys.path[:0] = ['/opt/python/lib/python3.11/site-packages', '/opt/python']
t, c = time.perf_counter(), time.process_time()
for m in %r:
    __import__(m)
print(time.process_time() - c, time.perf_counter() - t)
"""
best = {}
for _ in range(spec["runs"]):
    for mode, ignore in (("pyc", False), ("nopyc", True)):
        out = subprocess.run([sys.executable, "-I", "-B", "-c", code % (ignore, spec["modules"])],
                             capture_output=True, text=True, check=True).stdout
        cpu, wall = map(float, out.strip().splitlines()[-1].split())
        best[mode] = min(best.get(mode, cpu), cpu)
        best[mode + "_wall"] = min(best.get(mode + "_wall", wall), wall)
print(json.dumps(best))
PY

# coldimports MODE times every function of the build just made.
coldimports() {
	local mode=$1 dir cid
	python3 - "$work" "$mode" "$RUNS" <<'PY'
import json, os, sys, zipfile
work, mode, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
build = json.load(open("%s/build-%s.json" % (work, mode)))
verify = json.load(open("%s/verify-%s.json" % (work, mode)))
mods = {f["name"]: [m["module"] for m in f["modules"] if m["status"] == "ok" and not m.get("handler")] for f in verify["functions"]}
t = build["targets"][0]
zips = {l["name"]: l["file"] for l in t["layers"]}
for f in t["functions"]:
    d = "%s/cold-%s/%s" % (work, mode, f["name"])
    os.makedirs(d + "/opt", exist_ok=True)
    for l in f["layers"]:
        zipfile.ZipFile("%s/repo/%s" % (work, zips[l])).extractall(d + "/opt")
    json.dump({"modules": mods[f["name"]], "runs": runs}, open(d + "/spec.json", "w"))
PY
	for dir in "$work/cold-$mode"/*/; do
		cid=$(docker create --entrypoint python3 "$LAMBDA_IMAGE" /cold.py /spec.json)
		docker cp -q "$dir/opt" "$cid:/"
		docker cp -q "$dir/spec.json" "$cid:/spec.json"
		docker cp -q "$work/cold.py" "$cid:/cold.py"
		docker start -a "$cid" > "$dir/result.json" || { docker rm -f "$cid" > /dev/null; exit 1; }
		docker rm "$cid" > /dev/null
	done
}

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
	coldimports "$mode"
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def load(kind, mode):
    with open("%s/%s-%s.json" % (work, kind, mode)) as f:
        return json.load(f)
sizes = {m: {f["name"]: f for t in load("build", m)["targets"] for f in t["functions"]} for m in ("strip", "compile")}
verify = {m: {f["name"]: f for f in load("verify", m)["functions"]} for m in ("strip", "compile")}
def cold(mode, name):
    with open("%s/cold-%s/%s/result.json" % (work, mode, name)) as f:
        return json.load(f)
ms = lambda s: "%d ms" % round(s * 1000)
mib = lambda n: "%.1f MiB" % (n / 2**20)
print()
print("| function | unzipped, strip | unzipped, compile | byte code added | cold import (CPU), strip | compile, pycs ignored | compile | compile / strip | wall: compile / strip | verify (wall): with / without |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ok = True
for name in sorted(sizes["compile"]):
    s, c = sizes["strip"][name], sizes["compile"][name]
    added = c["unzipped_bytes"] - s["unzipped_bytes"]
    strip_s, ignored_s, compile_s = cold("strip", name)["pyc"], cold("compile", name)["nopyc"], cold("compile", name)["pyc"]
    ratio = compile_s / strip_s
    v = verify["compile"][name]
    vs = "%s / %s" % (ms(v["import_us"] / 1e6), ms(v["import_without_bytecode_us"] / 1e6)) if v.get("import_without_bytecode_us") else "-"
    wall = cold("compile", name)["pyc_wall"] / cold("strip", name)["pyc_wall"]
    print("| %s | %s | %s | %s (+%.0f%%) | %s | %s | %s | %.2f | %.2f | %s |" % (
        name, mib(s["unzipped_bytes"]), mib(c["unzipped_bytes"]), mib(added), 100 * added / s["unzipped_bytes"],
        ms(strip_s), ms(ignored_s), ms(compile_s), ratio, wall, vs))
    if name in ("boto3", "pandas") and ratio > 0.5:
        ok = False
ts = sum(f["unzipped_bytes"] for f in sizes["strip"].values())
tc = sum(f["unzipped_bytes"] for f in sizes["compile"].values())
print("\nall functions: %s without byte code, %s with it (+%.0f%%)" % (mib(ts), mib(tc), 100 * (tc - ts) / ts))
print("target: compile cold import (CPU) <= 0.5 x strip for boto3 and pandas: %s" % ("met" if ok else "NOT met"))
with open("/proc/loadavg") as f:
    print("load average while measuring: " + " ".join(f.read().split()[:3]))
sys.exit(0 if ok else 1)
PY
