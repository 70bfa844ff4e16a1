"""Solve small generated monorepos exactly and compare the greedy planner.

Reads the instances TestExportInstances (planner/milp_export_test.go)
writes and solves each as a mixed-integer program with HiGHS (highspy;
scipy builds the sparse matrix) under the planner's constraints:

  - every function's closure is delivered by the layers it attaches;
  - it attaches at most `budget` layers (5);
  - code plus the layers it attaches stay within the size limit;
  - extra bytes (received beyond the closure, a package received twice
    counting twice) at most 3 * max_extra * closure for every function,
    and over max_extra * closure for at most (n - 1) // 2 of them (the
    planner's quota: max_extra bounds the median function);
  - no function receives two versions of a name, nor a version other than
    the one it resolved.

It minimises the bytes stored (the sum of the layer sizes). Layers are
`slots` interchangeable sets of units: the greedy plan's layer count
times --slack (a plan with more layers than that is not searched; the
greedy plan, HiGHS's starting point, is always among them). Within the
time limit HiGHS returns its best plan and a proven lower bound on the
optimum (never below the bound that stores each unit once); the script
prints both, and "optimal" when they meet.

    python3 bench/milp.py instances.json [--time-limit 60] [--slack 1.5]
"""

import argparse
import json
import sys
import time

import highspy
import numpy as np
from scipy.sparse import coo_array


class Model:
    """Sparse rows of a MILP, built one variable block at a time."""

    def __init__(self):
        self.n = 0
        self.integral = []
        self.lb, self.ub, self.cost = [], [], []
        self.rows, self.cols, self.vals = [], [], []
        self.lo, self.hi = [], []

    def var(self, count, integral, lb=0.0, ub=1.0, cost=0.0):
        first = self.n
        self.n += count
        self.integral += [1 if integral else 0] * count
        self.lb += [lb] * count
        self.ub += [ub] * count
        self.cost += [cost] * count if np.isscalar(cost) else list(cost)
        return first

    def row(self, terms, lo=-np.inf, hi=np.inf):
        r = len(self.lo)
        for col, val in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.lo.append(lo)
        self.hi.append(hi)

    def solve(self, time_limit, start=None):
        """Solves with HiGHS from start (a value per variable), if given.
        Returns the best objective (None if no plan was found), HiGHS's
        proven lower bound, whether it is optimal, and whether start was
        accepted as a feasible plan."""
        a = coo_array((self.vals, (self.rows, self.cols)), shape=(len(self.lo), self.n)).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, len(self.lo)
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_, lp.col_upper_ = np.array(self.lb, dtype=float), np.array(self.ub, dtype=float)
        lp.row_lower_ = np.array(self.lo, dtype=float)
        lp.row_upper_ = np.array(self.hi, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in self.integral]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", 1e-4)
        h.setOptionValue("threads", 1)
        h.passModel(lp)
        accepted = False
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(start)
            sol.value_valid = True
            accepted = h.setSolution(sol) == highspy.HighsStatus.kOk
        h.run()
        info = h.getInfo()
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        best = info.objective_function_value if info.primal_solution_status == 2 else None
        return best, info.mip_dual_bound, optimal, accepted


def solve(inst, time_limit, slack):
    mb = 1e6  # bytes in megabytes keep the coefficients tame
    size = [u["bytes"] / mb for u in inst["units"]]
    fns = inst["fns"]
    nu, nf = len(size), len(fns)
    greedy = sorted(inst["greedy_plan"], key=lambda us: -sum(size[u] for u in us))
    order = sorted(range(len(inst["greedy_plan"])), key=lambda i: -sum(size[u] for u in inst["greedy_plan"][i]))
    slot_of = {old: new for new, old in enumerate(order)}
    slots = max(1, int(len(greedy) * slack + 0.5))
    budget, limit = inst["budget"], inst["size_limit"] / mb
    total = sum(size)
    m = Model()
    x = m.var(nu * slots, True)  # unit u in layer l: x + u*slots + l
    y = m.var(nf * slots, True)  # function f attaches layer l
    e = m.var(nf * slots, False, 0.0, total)  # bytes f receives from l
    over = m.var(nf, True)  # f receives more than max_extra allows
    start = [0.0] * m.n
    layer_bytes = [0.0] * slots
    for l, us in enumerate(greedy):
        for u in us:
            start[x + u * slots + l] = 1
            layer_bytes[l] += size[u]
    for u in range(nu):
        for l in range(slots):
            m.cost[x + u * slots + l] = size[u]
    # Layer sizes, non-increasing: breaks the symmetry of the slots.
    for l in range(slots - 1):
        m.row([(x + u * slots + l, size[u]) for u in range(nu)] + [(x + u * slots + l + 1, -size[u]) for u in range(nu)], lo=0)
    # A layer someone attaches fits the size limit: big-M is the limit.
    big = min(total, limit)
    for l in range(slots):
        m.row([(x + u * slots + l, size[u]) for u in range(nu)], hi=big)
    # Versions: a layer holds one version per name.
    names = {}
    for u, unit in enumerate(inst["units"]):
        names.setdefault(unit["name"], []).append(u)
    for us in names.values():
        if len(us) > 1:
            for l in range(slots):
                m.row([(x + u * slots + l, 1) for u in us], hi=1)
    quota = (nf - 1) // 2
    for f, fn in enumerate(fns):
        closure = set(fn["units"])
        cb = sum(size[u] for u in closure)
        allow = inst["max_extra"] * cb
        attached = sorted(slot_of[i] for i in fn["layers"])
        for l in attached:
            start[y + f * slots + l] = 1
            start[e + f * slots + l] = layer_bytes[l]
        if sum(layer_bytes[l] for l in attached) - cb > allow + 1e-9:
            start[over + f] = 1
        m.row([(y + f * slots + l, 1) for l in range(slots)], hi=budget)
        # e >= size of l when attached (0 >= size - big otherwise).
        for l in range(slots):
            m.row([(e + f * slots + l, 1), (y + f * slots + l, -big)] + [(x + u * slots + l, -size[u]) for u in range(nu)], lo=-big)
        received = [(e + f * slots + l, 1) for l in range(slots)]
        m.row(received + [(over + f, -2 * allow)], hi=cb + allow)
        m.row(received, hi=limit - fn["code_bytes"] / mb)
        # Coverage: c <= x, c <= y, sum over layers >= 1.
        c = m.var(len(closure) * slots, False)
        start += [0.0] * (len(closure) * slots)
        for i, u in enumerate(sorted(closure)):
            for l in range(slots):
                m.row([(c + i * slots + l, 1), (x + u * slots + l, -1)], hi=0)
                m.row([(c + i * slots + l, 1), (y + f * slots + l, -1)], hi=0)
                if l in attached and start[x + u * slots + l]:
                    start[c + i * slots + l] = 1
            m.row([(c + i * slots + l, 1) for l in range(slots)], lo=1)
        # Versions: no other version of a name it resolved, and at most one
        # version of a name it does not need.
        mine = {inst["units"][u]["name"] for u in closure}
        for name, us in names.items():
            if len(us) < 2:
                continue
            if name in mine:
                for u in us:
                    if u not in closure:
                        for l in range(slots):
                            m.row([(x + u * slots + l, 1), (y + f * slots + l, 1)], hi=1)
                continue
            g = m.var(len(us), False)
            start += [0.0] * len(us)
            for i, u in enumerate(us):
                for l in range(slots):
                    m.row([(g + i, 1), (x + u * slots + l, -1), (y + f * slots + l, -1)], lo=-1)
                    if l in attached and start[x + u * slots + l]:
                        start[g + i] = 1
            m.row([(g + i, 1) for i in range(len(us))], hi=1)
    m.row([(over + f, 1) for f in range(nf)], hi=quota)
    t0 = time.monotonic()
    best, bound, optimal, accepted = m.solve(time_limit, start)
    secs = time.monotonic() - t0
    return (best * mb if best is not None else None), bound * mb, optimal, accepted, secs, slots


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--slack", type=float, default=1.5)
    args = ap.parse_args()
    with open(args.instances) as f:
        instances = json.load(f)
    print("shape          fns seed  units slots  lower MB  greedy MB  best MB  bound MB  greedy/lower  greedy/best  greedy/bound  status  start  secs")
    gaps = {}
    for inst in instances:
        best, bound, optimal, accepted, secs, slots = solve(inst, args.time_limit, args.slack)
        g, lo = inst["greedy_stored"], inst["lower"]
        bound = max(bound, lo)  # every unit stored once is a bound too
        gb = g / best if best else float("nan")
        gd = g / bound
        optimal = optimal or bool(best) and bound >= best * (1 - 1e-4)  # the lower bound met
        state = "optimal" if optimal else "limit"
        print(f"{inst['shape']:<14} {inst['functions']:>3} {inst['seed']:>4} {len(inst['units']):>6} {slots:>5} {lo / 1e6:>9.1f} {g / 1e6:>10.1f} "
              f"{(best or 0) / 1e6:>8.1f} {(bound or 0) / 1e6:>9.1f} {g / lo:>13.3f} {gb:>12.3f} {gd:>13.3f}  {state:<7} {'ok' if accepted else 'no':<5} {secs:>5.0f}", flush=True)
        gaps.setdefault((inst["shape"], inst["functions"]), []).append((g / lo, gb, gd, optimal))
    print()
    print("mean by shape and size: greedy/lower, greedy/best, greedy/bound (solved to optimality)")
    for (shape, n), rows in sorted(gaps.items()):
        k = len(rows)
        print(f"{shape:<14} {n:>3}  {sum(r[0] for r in rows) / k:.3f}  {sum(r[1] for r in rows) / k:.3f}  {sum(r[2] for r in rows) / k:.3f}  ({sum(r[3] for r in rows)}/{k})")


if __name__ == "__main__":
    sys.exit(main())
