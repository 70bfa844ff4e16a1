# The program `layers verify` runs in the runtime image, with
# `python3 -I -B -X importtime importer.py SPEC`. It sets sys.path as the
# Lambda runtime does, then imports every module of SPEC in a forked child of
# its own (a failing, crashing or hanging import hides no other), and times a
# cold import of all of them in one more child, as a handler would import
# them: with the byte code the layers ship (-B: nothing new is written), and
# once more with that byte code ignored, so that every module of the
# function is compiled in memory as it is without byte code. It prints one JSON document on stdout; the Go side parses the
# `-X importtime` lines it carries. Standard library only, Python 3.8+.
import importlib
import json
import os
import signal
import sys
import traceback

TAIL_LINES = 8
SHIPPED = ("/opt/", "/var/task/")
NO_BYTECODE = "/nonexistent-layers-verify"


def set_path(paths):
    # Lambda puts its folders first and keeps the interpreter's own (the
    # standard library, then the runtime's site-packages) after them. -I
    # already dropped the script's folder and PYTHONPATH.
    rest = [p for p in sys.path if p not in paths]
    sys.path[:] = list(paths) + rest
    import site  # noqa: the site module is loaded at startup already

    for p in paths:
        if os.path.isdir(p):
            site.addsitedir(p)  # runs .pth files; p is on sys.path already


def own_frame(frame):
    # The import machinery's frames and this program's say nothing about
    # the module that failed.
    f = frame.filename
    return f == __file__ or f.startswith("<frozen importlib") or f.endswith("/importlib/__init__.py")


def failure(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not own_frame(f)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).rstrip("\n").split("\n")
    out = {
        "ok": False,
        "type": type(exc).__name__,
        "message": str(exc),
        "tail": "\n".join(text[-TAIL_LINES:]),
    }
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        out["missing"] = exc.name
    return out


def import_one(module, attr):
    try:
        m = importlib.import_module(module)
        if attr:
            fn = getattr(m, attr, None)
            if fn is None:
                return {"ok": False, "type": "AttributeError",
                        "message": "module %r has no attribute %r" % (module, attr),
                        "tail": "AttributeError: module %r has no attribute %r (the handler)" % (module, attr)}
            if not callable(fn):
                return {"ok": False, "type": "TypeError",
                        "message": "%s.%s is not callable" % (module, attr),
                        "tail": "TypeError: %s.%s is not callable (the handler)" % (module, attr)}
        return {"ok": True}
    except BaseException as e:  # SystemExit and KeyboardInterrupt too
        return failure(e)


def ignore_shipped_bytecode():
    # The import system asks cache_from_source where a module's pyc is; for
    # the function's files (layers in /opt, code in /var/task) it now names
    # a file that does not exist, so each such module is compiled from its
    # source, in memory (-B), as without byte code. The interpreter's own
    # byte code (the standard library's) is read as on Lambda: a
    # PYTHONPYCACHEPREFIX would hide it too, and charge the function for
    # compiling the standard library.
    import _frozen_importlib_external as external

    original = external.cache_from_source

    def cache_from_source(path, debug_override=None, *, optimization=None):
        if path.startswith(SHIPPED):
            return NO_BYTECODE + path + ".pyc"
        return original(path, debug_override, optimization=optimization)

    external.cache_from_source = cache_from_source


def import_all(modules, no_bytecode=False):
    if no_bytecode:
        ignore_shipped_bytecode()
    for m in modules:
        try:
            importlib.import_module(m["module"])
        except BaseException:
            pass
    return {"ok": True}


def in_child(n, timeout, work):
    """Runs work() in a forked child; returns its result and its stderr
    (the -X importtime lines of what it imported)."""
    errpath = "/tmp/layers-verify-%d-%d.err" % (os.getpid(), n)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            fd = os.open(errpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)  # what a module prints must not corrupt the JSON
            signal.alarm(timeout)
            res = work()
            signal.alarm(0)
            data = json.dumps(res).encode()
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    try:
        with open(errpath, encoding="utf-8", errors="replace") as f:
            err = f.read()
        os.unlink(errpath)
    except OSError:
        err = ""
    if chunks:
        try:
            return json.loads(b"".join(chunks)), err
        except ValueError:
            pass
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM:
            msg = "the import did not finish within %d s" % timeout
            return {"ok": False, "type": "Timeout", "message": msg, "tail": msg}, err
        msg = "the interpreter died with signal %d (%s)" % (sig, signal.Signals(sig).name)
    else:
        msg = "the interpreter exited with status %d" % os.WEXITSTATUS(status)
    tail = "\n".join(err.rstrip("\n").split("\n")[-TAIL_LINES:])
    return {"ok": False, "type": "Crash", "message": msg, "tail": (tail + "\n" + msg).strip()}, err


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    for k, v in spec.get("env", {}).items():
        os.environ[k] = v
    set_path(spec["paths"])
    timeout = int(spec.get("timeout", 120))
    runs = max(1, int(spec.get("runs", 2)))
    modules = spec["modules"]
    n = 0
    results = []
    for m in modules:
        timings = []
        res = None
        for run in range(runs):
            n += 1
            r, err = in_child(n, timeout, lambda: import_one(m["module"], m.get("attr")))
            if res is None:
                res = r
            if not r.get("ok"):
                break
            timings.append(err)
        res["module"] = m["module"]
        res["importtime"] = timings
        results.append(res)
    cold, cold_source = [], []
    ok = [m for m, r in zip(modules, results) if r.get("ok")]
    if ok:
        for run in range(runs):
            n += 1
            _, err = in_child(n, timeout, lambda: import_all(ok))
            cold.append(err)
        if spec.get("without_bytecode"):
            for run in range(runs):
                n += 1
                _, err = in_child(n, timeout, lambda: import_all(ok, no_bytecode=True))
                cold_source.append(err)
    out = {
        "python": sys.version.split()[0],
        "machine": os.uname().machine,
        "sys_path": sys.path,
        "results": results,
        "cold": cold,
        "cold_source": cold_source,
    }
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
