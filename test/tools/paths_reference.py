#!/usr/bin/env python3
"""Reference implementation of the paths aggregate (doc/paths.md), written
from the documentation in plain Python, and a generator of differential
tests against the extension.

    paths_reference.py SEED CASES [parallel]  >  test.sql

writes a SQL script that loads random events (ties in time, repeated events,
names with quotes, non-ASCII and "other"/"null" look-alikes) and, for CASES
parameter sets, compares paths(...) with the result computed here; each
comparison prints "ok NAME" or "FAILED NAME" with both results.  With
"parallel", the planner is made to choose parallel aggregation (partial
states serialised, combined and deserialised) wherever it can.
"""
import json
import random
import re
import sys
from decimal import Decimal, getcontext
from collections import defaultdict


def byte_key(name):
    return name.encode("utf-8")


def entity_paths(rows, start=None, end=None, depth=5):
    """{entity: [(event, ts), ...]} the path of each entity that has one."""
    by_entity = defaultdict(list)
    for ent, ts, ev in rows:
        by_entity[ent].append((ts, byte_key(ev), ev))
    out = {}
    for ent, evs in by_entity.items():
        evs.sort()
        nodes = []
        for ts, _, ev in evs:
            if nodes and nodes[-1][0] == ev:
                continue  # a repeat of the node before is the same node
            nodes.append((ev, ts))
        if start is not None:
            idx = next((i for i, n in enumerate(nodes) if n[0] == start), None)
            if idx is None:
                continue
            path = nodes[idx:idx + depth + 1]
            first_step = 0
        elif end is not None:
            idx = next((i for i, n in enumerate(nodes) if n[0] == end), None)
            if idx is None:
                continue
            path = nodes[max(0, idx - depth):idx + 1]
            first_step = -(len(path) - 1)
        else:
            path = nodes[:depth + 1]
            first_step = 0
        if path:
            out[ent] = (first_step, path)
    return out


def name_key(name):
    """Ranking of node names: byte order, other (None) last."""
    return (1, b"") if name is None else (0, byte_key(name))


def median(values):
    """The median, exactly (a Decimal): the mean of the two middle values
    for an even count."""
    v = sorted(values)
    n = len(v)
    return (Decimal(v[(n - 1) // 2]) + Decimal(v[n // 2])) / 2


def edges_of(moves):
    """moves: [(step, from, to, delta)] -> ranked [(step, from, to, n, median)]."""
    groups = defaultdict(list)
    for step, a, b, d in moves:
        groups[(step, a, b)].append(d)
    edges = [(k[0], k[1], k[2], len(v), median(v)) for k, v in groups.items()]
    edges.sort(key=lambda e: (-e[3], e[0], name_key(e[1]), name_key(e[2])))
    return edges


def paths(rows, start=None, end=None, depth=5, top_n=20):
    ep = entity_paths(rows, start, end, depth)
    moves = []
    for first_step, path in ep.values():
        for i in range(len(path) - 1):
            moves.append((first_step + i, path[i][0], path[i + 1][0], path[i + 1][1] - path[i][1]))
    kept = set()
    for step, a, b, _, _ in edges_of(moves)[:top_n]:
        kept.add((step, a))
        kept.add((step + 1, b))
    anchor = start if start is not None else end
    if anchor is not None:
        kept.add((0, anchor))
    folded = [(s, a if (s, a) in kept else None, b if (s + 1, b) in kept else None, d)
              for s, a, b, d in moves]
    edges = edges_of(folded)[:top_n]
    counts = defaultdict(int)
    for _, path in ep.values():
        counts[tuple(n[0] for n in path)] += 1
    top_paths = sorted(counts.items(), key=lambda kv: (-kv[1], [byte_key(x) for x in kv[0]]))[:top_n]
    return {
        "anchor": "start" if start is not None else "end" if end is not None else None,
        "event": anchor,
        "depth": depth,
        "top_n": top_n,
        "entities": len(ep),
        "edges": [{"step": s, "from": a, "to": b, "entities": n, "median_seconds": f"__NUM__{m / 10**6}__"}
                  for s, a, b, n, m in edges],
        "paths": [{"events": list(p), "entities": n} for p, n in top_paths],
    }


def sql_literal(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


NAMES = ["home", "search", "cart", "checkout", "buy", "help", "other", "null",
         "it's", "café", "Zed", "a\"b", "x<y>", "product"]


def random_rows(rng):
    names = rng.sample(NAMES, rng.randint(2, len(NAMES)))
    weights = [rng.random() ** 2 + 0.01 for _ in names]
    rows = []
    for ent in range(rng.randint(1, 300)):
        ts = rng.randint(0, 10**9)
        for _ in range(rng.randint(1, 25)):
            # repeats and ties in time are frequent on purpose
            ts += rng.choice([0, 0, 1, 1000, rng.randint(1, 10**8)])
            rows.append((ent, ts, rng.choices(names, weights)[0]))
    rng.shuffle(rows)
    return rows, names


def main():
    seed = int(sys.argv[1])
    ncases = int(sys.argv[2])
    rng = random.Random(seed)
    getcontext().prec = 60
    print("\\set ON_ERROR_STOP on")
    print("SET client_min_messages = warning;")
    print("CREATE EXTENSION IF NOT EXISTS funnel;")
    if len(sys.argv) > 3 and sys.argv[3] == "parallel":
        print("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;")
        print("SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;")
        print("SET parallel_leader_participation = off;")
    for case in range(ncases):
        rows, names = random_rows(rng)
        table = f"ev_{seed}_{case}"
        print(f"DROP TABLE IF EXISTS {table};")
        print(f"CREATE TABLE {table} (u bigint, ts bigint, e text);")
        print(f"COPY {table} FROM stdin;")
        for u, ts, e in rows:
            tsv = e.replace("\\", "\\\\")
            print(f"{u}\t{ts}\t{tsv}")
        print("\\.")
        # ts: microseconds since 2000-01-01 UTC
        print(f"ALTER TABLE {table} ALTER ts TYPE timestamptz "
              f"USING timestamptz '2000-01-01 00:00:00+00' + ts * interval '1 microsecond';")
        print(f"ANALYZE {table};")
        for variant in range(3):
            depth = rng.choice([1, 2, 3, 5, 8, 20])
            top_n = rng.choice([1, 2, 3, 5, 10, 50, 10000])
            kind = rng.choice(["none", "start", "end"])
            anchor = rng.choice(names + ["never seen"])
            start = anchor if kind == "start" else None
            end = anchor if kind == "end" else None
            expected = paths(rows, start, end, depth, top_n)
            name = f"seed {seed} case {case}.{variant} ({kind} {anchor!r} depth {depth} top_n {top_n})"
            exp = re.sub(r'"__NUM__([0-9.E+-]+)__"', r"\1", json.dumps(expected, ensure_ascii=False))
            exp = exp.replace("'", "''")
            print(f"SELECT CASE WHEN r = '{exp}'::jsonb THEN 'ok ' || {sql_literal(name)} "
                  f"ELSE 'FAILED ' || {sql_literal(name)} || E'\\n  ours:     ' || r::text "
                  f"|| E'\\n  expected: ' || '{exp}' END AS result "
                  f"FROM (SELECT paths(u, ts, e, {sql_literal(start)}, {sql_literal(end)}, {depth}, {top_n}) AS r "
                  f"FROM {table}) s;")
        print(f"DROP TABLE {table};")


if __name__ == "__main__":
    main()
