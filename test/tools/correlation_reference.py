#!/usr/bin/env python3
"""Differential check of funnel_correlation against a Python reference
written from doc/correlation.md: the funnel walk of doc/window_funnel.md
(default mode) transcribed here, the drivers between entry and conversion
or drop-off counted here, PostHog's smoothed odds ratio computed with exact
fractions, and the p-value of Fisher's exact test taken from SciPy
(scipy.stats.fisher_exact, two-sided), an implementation independent of ours.

    correlation_reference.py SEED [CASES [parallel]]
    correlation_reference.py tables

Needs psql on PATH with PG* variables naming a database where the extension
can be created.  Prints "ok NAME" or "FAILED NAME: why" per comparison and
exits non-zero on a failure.
"""
import json
import random
import subprocess
import sys
from fractions import Fraction

from scipy.stats import fisher_exact

STEPS = ["visit", "cart", "buy"]
OTHER = ["help", "faq", "search", "promo", "chat", "it's", "café", "x\"y"]
CHANNELS = ["ads", "mail", "seo", "o'neil", None, None]


def walk(events, nsteps, window):
    """events: [(ts, steps)] with steps a set of step numbers (1-based).
    Returns (level, start, reached): the walk's level and, for that level,
    the start of the chain with which it was first reached and when."""
    entries = sorted((ts, k) for ts, steps in events for k in steps)
    held = [None] * nsteps        # (first_ts, last_ts) of the chain held by each step
    level = 0
    first = {}
    for ts, k in entries:
        i = k - 1
        if i == 0:
            held[0] = (ts, ts)
        elif held[i - 1] is not None:
            f, _ = held[i - 1]
            if ts <= f + window:
                held[i] = (f, ts)
        top = max((j + 1 for j in range(nsteps) if held[j] is not None), default=0)
        if top > level:
            level = top
            first[level] = (held[level - 1][0], ts)
        if level == nsteps:
            break
    if level == 0:
        return 0, None, None
    return level, first[level][0], first[level][1]


def reference(rows, steps, window, min_count):
    """rows: [(entity, ts, event or None, property or None)]."""
    by_entity = {}
    for r in rows:
        by_entity.setdefault(r[0], []).append(r)
    step_of = {}
    for k, name in enumerate(steps, 1):
        step_of.setdefault(name, set()).add(k)
    conv = {}
    fail = {}
    S = F = 0
    for ent, rs in by_entity.items():
        level, start, reached = walk([(ts, step_of.get(e, set())) for _, ts, e, _ in rs],
                                     len(steps), window)
        if level == 0:
            continue
        converted = level == len(steps)
        end = reached if converted else start + window
        seen = set()
        for _, ts, e, p in rs:
            if e is not None and e not in step_of and start < ts < end:
                seen.add(("event", e))
            if p is not None and start <= ts <= end:
                seen.add(("property", p))
        target = conv if converted else fail
        for d in seen:
            target[d] = target.get(d, 0) + 1
        if converted:
            S += 1
        else:
            F += 1
    threshold = min(25, 0.02 * (S + F)) if min_count is None else min_count
    drivers = {}
    if S == 0 or F == 0:
        return S, F, drivers
    for d in set(conv) | set(fail):
        s, f = conv.get(d, 0), fail.get(d, 0)
        if s + f < threshold:
            continue
        odds = Fraction((s + 1) * (F - f + 1), (S - s + 1) * (f + 1))
        p = fisher_exact([[s, f], [S - s, F - f]], alternative="two-sided")[1]
        drivers[d] = (s, f, float(odds), float(p))
    return S, F, drivers


def close(a, b, rel, absolute):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), absolute)


def sql_text(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                         input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout


def random_case(rng):
    nent = rng.choice([30, 100, 400, 3000])
    nsteps = rng.choice([2, 3])
    steps = STEPS[:nsteps] if nsteps == 3 else [STEPS[0], STEPS[2]]
    if rng.random() < 0.2:
        steps = [steps[0], steps[0]] + steps[1:]   # one name for two steps
    window = rng.choice([600, 3600, 86400]) * 10**6
    others = rng.sample(OTHER, rng.randint(1, len(OTHER)))
    # some events and channels go with converting, some against
    bias = {o: rng.uniform(0.2, 5) for o in others + CHANNELS[:4]}
    rows = []
    for ent in range(nent):
        t = rng.randint(0, 10**6) * 10**6
        ch = rng.choice(CHANNELS)
        p_go = 0.6 * (bias.get(ch, 1) if ch else 1)
        progress = 0
        for _ in range(rng.randint(1, 12)):
            t += rng.choice([0, 10**6, 60 * 10**6, 1800 * 10**6, rng.randint(0, 3 * 86400) * 10**6])
            r = rng.random()
            if r < 0.45:
                # mostly the funnel's next step, sometimes any step
                e = steps[min(progress, len(steps) - 1)] if rng.random() < 0.8 else rng.choice(steps)
                progress += 1
            elif r < 0.95:
                e = rng.choice(others)
                p_go *= bias[e] ** 0.3
            else:
                e = None
            if e is not None and e == steps[-1] and rng.random() > min(p_go, 1):
                e = rng.choice(others)
            rows.append((ent, t, e, ch if rng.random() < 0.7 else None))
    rng.shuffle(rows)
    min_count = rng.choice([None, None, 0, 1, 3, 10])
    return rows, steps, window, min_count


# 2x2 tables [[s, f], [S - s, F - f]] from tiny to large and lopsided, for
# p-values far into the tails
TABLES = [(1, 0, 1, 1), (0, 3, 2, 5), (5, 1, 6, 12), (30, 2, 40, 400), (250, 10, 1000, 4000),
          (0, 2000, 3000, 4000), (1500, 1500, 3000, 3000), (2, 2900, 50, 3000),
          (999, 1, 1000, 1000), (40, 700, 100, 9000)]


def tables():
    """The driver "x" seen by s of S converters and f of F non-converters."""
    failures = 0
    for s, f, S, F in TABLES:
        sql = f"""SELECT funnel_correlation('1 hour', '', u, ts, e, ARRAY['visit', 'buy'], 0, NULL) FROM (
            SELECT u, timestamptz '2024-01-01' AS ts, 'visit' AS e FROM generate_series(1, {S + F}) u
            UNION ALL SELECT u, timestamptz '2024-01-01 00:01', 'buy' FROM generate_series(1, {S}) u
            UNION ALL SELECT u, timestamptz '2024-01-01 00:00:30', 'x' FROM generate_series(1, {s}) u
            UNION ALL SELECT u, timestamptz '2024-01-01 00:00:30', 'x' FROM generate_series({S + 1}, {S + f}) u) t;"""
        ours = json.loads(psql(sql).strip())
        d = ours["drivers"][0]
        p = fisher_exact([[s, f], [S - s, F - f]], alternative="two-sided")[1]
        odds = float(Fraction((s + 1) * (F - f + 1), (S - s + 1) * (f + 1)))
        name = f"table [[{s}, {f}], [{S - s}, {F - f}]]"
        if ((d["converters"], d["non_converters"]) != (s, f) or not close(d["odds_ratio"], odds, 1e-12, 0)
                or not close(d["p_value"], p, 1e-6, 1e-300)):
            failures += 1
            print(f"FAILED {name}: ours {d}, expected odds ratio {odds}, SciPy p-value {p}")
        else:
            print(f"ok {name}: odds ratio {odds}, p-value {d['p_value']} (SciPy {p})")
    return failures


def main():
    if sys.argv[1] == "tables":
        sys.exit(1 if tables() else 0)
    seed = int(sys.argv[1])
    ncases = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    parallel = len(sys.argv) > 3 and sys.argv[3] == "parallel"
    rng = random.Random(seed)
    failures = 0
    for case in range(ncases):
        rows, steps, window, min_count = random_case(rng)
        name = f"seed {seed} case {case} ({len(rows)} rows, steps {steps}, window {window // 10**6} s, min_count {min_count})"
        table = f"corr_{seed}_{case}"
        lines = [f"DROP TABLE IF EXISTS {table};",
                 f"CREATE TABLE {table} (u int, ts bigint, e text, p text);",
                 f"COPY {table} FROM stdin;"]
        for u, ts, e, p in rows:
            esc = lambda v: "\\N" if v is None else v.replace("\\", "\\\\")
            lines.append(f"{u}\t{ts}\t{esc(e)}\t{esc(p)}")
        lines.append("\\.")
        lines.append(f"ALTER TABLE {table} ALTER ts TYPE timestamptz "
                     f"USING timestamptz '2000-01-01 00:00:00+00' + ts * interval '1 microsecond';")
        lines.append(f"ANALYZE {table};")
        if parallel:
            lines.append("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                         "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; "
                         "SET parallel_leader_participation = off;")
        steps_sql = "ARRAY[" + ", ".join(sql_text(s) for s in steps) + "]"
        mc = "NULL" if min_count is None else str(min_count)
        lines.append(f"SELECT funnel_correlation(make_interval(secs => {window // 10**6}), '', u, ts, e, "
                     f"{steps_sql}, {mc}, p) FROM {table};")
        lines.append(f"DROP TABLE {table};")
        ours = json.loads(psql("\n".join(lines) + "\n").strip())
        S, F, drivers = reference(rows, steps, window, min_count)
        why = []
        if (ours["converters"], ours["non_converters"]) != (S, F):
            why.append(f"converters/non-converters {ours['converters']}/{ours['non_converters']}, expected {S}/{F}")
        got = {(d["kind"], d["name"]): d for d in ours["drivers"]}
        if set(got) != set(drivers):
            why.append(f"drivers {sorted(got)}, expected {sorted(drivers)}")
        for d, (s, f, odds, p) in drivers.items():
            g = got.get(d)
            if g is None:
                continue
            if (g["converters"], g["non_converters"]) != (s, f):
                why.append(f"{d}: counts {g['converters']}/{g['non_converters']}, expected {s}/{f}")
            if not close(g["odds_ratio"], odds, 1e-12, 0):
                why.append(f"{d}: odds ratio {g['odds_ratio']}, expected {odds}")
            if not close(g["p_value"], p, 1e-6, 1e-12):
                why.append(f"{d}: p-value {g['p_value']}, SciPy {p}")
        odds_order = [d["odds_ratio"] for d in ours["drivers"]]
        if odds_order != sorted(odds_order, reverse=True):
            why.append("drivers are not sorted by odds ratio")
        if why:
            failures += 1
            print(f"FAILED {name}: " + "; ".join(why[:5]))
        else:
            smallest = min((v[3] for v in drivers.values()), default=None)
            print(f"ok {name}: {S} converters, {F} non-converters, {len(drivers)} drivers, "
                  f"smallest p-value {smallest}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
