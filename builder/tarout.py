# Streams a build container's output to its stdout as one tar, the shape
# of the engine's copy out of /out (every name under "out/"):
#
#   python3 -I tarout.py UNITS
#
# writes /out/0 .. /out/UNITS-1, each a unit's installed files. /out is in
# memory for uv's batches, so the files never touch the engine's disk; the
# builder extracts the stream as it arrives, through archive.ExtractTar,
# which trusts none of it. Python's tarfile, not tar(1): the build image
# always has the runtime's Python, not always tar. Entries are added in
# sorted order, symbolic links stay links, and a file that shares its inode
# with one added before becomes a hard link to it.
import sys
import tarfile


def main():
    units = int(sys.argv[1])
    out = sys.stdout.buffer
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=1 << 20) as tar:
        for n in range(units):
            tar.add("/out/%d" % n, arcname="out/%d" % n)
    out.flush()


main()
