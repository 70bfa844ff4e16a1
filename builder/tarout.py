# Streams a build container's output to its stdout as one tar, the shape
# of the engine's copy out of /out (every name under "out/"):
#
#   python3 -I tarout.py UNITS LOGDIR
#
# writes /out/0 .. /out/UNITS-1, each a unit's installed files, in order:
# unit N as soon as LOGDIR/N.done says it is built, so the host extracts
# the first units while the last ones still compile, then removes it,
# which frees what it held of the container's memory. LOGDIR/abort (a unit
# failed) ends it with status 1. /out is in memory for uv's batches, so
# the files never touch the engine's disk; the builder extracts the stream
# as it arrives, through archive.ExtractTar, which trusts none of it.
#
# Python's tarfile, not tar(1): the build image always has the runtime's
# Python, not always tar. Entries are added in sorted order, symbolic links
# stay links, and a file that shares its inode with one of the same unit
# added before becomes a hard link to it.
import os
import shutil
import sys
import tarfile
import time


def wait_for(done, abort):
    while not os.path.exists(done):
        if os.path.exists(abort):
            sys.exit(1)
        time.sleep(0.02)


def main():
    units, logdir = int(sys.argv[1]), sys.argv[2]
    abort = os.path.join(logdir, "abort")
    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=1 << 20) as tar:
        for n in range(units):
            wait_for(os.path.join(logdir, "%d.done" % n), abort)
            tar.add("/out/%d" % n, arcname="out/%d" % n)
            shutil.rmtree("/out/%d" % n)
            # Hard links only within a unit: the files just removed may
            # free inode numbers a later unit's files get.
            tar.inodes.clear()
    out.flush()


main()
