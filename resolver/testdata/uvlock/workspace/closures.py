# Writes closures.json: for each case, the packages `uv export` lists for a
# member, with markers evaluated by Python's packaging for the Lambda target.
# Run from this folder: python3 closures.py > closures.json
import json, subprocess, sys

from packaging.requirements import Requirement
full = {"python3.10": "3.10.18", "python3.11": "3.11.13", "python3.12": "3.12.11"}
def env(rt, arch):
    v = full[rt]
    return {"python_version": rt[6:], "python_full_version": v, "implementation_version": v,
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "platform_machine": "x86_64" if arch == "x86_64" else "aarch64", "platform_system": "Linux",
            "sys_platform": "linux", "os_name": "posix", "platform_release": "", "platform_version": "", "extra": ""}
cases = [
    ("orders", [], [], "python3.12", "x86_64"),
    ("orders", ["fast"], ["dev"], "python3.12", "x86_64"),
    ("orders", [], [], "python3.10", "arm64"),
    ("reports", [], [], "python3.12", "x86_64"),
    ("reports", [], [], "python3.12", "arm64"),
    ("reports", [], [], "python3.11", "x86_64"),
    ("reports", [], [], "python3.10", "x86_64"),
    ("reports", [], ["lint"], "python3.12", "x86_64"),
    ("ingest", [], [], "python3.12", "x86_64"),
    ("ingest", [], [], "python3.10", "x86_64"),
    ("shared-utils", [], [], "python3.12", "x86_64"),
    ("shared-utils", ["http"], [], "python3.12", "arm64"),
]
out = []
for proj, extras, groups, rt, arch in cases:
    cmd = ["uv", "export", "--frozen", "-q", "--package", proj, "--format", "requirements-txt", "--no-hashes", "--no-default-groups"]
    for x in extras: cmd += ["--extra", x]
    for g in groups: cmd += ["--group", g]
    txt = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    e = env(rt, arch)
    pkgs = []
    for line in txt.splitlines():
        if not line or line.startswith("#") or line.startswith(" "): continue
        if line.startswith("-e "):
            p = line[3:].removeprefix("./")
            name = {"functions/orders": "orders", "functions/reports": "reports", "functions/ingest": "ingest", "libs/shared-utils": "shared-utils"}[p]
            pkgs.append(f"{name} @ {p}")  # the member too: it is a package, and uv sync installs it
            continue
        r = Requirement(line)
        if r.marker and not r.marker.evaluate(e): continue
        pkgs.append(f"{r.name}=={str(r.specifier)[2:]}")
    out.append({"project": proj, "extras": extras, "groups": groups, "runtime": rt, "arch": arch, "closure": sorted(pkgs)})
json.dump(out, sys.stdout, indent=1)
