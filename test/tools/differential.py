#!/usr/bin/env python3
"""Differential check of window_funnel against a direct transcription of the
walk in doc/window_funnel.md (ClickHouse's windowFunnel), every mode and
combination, on random journeys heavy in timestamp ties and rows matching
several steps.  Needs a database with the extension (psql on PATH, PG*
environment variables).  Usage: test/tools/differential.py [entities] [seed]
"""
import itertools, random, subprocess, sys

def reference(rows, window, nsteps, modes):
    """rows: list of (ts, [bool]*nsteps) in arrival order."""
    dedup = 'strict_deduplication' in modes
    order = 'strict_order' in modes
    inc = 'strict_increase' in modes
    once = 'strict_once' in modes
    reentry = 'allow_reentry' in modes
    ev = []
    for rid, (ts, conds) in enumerate(rows):
        hit = False
        for k in range(nsteps, 0, -1):
            if conds[k - 1]:
                ev.append((ts, k, rid)); hit = True
        if order and not hit:
            ev.append((ts, 0, rid))
    if not ev:
        return 0
    if not order and nsteps == 1:
        return 1
    ev.sort(key=lambda e: (e[0], e[1], e[2]) if once else (e[0], e[1]))
    if not once:
        held = [None] * nsteps          # (first_ts, last_ts)
        first = False
        def top():
            for k in range(nsteps, 0, -1):
                if held[k - 1] is not None:
                    return k
            return 0
        for ts, k, _ in ev:
            i = k - 1
            if order and i == -1:
                if first: break
                continue
            if i == 0:
                held[0] = (ts, ts); first = True
            elif dedup and held[i] is not None:
                return top()
            elif order and first and held[i - 1] is None:
                if reentry: continue
                for j in range(nsteps):
                    if held[j] is None: return j
            elif held[i - 1] is not None:
                f, l = held[i - 1]
                ok = ts <= f + window and (not inc or l < ts)
                if ok:
                    held[i] = (f, ts)
                    if i + 1 == nsteps: return nsteps
        return top()
    seqs = [[] for _ in range(nsteps)]   # lists of (first, last, path)
    has_first = False
    def top():
        for k in range(nsteps, 0, -1):
            if seqs[k - 1]: return k
        return 0
    for ts, k, rid in ev:
        i = k - 1
        if order and i == -1:
            if has_first: break
            continue
        if i == 0:
            seqs[0].append((ts, ts, [rid])); has_first = True
        elif dedup and seqs[i]:
            return top()
        elif order and has_first and not seqs[i - 1]:
            if reentry: continue
            for j in range(nsteps):
                if not seqs[j]: return j
        elif seqs[i - 1]:
            prev = seqs[i - 1]; j = 0
            while j < len(prev):
                f, l, path = prev[j]
                ok = ts <= f + window
                if not ok and len(prev) > 1:
                    del prev[j]; continue
                if ok: ok = rid not in path[:i]
                if ok and inc: ok = l < ts
                if ok:
                    seqs[i].append((f, ts, path[:i] + [rid]))
                    if i + 1 == nsteps: return nsteps
                j += 1
    return top()

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print("differential check: %d entities, seed %d" % (n, seed))
    rnd = random.Random(seed)
    names = ['strict_deduplication', 'strict_order', 'strict_increase', 'strict_once']
    modesets = [()]
    for r in range(1, 5):
        modesets += list(itertools.combinations(names, r))
    modesets += [m + ('allow_reentry',) for m in modesets if 'strict_order' in m]
    data = []
    for e in range(n):
        nsteps = rnd.choice([1, 2, 3, 4, 5])
        nrows = rnd.randint(0, 12)
        rows = []
        for r in range(nrows):
            ts = rnd.randint(0, 8)
            conds = [rnd.random() < 0.35 for _ in range(nsteps)]
            rows.append((ts, conds))
        window = rnd.choice([0, 1, 2, 3, 5, 100])
        data.append((e, nsteps, window, rows))
    sql = ["SET client_min_messages = warning;",
           "CREATE TEMP TABLE d(e int, seq int, nsteps int, w int, ts int, c boolean[]);"]
    vals = []
    for e, nsteps, window, rows in data:
        for seq, (ts, conds) in enumerate(rows):
            vals.append("(%d,%d,%d,%d,%d,'{%s}')" % (e, seq, nsteps, window, ts,
                        ','.join('t' if c else 'f' for c in conds)))
    for i in range(0, len(vals), 1000):
        sql.append("INSERT INTO d VALUES " + ",".join(vals[i:i + 1000]) + ";")
    # each mode twice: rows in arrival order (mostly out of time order: the
    # log is re-walked) and in time order (the online walk answers).  Times
    # count from PostgreSQL's epoch (2000-01-01, stored as 0): a zero left
    # in the walk for a step not reached would fall in the window
    out_queries = []
    for m in modesets:
        mode = ','.join(m)
        for tag, order in (('a', 'seq'), ('t', 'ts, seq')):
            out_queries.append(
                "SELECT '%s%s', e, window_funnel(make_interval(secs => w), '%s', "
                "to_timestamp(946684800 + ts), VARIADIC c ORDER BY %s) FROM d GROUP BY e ORDER BY e;"
                % (tag, mode, mode, order))
    sql.append("\\pset format unaligned\n\\pset tuples_only on")
    sql += out_queries
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\n".join(sql),
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr); sys.exit(2)
    got = {}
    for line in p.stdout.splitlines():
        if '|' not in line: continue
        mode, e, lvl = line.split('|')
        got[(mode, int(e))] = int(lvl)
    bad = 0; total = 0
    for m in modesets:
        mode = ','.join(m)
        for e, nsteps, window, rows in data:
            for tag, ordered in (('a', rows), ('t', sorted(rows, key=lambda r: r[0]))):
                total += 1
                want = reference(ordered, window, nsteps, set(m)) if rows else 0
                have = got.get((tag + mode, e), 0)
                if want != have:
                    bad += 1
                    if bad <= 10:
                        print("MISMATCH order=%s mode=%r window=%d nsteps=%d rows=%r want=%d got=%d" %
                              (tag, mode, window, nsteps, ordered, want, have))
    print("differential check of window_funnel: %d cases agree, %d differ" % (total - bad, bad))
    sys.exit(1 if bad else 0)

main()
