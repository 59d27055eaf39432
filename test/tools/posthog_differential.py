#!/usr/bin/env python3
"""Differential check of the product-funnel options (doc/product_funnels.md)
against the transcription of PostHog's funnel engine in
test/tools/posthog_reference.py: random funnels (2 to 5 steps; ordered with
optional steps and up to two exclusions, or any order; windows from 0 s to
100 s; any_order_first, which PostHog has not, against its definition
written out directly) and random entities
with many timestamp ties, through every input form (event names,
conditions, funnel_event rows, funnel_event[] journeys), per entity
(window_funnel, rows in arrival and in time order) and over the whole table
(funnel_stage_counts, also in a parallel plan).

The data keep to what PostHog and we define alike (doc/product_funnels.md,
"Where we differ from PostHog"): each row is one step or one exclusion, and
an exclusion row shares its time with no other row.

Needs a database with the extension (psql on PATH, PG* environment).
Usage: posthog_differential.py [entities] [seed]; prints one line per check
and exits non-zero when a check fails.
"""
import os, random, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import posthog_reference as ph


def make_config(rnd, cid):
    n = rnd.randint(2, 5)
    kind = rnd.choice(['ordered', 'ordered', 'any_order', 'any_order_first'])
    if kind != 'ordered':
        return {'id': cid, 'n': n, 'optional': [], 'excl': [], 'kind': kind,
                'window': rnd.choice([0, 1, 2, 3, 5, 8, 100]), 'mode': kind}
    optional = sorted(k for k in range(2, n + 1) if rnd.random() < 0.25)
    excl = []
    for _ in range(rnd.choice([0, 1, 1, 2])):
        a = rnd.randint(1, n - 1)
        b = rnd.randint(a + 1, n)
        excl.append((a, b))
    if not optional and not excl:
        optional = [n] if rnd.random() < 0.5 else []
        if not optional:
            excl = [(1, n)]
    window = rnd.choice([0, 1, 2, 3, 5, 8, 100])
    items = []
    if optional:
        items.append('optional ' + ' '.join(map(str, optional)))
    for j, (a, b) in enumerate(excl):
        items.append('exclude %d from %d to %d' % (n + 1 + j, a, b))
    return {'id': cid, 'n': n, 'optional': optional, 'excl': excl, 'window': window,
            'mode': ', '.join(items), 'kind': 'ordered'}


def make_rows(rnd, cfg):
    """(ts, position) in arrival order: steps on even seconds (ties), each
    exclusion row alone on an odd second."""
    rows = []
    for _ in range(rnd.randint(0, 12)):
        rows.append((1000 + 2 * rnd.randint(0, 8), rnd.randint(1, cfg['n'])))
    if cfg['excl']:
        odd = rnd.sample(range(0, 9), rnd.randint(0, 3))
        for o in odd:
            rows.append((1000 + 2 * o + 1, cfg['n'] + 1 + rnd.randrange(len(cfg['excl']))))
    rnd.shuffle(rows)
    return rows


def any_order_first_level(cfg, rows):
    """The definition (doc/product_funnels.md): the most distinct steps in a
    window [t1, t1 + window] that starts at a step-1 row."""
    best = 0
    for t1, pos in rows:
        if pos == 1:
            best = max(best, len({p for t, p in rows if t1 <= t <= t1 + cfg['window']}))
    return best


def reference_level(cfg, rows):
    if cfg['kind'] == 'any_order_first':
        return any_order_first_level(cfg, rows)
    if cfg['kind'] == 'any_order':
        events = [{'timestamp': float(ts), 'uuid': u, 'breakdown': None, 'steps': [pos - 1]}
                  for u, (ts, pos) in enumerate(sorted(rows, key=lambda r: r[0]))]
        return ph.unordered(events, cfg['n'], cfg['window'])[0][0] + 1
    events = []
    for uuid, (ts, pos) in enumerate(sorted(rows, key=lambda r: r[0])):
        if pos <= cfg['n']:
            steps = [pos]
        else:
            a, b = cfg['excl'][pos - cfg['n'] - 1]
            steps = ph.exclusion_steps(a, b)
        events.append({'timestamp': float(ts), 'uuid': uuid, 'breakdown': None, 'steps': steps})
    r = ph.ordered(events, cfg['n'], cfg['window'], optional_steps=cfg['optional'])
    return r[0][0] + 1


def reference_times(cfg, rows):
    """PostHog's timings of an ordered funnel's entity: (level, times between
    consecutive required steps of its furthest chain), (0, []) when it is
    excluded or has no step 1 (steps.rs: the timings of max_step)."""
    events = []
    for uuid, (ts, pos) in enumerate(sorted(rows, key=lambda r: r[0])):
        if pos <= cfg['n']:
            steps = [pos]
        else:
            a, b = cfg['excl'][pos - cfg['n'] - 1]
            steps = ph.exclusion_steps(a, b)
        events.append({'timestamp': float(ts), 'uuid': uuid, 'breakdown': None, 'steps': steps})
    r = ph.ordered(events, cfg['n'], cfg['window'], optional_steps=cfg['optional'])[0]
    if r[0] < 0:
        return 0, []
    return r[0] + 1, r[2]


def main():
    n_entities = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rnd = random.Random(seed)
    print("PostHog differential check: %d entities, seed %d" % (n_entities, seed))
    configs = [make_config(rnd, c) for c in range(max(1, n_entities // 40))]
    entities = []
    for e in range(n_entities):
        cfg = configs[e % len(configs)]
        entities.append((e, cfg, make_rows(rnd, cfg)))

    sql = ["SET client_min_messages = warning;",
           "CREATE TEMP TABLE c(cfg int, w int, mode text, npos int, names text[], ordered boolean);",
           "CREATE TEMP TABLE d(cfg int, e int, seq int, ts int, pos int, ev text, conds boolean[]);"]
    vals = []
    for cfg in configs:
        npos = cfg['n'] + len(cfg['excl'])
        names = ['s%d' % k for k in range(1, cfg['n'] + 1)] + ['x%d' % j for j in range(1, len(cfg['excl']) + 1)]
        vals.append("(%d,%d,'%s',%d,'{%s}',%s)" % (cfg['id'], cfg['window'], cfg['mode'], npos, ','.join(names),
                                                   'true' if cfg['kind'] == 'ordered' else 'false'))
    sql.append("INSERT INTO c VALUES " + ",".join(vals) + ";")
    vals = []
    for e, cfg, rows in entities:
        npos = cfg['n'] + len(cfg['excl'])
        for seq, (ts, pos) in enumerate(rows):
            name = 's%d' % pos if pos <= cfg['n'] else 'x%d' % (pos - cfg['n'])
            conds = ','.join('t' if k == pos else 'f' for k in range(1, npos + 1))
            vals.append("(%d,%d,%d,%d,%d,'%s','{%s}')" % (cfg['id'], e, seq, ts, pos, name, conds))
    for i in range(0, len(vals), 1000):
        sql.append("INSERT INTO d VALUES " + ",".join(vals[i:i + 1000]) + ";")
    sql.append("ANALYZE c; ANALYZE d;")
    sql.append("\\pset format unaligned\n\\pset tuples_only on")
    per_entity = {
        'names': "window_funnel(make_interval(secs => c.w), c.mode, to_timestamp(d.ts), d.ev, c.names ORDER BY %s)",
        'conditions': "window_funnel(make_interval(secs => c.w), c.mode, to_timestamp(d.ts), VARIADIC d.conds ORDER BY %s)",
        'funnel_event': "window_funnel(make_interval(secs => c.w), c.mode, funnel_event(to_timestamp(d.ts), d.pos) ORDER BY %s)",
        'journey': "window_funnel(make_interval(secs => c.w), array_agg(funnel_event(to_timestamp(d.ts), d.pos) ORDER BY %s), c.mode)",
    }
    for form, expr in per_entity.items():
        for tag, order in (('arrival', 'd.seq'), ('time', 'd.ts, d.seq')):
            sql.append("SELECT 'e|%s|%s', d.e, %s FROM d JOIN c USING (cfg) GROUP BY d.e, c.cfg, c.w, c.mode ORDER BY d.e;"
                       % (form, tag, expr % order))
    # times (ordered funnels): time_to_convert to the last step, and each
    # entity's own summary with step_times (one entity: its times exactly)
    ttc = {
        'names': "time_to_convert(make_interval(secs => c.w), c.mode, to_timestamp(d.ts), d.ev, c.names ORDER BY d.seq)",
        'funnel_event': "time_to_convert(make_interval(secs => c.w), c.mode, funnel_event(to_timestamp(d.ts), d.pos) ORDER BY d.ts, d.seq)",
        'journey': "time_to_convert(make_interval(secs => c.w), array_agg(funnel_event(to_timestamp(d.ts), d.pos) ORDER BY d.seq), c.mode)",
        'journey_type': "time_to_convert(make_interval(secs => c.w), array_agg(funnel_event(to_timestamp(d.ts), d.pos) ORDER BY d.seq)::journey, c.mode)",
    }
    for form, expr in ttc.items():
        sql.append("SELECT 'c|%s', d.e, coalesce(extract(epoch FROM %s)::text, 'null') FROM d JOIN c USING (cfg) "
                   "WHERE c.ordered GROUP BY d.e, c.cfg, c.w, c.mode ORDER BY d.e;" % (form, expr))
    step_mode = "concat_ws(', ', nullif(c.mode, ''), 'step_times')"
    summaries = {
        'names': "funnel_summary(make_interval(secs => c.w), %s, d.e, to_timestamp(d.ts), d.ev, c.names)" % step_mode,
        'journey': "funnel_summary(make_interval(secs => c.w), %s, j.journey)" % step_mode,
    }
    inner = {
        'names': "FROM d JOIN c USING (cfg) WHERE c.ordered GROUP BY d.e, c.cfg, c.w, c.mode, c.names",
        'journey': "FROM (SELECT d.e, d.cfg, array_agg(funnel_event(to_timestamp(d.ts), d.pos) ORDER BY d.seq) AS journey "
                   "FROM d GROUP BY d.e, d.cfg) j JOIN c USING (cfg) WHERE c.ordered GROUP BY j.e, c.cfg, c.w, c.mode",
    }
    for form in summaries:
        ent = 'd.e' if form == 'names' else 'j.e'
        sql.append("SELECT 't|%s', e, string_agg(extract(epoch FROM median_from_previous)::text || ':' || "
                   "extract(epoch FROM mean_from_previous)::text, ',' ORDER BY step) "
                   "FROM (SELECT %s AS e, (funnel_step_times(%s)).* %s) x WHERE entities > 0 GROUP BY e ORDER BY e;"
                   % (form, ent, summaries[form], inner[form]))
    whole_times = ("SELECT 'w|%s', c.cfg, (SELECT string_agg(concat_ws(':', entities, median_from_previous, "
                   "p90_from_previous, mean_from_previous, median_from_start), ',' ORDER BY step) FROM funnel_step_times("
                   "funnel_summary(make_interval(secs => c.w), " + step_mode + ", d.e, to_timestamp(d.ts), d.ev, c.names))) "
                   "FROM d JOIN c USING (cfg) WHERE c.ordered GROUP BY c.cfg, c.w, c.mode ORDER BY c.cfg;")
    sql.append(whole_times % 'serial')
    whole = "SELECT 's|%s', c.cfg, funnel_stage_counts(make_interval(secs => c.w), c.mode, d.e, to_timestamp(d.ts), d.ev, c.names) FROM d JOIN c USING (cfg) GROUP BY c.cfg ORDER BY c.cfg;"
    sql.append(whole % 'serial')
    # the same with each funnel's window, mode and names as constants: the
    # rows after a call site's first take the settled path (no per-row read
    # of the settings), which column arguments never do
    for cfg in configs:
        names = ['s%d' % k for k in range(1, cfg['n'] + 1)] + ['x%d' % j for j in range(1, len(cfg['excl']) + 1)]
        sql.append("SELECT 's|constants', %d, funnel_stage_counts(interval '%d seconds', '%s', d.e, to_timestamp(d.ts), "
                   "d.ev, ARRAY[%s]) FROM d WHERE d.cfg = %d;"
                   % (cfg['id'], cfg['window'], cfg['mode'], ','.join("'%s'" % n for n in names), cfg['id']))
    sql.append("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
               " SET max_parallel_workers_per_gather = 2; SET enable_hashagg = off;")
    sql.append(whole % 'parallel')
    sql.append(whole_times % 'parallel')
    sql.append("SELECT 's|funnel_event', c.cfg, funnel_stage_counts(make_interval(secs => c.w), c.mode, d.e, "
               "funnel_event(to_timestamp(d.ts), d.pos)) FROM d JOIN c USING (cfg) GROUP BY c.cfg ORDER BY c.cfg;")
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\n".join(sql),
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        print("0 passed, 1 failed")
        sys.exit(2)
    # e|form|order|entity|level and s|plan|funnel|counts
    got = {}
    for line in p.stdout.splitlines():
        parts = line.split('|')
        if parts[0] == 'e' and len(parts) == 5:
            got[(parts[1], parts[2], int(parts[3]))] = int(parts[4])
        elif parts[0] == 's' and len(parts) == 4:
            got[('stage', parts[1], int(parts[2]))] = parts[3]
        elif parts[0] in ('c', 't', 'w') and len(parts) == 4:
            got[(parts[0], parts[1], int(parts[2]))] = parts[3]

    want_level = {e: reference_level(cfg, rows) for e, cfg, rows in entities}
    passed = failed = 0
    for form in per_entity:
        for tag in ('arrival', 'time'):
            bad = 0
            for e, cfg, rows in entities:
                if not rows:
                    continue
                have = got.get((form, tag, e))
                if have != want_level[e]:
                    bad += 1
                    if bad <= 5:
                        print("MISMATCH %s/%s mode=%r window=%d rows=%r want=%d got=%r" %
                              (form, tag, cfg['mode'], cfg['window'], sorted(rows), want_level[e], have))
            print("%s: window_funnel, %s, rows in %s order: %d entities, %d differ" %
                  ("ok" if bad == 0 else "FAILED", form, tag, sum(1 for x in entities if x[2]), bad))
            if bad: failed += 1
            else: passed += 1
    for tag in ('serial', 'constants', 'parallel', 'funnel_event'):
        bad = 0
        for cfg in configs:
            m = cfg['n'] - len(cfg['optional'])
            levels = [want_level[e] for e, c, rows in entities if c is cfg and rows]
            want = '{%s}' % ','.join(str(sum(1 for l in levels if l >= k)) for k in range(1, m + 1))
            if not levels:
                continue
            if tag == 'funnel_event':
                # open steps: as many as the highest step any row names
                top = max((pos for e, c, rows in entities if c is cfg for ts, pos in rows if pos <= cfg['n']), default=0)
                m2 = top - sum(1 for k in cfg['optional'] if k <= top)
                want = '{%s}' % ','.join(str(sum(1 for l in levels if l >= k)) for k in range(1, m2 + 1))
            have = got.get(('stage', tag, cfg['id']))
            if have != want:
                bad += 1
                if bad <= 5:
                    print("MISMATCH funnel_stage_counts %s mode=%r want=%s got=%s" % (tag, cfg['mode'], want, have))
        print("%s: funnel_stage_counts, %s: %d funnels, %d differ" % ("ok" if bad == 0 else "FAILED", tag, len(configs), bad))
        if bad: failed += 1
        else: passed += 1
    p2, f2 = times_check(configs, entities, got)
    passed += p2
    failed += f2
    ok = trends_check(rnd, n_entities)
    passed += ok
    failed += 2 - ok
    p2, f2 = breakdown_check(rnd, n_entities)
    passed += p2
    failed += f2
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def times_check(configs, entities, got):
    """Times of ordered funnels (optional steps, exclusions) against
    steps.rs's timings: funnel_summary's step_times of each entity are the
    times between consecutive required steps of its furthest chain, exactly
    (one entity per summary: its median and mean are its time).
    time_to_convert is measured on the chain that first reached the last
    required step; PostHog's timings are those of the chain that reached
    the furthest step, which is another chain only when an optional step
    after the last required one was reached later by a later chain: the
    comparison of time_to_convert keeps to funnels whose last step is
    required (doc/product_funnels.md, "Where we differ from PostHog").
    Whole-table summaries: the same in a parallel plan.  Returns (passed,
    failed)."""
    passed = failed = 0
    want = {e: reference_times(cfg, rows) for e, cfg, rows in entities if cfg['kind'] == 'ordered' and rows}
    for form in ('names', 'funnel_event', 'journey', 'journey_type'):
        bad = checked = 0
        for e, cfg, rows in entities:
            if e not in want or cfg['n'] in cfg['optional']:
                continue
            level, diffs = want[e]
            m = cfg['n'] - len(cfg['optional'])
            if form != 'names':
                # open steps: the target is the highest step the rows name
                top = max((pos for ts, pos in rows if pos <= cfg['n']), default=0)
                if top != cfg['n']:
                    continue
            exp = ('%g' % sum(diffs)) if level == m else 'null'
            have = got.get(('c', form, e))
            if have is not None and have != 'null':
                have = '%g' % float(have)
            checked += 1
            if have != exp:
                bad += 1
                if bad <= 5:
                    print("MISMATCH time_to_convert %s mode=%r window=%d rows=%r want=%s got=%r" %
                          (form, cfg['mode'], cfg['window'], sorted(rows), exp, have))
        print("%s: time_to_convert, %s: %d entities, %d differ" % ("ok" if bad == 0 else "FAILED", form, checked, bad))
        if bad: failed += 1
        else: passed += 1
    for form in ('names', 'journey'):
        bad = 0
        for e, cfg, rows in entities:
            if e not in want:
                continue
            level, diffs = want[e]
            exp = None
            if level > 0:
                exp = ','.join('%g:%g' % (t, t) for t in [0.0] + list(diffs))
            have = got.get(('t', form, e))
            if have is not None:
                have = ','.join(':'.join('%g' % float(x) for x in p.split(':')) for p in have.split(','))
            if have != exp:
                bad += 1
                if bad <= 5:
                    print("MISMATCH step_times %s mode=%r window=%d rows=%r want=%s got=%s" %
                          (form, cfg['mode'], cfg['window'], sorted(rows), exp, have))
        print("%s: funnel_summary step_times of each entity, %s: %d entities, %d differ" %
              ("ok" if bad == 0 else "FAILED", form, len(want), bad))
        if bad: failed += 1
        else: passed += 1
    bad = 0
    for cfg in configs:
        if cfg['kind'] != 'ordered':
            continue
        if got.get(('w', 'serial', cfg['id'])) != got.get(('w', 'parallel', cfg['id'])):
            bad += 1
            print("MISMATCH funnel_summary step_times serial %s parallel %s" %
                  (got.get(('w', 'serial', cfg['id'])), got.get(('w', 'parallel', cfg['id']))))
    print("%s: funnel_summary step_times, serial = parallel: %d funnels, %d differ" %
          ("ok" if bad == 0 else "FAILED", sum(1 for c in configs if c['kind'] == 'ordered'), bad))
    if bad: failed += 1
    else: passed += 1
    return passed, failed


def trends_check(rnd, n_entities):
    """funnel_trends against trends.rs: random funnels of 2 to 4 steps,
    windows of 0 to 3 hours, periods of an hour or a day in UTC (the
    reference's interval_start is the UTC period of each event; the
    differential test of local periods is the DST case in
    test/product_funnels.sql).  One step per row; rows of one time are given
    to the reference in step order, as the walk takes them.  The same
    over stored journeys (one journey-type row per entity).  Returns the
    checks passed (of 2)."""
    import collections
    cases = []
    for c in range(16):
        n = rnd.randint(2, 4)
        window = rnd.choice([0, 600, 1800, 3600, 10800])
        bucket = rnd.choice(['hour', 'day'])
        width = 3600 if bucket == 'hour' else 86400
        # half the funnels have an exclusion (position n + 1), its rows on
        # times of their own (150 s off the steps' 5-minute grid)
        excl = None
        if c % 2:
            a = rnd.randint(1, n - 1)
            excl = (a, rnd.randint(a + 1, n))
        # a quarter of the funnels convert to an earlier step (to_step):
        # PostHog's trend of the funnel cut to that step
        to = None
        if c % 4 >= 2 and n > 2 and (excl is None or excl[1] <= n - 1):
            to = n - 1
        ents = []
        for e in range(max(1, n_entities // 8)):
            rows = [(1704067200 + rnd.randint(0, 3 * width // 300) * 300, rnd.randint(1, n))
                    for _ in range(rnd.randint(1, 10))]
            if excl:
                rows += [(1704067200 + 150 + rnd.randint(0, 3 * width // 300) * 300, n + 1)
                         for _ in range(rnd.randint(0, 2))]
            ents.append(sorted(rows))
        cases.append((c, n, window, bucket, width, ents, excl, to))
    sql = ["SET client_min_messages = warning;", "CREATE TEMP TABLE tr(c int, e int, ts bigint, pos int);"]
    vals = ["(%d,%d,%d,%d)" % (c, e, ts, pos) for c, n, w, b, wd, ents, x, to in cases
            for e, rows in enumerate(ents) for ts, pos in rows]
    for i in range(0, len(vals), 1000):
        sql.append("INSERT INTO tr VALUES " + ",".join(vals[i:i + 1000]) + ";")
    sql.append("\\pset format unaligned\n\\pset tuples_only on")
    for c, n, w, b, wd, ents, x, to in cases:
        mode = 'bucket %s' % b + (', exclude %d from %d to %d' % (n + 1, x[0], x[1]) if x else '') + \
            (', to_step %d' % to if to else '')
        sql.append("SELECT %d, extract(epoch FROM period_start)::bigint, entered, converted FROM funnel_trend_report("
                   "(SELECT funnel_trends(make_interval(secs => %d), '%s', e, funnel_event(to_timestamp(ts), pos)) "
                   "FROM tr WHERE c = %d), 'infinity');" % (c, w, mode, c))
        # the same over stored journeys (one row per entity, journey type)
        sql.append("SELECT %d, extract(epoch FROM period_start)::bigint, entered, converted FROM funnel_trend_report("
                   "(SELECT funnel_trends(make_interval(secs => %d), '%s', j) FROM (SELECT array_agg("
                   "funnel_event(to_timestamp(ts), pos))::journey AS j FROM tr WHERE c = %d GROUP BY e) g), 'infinity');"
                   % (1000 + c, w, mode, c))
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\n".join(sql),
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        print("FAILED: funnel_trends could not be run")
        return 0
    got = collections.defaultdict(dict)
    for line in p.stdout.splitlines():
        c, start, entered, converted = map(int, line.split('|'))
        got[c][start] = (entered, converted)
    bad = bad_j = 0
    for c, n, w, b, wd, ents, x, to in cases:
        want = collections.defaultdict(lambda: [0, 0])
        last = to or n
        for rows in ents:
            events = [{'timestamp': float(ts), 'interval_start': ts - ts % wd, 'uuid': i,
                       'breakdown': None, 'steps': [pos] if pos <= n else ph.exclusion_steps(*x)}
                      for i, (ts, pos) in enumerate(rows) if pos <= last or pos > n]
            for start, r in ph.trends(events, last, w).items():
                want[start][0] += 1
                want[start][1] += (r == 1)
        want = {k: tuple(v) for k, v in want.items()}
        if want != got.get(c, {}):
            bad += 1
            print("MISMATCH funnel_trends n=%d window=%d bucket=%s exclusion=%r want=%r got=%r" % (n, w, b, x, sorted(want.items())[:5], sorted(got.get(c, {}).items())[:5]))
        if want != got.get(1000 + c, {}):
            bad_j += 1
            print("MISMATCH funnel_trends over journeys n=%d window=%d bucket=%s exclusion=%r want=%r got=%r" % (n, w, b, x, sorted(want.items())[:5], sorted(got.get(1000 + c, {}).items())[:5]))
    print("%s: funnel_trends against trends.rs: %d funnels (%d with an exclusion, %d with to_step), %d differ"
          % ("ok" if bad == 0 else "FAILED", len(cases), sum(1 for cs in cases if cs[6]),
             sum(1 for cs in cases if cs[7]), bad))
    print("%s: funnel_trends over journeys against trends.rs: %d funnels, %d differ"
          % ("ok" if bad_j == 0 else "FAILED", len(cases), bad_j))
    return (1 if bad == 0 else 0) + (1 if bad_j == 0 else 0)


BREAKDOWN_VALUES = ['a', 'b', 'c', '\u00fc', None]


def breakdown_config(rnd, cid):
    """A funnel with a breakdown attribution: ordered (optional steps, up to
    one exclusion) or any order (no exclusions, no step attribution)."""
    n = rnd.randint(2, 4)
    order = 'unordered' if rnd.random() < 0.2 else 'ordered'
    attribution = rnd.choice(['first_touch', 'last_touch', 'all_events', 'step'])
    optional, excl = [], []
    if order == 'ordered':
        optional = sorted(k for k in range(2, n + 1) if rnd.random() < 0.2)
        if rnd.random() < 0.4:
            a = rnd.randint(1, n - 1)
            excl.append((a, rnd.randint(a + 1, n)))
    elif attribution == 'step':
        attribution = 'all_events'
    k = None
    if attribution == 'step':
        k = rnd.choice([s for s in range(1, n + 1) if s not in optional])
        # PostHog checks the value only on a step-K row that extends the chain
        # of step K-1, not one that skips an optional step K-1: left out
        # (doc/product_funnels.md, "Where this differs from PostHog")
        optional = [s for s in optional if s != k - 1]
    items = ['any_order'] if order == 'unordered' else []
    if optional:
        items.append('optional ' + ' '.join(map(str, optional)))
    for j, (a, b) in enumerate(excl):
        items.append('exclude %d from %d to %d' % (n + 1 + j, a, b))
    items.append('breakdown step %d' % k if k else 'breakdown ' + attribution)
    return {'id': cid, 'n': n, 'optional': optional, 'excl': excl, 'order': order,
            'attribution': attribution, 'k': k, 'window': rnd.choice([0, 1, 2, 3, 5, 8, 100]),
            'mode': ', '.join(items)}


def breakdown_reference(cfg, rows):
    """{value: level} of one entity (rows: (ts, pos, value)), from PostHog's
    query transcribed, restricted as doc/product_funnels.md says: '' is
    PostHog's NULL for step and all_events attribution (the data have no
    empty strings), and under step attribution an entity with a step-K row
    of a value is not also counted under '' (no value)."""
    events = []
    for uuid, (ts, pos, val) in enumerate(sorted(rows, key=lambda r: r[0])):
        if pos <= cfg['n']:
            steps = [pos - 1] if cfg['order'] == 'unordered' else [pos]
        else:
            a, b = cfg['excl'][pos - cfg['n'] - 1]
            steps = ph.exclusion_steps(a, b)
        events.append({'timestamp': float(ts), 'uuid': uuid, 'prop': val, 'steps': steps})
    att = cfg['attribution'] if cfg['attribution'] != 'step' else 'step_%d' % (cfg['k'] - 1)
    res = ph.breakdown(events, cfg['n'], cfg['window'], att, cfg['optional'], cfg['order'])
    out = {}
    for v, s in res.items():
        if v == '':
            v = None
            if cfg['attribution'] == 'step':
                kvals = [val for ts, pos, val in rows if pos == cfg['k']]
                if kvals and None not in kvals:
                    continue
        out[v] = s + 1
    return out


def breakdown_check(rnd, n_entities):
    """funnel_breakdown against PostHog's breakdown attribution (the query's
    prop_vals and the UDF's walk per value), every input form, serial,
    parallel and spilling.  Returns (passed, failed)."""
    import json
    configs = [breakdown_config(rnd, c) for c in range(60)]
    ents = []
    for e in range(n_entities):
        cfg = configs[e % len(configs)]
        rows = [(1000 + 2 * rnd.randint(0, 8), rnd.randint(1, cfg['n']), rnd.choice(BREAKDOWN_VALUES))
                for _ in range(rnd.randint(0, 10))]
        if cfg['excl']:
            for o in rnd.sample(range(0, 9), rnd.randint(0, 3)):
                rows.append((1000 + 2 * o + 1, cfg['n'] + 1, rnd.choice(BREAKDOWN_VALUES)))
        rnd.shuffle(rows)
        ents.append((e, cfg, rows))
    sql = ["SET client_min_messages = warning;",
           "CREATE TEMP TABLE bc(cfg int, w int, mode text, names text[]);",
           "CREATE TEMP TABLE bd(cfg int, e int, ts int, pos int, ev text, conds boolean[], val text);"]
    vals = []
    for cfg in configs:
        names = ['s%d' % k for k in range(1, cfg['n'] + 1)] + ['x%d' % j for j in range(1, len(cfg['excl']) + 1)]
        vals.append("(%d,%d,'%s','{%s}')" % (cfg['id'], cfg['window'], cfg['mode'], ','.join(names)))
    sql.append("INSERT INTO bc VALUES " + ",".join(vals) + ";")
    vals = []
    for e, cfg, rows in ents:
        npos = cfg['n'] + len(cfg['excl'])
        for ts, pos, val in rows:
            name = 's%d' % pos if pos <= cfg['n'] else 'x%d' % (pos - cfg['n'])
            conds = ','.join('t' if k == pos else 'f' for k in range(1, npos + 1))
            vals.append("(%d,%d,%d,%d,'%s','{%s}',%s)" % (cfg['id'], e, ts, pos, name, conds,
                                                          'NULL' if val is None else "'%s'" % val))
    for i in range(0, len(vals), 1000):
        sql.append("INSERT INTO bd VALUES " + ",".join(vals[i:i + 1000]) + ";")
    sql.append("ANALYZE bc; ANALYZE bd;")
    sql.append("\\pset format unaligned\n\\pset tuples_only on")
    forms = {
        'names': "d.val, to_timestamp(d.ts), d.ev, c.names",
        'conditions': "d.val, to_timestamp(d.ts), VARIADIC d.conds",
        'funnel_event': "d.val, funnel_event(to_timestamp(d.ts), d.pos)",
    }
    q = ("SELECT '%s', c.cfg, funnel_breakdown(make_interval(secs => c.w), c.mode, d.e, %s) "
         "FROM bd d JOIN bc c USING (cfg) GROUP BY c.cfg ORDER BY c.cfg;")
    for form, args in forms.items():
        sql.append(q % ('serial/' + form, args))
    sql.append("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
               " SET max_parallel_workers_per_gather = 2; SET enable_hashagg = off;")
    sql.append(q % ('parallel/names', forms['names']))
    sql.append("RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;"
               " SET funnel.max_state_memory = '64kB';")
    sql.append(q % ('spilling/names', forms['names']))
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], input="\n".join(sql),
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        print("FAILED: funnel_breakdown could not be run")
        return 0, 1
    got = {}
    for line in p.stdout.splitlines():
        tag, cid, js = line.split('|', 2)
        got[(tag, int(cid))] = json.loads(js)
    want = {}
    for cfg in configs:
        levels = {}
        top = 0
        for e, c, rows in ents:
            if c is not cfg:
                continue
            top = max([top] + [pos for ts, pos, val in rows if pos <= cfg['n']])
            for v, l in breakdown_reference(cfg, rows).items():
                levels.setdefault(v, []).append(l)
        m = cfg['n'] - len(cfg['optional'])
        m_open = top - sum(1 for k in cfg['optional'] if k <= top)

        def table(m):
            t = {v: [sum(1 for l in ls if l >= k) for k in range(1, m + 1)] for v, ls in levels.items()}
            t = {v: c for v, c in t.items() if c and c[0] > 0}
            order = sorted(t, key=lambda v: ([-x for x in reversed(t[v])], v is None, (v or '').encode()))
            return [{'value': v, 'entities': t[v]} for v in order]
        want[cfg['id']] = (table(m), table(m_open))
    passed = failed = 0
    for tag in ['serial/names', 'serial/conditions', 'serial/funnel_event', 'parallel/names', 'spilling/names']:
        bad = 0
        for cfg in configs:
            exp = want[cfg['id']][1 if tag.endswith('funnel_event') else 0]
            have = got.get((tag, cfg['id']))
            have_values = have['values'] if have else None
            if have_values != exp:
                bad += 1
                if bad <= 3:
                    print("MISMATCH funnel_breakdown %s mode=%r window=%d want=%s got=%s"
                          % (tag, cfg['mode'], cfg['window'], exp, have_values))
        print("%s: funnel_breakdown, %s: %d funnels (%d entities), %d differ"
              % ("ok" if bad == 0 else "FAILED", tag, len(configs), len(ents), bad))
        if bad:
            failed += 1
        else:
            passed += 1
    return passed, failed


main()
