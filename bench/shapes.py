"""Turns `go test -bench Shapes` output (planner/shapes_bench_test.go) into
the table of planner/BENCHMARKS.md.

    python3 bench/shapes.py after.txt [before.txt]

With two files, each row of the first is followed by the same row of the
second, labelled "before".
"""

import re
import sys

ORDER = ["services", "huge-stacks", "flat-overlap"]
LINE = re.compile(r"BenchmarkShapes/shape=(\S+)/functions=(\d+)-\d+\s+\d+\s+\d+ ns/op\s+(.*)")


def parse(path):
    rows = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                metrics = {k: float(v) for v, k in re.findall(r"([\d.]+) (\S+)", m.group(3))}
                rows[(m.group(1), int(m.group(2)))] = metrics
    return rows


def row(shape, n, label, v):
    return (f"{shape:<13} {n:>5}  {label:<6}  {v['stored/lower']:>5.2f}  {v['extra-p50-%']:>4.1f}% / {v['extra-p95-%']:>2.0f}%"
            f"  {v['churn-%']:>4.1f}% / {v['churn-p90-%']:>2.0f}% / {v['churn-worst-%']:>3.0f}%"
            f"  {v['prev-churn-%']:>4.2f}% / {v['prev-churn-p90-%']:>4.2f}% / {v['prev-churn-worst-%']:>4.1f}%"
            f"  {v['cpu-ms/plan']:>6.0f}  {v['MB-alloc/plan']:>5.0f}")


def main():
    runs = [("", parse(sys.argv[1]))]
    if len(sys.argv) > 2:
        runs = [("after", runs[0][1]), ("before", parse(sys.argv[2]))]
    print("shape         funcs          stored  extra          churn from scratch  churn with the hint   cpu    MB")
    print("                            /lower  p50 / p95      mean / p90 / worst  mean / p90 / worst    ms/plan alloc")
    keys = sorted({k for _, rows in runs for k in rows}, key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 9, k[1]))
    for shape, n in keys:
        for label, rows in runs:
            if (shape, n) in rows:
                print(row(shape, n, label, rows[(shape, n)]))


if __name__ == "__main__":
    main()
