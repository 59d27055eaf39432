#!/usr/bin/env python3
"""ClickHouse's sequenceMatch, sequenceCount and sequenceNextNode, transcribed
from src/AggregateFunctions/AggregateFunctionSequenceMatch.h and
AggregateFunctionSequenceNextNode.cpp (iterators become indexes; each
function keeps ClickHouse's name and control flow), and a differential check
of sequence_match, sequence_count and sequence_next_node against it on
random groups heavy in timestamp ties and several rows per timestamp.

Where ClickHouse leaves something open, the transcription fixes it as the
extension documents (doc/sequences.md):
  - rows at one time: ClickHouse's sort of sequenceMatch events is unstable
    (pdqsort on the time alone); here they are ordered by condition bits.
    sequenceNextNode sorts stably by (time, value); rows equal in both are
    ordered by (event bits, base condition) instead of arrival order;
  - times are microseconds and (?t op S) compares with S * 1,000,000;
  - backtrackingMatch's loop over trailing actions stops at the end of the
    pattern (ClickHouse reads one action past it when the pattern ends in
    ".*" or a time condition).

Needs a database with the extension (psql on PATH, PG* environment).
Usage: sequence_reference.py [groups] [seed]
Prints "N passed, M failed" (N, M: checks) and exits non-zero on a failure.
"""
import datetime, random, subprocess, sys

MAX_ITERATIONS = 1000000
MAX_EVENTS = 32


class TooSlow(Exception):
    pass


class PatternError(Exception):
    pass


# ---------------------------------------------------------------- patterns

SPECIFIC, ANY, KLEENE, T_LE, T_LT, T_GE, T_GT, T_EQ = range(8)
DFA_NONE, DFA_SPECIFIC, DFA_ANY = range(3)


class DFAState:
    def __init__(self, has_kleene=False):
        self.has_kleene = has_kleene
        self.event = 0
        self.transition = DFA_NONE


class Pattern:
    """AggregateFunctionSequenceBase: parsePattern and the matchers."""

    def __init__(self, pattern, arg_count):
        self.pattern = pattern
        self.arg_count = arg_count          # conditions + 1 (the time)
        self.conditions_in_pattern = 0
        self.parse_pattern()

    def parse_pattern(self):
        self.actions = [(KLEENE, 0)]
        self.dfa_states = [DFAState(True)]
        self.pattern_has_time = False
        p = self.pattern
        pos = 0
        end = len(p)

        def match(s):
            nonlocal pos
            if p.startswith(s, pos):
                pos += len(s)
                return True
            return False

        def read_int():
            nonlocal pos
            start = pos
            while pos < end and p[pos].isdigit():
                pos += 1
            if pos == start:
                raise PatternError("Could not parse number")
            return int(p[start:pos])

        while pos < end:
            if match("(?"):
                if match("t"):
                    if match("<="):
                        typ = T_LE
                    elif match("<"):
                        typ = T_LT
                    elif match(">="):
                        typ = T_GE
                    elif match(">"):
                        typ = T_GT
                    elif match("=="):
                        typ = T_EQ
                    else:
                        raise PatternError("Unknown time condition")
                    duration = read_int()
                    if self.actions[-1][0] not in (SPECIFIC, ANY, KLEENE):
                        raise PatternError("Temporal condition should be preceded by an event condition")
                    self.pattern_has_time = True
                    self.actions.append((typ, duration * 1000000))
                else:
                    event_number = read_int()
                    # ClickHouse: "> arg_count - 1" is BAD_ARGUMENTS; 0 makes
                    # bitset::set(-1) throw std::out_of_range
                    if event_number > self.arg_count - 1 or event_number == 0:
                        raise PatternError("Event number is out of range")
                    self.actions.append((SPECIFIC, event_number - 1))
                    self.dfa_states[-1].transition = DFA_SPECIFIC
                    self.dfa_states[-1].event = event_number - 1
                    self.dfa_states.append(DFAState())
                    self.conditions_in_pattern |= 1 << (event_number - 1)
                if not match(")"):
                    raise PatternError("Expected closing parenthesis, found")
            elif match(".*"):
                self.actions.append((KLEENE, 0))
                self.dfa_states[-1].has_kleene = True
            elif match("."):
                self.actions.append((ANY, 0))
                self.dfa_states[-1].transition = DFA_ANY
                self.dfa_states.append(DFAState())
            else:
                raise PatternError("Could not parse pattern, unexpected starting symbol")

    def dfa_match(self, events, events_it):
        n_states = len(self.dfa_states)
        active_states = [False] * n_states
        active_states[0] = True
        n_active = 1
        while events_it != len(events) and n_active > 0 and not active_states[-1]:
            n_active = 0
            next_active_states = [False] * n_states
            for state in range(n_states):
                if not active_states[state]:
                    continue
                st = self.dfa_states[state]
                if st.transition == DFA_ANY:
                    next_active_states[state + 1] = True
                    n_active += 1
                elif st.transition == DFA_SPECIFIC:
                    if events[events_it][1] >> st.event & 1:
                        next_active_states[state + 1] = True
                        n_active += 1
                if st.has_kleene:
                    next_active_states[state] = True
                    n_active += 1
            active_states = next_active_states
            events_it += 1
        return active_states[-1], events_it

    def backtracking_match(self, events, events_it):
        """Returns (matched, events_it after the call)."""
        actions = self.actions
        action_end = len(actions)
        events_end = len(events)
        action_it = 0
        events_begin = events_it
        base_it = events_it
        back_stack = []

        def do_backtrack():
            nonlocal action_it, events_it, base_it
            while back_stack:
                a, e, b = back_stack.pop()
                action_it = a
                events_it = e + 1
                base_it = b
                if events_it != events_end:
                    return True
            return False

        i = 0
        while action_it != action_end and events_it != events_end:
            typ, extra = actions[action_it]
            ts = events[events_it][0]
            if typ == SPECIFIC:
                if events[events_it][1] >> extra & 1:
                    base_it = events_it
                    action_it += 1
                    events_it += 1
                elif not do_backtrack():
                    break
            elif typ == ANY:
                base_it = events_it
                action_it += 1
                events_it += 1
            elif typ == KLEENE:
                back_stack.append((action_it, events_it, base_it))
                base_it = events_it
                action_it += 1
            elif typ in (T_LE, T_LT):
                base_ts = events[base_it][0]
                ok = ts <= base_ts + extra if typ == T_LE else ts < base_ts + extra
                if ok:
                    back_stack.append((action_it, events_it, base_it))
                    base_it = events_it
                    action_it += 1
                elif not do_backtrack():
                    break
            else:
                base_ts = events[base_it][0]
                ok = (ts >= base_ts + extra if typ == T_GE else
                      ts > base_ts + extra if typ == T_GT else ts == base_ts + extra)
                if ok:
                    back_stack.append((action_it, events_it, base_it))
                    base_it = events_it
                    action_it += 1
                else:
                    events_it += 1
                    if events_it == events_end and not do_backtrack():
                        break
            i += 1
            if i > MAX_ITERATIONS:
                raise TooSlow()

        if action_it != action_end:
            while action_it != action_end and (
                    actions[action_it][0] in (KLEENE, T_LE, T_LT) or
                    (actions[action_it][0] == T_GE and actions[action_it][1] == 0)):
                action_it += 1

        if events_it == events_begin:
            events_it += 1
        return action_it == action_end, events_it

    def could_match_deterministic_parts(self, events, limit_iterations=True):
        """As written in ClickHouse: the lambda captures det_part_begin and
        actions_it by value when it is made (both the first action), so its
        loop never runs and it returns true."""
        events_processed = 0
        events_it = 0
        actions_end = len(self.actions)
        actions_it = 0
        det_part_begin = actions_it
        captured_begin, captured_actions_it = det_part_begin, actions_it

        def match_deterministic_part():
            nonlocal events_it, events_processed
            events_it_init = events_it
            det_part_it = captured_begin
            while det_part_it != captured_actions_it and events_it != len(events):
                typ, extra = self.actions[det_part_it]
                if typ == ANY:
                    events_it += 1
                    det_part_it += 1
                elif events[events_it][1] >> extra & 1:
                    events_it += 1
                    det_part_it += 1
                else:
                    events_it_init += 1
                    events_it = events_it_init
                    det_part_it = captured_begin
                events_processed += 1
                if limit_iterations and events_processed > MAX_ITERATIONS:
                    raise TooSlow()
            return det_part_it == captured_actions_it

        while actions_it != actions_end:
            if self.actions[actions_it][0] not in (SPECIFIC, ANY):
                if not match_deterministic_part():
                    return False
                det_part_begin = actions_it + 1
            actions_it += 1
        return match_deterministic_part()


def sequence_events(rows, nconds):
    """AggregateFunctionSequenceMatchData: add() keeps rows with an event;
    sort() orders them (ties: by condition bits)."""
    events = []
    conditions_met = 0
    for ts, conds in rows:
        bits = 0
        for k in range(nconds):
            if conds[k]:
                bits |= 1 << k
        if bits:
            events.append((ts, bits))
            conditions_met |= bits
    events.sort()
    return events, conditions_met


def sequence_match(pattern, rows, nconds):
    pat = Pattern(pattern, nconds + 1)
    events, met = sequence_events(rows, nconds)
    if (pat.conditions_in_pattern & met) != pat.conditions_in_pattern:
        return False
    if pat.pattern_has_time:
        return pat.could_match_deterministic_parts(events) and pat.backtracking_match(events, 0)[0]
    return pat.dfa_match(events, 0)[0]


def sequence_count(pattern, rows, nconds):
    pat = Pattern(pattern, nconds + 1)
    events, met = sequence_events(rows, nconds)
    if (pat.conditions_in_pattern & met) != pat.conditions_in_pattern:
        return 0
    count = 0
    events_it = 0
    if pat.could_match_deterministic_parts(events):
        while events_it != len(events):
            ok, events_it = pat.backtracking_match(events, events_it)
            if not ok:
                break
            count += 1
    return count


# ------------------------------------------------------- sequenceNextNode

def sequence_next_node(direction, base, rows, nevents):
    """rows: (ts, value or None, base_cond, [event conds]); NULL values are
    left out (ClickHouse's Null combinator)."""
    if (base == 'head' and direction == 'backward') or (base == 'tail' and direction == 'forward'):
        raise PatternError("Invalid argument combination")
    if base in ('first_match', 'last_match') and nevents < 1:
        raise PatternError("requires at least 4 arguments")
    value = []
    for ts, v, can_be_base, conds in rows:
        if v is None:
            continue
        bits = 0
        for k in range(nevents):
            if conds[k]:
                bits |= 1 << k
        value.append((ts, v.encode(), bits, bool(can_be_base)))
    # getNextNodeIndex
    if len(value) <= nevents:
        return None
    value.sort()                        # (time, value bytes, bits, base): see above

    def get_base_index():
        if base == 'head':
            return 0 if value[0][3] else None
        if base == 'tail':
            return len(value) - 1 if value[-1][3] else None
        if base == 'first_match':
            for i in range(len(value)):
                if value[i][2] & 1 and value[i][3]:
                    return i
            return None
        for i in range(len(value)):
            r = len(value) - i - 1
            if value[r][2] & 1 and value[r][3]:
                return r
        return None

    b = get_base_index()
    if b is None:
        return None
    if nevents == 0:
        idx = b
    elif direction == 'forward':
        i = 0
        while i < nevents and b + i < len(value):
            if not value[b + i][2] >> i & 1:
                break
            i += 1
        idx = b + i if i == nevents else len(value)
    else:
        i = 0
        while i < nevents and i < b:
            if not value[b - i][2] >> i & 1:
                break
            i += 1
        idx = b - i if i == nevents else len(value)
    return value[idx][1].decode() if idx < len(value) else None


# ------------------------------------------------------------- the check

def random_pattern(rng, nconds):
    parts = []
    for _ in range(rng.randint(0, 5)):
        r = rng.random()
        if r < 0.5:
            parts.append('(?%d)' % rng.randint(1, nconds))
        elif r < 0.65:
            parts.append('.')
        elif r < 0.8:
            parts.append('.*')
        elif parts and not parts[-1].startswith('(?t'):
            parts.append('(?t%s%d)' % (rng.choice(['<=', '<', '>=', '>', '==']), rng.randint(0, 4)))
    return ''.join(parts)


BASE_TS = 1700000000 * 1000000          # microseconds since 1970


def random_rows(rng, nconds, nrows):
    rows = []
    t = 0
    for _ in range(nrows):
        if rng.random() < 0.6:          # ties: several rows per timestamp
            t += rng.choice([0, 1000000, 2000000, 1500000, 3000000])
        ts = BASE_TS + t
        rows.append((ts, [rng.random() < 0.35 for _ in range(nconds)]))
    if rng.random() < 0.5:              # else in time order (ties in any order)
        rng.shuffle(rows)
    return rows


def ts_text(us):
    """Microseconds since 1970 as exact timestamptz text."""
    return (datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            + datetime.timedelta(microseconds=us)).isoformat()


def psql(sql, stdin=None):
    p = subprocess.run(['psql', '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                       input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit('psql failed: %s\n%s' % (sql[:200], p.stderr))
    return p.stdout


def main():
    groups = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    print('sequence differential: %d groups, seed %d' % (groups, seed))
    passed = failed = 0

    def check(name, ok, info=''):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            if failed <= 20:
                print('FAILED %s %s' % (name, info))

    # ---- sequence_match / sequence_count: one pattern per group
    cases = {}
    copy = []
    for g in range(groups):
        nconds = rng.randint(1, 4)
        pattern = random_pattern(rng, nconds)
        rows = random_rows(rng, nconds, rng.randint(0, 25))
        cases[g] = (pattern, nconds, rows)
        if not rows:                    # a group with only a NULL time
            copy.append('%d\t%s\t\\N\t{%s}' % (g, pattern, ','.join(['f'] * nconds)))
        for ts, conds in rows:
            cond_txt = ','.join(rng.choice(['f', 'NULL']) if not c else 't' for c in conds)
            copy.append('%d\t%s\t%s\t{%s}' % (g, pattern, ts_text(ts), cond_txt))
    psql("DROP TABLE IF EXISTS seq_diff; CREATE TABLE seq_diff (g int, pattern text, ts timestamptz, c boolean[])")
    psql("COPY seq_diff FROM STDIN", '\n'.join(copy) + '\n')
    psql("ANALYZE seq_diff")
    query = ("SELECT g, sequence_match(pattern, ts, VARIADIC c), sequence_count(pattern, ts, VARIADIC c) "
             "FROM seq_diff GROUP BY g")
    for label, settings in (('serial', 'SET max_parallel_workers_per_gather = 0;'),
                            ('parallel', 'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; '
                                         'SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; '
                                         'SET enable_hashagg = off;')):
        out = psql(settings + query)
        got = {}
        for line in out.splitlines():
            g, m, c = line.split('\t')
            got[int(g)] = (m == 't', int(c))
        check('%s: every group answered' % label, len(got) == groups, '%d of %d' % (len(got), groups))
        for g, (pattern, nconds, rows) in cases.items():
            want = (sequence_match(pattern, rows, nconds) if rows else sequence_match(pattern, [], nconds),
                    sequence_count(pattern, rows, nconds))
            check('%s: group %d pattern %r' % (label, g, pattern), got.get(g) == want,
                  'got %r want %r rows %r' % (got.get(g), want, sorted(rows)))

    # ---- errors and the iteration limit: one query each
    def pg_error(sql):
        p = subprocess.run(['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=sqlstate',
                            '-c', '\\set VERBOSITY sqlstate', '-c', sql], capture_output=True, text=True)
        return None if p.returncode == 0 else p.stderr.strip().split()[-1]

    bad = ['(?1', '(?', '(?t<1)', '(?1)(?t<1)(?t<2)', '(?1)(?t=1)', '(?5)', '(?0)', 'x', '(?1)(?t<)', '..*(?']
    for pattern in bad + [random_pattern(rng, 3) for _ in range(20)]:
        try:
            sequence_match(pattern, [], 3)
            want = None
        except PatternError:
            want = 'error'
        got = pg_error("SELECT sequence_match(%s, now(), true, false, true)" % ("'" + pattern.replace("'", "''") + "'"))
        check('pattern %r' % pattern, (got is None) == (want is None), 'got %r want %r' % (got, want))

    slow = [('(?1).*(?2)(?t>=0)(?3)', 'match'), ('(?1).*(?2).*(?3)', 'count'), ('(?1)(?t<=1000000)(?2)', 'match'),
            ('.*(?1)(?t>0)(?3)', 'count'), ('(?1).*(?2).*(?1)', 'count'), ('(?1).*(?2)(?t>0).*(?1)', 'match')]
    for pattern, fn in slow:
        n = 3000
        rows = [(BASE_TS + i * 1000000, [i == 0, 0 < i < n - 1, i == n - 1]) for i in range(n)]
        try:
            want = sequence_match(pattern, rows, 3) if fn == 'match' else sequence_count(pattern, rows, 3)
        except TooSlow:
            want = '54000'
        sql = ("SELECT sequence_%s('%s', to_timestamp(1700000000 + i), i = 0, i > 0 AND i < %d, i = %d) "
               "FROM generate_series(0, %d) i" % (fn, pattern, n - 1, n - 1, n - 1))
        err = pg_error(sql)
        if err is not None:
            got = err
        else:
            got = psql(sql).strip()
            got = (got == 't') if fn == 'match' else int(got)
        check('limit %s %r' % (fn, pattern), got == want, 'got %r want %r' % (got, want))

    # ---- sequence_next_node
    values = ['A', 'B', 'C', 'AB', '', None]
    copy = []
    ncases = {}
    combos = [('forward', 'head'), ('backward', 'tail'), ('forward', 'first_match'), ('backward', 'first_match'),
              ('forward', 'last_match'), ('backward', 'last_match')]
    for g in range(groups):
        direction, base = rng.choice(combos)
        nevents = rng.randint(1 if 'match' in base else 0, 3)
        rows = []
        t = 0
        for _ in range(rng.randint(0, 12)):
            if rng.random() < 0.5:
                t += rng.choice([1000000, 2000000, 1])
            v = rng.choice(values)
            rows.append((BASE_TS + t, v, rng.random() < 0.7, [rng.random() < 0.4 for _ in range(nevents)]))
        if rng.random() < 0.5:
            rng.shuffle(rows)
        ncases[g] = (direction, base, nevents, rows)
        for ts, v, bc, ev in rows:
            copy.append('%d\t%s\t%s\t%s\t%s\t%s\t{%s}' % (
                g, direction, base, ts_text(ts), '\\N' if v is None else v, 't' if bc else 'f',
                ','.join('t' if e else 'f' for e in ev)))
    psql("DROP TABLE IF EXISTS nn_diff; CREATE TABLE nn_diff (g int, direction text, base text, ts timestamptz, "
         "v text, bc boolean, ev boolean[])")
    psql("COPY nn_diff FROM STDIN", '\n'.join(copy) + '\n')
    psql("ANALYZE nn_diff")
    # every group with VARIADIC events (an empty array for none), and the
    # groups without events again through the form without them
    query = ("SELECT g, coalesce(sequence_next_node(direction, base, ts, v, bc, VARIADIC ev), '<NULL>') "
             "FROM nn_diff GROUP BY g UNION ALL "
             "SELECT -1 - g, coalesce(sequence_next_node(direction, base, ts, v, bc), '<NULL>') "
             "FROM nn_diff WHERE cardinality(ev) = 0 GROUP BY g")
    for label, settings in (('serial', 'SET max_parallel_workers_per_gather = 0;'),
                            ('parallel', 'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; '
                                         'SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; '
                                         'SET enable_hashagg = off;')):
        got = {}
        for line in psql(settings + query).splitlines():
            g, v = line.split('\t')
            got[int(g)] = None if v == '<NULL>' else v
        for g, (direction, base, nevents, rows) in ncases.items():
            if not rows:
                continue
            want = sequence_next_node(direction, base, rows, nevents)
            for key in ([g, -1 - g] if nevents == 0 else [g]):
                check('%s: next node group %d %s %s %d' % (label, key, direction, base, nevents),
                      got.get(key, 'missing') == want,
                      'got %r want %r rows %r' % (got.get(key, 'missing'), want,
                                                  sorted(rows, key=lambda r: (r[0], r[1] or ''))))

    psql("DROP TABLE seq_diff, nn_diff")
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
