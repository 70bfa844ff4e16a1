# Compiles one installed unit's byte code in the build container, for
# `[prune] bytecode = "compile"`:
#
#   python3 -I compile.py DIR N PYTHON
#
# Every .py file under DIR gets __pycache__/NAME.cpython-3XY.pyc, an
# unchecked-hash pyc (PEP 552): Python loads it without looking at the
# source's timestamp, which the zip's fixed time would otherwise make stale,
# and without a stat of the source on Lambda's read-only /opt. The name
# recorded in each code object is the path relative to DIR, not DIR itself
# (/out/N depends on the unit's place in its batch), so the bytes depend on
# the source alone; the import system puts the real path back when it
# loads the pyc. A file that does not compile (Python 2 leftovers, templates
# shipped as .py) is skipped and counted, never fatal. Packages' own test
# suites (is_test_folder) are not compiled. The last line is
# "layers-compiled-unit: N COMPILED FAILED".
#
# Each unit is compiled by an interpreter of its own, started for it, so no
# state of another unit's compilation can reach its bytes. Exit status 4:
# the interpreter is not the runtime's Python, whose magic number the pycs
# must carry.
import importlib._bootstrap_external
import importlib.machinery
import importlib.util
import os
import sys
from concurrent.futures import ProcessPoolExecutor

MARKER = "layers-compiled-unit: "


def is_test_folder(rel):
    """A "tests" or "test" folder below a top-level package (numpy/tests,
    scipy/linalg/tests), as prune.Options.Tests defines it: a package's own
    test suite, which a function never imports. Its sources ship without
    byte code: compiling them would cost most of the work and bytes of the
    largest libraries (pandas: 22 of its 31 MB of byte code) for modules no
    cold start loads."""
    parts = rel.split(os.sep)
    return len(parts) >= 2 and parts[0].isidentifier() and parts[-1] in ("tests", "test")


def sources(root):
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and not x.endswith((".dist-info", ".egg-info"))
                         and not is_test_folder(os.path.normpath(os.path.join(rel, x))))
        for f in sorted(files):
            if f.endswith(".py"):
                out.append(os.path.join(d, f))
    return out


def compile_one(args):
    """Compiles one file as py_compile does (an unchecked-hash pyc whose
    code objects name the file relative to the unit), but writes the pyc
    through a buffered file: py_compile writes it through a raw one, which
    on a full file system writes part of it and says nothing, leaving a
    truncated pyc that fails to import on Lambda. Any error writing the pyc
    is the batch's failure, never the file's: the builder runs the batch
    again on disk when its folder in memory filled up."""
    root, path = args
    rel = os.path.relpath(path, root)
    try:
        loader = importlib.machinery.SourceFileLoader("<layers>", path)
        source = loader.get_data(path)
        code = loader.source_to_code(source, rel)
        data = importlib._bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(source), False)
    except Exception as e:  # SyntaxError and the like: the file ships without byte code
        msg = str(e).strip()
        return "%s: %s" % (rel, msg.splitlines()[-1] if msg else type(e).__name__)
    cfile = importlib.util.cache_from_source(path)
    os.makedirs(os.path.dirname(cfile), exist_ok=True)
    tmp = cfile + ".layers-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, cfile)
    return None


def main():
    root, n, want = sys.argv[1], sys.argv[2], sys.argv[3]
    have = "%d.%d" % sys.version_info[:2]
    if have != want:
        print("the build image's python3 is Python %s, the runtime's is Python %s: byte code it compiles would not load "
              "on the runtime (set [build] image to the runtime's build image, or [prune] bytecode = \"strip\")" % (have, want))
        sys.exit(4)
    files = sources(root)
    work = [(root, f) for f in files]
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(work) > 64:
        with ProcessPoolExecutor(workers) as pool:
            errors = list(pool.map(compile_one, work, chunksize=16))
    else:
        errors = [compile_one(w) for w in work]
    failed = [e for e in errors if e]
    for e in failed[:20]:
        print("layers: byte code not compiled: " + e)
    print("%s%s %d %d" % (MARKER, n, len(files) - len(failed), len(failed)), flush=True)


if __name__ == "__main__":
    main()
