#!/usr/bin/env python3
"""Measure and report for bench/run.sh (which sets up the cluster, the data
and ClickHouse first; the connection comes from PGHOST/PGPORT/PGDATABASE).

Every query runs --runs times, round-robin over all queries (so a change of
load on the machine hits them all alike); the report gives the median.
Every answer is checked against the others; any disagreement fails the run.
"""
import argparse
import datetime
import glob
import os
import platform
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

STEPS = "event = 'visit', event = 'product_view', event = 'add_to_cart', event = 'purchase'"
# the same conditions in a form the planner leaves to PostgreSQL (not
# equalities; funnel.equalities_as_names plans STEPS as the event-name form)
STEPS_EVAL = ("(event = 'visit') IS TRUE, (event = 'product_view') IS TRUE, "
              "(event = 'add_to_cart') IS TRUE, (event = 'purchase') IS TRUE")
NAMES = "event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']"
# the product funnel of doc/product_funnels.md: the same four steps with
# add_to_cart optional, "other" excluded between product_view and purchase
# and "checkout" between visit and product_view (the exclusion rows become
# rows the walk reads)
PF_MODE = "optional 3, exclude 5 from 2 to 4, exclude 6 from 1 to 2"
PF_NAMES = "event, ARRAY['visit', 'product_view', 'add_to_cart', 'purchase', 'other', 'checkout']"
# funnel_breakdown's per-value counts summed step by step (as funnel_stage_counts prints them)
BREAKDOWN_SUMMED = ("SELECT '{' || string_agg(s::text, ',' ORDER BY k) || '}' FROM ("
                    "SELECT c.k, sum(c.n::bigint) AS s FROM jsonb_array_elements((SELECT funnel_breakdown("
                    "'7 days', '%s', user_id, channel, ts, %s) FROM events) -> 'values') v, "
                    "jsonb_array_elements_text(v -> 'entities') WITH ORDINALITY c(n, k) GROUP BY c.k) t")
# events has one index, (user_id, event, ts), for the plain-SQL funnel only:
# every other query reads the time-ordered heap, as it would without it
NOINDEX = ["SET enable_indexscan = off", "SET enable_indexonlyscan = off", "SET enable_bitmapscan = off"]
SERIAL = NOINDEX + ["SET max_parallel_workers_per_gather = 0"]
PAR2_INDEX = ["SET max_parallel_workers_per_gather = 2",
              "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
              "SET min_parallel_table_scan_size = 0"]
# 2 workers and a leader that only gathers: on 2 cores a leader that also
# scans delays its merge of the workers' states (about 1.6 x slower here)
PAR2 = NOINDEX + ["SET max_parallel_workers_per_gather = 2", "SET parallel_leader_participation = off",
        "SET parallel_setup_cost = 0", "SET parallel_tuple_cost = 0",
        "SET min_parallel_table_scan_size = 0"]
PARTWISE = PAR2 + ["SET enable_partitionwise_aggregate = on",
                   "SET enable_partitionwise_join = on"]


class Case:
    def __init__(self, key, label, sql, settings=SERIAL, kind="pg", answer="stages",
                 runs=None, rows_table="events"):
        self.key, self.label, self.sql, self.settings = key, label, sql, settings
        self.kind, self.answer, self.runs_max = kind, answer, runs
        self.rows_table = rows_table
        self.times = []
        self.result = None
        self.peak_mb = None     # peak private memory of the backend and its workers


def psql(script, app="bench"):
    env = dict(os.environ, PGAPPNAME=app, PGOPTIONS="-c search_path=data,public")
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=script,
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("psql failed:\n%s\n%s" % (script, p.stderr))
    return p.stdout


class PeakMemory(threading.Thread):
    """Peak private memory (RssAnon) of one backend plus its parallel
    workers, sampled from /proc every 10 ms while its query runs.  The
    backend writes its pid to pidfile first (psql's \\g); the workers are the
    postmaster's children titled "parallel worker for PID <pid>".  Includes
    the backend's idle few MB; shared memory (shared_buffers) is not counted."""

    def __init__(self, pidfile):
        super().__init__(daemon=True)
        self.pidfile = pidfile
        self.done = threading.Event()
        self.peak_kb = None
        self.kind = {}          # pid -> is a worker of our backend

    def workers(self, pid, ppid):
        try:
            with open("/proc/%d/task/%d/children" % (ppid, ppid)) as f:
                kids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []
        out = []
        for k in kids:
            if k not in self.kind:
                try:
                    with open("/proc/%d/cmdline" % k, "rb") as f:
                        title = f.read().decode("utf-8", "replace")
                except OSError:
                    title = ""
                self.kind[k] = ("parallel worker for PID %d" % pid) in title
            if self.kind[k]:
                out.append(k)
        return out

    def run(self):
        pid = None
        while pid is None and not self.done.is_set():
            try:
                with open(self.pidfile) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.002)
        if pid is None:
            return
        ppid = None
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pass
        tick = 0
        ws = []
        while not self.done.is_set():
            if ppid is not None and tick % 5 == 0:
                ws = self.workers(pid, ppid)
            total = 0
            for q in [pid] + ws:
                v = rss_anon_kb(q)
                if v is not None:
                    total += v
            self.peak_kb = total if self.peak_kb is None else max(self.peak_kb, total)
            tick += 1
            time.sleep(0.01)


def transparent_huge_pages():
    """The kernel's THP mode (the entity store asks for huge pages: doc/scaling.md)."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            m = re.search(r"\[(\w+)\]", f.read())
        return m.group(1) if m else "unknown"
    except OSError:
        return "n/a"


def machine_identity():
    """CPU model, cache sizes and boot time: which machine a report came from.
    A virtual machine of the same cores and memory can sit on another host
    between runs, and the ratios move with it (doc/performance.md, round 19)."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            info = dict(re.findall(r"^(model name|cpu family|model|stepping|cpu MHz)\s*:\s*(.+)$",
                                   f.read().split("\n\n")[0], re.M))
        # a guest's model name can be generic: the numbers tell hosts apart
        model = "%s, family %s model %s stepping %s, %s MHz" % (
            info.get("model name", "unknown CPU"), info.get("cpu family", "?"), info.get("model", "?"),
            info.get("stepping", "?"), info.get("cpu MHz", "?").split(".")[0])
    except OSError:
        pass
    caches = []
    for d in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(d + "/level") as f:
                level = f.read().strip()
            with open(d + "/type") as f:
                kind = f.read().strip()
            with open(d + "/size") as f:
                size = f.read().strip()
        except OSError:
            continue
        if kind != "Instruction":
            caches.append("L%s %s" % (level, size))
    booted = "unknown"
    try:
        with open("/proc/stat") as f:
            m = re.search(r"^btime (\d+)$", f.read(), re.M)
            if m:
                booted = datetime.datetime.fromtimestamp(int(m.group(1)), datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M UTC")
    except OSError:
        pass
    return "%s (caches %s), booted %s" % (model, ", ".join(caches) or "unknown", booted)


def run_pg(case):
    fd, pidfile = tempfile.mkstemp(prefix="bench-pid-")
    os.close(fd)
    os.unlink(pidfile)
    script = "".join(s + ";\n" for s in case.settings) + \
        "SELECT pg_backend_pid() \\g %s\n" % pidfile + "\\timing on\n" + case.sql + ";\n"
    sampler = PeakMemory(pidfile)
    sampler.start()
    try:
        out = psql(script)
    finally:
        sampler.done.set()
        sampler.join()
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    if sampler.peak_kb is not None:
        mb = sampler.peak_kb / 1024.0
        case.peak_mb = mb if case.peak_mb is None else max(case.peak_mb, mb)
    ms = None
    rows = []
    for line in out.splitlines():
        m = re.match(r"^Time: ([0-9.]+) ms", line)
        if m:
            ms = float(m.group(1))
        elif line.strip():
            rows.append(line)
    if ms is None:
        sys.exit("no timing in psql output for %s" % case.key)
    return rows, ms


CH_PORT = None


def run_ch(case):
    threads = "1" if case.key == "ch1" else "2"
    p = subprocess.run(["clickhouse-client", "--host", "127.0.0.1", "--port", str(CH_PORT),
                        "--time", "--max_threads", threads, "--query", case.sql],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("clickhouse-client failed:\n%s\n%s" % (case.sql, p.stderr))
    secs = float(p.stderr.strip().splitlines()[-1])
    return p.stdout.strip().splitlines(), secs * 1000.0


def stages_of(case, rows):
    """Normalise a funnel answer to the cumulative counts of the 4 steps."""
    if case.kind == "ch" or case.answer == "histogram":
        at = [0] * 5
        for r in rows:
            lvl, n = r.split("\t") if "\t" in r else r.split("|")
            at[int(lvl)] += int(n)
        return tuple(sum(at[k:]) for k in range(1, 5))
    if case.answer == "stages":
        return tuple(int(x) for x in rows[0].strip("{}").split(","))
    if case.answer == "channels":
        return {r.split("|")[0]: tuple(int(x) for x in r.split("|")[1].strip("{}").split(","))
                for r in rows}
    return tuple(rows)


def cases_for(args):
    ev = "events"
    two_level = ("SELECT funnel_stage_counts(level, 4) FROM (SELECT window_funnel('7 days', ts, %s) AS level "
                 "FROM %%s GROUP BY user_id) s" % STEPS)
    plain = """
WITH v AS (SELECT user_id, ts FROM events WHERE event = 'visit'),
per_visit AS (
  SELECT v.user_id,
         1 + (pv.ts IS NOT NULL)::int + (ac.ts IS NOT NULL)::int + (pu.ts IS NOT NULL)::int AS level
  FROM v
  CROSS JOIN LATERAL (SELECT min(e.ts) AS ts FROM events e WHERE e.user_id = v.user_id
         AND e.event = 'product_view' AND e.ts > v.ts AND e.ts <= v.ts + interval '7 days') pv
  CROSS JOIN LATERAL (SELECT min(e.ts) AS ts FROM events e WHERE e.user_id = v.user_id
         AND e.event = 'add_to_cart' AND e.ts > pv.ts AND e.ts <= v.ts + interval '7 days') ac
  CROSS JOIN LATERAL (SELECT min(e.ts) AS ts FROM events e WHERE e.user_id = v.user_id
         AND e.event = 'purchase' AND e.ts > ac.ts AND e.ts <= v.ts + interval '7 days') pu
),
per_user AS (SELECT user_id, max(level) AS level FROM per_visit GROUP BY user_id)
SELECT ARRAY[count(*), count(*) FILTER (WHERE level >= 2),
             count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)]
FROM per_user"""
    cs = [
        Case("count", "count(*)", "SELECT count(*) FROM events", answer="count"),
        Case("filters", "count(*) FILTER (4 step conditions)",
             "SELECT count(*) FILTER (WHERE event = 'visit'), count(*) FILTER (WHERE event = 'product_view'), "
             "count(*) FILTER (WHERE event = 'add_to_cart'), count(*) FILTER (WHERE event = 'purchase') FROM events",
             answer="filters"),
        Case("groupby", "GROUP BY user_id, count(*)",
             "SELECT count(*), sum(n) FROM (SELECT user_id, count(*) AS n FROM events GROUP BY user_id) s",
             answer="groupby"),
        Case("noop_bools", "no-op aggregate, same arguments (conditions)",
             "SELECT funnel_noop('7 days'::interval, user_id, ts, %s) FROM events" % STEPS, answer="count"),
        Case("noop_names", "no-op aggregate, same arguments (event names)",
             "SELECT funnel_noop('7 days'::interval, user_id, ts, %s) FROM events" % NAMES, answer="count"),
        Case("fsc_bools", "funnel_stage_counts, conditions, serial",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events" % STEPS),
        Case("fsc_bools_eval", "funnel_stage_counts, conditions PostgreSQL evaluates, serial",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events" % STEPS_EVAL),
        Case("fsc_names", "funnel_stage_counts, event names, serial",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events" % NAMES),
        Case("fsc_bools_p2", "funnel_stage_counts, conditions, 2 workers",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events" % STEPS, settings=PAR2),
        Case("fsc_names_p2", "funnel_stage_counts, event names, 2 workers",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events" % NAMES, settings=PAR2),
        Case("wf_groupby", "window_funnel GROUP BY user_id + histogram, serial", two_level % ev),
        Case("wf_groupby_p2", "window_funnel GROUP BY user_id + histogram, 2 workers", two_level % ev,
             settings=PAR2),
        Case("fsc_channel", "funnel_stage_counts GROUP BY channel, serial",
             "SELECT channel, funnel_stage_counts('7 days', user_id, ts, %s) FROM events GROUP BY channel "
             "ORDER BY channel" % STEPS, answer="channels"),
        Case("fsc_hp", "funnel_stage_counts, hash-partitioned by user, partitionwise, 2 workers",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events_hp" % STEPS, settings=PARTWISE),
        Case("wf_hp", "window_funnel GROUP BY user_id + histogram, hash-partitioned by user, partitionwise, serial",
             two_level % "events_hp", settings=SERIAL + ["SET enable_partitionwise_aggregate = on"]),
        Case("wf_hp_p2", "window_funnel GROUP BY user_id + histogram, hash-partitioned by user, partitionwise, "
             "2 workers", two_level % "events_hp", settings=PARTWISE),
        Case("fsc_hp_serial", "funnel_stage_counts, hash-partitioned by user, serial",
             "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events_hp" % STEPS),
        Case("pf_names", "funnel_stage_counts, 2 exclusions and an optional step, event names, serial",
             "SELECT funnel_stage_counts('7 days', '%s', user_id, ts, %s) FROM events" % (PF_MODE, PF_NAMES)),
        Case("pf_names_p2", "funnel_stage_counts, 2 exclusions and an optional step, event names, 2 workers",
             "SELECT funnel_stage_counts('7 days', '%s', user_id, ts, %s) FROM events" % (PF_MODE, PF_NAMES),
             settings=PAR2),
        Case("trend_day", "funnel_trends, 30 days by day (Europe/Paris), event names, serial",
             "SELECT funnel_trends('7 days', 'bucket day, time_zone Europe/Paris', user_id, ts, %s) FROM events" % NAMES,
             answer="raw"),
        Case("trend_day_journeys", "funnel_trends, 30 days by day (Europe/Paris), from materialized journeys, serial",
             "SELECT funnel_trends('7 days', 'bucket day, time_zone Europe/Paris', journey) FROM user_journeys",
             answer="raw", rows_table="user_journeys"),
        # the per-channel counts of first_touch add up to the whole funnel:
        # summed, the answer is checked against the plain funnel's
        Case("bd_channel", "funnel_breakdown by channel (first_touch), event names, serial",
             BREAKDOWN_SUMMED % ("breakdown first_touch", NAMES)),
        Case("bd_channel_p2", "funnel_breakdown by channel (first_touch), event names, 2 workers",
             BREAKDOWN_SUMMED % ("breakdown first_touch", NAMES), settings=PAR2),
        Case("bd_step4", "funnel_breakdown by channel (step 4: the purchase's channel), event names, serial",
             "SELECT funnel_breakdown('7 days', 'breakdown step 4', user_id, channel, ts, %s) FROM events" % NAMES,
             answer="raw"),
        Case("ao_names", "funnel_stage_counts, any order, event names, serial",
             "SELECT funnel_stage_counts('7 days', 'any_order', user_id, ts, %s) FROM events" % NAMES),
        Case("journeys", "from materialized journeys (funnel_event[] per user), serial",
             "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM user_journeys",
             rows_table="user_journeys"),
        Case("journeys_p2", "from materialized journeys (funnel_event[] per user), 2 workers",
             "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM user_journeys",
             settings=PAR2, rows_table="user_journeys"),
    ]
    # paths and correlation analysis (doc/paths.md, doc/correlation.md)
    funnel_names = "ARRAY['visit', 'product_view', 'add_to_cart', 'purchase']"
    cs += [
        Case("paths_d5", "paths from the first event, depth 5, top 20, serial",
             "SELECT paths(user_id, ts, event, NULL, NULL, 5, 20) FROM events", answer="json"),
        Case("paths_cart_d5", "paths after add_to_cart, depth 5, top 20, serial",
             "SELECT paths(user_id, ts, event, 'add_to_cart', NULL, 5, 20) FROM events", answer="json"),
        Case("paths_d5_p2", "paths from the first event, depth 5, top 20, 2 workers",
             "SELECT paths(user_id, ts, event, NULL, NULL, 5, 20) FROM events", settings=PAR2, answer="json"),
        Case("corr", "funnel_correlation over all event names, serial",
             "SELECT funnel_correlation('7 days', user_id, ts, event, %s) FROM events" % funnel_names,
             answer="json"),
        Case("corr_channel", "funnel_correlation, event names and channel values, serial",
             "SELECT funnel_correlation('7 days', '', user_id, ts, event, %s, NULL, channel) FROM events"
             % funnel_names, answer="json"),
        Case("corr_p2", "funnel_correlation over all event names, 2 workers",
             "SELECT funnel_correlation('7 days', user_id, ts, event, %s) FROM events" % funnel_names,
             settings=PAR2, answer="json"),
    ]
    # sessions and sequence functions (doc/sessions.md, doc/sequences.md)
    win = "WINDOW w AS (PARTITION BY user_id ORDER BY ts)"
    cs += [
        Case("lag", "lag(ts) OVER (PARTITION BY user_id ORDER BY ts), serial",
             "SELECT count(*), count(p) FROM (SELECT lag(ts) OVER w AS p FROM events %s) s" % win, answer="raw"),
        Case("sessions", "session_number(ts) OVER (PARTITION BY user_id ORDER BY ts), serial",
             "SELECT count(*), max(s) FROM (SELECT session_number(ts) OVER w AS s FROM events %s) s" % win,
             answer="raw"),
        Case("seq_match", "sequence_match('(?1).*(?2).*(?3).*(?4)') GROUP BY user_id, serial",
             "SELECT count(*) FILTER (WHERE m) FROM (SELECT sequence_match('(?1).*(?2).*(?3).*(?4)', ts, %s) AS m "
             "FROM events GROUP BY user_id) s" % STEPS, answer="raw"),
        Case("seq_count", "sequence_count('(?1)(?t<=3600)(?2)') GROUP BY user_id, serial",
             "SELECT sum(c) FROM (SELECT sequence_count('(?1)(?t<=3600)(?2)', ts, event = 'product_view', "
             "event = 'add_to_cart') AS c FROM events GROUP BY user_id) s", answer="raw"),
        Case("next_node", "sequence_next_node('forward', 'first_match') GROUP BY user_id, serial",
             "SELECT count(v) FROM (SELECT sequence_next_node('forward', 'first_match', ts, event, true, "
             "event = 'add_to_cart') AS v FROM events GROUP BY user_id) s", answer="raw"),
        # a whole-table aggregate per user: one entity store per group (the
        # per-user shapes of doc/citus.md); 20,000 users at every size, since
        # it measures the cost per group, not per row
        Case("fsc_per_user", "funnel_stage_counts GROUP BY user_id (20,000 users: a store per group), serial",
             "SELECT count(*), sum(c[1]), sum(c[2]), sum(c[4]) FROM (SELECT user_id, "
             "funnel_stage_counts('7 days', user_id, ts, %s) AS c FROM events WHERE user_id <= 20000 "
             "GROUP BY user_id) s" % NAMES, answer="raw"),
    ]
    if args.clickhouse_port:
        cs += [
            Case("ch_seq_match", "ClickHouse sequenceMatch per user (2 threads)",
                 "SELECT countIf(m) FROM (SELECT user_id, sequenceMatch('(?1).*(?2).*(?3).*(?4)')(ts, %s) AS m "
                 "FROM events GROUP BY user_id)" % STEPS, kind="ch", answer="raw"),
            Case("ch_seq_count", "ClickHouse sequenceCount per user (2 threads)",
                 "SELECT sum(c) FROM (SELECT user_id, sequenceCount('(?1)(?t<=3600)(?2)')(ts, "
                 "event = 'product_view', event = 'add_to_cart') AS c FROM events GROUP BY user_id)",
                 kind="ch", answer="raw"),
        ]
    if args.journeys:
        # the journeys journey_refresh keeps current (bench/run.sh)
        cs += [
            Case("kept", "journeys kept by journey_refresh, window_funnel levels, serial",
                 "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM kept_journeys",
                 rows_table="kept_journeys"),
            Case("kept_p2", "journeys kept by journey_refresh, window_funnel levels, 2 workers",
                 "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM kept_journeys",
                 settings=PAR2, rows_table="kept_journeys"),
            Case("kept_summary", "journeys kept by journey_refresh, funnel_summary, serial",
                 "SELECT funnel_stage_counts(funnel_summary('7 days', journey)) FROM kept_journeys",
                 rows_table="kept_journeys"),
            Case("kept_floor", "the same journeys, detoast and count events only (floor), serial",
                 "SELECT sum(array_length(journey, 1)) FROM kept_journeys",
                 answer="count", rows_table="kept_journeys"),
            Case("kept_cj", "the same journeys as the journey type, window_funnel levels, serial",
                 "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM kept_journeys_cj",
                 rows_table="kept_journeys"),
            Case("kept_cj_p2", "the same journeys as the journey type, window_funnel levels, 2 workers",
                 "SELECT funnel_stage_counts(window_funnel('7 days', journey), 4) FROM kept_journeys_cj",
                 settings=PAR2, rows_table="kept_journeys"),
            Case("kept_cj_summary", "the same journeys as the journey type, funnel_summary, serial",
                 "SELECT funnel_stage_counts(funnel_summary('7 days', journey)) FROM kept_journeys_cj",
                 rows_table="kept_journeys"),
            Case("kept_cj_floor", "the same journeys as the journey type, read and count events only (floor), serial",
                 "SELECT sum(event_count(journey)) FROM kept_journeys_cj",
                 answer="count", rows_table="kept_journeys"),
        ]
    if args.size != "1M":
        cs.append(Case("fsc_1m", "funnel_stage_counts, conditions, serial, 1M events",
                       "SELECT funnel_stage_counts('7 days', user_id, ts, %s) FROM events_1m" % STEPS,
                       rows_table="events_1m"))
    if not args.no_plain_sql:
        cs.append(Case("plain", "plain SQL (LATERAL joins, index on (user_id, event, ts)), 2 workers allowed",
                       plain, settings=PAR2_INDEX,
                       runs=3))
    if args.clickhouse_port:
        cs.append(Case("ch", "ClickHouse windowFunnel per user + histogram (2 threads)",
                       "SELECT level, count() FROM (SELECT user_id, windowFunnel(604800)(ts, %s) AS level "
                       "FROM events GROUP BY user_id) GROUP BY level ORDER BY level" % STEPS, kind="ch"))
        cs.append(Case("ch1", "ClickHouse windowFunnel per user + histogram (1 thread)",
                       "SELECT level, count() FROM (SELECT user_id, windowFunnel(604800)(ts, %s) AS level "
                       "FROM events GROUP BY user_id) GROUP BY level ORDER BY level" % STEPS, kind="ch"))
    return cs


def select_cases(cases, only):
    """The cases whose key or label matches the regular expression only."""
    if not only:
        return cases
    rx = re.compile(only)
    return [c for c in cases if rx.search(c.key) or rx.search(c.label)]


def measure(case):
    rows, ms = run_ch(case) if case.kind == "ch" else run_pg(case)
    ans = stages_of(case, rows) if case.answer in ("stages", "channels", "histogram") or \
        (case.kind == "ch" and case.answer != "raw") else tuple(r.replace("\t", "|") for r in rows)
    if case.result is not None and case.result != ans:
        sys.exit("%s gave different answers in two runs: %r and %r" % (case.key, case.result, ans))
    case.result = ans
    return ms


def window_scaling():
    """The window-function scaling check of bench/window_scaling.sh, in this
    run: window_funnel(...) OVER (PARTITION BY user_id ORDER BY ts) over one
    entity of 10k and of 100k events; linear is about 10 x, quadratic 100 x."""
    out = {}
    for n in (10000, 100000):
        c = Case("win%d" % n, "", "SELECT max(l), count(*) FROM (SELECT window_funnel('7 days', ts, %s) "
                 "OVER (PARTITION BY user_id ORDER BY ts) AS l FROM (SELECT * FROM one_user ORDER BY ts "
                 "LIMIT %d) e) s" % (STEPS, n), answer="raw")
        ts = []
        for _ in range(3):
            rows, ms = run_pg(c)
            ts.append(ms)
        out[n] = (min(ts), rows[0])
    return out


def rss_anon_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_memory(sql):
    """Peak private (anonymous) memory of the backend running sql, sampled
    every 5 ms from /proc, above the backend's idle size."""
    env = dict(os.environ, PGAPPNAME="bench_memory", PGOPTIONS="-c search_path=data,public")
    script = "".join(s + ";\n" for s in SERIAL) + "SELECT pg_sleep(1);\n" + sql + ";\n"
    p = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    p.stdin.write(script)
    p.stdin.close()
    pid = None
    for _ in range(100):
        out = psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_memory'", app="bench_probe")
        if out.strip():
            pid = int(out.split()[0])
            break
        time.sleep(0.01)
    if pid is None:
        p.wait()
        return None
    base = rss_anon_kb(pid)
    peak = base
    while p.poll() is None:
        v = rss_anon_kb(pid)
        if v is not None and peak is not None:
            peak = max(peak, v)
        time.sleep(0.005)
    if p.returncode != 0:
        sys.exit("memory query failed: " + p.stderr.read())
    if base is None or peak is None:
        return None
    return (peak - base) / 1024.0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_ticks():
    """(busy, stolen) clock ticks of all CPUs so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    v += [0] * (8 - len(v))
    # user nice system idle iowait irq softirq steal
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7]


def memory_probe():
    """bench/probe/memory_probe.c's line (one core's sequential read,
    dependent-load latency and multiply-add speed), built in a temporary
    directory: it tells a run in one of this host's slow phases from a quiet
    one.  None without a C compiler."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe", "memory_probe.c")
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as d:
        exe = os.path.join(d, "memory_probe")
        try:
            subprocess.run(["cc", "-O2", "-o", exe, src], check=True, capture_output=True)
            return subprocess.run([exe], check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None


def stolen_share(start, end):
    """Of the CPU time this machine ran or wanted between two cpu_ticks(),
    the share the host gave to others (a virtual machine's steal time)."""
    busy, steal = end[0] - start[0], end[1] - start[1]
    return 100.0 * steal / (busy + steal) if busy + steal > 0 else 0.0


def main():
    global CH_PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", default="10M")
    ap.add_argument("--clickhouse-port", type=int)
    ap.add_argument("--no-plain-sql", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--journeys", help="results of bench/run.sh's journey refresh (key|value lines)")
    ap.add_argument("--only", help="run only the cases whose key or label matches this regular expression "
                    "(and skip the checks and extra measurements that need other cases)")
    ap.add_argument("--list", action="store_true", help="print the keys of the selected cases and stop")
    args = ap.parse_args()
    CH_PORT = args.clickhouse_port
    if args.list:
        for c in select_cases(cases_for(args), args.only):
            print(c.key)
        return

    jr = {}
    if args.journeys and os.path.exists(args.journeys):
        with open(args.journeys) as f:
            for line in f:
                if "|" in line:
                    k, v = line.strip().split("|", 1)
                    if "|" in v:
                        jr[k] = [int(float(x)) for x in v.split("|")]
                    else:
                        jr[k] = int(float(v))
    load_start = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    cases = select_cases(cases_for(args), args.only)
    if not cases:
        sys.exit("--only %r selects no case (see --list)" % args.only)
    nrows = {}
    for t in ("events", "events_1m", "user_journeys", "kept_journeys"):
        out = psql("SELECT count(*) FROM pg_class WHERE oid = to_regclass('data.%s')" % t)
        if out.strip() == "1":
            nrows[t] = int(psql("SELECT count(*) FROM data.%s" % t).strip())
    users = int(psql("SELECT count(DISTINCT user_id) FROM events").strip())
    probe_start = memory_probe()
    ticks_start = cpu_ticks()  # the warm-up and timed runs

    # warm-up round (untimed), then round-robin timed runs
    for c in cases:
        if c.key != "plain":
            print("warm-up %-16s" % c.key, file=sys.stderr, flush=True)
            measure(c)
    for r in range(args.runs):
        for c in cases:
            if c.runs_max is not None and r >= c.runs_max:
                continue
            ms = measure(c)
            c.times.append(ms)
            print("run %d %-16s %10.1f ms" % (r + 1, c.key, ms), file=sys.stderr, flush=True)
    load_end = loadavg()
    stolen = stolen_share(ticks_start, cpu_ticks())
    probe_end = memory_probe()

    by = {c.key: c for c in cases}
    med = {c.key: statistics.median(c.times) for c in cases}

    # ---------- answers must agree ----------
    failures = []
    for a, b in (("paths_d5", "paths_d5_p2"), ("corr", "corr_p2")):
        if a in by and b in by and by[a].result != by[b].result:
            failures.append("%s answered %r, %s %r" % (b, by[b].result, a, by[a].result))
    # the reference: funnel_stage_counts with conditions, or (--only) the
    # first selected case with the same answer
    stage_keys = ("fsc_bools", "fsc_bools_eval", "fsc_names", "fsc_bools_p2", "fsc_names_p2", "wf_groupby", "wf_groupby_p2",
                  "fsc_hp", "fsc_hp_serial", "wf_hp", "wf_hp_p2", "journeys", "journeys_p2", "kept",
                  "kept_p2", "kept_summary", "kept_cj", "kept_cj_p2", "kept_cj_summary", "ch", "ch1", "plain",
                  "bd_channel", "bd_channel_p2")
    ref_key = next((k for k in stage_keys if k in by), None)
    ref = by[ref_key].result if ref_key else None
    for k in ("fsc_bools_eval", "fsc_names", "fsc_bools_p2", "fsc_names_p2", "wf_groupby", "wf_groupby_p2", "fsc_hp",
              "fsc_hp_serial", "wf_hp", "wf_hp_p2", "journeys", "journeys_p2", "kept", "kept_p2",
              "kept_summary", "kept_cj", "kept_cj_p2", "kept_cj_summary", "ch", "ch1", "plain",
              "bd_channel", "bd_channel_p2"):
        if k in by and by[k].result != ref:
            failures.append("%s answered %r, %s %r" % (k, by[k].result, ref_key, ref))
    n = nrows["events"]
    for k in ("count", "noop_bools", "noop_names"):
        if k in by and int(by[k].result[0]) != n:
            failures.append("%s counted %s rows, the table has %d" % (k, by[k].result[0], n))
    if "groupby" in by:
        gu, gn = by["groupby"].result[0].split("|")
        if int(gu) != users or int(gn) != n:
            failures.append("GROUP BY user_id gave %s users, %s rows" % (gu, gn))
    if "filters" in by and ref is not None:
        filt = [int(x) for x in by["filters"].result[0].split("|")]
        if filt[0] < ref[0]:
            failures.append("fewer visit rows (%d) than users at step 1 (%d)" % (filt[0], ref[0]))
    # channel breakdown against the two-level form per channel
    chk = "" if "fsc_channel" not in by else psql("SELECT channel, funnel_stage_counts(level, 4) FROM (SELECT channel, user_id, "
               "window_funnel('7 days', ts, %s) AS level FROM events GROUP BY channel, user_id) s "
               "GROUP BY channel ORDER BY channel" % STEPS)
    chk = {r.split("|")[0]: tuple(int(x) for x in r.split("|")[1].strip("{}").split(","))
           for r in chk.splitlines() if r}
    if "fsc_channel" in by and chk != by["fsc_channel"].result:
        failures.append("by channel: funnel_stage_counts %r, window_funnel %r" % (by["fsc_channel"].result, chk))
    if "fsc_1m" in by:
        chk = psql(("SELECT funnel_stage_counts(level, 4) FROM (SELECT window_funnel('7 days', ts, %s) "
                    "AS level FROM events_1m GROUP BY user_id) s") % STEPS).strip()
        chk = tuple(int(x) for x in chk.strip("{}").split(","))
        if chk != by["fsc_1m"].result:
            failures.append("1M events: funnel_stage_counts %r, window_funnel %r" % (by["fsc_1m"].result, chk))

    # the trend: every user who did step 1 entered one period or more; those who
    # reached the last step in the funnel converted in at least one
    if "trend_day" in by and ref is not None:
        tr = json.loads(by["trend_day"].result[0])
        entered = sum(p["entered"] for p in tr["periods"])
        if len(tr["periods"]) < 30 or entered < ref[0]:
            failures.append("trend: %d periods, %d entries for %d users at step 1" %
                            (len(tr["periods"]), entered, ref[0]))
    # the trend over the journeys is the trend over the rows
    if "trend_day" in by and "trend_day_journeys" in by and \
            json.loads(by["trend_day"].result[0]) != json.loads(by["trend_day_journeys"].result[0]):
        failures.append("trend: the journeys' trend differs from the rows'")
    # the product funnel: serial = parallel = the two-level form with the same options
    pf = [k for k in ("pf_names", "pf_names_p2") if k in by]
    chk = None if not pf else psql(("SELECT funnel_stage_counts(level, 3) FROM (SELECT window_funnel('7 days', '%s', ts, %s) "
                "AS level FROM events GROUP BY user_id) s") % (PF_MODE, PF_NAMES)).strip()
    chk = chk and tuple(int(x) for x in chk.strip("{}").split(","))
    for k in pf:
        if by[k].result != chk:
            failures.append("product funnel: %s answered %r, window_funnel %r" % (k, by[k].result, chk))
    # sessions: the number of sessions from session_number and from lag()
    if "sessions" in by:
        s1 = psql("SELECT sum(m) FROM (SELECT user_id, max(s) AS m FROM (SELECT user_id, session_number(ts) "
                  "OVER (PARTITION BY user_id ORDER BY ts) AS s FROM events) x GROUP BY user_id) y").strip()
        s2 = psql("SELECT count(*) FILTER (WHERE p IS NULL OR ts - p > interval '30 minutes') FROM (SELECT ts, "
                  "lag(ts) OVER (PARTITION BY user_id ORDER BY ts) AS p FROM events) x").strip()
        if s1 != s2:
            failures.append("sessions: session_number counts %s, lag() %s" % (s1, s2))
    for a, b in (("seq_match", "ch_seq_match"), ("seq_count", "ch_seq_count")):
        if a in by and b in by and by[a].result != by[b].result:
            failures.append("%s answered %r, %s %r" % (a, by[a].result, b, by[b].result))

    win = None
    mem = None
    if not args.only:
        print("window-function scaling check ...", file=sys.stderr, flush=True)
        win = window_scaling()
        for nn, (_, r) in win.items():
            if r.split("|")[0] != "4" or int(r.split("|")[1]) != nn:
                failures.append("window_funnel OVER on %d rows answered %s" % (nn, r))
        print("memory ...", file=sys.stderr, flush=True)
        mem = peak_memory(by["fsc_bools"].sql)

    # ---------- report ----------
    def ratio(a, b):
        return med[a] / med[b] if a in med and b in med else None

    lines = []
    lines.append("funnel benchmark, %s, %d events of %d users (%s), %d run(s), median" %
                 (started.strftime("%Y-%m-%d %H:%M UTC"), n, users, args.size, args.runs))
    lines.append("machine: %d cores, %.0f GiB, %s, %s; PostgreSQL %s (huge_pages %s); transparent huge pages %s; "
                 "load average %s at start, %s at end; %.1f %% of the CPU time used during the runs "
                 "went to other guests of the host (steal time)" % (
                     os.cpu_count(), os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30,
                     platform.machine(), machine_identity(), psql("SHOW server_version").strip().split()[0],
                     psql("SHOW huge_pages").strip(), transparent_huge_pages(), load_start, load_end, stolen))
    if probe_start or probe_end:
        lines.append("memory probe (bench/probe/memory_probe.c, one core) before the runs: %s; after: %s" %
                     (probe_start or "n/a", probe_end or "n/a"))
    if "ch" in by:
        lines.append("ClickHouse %s" % subprocess.run(
            ["clickhouse-client", "--host", "127.0.0.1", "--port", str(CH_PORT), "--query", "SELECT version()"],
            capture_output=True, text=True).stdout.strip())
    lines.append("")
    has_ch = "ch" in med
    hdr = "| query | median ms | ns/row | × funnel_stage_counts | peak MB |" + (" × ClickHouse |" if has_ch else "")
    lines.append(hdr)
    lines.append("|---|---:|---:|---:|---:|" + ("---:|" if has_ch else ""))

    def fmt(v, f="%.2f"):
        return "n/a" if v is None else f % v
    for c in cases:
        m = med[c.key]
        rows = nrows.get(c.rows_table, n)
        cells = [c.label, "%.0f" % m, "%.0f" % (m * 1e6 / rows), fmt(ratio(c.key, "fsc_bools")),
                 fmt(c.peak_mb, "%.0f")]
        if has_ch:
            cells.append(fmt(ratio(c.key, "ch")))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("peak MB: the most private memory (RssAnon) the backend and its parallel workers held "
                 "together in any run of the case, sampled every 10 ms (ClickHouse: n/a)")
    if ref is not None:
        lines.append("answer (users reaching visit, product_view, add_to_cart, purchase within 7 days): %s" %
                     ", ".join(str(x) for x in ref))
    lines.append("answers compared: %s; %s" % (
        ", ".join(k for k in ("fsc_bools_eval", "fsc_names", "fsc_bools_p2", "fsc_names_p2", "wf_groupby", "wf_groupby_p2",
                              "fsc_hp", "fsc_hp_serial", "wf_hp", "wf_hp_p2", "journeys", "journeys_p2",
                              "kept", "kept_p2", "kept_summary", "kept_cj", "kept_cj_p2", "kept_cj_summary",
                              "plain", "ch", "ch1", "bd_channel", "bd_channel_p2") if k in by),
        "all agree" if not failures else "DISAGREEMENTS BELOW"))
    lines.append("plain SQL semantics: from each visit, the earliest product_view after it, the earliest "
                 "add_to_cart after that, the earliest purchase after that, all within 7 days of the visit "
                 "(strictly later: ts >); a user's level is the best over their visits.  This equals "
                 "window_funnel's default mode when no user has two events in one second (true for this "
                 "data); on equal times window_funnel orders entries by step, which ts > does not.")
    if "ch" in by:
        lines.append("ClickHouse: the same rows in a MergeTree table ORDER BY (user_id, ts), max_threads 2, "
                     "ts as DateTime (whole seconds: the data have no fractions)")
    w1, w4 = (win[10000][0], win[100000][0]) if win else (None, None)
    if win:
        lines.append("window function scaling (as bench/window_scaling.sh): window_funnel(...) OVER (PARTITION BY "
                 "user_id ORDER BY ts) over one entity: 10k rows %.1f ms, 100k rows %.1f ms (best of 3): "
                     "%.1f x for 10 x the rows (linear: about 10, quadratic: 100)" % (w1, w4, w4 / w1))
    if mem is not None:
        lines.append("memory: peak backend memory of funnel_stage_counts (serial) on %d events: %.0f MB"
                     % (n, mem))
    if jr:
        ev = jr["journey_events"]
        lines.append("")
        lines.append("journeys kept current (journey_refresh; the first 29 days built, then the last day "
                     "refreshed in):")
        lines.append("- build of 29 days: %d rows in %d ms" % (jr["build_rows"], jr["build_ms"]))
        lines.append("- refresh of the last day: %d rows (%.1f%% of the events) of %d users into %d journeys: "
                     "%d ms, %.1f MB of WAL (%.0f bytes per row folded; full_page_writes = off here), "
                     "table grew %.1f MB" % (
                         jr["refresh_rows"], 100.0 * jr["day_rows"] / n, jr["day_users"], jr["journeys"],
                         jr["refresh_ms"], jr["refresh_wal"] / 2 ** 20, jr["refresh_wal"] / max(jr["refresh_rows"], 1),
                         jr["refresh_growth"] / 2 ** 20))
        lines.append("- the same into journeys of the journey type: build %d ms, refresh %d ms, %.1f MB of WAL "
                     "(%.0f bytes per row folded)" % (
                         jr["cj_build_ms"], jr["cj_refresh_ms"], jr["cj_refresh_wal"] / 2 ** 20,
                         jr["cj_refresh_wal"] / max(jr["cj_refresh_rows"], 1)))
        lines.append("- size per journey event (%d events in %d journeys), funnel_event[] / journey type: "
                     "table %.1f / %.1f bytes (+ %.1f primary key), values alone %.1f / %.1f; written fresh "
                     "with pglz %.1f / %.1f, with lz4 %.1f / %.1f; the events table %.1f bytes per row" % (
                         ev, jr["journeys"], jr["table_bytes"] / ev, jr["cj_table_bytes"] / ev,
                         jr["index_bytes"] / ev, jr["datum_bytes"] / ev, jr["cj_datum_bytes"] / ev,
                         jr["pglz_table_bytes"] / ev, jr["cj_pglz_table_bytes"] / ev,
                         jr["lz4_table_bytes"] / ev, jr["cj_lz4_table_bytes"] / ev, jr["events_table_bytes"] / n))
        le, lb = jr["long_events"], jr["long_datum_bytes"]
        if le:
            lines.append("- the journeys of more than 100 events (%d events; TOAST compresses rows over 2 kB), values per event, "
                         "funnel_event[] plain / pglz / lz4: %.1f / %.1f / %.1f; journey type: %.1f / %.1f / %.1f"
                         % tuple([le] + [b / le for b in lb]))
        if jr["cj_same"] != jr["journeys"]:
            failures.append("%d of %d journeys of the journey type differ from the funnel_event[] ones"
                            % (jr["journeys"] - jr["cj_same"], jr["journeys"]))
        if "kept_cj_floor" in by and int(by["kept_cj_floor"].result[0]) != ev:
            failures.append("kept_cj_floor counted %s journey events, the journeys hold %d" % (by["kept_cj_floor"].result[0], ev))
        if "kept_floor" in by and int(by["kept_floor"].result[0]) != ev:
            failures.append("kept_floor counted %s journey events, the journeys hold %d" % (by["kept_floor"].result[0], ev))
    lines.append("")

    targets = []

    def target(name, value, ok, fmt):
        targets.append("| %s | %s | %s |" % (name, fmt % value if value is not None else "n/a",
                                             "n/a" if ok is None else ("met" if ok else "NOT MET")))

    def tv(a, b):
        r = ratio(a, b)
        return r

    r = tv("fsc_bools", "ch")
    target("funnel_stage_counts serial ≤ 1.5 × ClickHouse", r, None if r is None else r <= 1.5, "%.2f ×")
    r = tv("fsc_hp", "ch")
    target("partitioned by user, partitionwise, 2 workers < ClickHouse", r, None if r is None else r < 1.0,
           "%.2f ×")
    r = tv("wf_hp_p2", "ch")
    target("(same layout, two-level form: window_funnel GROUP BY user, partitionwise, 2 workers) < ClickHouse",
           r, None if r is None else r < 1.0, "%.2f ×")
    r = tv("ch", "journeys_p2")
    target("materialized journeys (2 workers) ≥ 3 × faster than ClickHouse (2 threads)", r,
           None if r is None else r >= 3.0, "%.2f × faster")
    r = tv("ch", "kept_p2")
    target("journeys kept by journey_refresh (2 workers) ≥ 4 × faster than ClickHouse (2 threads)", r,
           None if r is None else r >= 4.0, "%.2f × faster")
    r = tv("ch", "kept_cj_p2")
    target("the same journeys as the journey type (2 workers) ≥ 4 × faster than ClickHouse (2 threads)", r,
           None if r is None else r >= 4.0, "%.2f × faster")

    def target(name, value, ok, fmt, _target=target):
        # a target whose cases were not run (--only) is n/a
        _target(name, value, None if value is None else ok, fmt)

    # the entity store's targets (issue 12)
    r = tv("fsc_names", "ch")
    target("event names, serial ≤ 1.2 × ClickHouse (2 threads)", r, r is not None and r <= 1.2, "%.2f ×")
    r = tv("fsc_names", "ch1")
    target("event names, serial ≤ 0.8 × ClickHouse (1 thread)", r, r is not None and r <= 0.8, "%.2f ×")
    r = tv("fsc_names", "noop_names")
    target("event names, serial ≤ 1.6 × its no-op floor", r, r is not None and r <= 1.6, "%.2f ×")
    r = tv("fsc_bools", "ch")
    target("conditions, serial ≤ 1.5 × ClickHouse (2 threads)", r, r is not None and r <= 1.5, "%.2f ×")
    r = tv("fsc_bools_eval", "ch")
    target("(conditions PostgreSQL evaluates, serial: × ClickHouse (2 threads), information)", r, None, "%.2f ×")
    r = tv("fsc_names_p2", "fsc_names")
    target("plain table, 2 workers faster than serial (event names)", r, r is not None and r < 1, "%.2f × serial")
    r = tv("fsc_bools_p2", "fsc_bools")
    target("plain table, 2 workers faster than serial (conditions)", r, r is not None and r < 1, "%.2f × serial")
    peaks = [c.peak_mb for c in cases if c.kind == "pg" and c.peak_mb is not None and
             c.key.startswith(("fsc_", "pf_", "ao_"))]
    r = max(peaks) if peaks else None
    target("peak backend memory of the whole-table funnels (with workers) ≤ 1 GB", r,
           r is not None and r <= 1024, "%.0f MB")
    # the no-op evaluates the conditions: compared with the form that does too
    r = tv("fsc_bools_eval", "noop_bools")
    target("funnel_stage_counts ≤ 1.8 × no-op aggregate (conditions PostgreSQL evaluates)", r, r is not None and r <= 1.8, "%.2f ×")
    r = tv("fsc_names", "noop_names")
    target("funnel_stage_counts ≤ 1.8 × no-op aggregate (event names)", r, r is not None and r <= 1.8, "%.2f ×")
    r = tv("wf_groupby", "groupby")
    target("window_funnel GROUP BY user ≤ 1.3 × GROUP BY user count", r, r is not None and r <= 1.3, "%.2f ×")
    r = tv("pf_names", "fsc_names")
    target("2 exclusions and an optional step ≤ 1.3 × the plain funnel (event names, serial)", r, r is not None and r <= 1.3,
           "%.2f ×")
    r = tv("pf_names_p2", "fsc_names_p2")
    target("(same, 2 workers) ≤ 1.3 × the plain funnel", r, r is not None and r <= 1.3, "%.2f ×")
    r = tv("bd_channel", "fsc_names")
    target("breakdown attribution by channel ≤ 1.5 × the plain funnel (event names, serial)", r,
           r is not None and r <= 1.5, "%.2f ×")
    r = tv("bd_channel_p2", "fsc_names_p2")
    target("(same, 2 workers) ≤ 1.5 × the plain funnel", r, r is not None and r <= 1.5, "%.2f ×")
    r = tv("trend_day", "fsc_names")
    target("30-day trend by day ≤ 1.5 × the plain funnel (event names, serial)", r, r is not None and r <= 1.5, "%.2f ×")
    r = tv("trend_day_journeys", "trend_day")
    target("(the same trend from materialized journeys: × the trend from the rows, no target)", r, None, "%.2f ×")
    r = tv("plain", "fsc_bools")
    target("≥ 20 × faster than plain SQL", r, None if r is None else r >= 20, "%.1f × faster")
    r = tv("paths_d5", "fsc_bools")
    target("top paths of depth 5 ≤ 3 × funnel_stage_counts", r, r is not None and r <= 3, "%.2f ×")
    r = tv("corr", "fsc_bools")
    target("correlation over all event names ≤ 2 × funnel_stage_counts", r, r is not None and r <= 2, "%.2f ×")
    r = tv("fsc_bools", "fsc_1m")
    target("1M → 10M events ≤ 11 × the time", r, None if r is None else r <= 11, "%.2f ×")
    r = w4 / w1 if win else None
    target("window function over 10 × the rows ≤ 11 × the time", r, r is not None and r <= 11, "%.1f ×")
    r = tv("sessions", "lag")
    target("session_number OVER (...) ≤ 1.5 × lag() over the same ordering", r,
           None if r is None else r <= 1.5, "%.2f ×")
    for a, b, name in (("seq_match", "ch_seq_match", "sequence_match per user vs ClickHouse sequenceMatch"),
                       ("seq_count", "ch_seq_count", "sequence_count per user vs ClickHouse sequenceCount")):
        r = tv(a, b)
        target(name + " (information)", r, None, "%.2f ×")
    r = tv("seq_match", "wf_groupby")
    target("sequence_match per user vs window_funnel per user (information)", r, None, "%.2f ×")
    lines.append("| target (ratios in this run) | measured | |")
    lines.append("|---|---:|---|")
    lines.extend(targets)
    if failures:
        lines.append("")
        lines.extend("ANSWER MISMATCH: " + f for f in failures)
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
