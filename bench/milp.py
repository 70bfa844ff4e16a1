"""Bound the optimum of small generated monorepos and compare the greedy planner.

Reads the instances TestExportInstances (planner/milp_export_test.go)
writes. A plan must meet the planner's constraints:

  - every function's closure is delivered by the layers it attaches;
  - it attaches at most `budget` layers (5);
  - code plus the layers it attaches stay within the size limit;
  - extra bytes (received beyond the closure, a package received twice
    counting twice) at most 3 * max_extra * closure for every function,
    and over max_extra * closure for at most (n - 1) // 2 of them (the
    planner's quota: max_extra bounds the median function);
  - no function receives two versions of a name, nor a version other than
    the one it resolved.

It minimises the bytes stored (the sum of the layer sizes).

The model: a column is a layer attached by a set of functions, (S, G): S
a set of units (one version per name, none that a function of G resolved
to another version), G the functions attaching it. It costs size(S),
covers the units of S for every function of G, takes one of their slots
and adds size(S) to what each receives. The master problem picks columns
(lambda) so that every (function, unit of its closure) is covered, each
function uses at most `budget` columns, and the received-bytes rows
(extra quota, size limit) hold; "over" variables, one per function, carry
the quota. No slots, no big-M: a layer's cost is paid once and its users
are part of the column. Any plan is a solution with lambda in {0, 1}
(over_f = 1 for the functions beyond max_extra), so the LP over every
column is a lower bound on the optimum. It is stronger than the trivial
bound where copies are forced (the self-test: 24 MB where every unit once
is 21), but on the generated monorepos it has equalled the trivial bound
wherever it converged: a fractional plan delivers every closure within
five layers without a copy by mixing many layers, each at a fraction, and
lets max_extra absorb the merges. What copies the five-layer limit forces
is then decided by integrality alone (branch-and-price would be next).

Column generation solves the LP over all columns without listing them.
With the duals (mu of the coverage rows, beta of the budget rows, rho of
the received-bytes rows), a column's reduced cost is

    size(S) * (1 + sum_{f in G} rho_f) + sum_{f in G} beta_f
        - sum_{f in G} sum_{u in S and C_f} mu_{f,u}

Pricing first searches heuristically (alternately the best S for a G,
which is separable by unit, and the best G for an S, separable by
function), then exactly, as a small MILP (HiGHS): y_f, x_u binary,
w_{f,u} <= x_u, y_f for the coverage terms, v_f >= size(S) - M (1 - y_f)
for the rho terms. Lower bound: when exact pricing proves that no
column has a negative reduced cost, the LP value is a lower bound on
every plan. Before that, Lagrangian duality gives one anyway: any plan
has at most budget * functions columns (each layer has a user, each user
at most `budget` layers), so LP + budget * functions * (the least reduced
cost pricing can prove) is a lower bound too; the script keeps the best
of these and the trivial bound (every unit stored once).

The LP drops one constraint: at most one version of a name a function
does not resolve, across its layers (within a layer it holds). Dropping
constraints only lowers the LP, so the bound stays valid; the plans
below respect it.

Best plan: diving on the LP (fix the column it uses most to 1, price a
few rounds, repeat until integral), then a MILP (HiGHS) over the layers
the dive ended with, and again over those of the LP optimum, each layer
attachable by every function a column attached it to (z_{f,S} <=
lambda_S), with all constraints, the cross-layer version rule included,
started from the best plan so far: the greedy plan first, whose layers
are columns from the start, so it is never worse than the greedy plan.
It searches only generated layers: an upper bound on the optimum, checked
against every constraint (check) like the greedy plan; "optimal" when it
meets the lower bound (within 0.1%).

Status: "optimal", "lp" (the LP was solved: its value is the bound, but
no plan meets it), "limit" (column generation ran out of time; the bound
is the best of the Lagrangian bound and the trivial one). Time limits are
wall-clock, so a loaded machine finds less.

Sharing classes (units needed by exactly the same functions) are not
aggregated: the extra-bytes quotas can make splitting a class pay (half
of it in a layer one outsider attaches, half in another's, keeps both
within max_extra where the whole class would not), and units of a class
differ in which functions resolve another version of their name. Besides,
on these instances there are nearly as many classes as units.

    python3 bench/milp.py instances.json [--time-limit 60] [--pricing-limit 20]
    python3 bench/milp.py --self-test
"""

import argparse
import json
import sys
import time

import highspy
import numpy as np

INF = highspy.kHighsInf
EPS = 1e-6
VERBOSE = False


def new_highs(time_limit):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit))
    return h


class Instance:
    """One exported monorepo, sizes in megabytes (tame coefficients)."""

    def __init__(self, inst):
        mb = 1e6
        self.raw = inst
        self.size = [u["bytes"] / mb for u in inst["units"]]
        self.name = [u["name"] for u in inst["units"]]
        self.nu = len(self.size)
        fns = inst["fns"]
        self.nf = len(fns)
        self.budget = inst["budget"]
        self.closure = [set(fn["units"]) for fn in fns]
        self.cbytes = [sum(self.size[u] for u in c) for c in self.closure]
        self.allow = [inst["max_extra"] * cb for cb in self.cbytes]
        self.room = [(inst["size_limit"] - fn["code_bytes"]) / mb for fn in fns]
        self.quota = (self.nf - 1) // 2
        self.versions = {}
        for u, n in enumerate(self.name):
            self.versions.setdefault(n, []).append(u)
        # forbidden[f]: units of a name f resolved to another version.
        self.forbidden = []
        for c in self.closure:
            mine = {self.name[u] for u in c}
            self.forbidden.append({u for n in mine for u in self.versions[n] if u not in c})
        self.greedy = [frozenset(l) for l in inst["greedy_plan"]]
        self.greedy_users = [set() for _ in self.greedy]
        for f, fn in enumerate(fns):
            for l in fn["layers"]:
                self.greedy_users[l].add(f)

    def layer_size(self, s):
        return sum(self.size[u] for u in s)


class Master:
    """The restricted master LP: rows per (function, unit of its closure),
    per function (budget, extra, size limit), one quota row; columns are
    the quota's over_f and the (S, G) columns."""

    def __init__(self, ins):
        self.ins = ins
        self.h = new_highs(600)
        h = self.h
        nf = ins.nf
        # over_f: columns 0..nf-1.
        for f in range(nf):
            h.addVar(0.0, 1.0)
        self.cover = {}
        for f in range(nf):
            for u in sorted(ins.closure[f]):
                self.cover[(f, u)] = h.getNumRow()
                h.addRow(1.0, INF, 0, np.array([], dtype=np.int32), np.array([]))
        self.budget_row = []
        self.extra_row = []
        self.room_row = []
        for f in range(nf):
            self.budget_row.append(h.getNumRow())
            h.addRow(-INF, float(ins.budget), 0, np.array([], dtype=np.int32), np.array([]))
            self.extra_row.append(h.getNumRow())
            h.addRow(-INF, ins.cbytes[f] + ins.allow[f], 1, np.array([f], dtype=np.int32), np.array([-2 * ins.allow[f]]))
            self.room_row.append(h.getNumRow())
            h.addRow(-INF, ins.room[f], 0, np.array([], dtype=np.int32), np.array([]))
        self.quota_row = h.getNumRow()
        h.addRow(-INF, float(ins.quota), nf, np.arange(nf, dtype=np.int32), np.ones(nf))
        self.cols = []  # (S frozenset, G frozenset)
        self.seen = set()
        self.used = set()  # columns some LP solution along the way used
        self.supports = []  # the columns each LP solution used, in order

    def add(self, s, g):
        """Adds column (S, G) unless it is already there."""
        key = (s, g)
        if key in self.seen or not s or not g:
            return False
        self.seen.add(key)
        ins = self.ins
        c = ins.layer_size(s)
        idx, val = [], []
        for f in sorted(g):
            for u in s & ins.closure[f]:
                idx.append(self.cover[(f, u)])
                val.append(1.0)
            idx += [self.budget_row[f], self.extra_row[f], self.room_row[f]]
            val += [1.0, c, c]
        self.h.addCol(c, 0.0, INF, len(idx), np.array(idx, dtype=np.int32), np.array(val))
        self.cols.append(key)
        return True

    def solve(self):
        self.h.run()
        st = self.h.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP: {self.h.modelStatusToString(st)}")
        sol = self.h.getSolution()
        dual = sol.row_dual
        ins = self.ins
        support = [j for j, v in enumerate(sol.col_value[ins.nf:]) if v > 1e-7]
        self.supports.append(support)
        self.used.update(support)
        mu = [{u: max(0.0, dual[self.cover[(f, u)]]) for u in ins.closure[f]} for f in range(ins.nf)]
        beta = [max(0.0, -dual[self.budget_row[f]]) for f in range(ins.nf)]
        rho = [max(0.0, -dual[self.extra_row[f]]) + max(0.0, -dual[self.room_row[f]]) for f in range(ins.nf)]
        return self.h.getInfo().objective_function_value, mu, beta, rho


class Pricing:
    """Finds columns of negative reduced cost for given duals."""

    def __init__(self, ins, mu, beta, rho):
        self.ins, self.mu, self.beta, self.rho = ins, mu, beta, rho

    def value(self, s, g):
        """Minus the reduced cost of (S, G)."""
        ins = self.ins
        c = ins.layer_size(s)
        return sum(sum(self.mu[f][u] for u in s & ins.closure[f]) - self.beta[f] - c * self.rho[f] for f in g) - c

    def best_s(self, g):
        ins = self.ins
        banned = set().union(*(ins.forbidden[f] for f in g))
        r = 1.0 + sum(self.rho[f] for f in g)
        gain = {}
        for f in g:
            for u in ins.closure[f]:
                gain[u] = gain.get(u, 0.0) + self.mu[f][u]
        best = {}
        for u, v in gain.items():
            v -= ins.size[u] * r
            if v > EPS and u not in banned and v > best.get(ins.name[u], (0, -1.0))[1]:
                best[ins.name[u]] = (u, v)
        return frozenset(u for u, _ in best.values())

    def best_g(self, s):
        ins = self.ins
        c = ins.layer_size(s)
        g = []
        for f in range(ins.nf):
            if ins.forbidden[f] & s:
                continue
            v = sum(self.mu[f][u] for u in s & ins.closure[f]) - self.beta[f] - c * self.rho[f]
            if v > EPS:
                g.append(f)
        return frozenset(g)

    def heuristic(self, seeds):
        """Alternates best S and best G from each seed G; returns the
        columns found with a negative reduced cost."""
        found = {}
        for g in seeds:
            s = frozenset()
            for _ in range(20):
                s2 = self.best_s(g)
                if not s2:
                    break
                g2 = self.best_g(s2)
                if not g2 or (s2, g2) == (s, g):
                    s = s2
                    break
                s, g = s2, g2
            if s and g:
                v = self.value(s, g)
                if v > 1e-4:
                    found[(s, g)] = v
        return sorted(found, key=lambda k: -found[k])

    def exact(self, time_limit):
        """Solves pricing as a MILP. Returns the best column (or None) with
        its value and the proven upper bound on any column's value."""
        ins = self.ins
        h = new_highs(time_limit)
        h.setOptionValue("mip_rel_gap", 1e-6)
        big = min(sum(ins.size), max(ins.room))
        nf, nu = ins.nf, ins.nu
        # y_f: 0..nf-1, x_u: nf..nf+nu-1 (maximise: minimise the negation).
        for f in range(nf):
            h.addVar(0.0, 1.0)
            h.changeColCost(f, self.beta[f])
        for u in range(nu):
            h.addVar(0.0, 1.0)
            h.changeColCost(nf + u, ins.size[u])
        h.changeColsIntegrality(nf + nu, np.arange(nf + nu, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * (nf + nu)))
        for f in range(nf):
            for u in ins.closure[f]:
                if self.mu[f][u] <= EPS:
                    continue
                w = h.getNumCol()
                h.addVar(0.0, 1.0)
                h.changeColCost(w, -self.mu[f][u])
                h.addRow(-INF, 0.0, 2, np.array([w, nf + u], dtype=np.int32), np.array([1.0, -1.0]))
                h.addRow(-INF, 0.0, 2, np.array([w, f], dtype=np.int32), np.array([1.0, -1.0]))
            for u in ins.forbidden[f]:
                h.addRow(-INF, 1.0, 2, np.array([f, nf + u], dtype=np.int32), np.array([1.0, 1.0]))
            if self.rho[f] > EPS:
                # v_f >= size(S) - big (1 - y_f)
                v = h.getNumCol()
                h.addVar(0.0, INF)
                h.changeColCost(v, self.rho[f])
                idx = [v, f] + [nf + u for u in range(nu)]
                val = [1.0, -big] + [-ins.size[u] for u in range(nu)]
                h.addRow(-big, INF, len(idx), np.array(idx, dtype=np.int32), np.array(val))
        for us in ins.versions.values():
            if len(us) > 1:
                h.addRow(-INF, 1.0, len(us), np.array([nf + u for u in us], dtype=np.int32), np.ones(len(us)))
        h.run()
        info = h.getInfo()
        bound = -info.mip_dual_bound
        if info.primal_solution_status != 2:
            return None, 0.0, bound
        x = h.getSolution().col_value
        g = frozenset(f for f in range(nf) if x[f] > 0.5)
        s = frozenset(u for u in range(nu) if x[nf + u] > 0.5)
        # The best G for this S may drop functions the relaxed v terms kept.
        g = self.best_g(s) or g
        return (s, g), self.value(s, g), bound


def column_generation(ins, deadline, pricing_limit):
    """Returns the master (with its columns), the LP value and the best
    proven lower bound."""
    m = Master(ins)
    for f in range(ins.nf):
        m.add(frozenset(ins.closure[f]), frozenset([f]))
    for s, g in zip(ins.greedy, ins.greedy_users):
        m.add(s, frozenset(g))
    lower = 0.0
    kappa = ins.budget * ins.nf
    proven = False
    lp = 0.0
    while True:
        lp, mu, beta, rho = m.solve()
        p = Pricing(ins, mu, beta, rho)
        seeds = [frozenset([f]) for f in range(ins.nf)] + [g for _, g in m.cols[-200:]]
        cols = p.heuristic(seeds)
        if VERBOSE:
            print(f"  lp {lp:.2f} cols {len(m.cols)} heuristic {len(cols)} t {time.monotonic() - deadline:.0f}", file=sys.stderr)
        if cols:
            for s, g in cols[:300]:
                m.add(s, g)
            if time.monotonic() < deadline:
                continue
        left = deadline - time.monotonic()
        col, val, bound = p.exact(max(1.0, min(pricing_limit, left)))
        lower = max(lower, lp - kappa * max(0.0, bound))
        if VERBOSE:
            print(f"  exact: value {val:.4f} bound {bound:.4f} lower {lower:.2f}", file=sys.stderr)
        if bound <= 1e-4:
            proven = True
            lower = max(lower, lp)
            break
        if left <= 0:
            break
        if col is None or val <= 1e-4 or not m.add(*col):
            # Exact pricing ran out of time without a column: stop here.
            break
    return m, lp, lower, proven


def dive(m, ins, deadline, rounds=5):
    """Layers for a plan, by diving on the LP: fixes the column the LP uses
    most (every column it uses at 0.9 or more) to 1, prices a few rounds,
    and repeats until the LP is integral, infeasible or out of time.
    Returns the columns of the last LP solution: the layers of an integral
    LP, for the plan MILP to attach within the rules the LP leaves out
    (the quota, versions across layers)."""
    nf = ins.nf
    fixed = set()
    while time.monotonic() < deadline:
        try:
            for _ in range(rounds):
                _, mu, beta, rho = m.solve()
                p = Pricing(ins, mu, beta, rho)
                cols = p.heuristic([frozenset([f]) for f in range(nf)] + [m.cols[j][1] for j in m.supports[-1]])
                if not sum(m.add(s, g) for s, g in cols[:300]):
                    break
            m.solve()
        except RuntimeError:
            break
        x = m.h.getSolution().col_value[nf:]
        frac = [j for j, v in enumerate(x) if 1e-6 < v < 1 - 1e-6 and j not in fixed]
        if not frac:
            break
        pick = [j for j in frac if x[j] >= 0.9] or [max(frac, key=lambda j: (x[j], ins.layer_size(m.cols[j][0])))]
        for j in pick:
            m.h.changeColBounds(nf + j, 1.0, INF)
            fixed.add(j)
    return [m.cols[j] for j in m.supports[-1]]


def best_plan(ins, cols, start_plan, time_limit):
    """MILP over the layers of cols, each attachable by every function some
    column attached it to, started from start_plan (a list of (S, users)
    whose layers are among cols). Returns the best plan found, as such a
    list, and its stored megabytes."""
    users = {}
    for s, g in list(cols) + list(start_plan):
        users.setdefault(s, set()).update(g)
    layers = sorted(users, key=lambda s: (-ins.layer_size(s), sorted(s)))
    h = new_highs(time_limit)
    nf = ins.nf
    lam = []
    z = {}  # (f, layer index) -> column
    for i, s in enumerate(layers):
        lam.append(h.getNumCol())
        h.addVar(0.0, 1.0)
        h.changeColCost(lam[-1], ins.layer_size(s))
    over = []
    for f in range(nf):
        over.append(h.getNumCol())
        h.addVar(0.0, 1.0)
    for i, s in enumerate(layers):
        for f in sorted(users[s]):
            z[(f, i)] = h.getNumCol()
            h.addVar(0.0, 1.0)
            h.addRow(-INF, 0.0, 2, np.array([z[(f, i)], lam[i]], dtype=np.int32), np.array([1.0, -1.0]))
    n = h.getNumCol()
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n))
    mine = {f: [i for i in range(len(layers)) if (f, i) in z] for f in range(nf)}
    received = []  # (t, the z that deliver the version t stands for)
    for f in range(nf):
        ls = mine[f]
        for u in ins.closure[f]:
            idx = [z[(f, i)] for i in ls if u in layers[i]]
            h.addRow(1.0, INF, len(idx), np.array(idx, dtype=np.int32), np.ones(len(idx)))
        idx = [z[(f, i)] for i in ls]
        h.addRow(-INF, float(ins.budget), len(idx), np.array(idx, dtype=np.int32), np.ones(len(idx)))
        sz = [ins.layer_size(layers[i]) for i in ls]
        h.addRow(-INF, ins.cbytes[f] + ins.allow[f], len(idx) + 1, np.array(idx + [over[f]], dtype=np.int32), np.array(sz + [-2 * ins.allow[f]]))
        h.addRow(-INF, ins.room[f], len(idx), np.array(idx, dtype=np.int32), np.array(sz))
        # At most one version of a name f does not resolve, across layers.
        names = {ins.name[u] for u in ins.closure[f]}
        for name, us in ins.versions.items():
            if len(us) < 2 or name in names:
                continue
            holders = {v: [i for i in ls if v in layers[i]] for v in us}
            if sum(1 for v in us if holders[v]) < 2:
                continue
            t = []
            for v in us:
                if not holders[v]:
                    continue
                t.append(h.getNumCol())
                h.addVar(0.0, 1.0)
                received.append((t[-1], [z[(f, i)] for i in holders[v]]))
                for i in holders[v]:
                    h.addRow(-INF, 0.0, 2, np.array([z[(f, i)], t[-1]], dtype=np.int32), np.array([1.0, -1.0]))
            h.addRow(-INF, 1.0, len(t), np.array(t, dtype=np.int32), np.ones(len(t)))
    h.addRow(-INF, float(ins.quota), nf, np.array(over, dtype=np.int32), np.ones(nf))
    start = [0.0] * h.getNumCol()
    where = {s: i for i, s in enumerate(layers)}
    rec = [0.0] * nf
    for s, g in start_plan:
        i = where[s]
        start[lam[i]] = 1.0
        for f in g:
            start[z[(f, i)]] = 1.0
            rec[f] += ins.layer_size(s)
    for f in range(nf):
        if rec[f] - ins.cbytes[f] > ins.allow[f] + 1e-9:
            start[over[f]] = 1.0
    for t, zs in received:
        start[t] = max(start[i] for i in zs)
    sol = highspy.HighsSolution()
    sol.col_value = start
    sol.value_valid = True
    h.setSolution(sol)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return list(start_plan), sum(ins.layer_size(s) for s, _ in start_plan)
    x = h.getSolution().col_value
    plan = []
    for i, s in enumerate(layers):
        g = frozenset(f for f in users[s] if x[z[(f, i)]] > 0.5)
        if x[lam[i]] > 0.5 and g:
            plan.append((s, g))
    return plan, sum(ins.layer_size(s) for s, _ in plan)


def check(ins, plan):
    """Raises if plan breaks a constraint: the plan MILP's answer is
    checked, not trusted."""
    got = [[] for _ in range(ins.nf)]
    for s, g in plan:
        names = [ins.name[u] for u in s]
        assert len(names) == len(set(names)), "two versions in a layer"
        for f in g:
            got[f].append(s)
    over = 0
    for f in range(ins.nf):
        assert len(got[f]) <= ins.budget, f"function {f}: {len(got[f])} layers"
        units = set().union(*got[f]) if got[f] else set()
        assert ins.closure[f] <= units, f"function {f}: closure not delivered"
        assert not units & ins.forbidden[f], f"function {f}: another version"
        names = [ins.name[u] for u in units]
        assert len(names) == len(set(names)), f"function {f}: two versions"
        rec = sum(ins.layer_size(s) for s in got[f])
        assert rec <= ins.room[f] + 1e-6, f"function {f}: size limit"
        assert rec - ins.cbytes[f] <= 3 * ins.allow[f] + 1e-6, f"function {f}: extra bytes"
        over += rec - ins.cbytes[f] > ins.allow[f] + 1e-6
    assert over <= ins.quota, f"{over} functions over max_extra"


def bound(raw, time_limit, pricing_limit):
    """Bounds one exported instance's optimum. Returns the best plan's
    stored megabytes (never above the greedy plan's), the proven lower
    bound (never below every unit stored once), whether the LP was solved
    to optimality, and the number of columns generated."""
    t0 = time.monotonic()
    ins = Instance(raw)
    m, _, lower, proven = column_generation(ins, t0 + time_limit, pricing_limit)
    # Plans: the MILP over the layers diving on the LP ends with, then over
    # those of the LP optimum, each from the best plan so far (the greedy
    # plan first) and with the greedy plan's layers and the functions' own.
    # Over every column found the MILP is too large for HiGHS to improve
    # on the greedy plan within a minute.
    plan = list(zip(ins.greedy, map(frozenset, ins.greedy_users)))
    check(ins, plan)  # the greedy plan meets the constraints modelled
    base = m.cols[: ins.nf + len(ins.greedy)]
    support = [m.cols[j] for j in m.supports[-1]]
    dived = dive(m, ins, time.monotonic() + time_limit / 3)
    for cols in (dived, support):
        plan, best = best_plan(ins, cols + base, plan, time_limit / 3)
        if VERBOSE:
            print(f"  plan: {best:.2f}", file=sys.stderr)
    check(ins, plan)
    best = min(best, raw["greedy_stored"] / 1e6)
    return best, max(lower, raw["lower"] / 1e6), proven, len(m.cols)


def self_test():
    """A monorepo whose optimum is known: f needs packages of 1 to 6 MB,
    each also needed alone by one other function; no extra bytes allowed.
    Each other function attaches exactly its package, so f attaches four of
    those layers and copies the two smallest into its own: 21 + 3 MB. The
    bound must reach 24 (every package once is only 21); the plan search,
    a heuristic, must improve on the given plan (32 MB) and never beat 24
    (here it finds 27: diving fixes the LP's half of a copy of 1, 2 and 3
    MB, where the optimum copies 1 and 2 MB)."""
    mb = 1_000_000
    raw = {
        "shape": "self-test", "functions": 7, "seed": 0, "budget": 5, "size_limit": 262_144_000, "max_extra": 0.0,
        "units": [{"name": n, "version": "1", "bytes": (i + 1) * mb} for i, n in enumerate("abcdef")],
        "fns": [{"name": "f", "code_bytes": 0, "units": list(range(6)), "layers": [0, 1, 2, 3, 6]}]
        + [{"name": f"g{i}", "code_bytes": 0, "units": [i], "layers": [i]} for i in range(6)],
        "greedy_plan": [[i] for i in range(6)] + [[4, 5]],
        "greedy_stored": 32 * mb, "lower": 21 * mb,
    }
    best, lower, proven, _ = bound(raw, 30, 10)
    assert proven, "the LP was not solved"
    assert abs(lower - 24) < 1e-6, f"bound {lower} MB, want 24"
    assert 24 - 1e-6 <= best < 32, f"best plan {best} MB, want 24 to 32"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instances", nargs="?")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds of column generation, and again of the plan MILP, per instance")
    ap.add_argument("--pricing-limit", type=float, default=20.0, help="seconds per exact pricing MILP")
    ap.add_argument("--self-test", action="store_true", help="check the bound and the plan on a monorepo whose optimum is known")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        print("self-test: ok")
        return 0
    with open(args.instances) as f:
        instances = json.load(f)
    print("shape          fns seed units  cols   lower MB  greedy MB   best MB  bound MB  greedy/lower  greedy/best  greedy/bound  status   secs")
    gaps = {}
    for raw in instances:
        t0 = time.monotonic()
        best, lower, proven, ncols = bound(raw, args.time_limit, args.pricing_limit)
        secs = time.monotonic() - t0
        g, lo = raw["greedy_stored"] / 1e6, raw["lower"] / 1e6
        optimal = lower >= best * (1 - 1e-3)
        state = "optimal" if optimal else ("lp" if proven else "limit")
        print(f"{raw['shape']:<14} {raw['functions']:>3} {raw['seed']:>4} {len(raw['units']):>5} {ncols:>5} {lo:>10.1f} {g:>10.1f} {best:>9.1f} {lower:>9.1f}"
              f" {g / lo:>13.3f} {g / best:>12.3f} {g / lower:>13.3f}  {state:<7} {secs:>5.0f}", flush=True)
        gaps.setdefault((raw["shape"], raw["functions"]), []).append((g / lo, g / best, g / lower, optimal))
    print()
    print("mean by shape and size: greedy/lower, greedy/best, greedy/bound (instances solved to optimality)")
    for (shape, n), rows in sorted(gaps.items()):
        k = len(rows)
        print(f"{shape:<14} {n:>3}  {sum(r[0] for r in rows) / k:.3f}  {sum(r[1] for r in rows) / k:.3f}  {sum(r[2] for r in rows) / k:.3f}  ({sum(r[3] for r in rows)}/{k})")


if __name__ == "__main__":
    sys.exit(main())
