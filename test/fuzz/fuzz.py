#!/usr/bin/env python3
"""Mutation fuzzer of the funnel extension's inputs (run by test/fuzz.sh).

Valid values are made by the extension itself (seed queries below); each case
mutates one of them (bit flips, byte insertions and deletions, boundary
integers, truncations, splices of two values, huge lengths, NaN and
infinities, extreme timestamps) and feeds it to one target:

  text      a type's input function, then the round trip
            out(in(x)) = out(in(out(in(x)))) and send agrees
  binary    a type's receive function through COPY ... FROM STDIN
            (FORMAT binary) (psql's \\copy), then the same round trips
  state     an aggregate's deserialise function, through the test-only
            fuzz.check_state aggregate (funnel_fuzz.c), which also checks
            the serialise round trip, combine and the final function
  call      functions that parse text or take model records: modes, event
            and step names, periods, attribution models, stage names,
            model records with NaN, infinities and extremes

Every case must end in success or an ERROR whose SQLSTATE is in an allowed
class (22 data exception, 54 program limit, 08P01 from pq_getmsg* on short
binary input; for a state, also 0A000 for a mode option its final function
does not use: see state_option_unused).  A crash (the connection is lost), a timeout (57014), out of
memory (53200), an internal error (XX000) or any other SQLSTATE is a
finding, as is a broken round trip (FZ001/FZ002).  Exits 1 on findings.
"""
import argparse, os, random, re, struct, subprocess, sys, time

ALLOWED = ('22', '54', '08P01')

def state_option_unused(c):
    """A state carrying a mode option its final function does not use.

    The whole-table aggregates share one transition and state: funnel_trends'
    state holds its bucket, funnel_summary's its step_times.  Given such a
    state (a parallel worker sends one when the option was passed to the
    wrong aggregate), the final function refuses the option with the error a
    serial plan gives (0A000, "... is not used by this function"): a valid
    state and the documented error, not a finding."""
    return c.kind == 'state' and c.state == '0A000' and 'is not used by this function' in c.msg

# --------------------------------------------------------------------------
# seeds: SQL run once by the plain role; each row is one valid value
# --------------------------------------------------------------------------
EVENTS_CTE = """WITH ev(e, ts, c1, c2, c3) AS (VALUES
  (1, timestamptz '2024-01-01 10:00+00', true, false, false),
  (1, '2024-01-01 10:05+00', false, true, false),
  (1, '2024-01-01 11:00+00', false, false, true),
  (2, '2024-01-02 09:00+00', true, false, false),
  (2, '2024-01-02 09:00+00', false, true, true),
  (3, '2024-01-03 00:00+00', false, true, false),
  (3, '2024-01-03 00:00:01+00', true, true, false),
  (4, '2024-03-01 00:00+00', true, false, false),
  (4, '2024-03-05 00:00+00', false, false, true))"""

ORDERS_CTE = """WITH o(c, ts, amount) AS (VALUES
  ('a', timestamptz '2023-01-05', 10.5::numeric), ('a', '2023-02-07', 20),
  ('a', '2023-06-01', 5.25), ('b', '2023-01-20', 100), ('b', '2023-01-20', 7),
  ('c', '2023-03-03', 1), ('c', '2023-09-30', 1000.125), ('d', '2023-12-30', 3))"""

TOUCH_CTE = """WITH t(e, ts, ch, v) AS (VALUES
  (1, timestamptz '2024-01-01', 'search', NULL::numeric), (1, '2024-01-03', 'email', NULL),
  (1, '2024-01-04', 'conversion', 100), (2, '2024-01-02', 'social', NULL),
  (2, '2024-01-05', 'conversion', 40.5), (3, '2024-01-09', 'search', NULL))"""

DEALS_CTE = """WITH d(deal, ts, stage) AS (VALUES
  (1, timestamptz '2024-01-01', 'lead'), (1, '2024-01-05', 'qualified'), (1, '2024-01-20', 'won'),
  (2, '2024-01-02', 'lead'), (2, '2024-01-09', 'lost'),
  (3, '2024-01-03', 'lead'), (3, '2024-01-04', 'qualified'), (3, '2024-02-01', 'proposal'),
  (4, '2024-01-10', 'lead'))"""

MODES = ['', 'strict_order', 'strict_deduplication', 'strict_increase',
         'strict_once', 'strict_order, allow_reentry',
         'strict_deduplication,strict_increase']

# (target name, SQL giving one value per row as text)
def seed_queries():
    q = {}
    q['funnel_event'] = """SELECT v::text FROM (VALUES
      (funnel_event('2024-01-01 10:00+00', 1)), (funnel_event('2024-01-01', true, false, true)),
      ('294276-12-31 23:59:59.999999+00 {64}'::funnel_event),
      ('4714-11-24 00:00:00+00 BC {1,2,3}'::funnel_event), ('2000-01-01 00:00+00 {}'::funnel_event)) s(v)"""
    # journeys of every time unit (seconds, milliseconds, microseconds),
    # ties, the extremes of timestamptz and step 64
    q['journey'] = EVENTS_CTE + """ SELECT journey_agg(funnel_event(ts, c1, c2, c3))::journey::text FROM ev GROUP BY e
      UNION ALL SELECT v FROM (VALUES ('{}'), ('{"2024-01-01 00:00:00.5+00 {1}","2024-01-01 00:00:01+00 {2}"}'),
      ('{"2024-01-01 00:00:00.000001+00 {}","2024-01-01 00:00:00.000001+00 {1}","2024-01-01 00:00:00.000002+00 {1,2}"}'),
      ('{"294276-12-31 23:59:59.999999+00 {64}","4714-11-24 00:00:00+00 BC {1,64}"}')) v(v)"""
    summ = []
    for m in MODES[:5]:
        summ.append(EVENTS_CTE + f" SELECT funnel_summary('1 day', '{m}', e, ts, c1, c2, c3)::text FROM ev")
    summ.append(EVENTS_CTE + " SELECT funnel_summary('1 hour', e, ts, c1)::text FROM ev")
    summ.append(EVENTS_CTE + " SELECT funnel_summary('0', e, ts, c1, c2)::text FROM ev WHERE false")
    q['funnel_summary'] = ' UNION ALL '.join('(' + s + ')' for s in summ)
    att = []
    for m in ['first_touch', 'last_touch', 'linear', 'position_based',
              'time_decay', 'time_decay(2 days)', 'markov']:
        att.append(TOUCH_CTE + f" SELECT attribution('{m}', e, ts, ch, v, '30 days')::text FROM t")
    q['attribution_summary'] = ' UNION ALL '.join('(' + s + ')' for s in att)
    q['pipeline_summary'] = ' UNION ALL '.join('(' + s + ')' for s in [
        DEALS_CTE + " SELECT pipeline_model(deal, ts, stage, ARRAY['won','lost'])::text FROM d",
        DEALS_CTE + " SELECT pipeline_model(deal, ts, stage, ARRAY['won'])::text FROM d WHERE deal < 3"])
    q['markov_transitions'] = ' UNION ALL '.join('(' + s + ')' for s in [
        TOUCH_CTE + " SELECT markov_transitions(e, ts, ch, v, '30 days')::text FROM t",
        TOUCH_CTE + " SELECT markov_transitions(e, ts, ch, v, '1 day')::text FROM t WHERE e < 3",
        TOUCH_CTE + " SELECT markov_transitions(e, ts + (e % 2) * interval '1 day', ch, v)::text FROM t"])
    q['fit_stats'] = ORDERS_CTE + """ SELECT s::text FROM (VALUES
      ('{"model": "bgnbd", "rows": [[0, 0, 10, 3], [2, 5.5, 30, 1], [7, 0.25, 0.5, 2]]}'::fit_stats),
      ('{"model": "gamma_gamma", "rows": [[1, 20.5, 4], [3, 0.01, 1]]}'), ('{"model": "bgnbd", "rows": []}')) v(s)"""
    q['cohort_counts'] = ORDERS_CTE + """ SELECT cohort_counts(c, ts, p, 4)::text FROM o,
      unnest(ARRAY['month','week','quarter','day','year']) p GROUP BY p"""
    q['rfm_summary'] = ORDERS_CTE + """ SELECT customer_rfm(ts, amount, '2024-01-01')::text FROM o GROUP BY c
      UNION ALL SELECT '(0,0,0,0)' UNION ALL SELECT '(3,120.5,300,17.25)'"""
    q['bgnbd_model'] = """VALUES ('(0.243,4.414,0.793,2.426,-9582.4,2357)'), ('(1,1,1,1,0,1)'),
      ('(0.01,100,5,0.1,,10)')"""
    q['gamma_gamma_model'] = """VALUES ('(6.25,3.74,15.44,-4000,946)'), ('(1,2,3,0,1)')"""
    q['sbg_model'] = """VALUES ('(0.668,3.806,-1611.2,7,1000)'), ('(1,1,0,1,10)')"""
    q['cohort_matrix'] = ORDERS_CTE + """ SELECT cohort_retention(c, ts, p)::text FROM o,
      unnest(ARRAY['month','week','quarter','day','year']) p GROUP BY p"""
    q['customer_value_report'] = ORDERS_CTE + """ SELECT ltv_report(c, ts, amount)::text FROM o"""
    return q

# serialised states: (aggregate whose deserialise and final functions are
# checked, SQL giving hex of valid serialised states)
def state_targets():
    t = []
    wf = []
    for m in MODES:
        wf.append(EVENTS_CTE + f" SELECT encode(fuzz.cap_window_funnel('1 day', '{m}', ts, c1, c2, c3), 'hex') FROM ev GROUP BY e")
    t.append(('window_funnel(interval,text,timestamptz,boolean[])', wf))
    t.append(('time_to_convert(interval,text,integer,timestamptz,boolean[])', [
        EVENTS_CTE + " SELECT encode(fuzz.cap_time_to_convert('1 day', '', 2, ts, c1, c2, c3), 'hex') FROM ev GROUP BY e",
        EVENTS_CTE + " SELECT encode(fuzz.cap_time_to_convert('2 days', 'strict_once', 3, ts, c1, c2, c3), 'hex') FROM ev"]))
    t.append(('window_funnel(interval,timestamptz,text,text[])', [
        EVENTS_CTE + " SELECT encode(fuzz.cap_window_funnel_names('1 day', ts, CASE WHEN c1 THEN 'visit' WHEN c2 THEN 'cart' ELSE 'buy' END, ARRAY['visit','cart','buy']), 'hex') FROM ev GROUP BY e"]))
    ent = []
    for m in MODES[:5]:
        ent.append(EVENTS_CTE + f" SELECT encode(fuzz.cap_funnel_entities('1 day', '{m}', e, ts, c1, c2, c3), 'hex') FROM ev")
    ent.append(EVENTS_CTE + " SELECT encode(fuzz.cap_funnel_entities('1 day', '', e::text || 'x', ts, c1, c2), 'hex') FROM ev")
    t.append(('funnel_stage_counts(interval,text,anyelement,timestamptz,boolean[])', ent))
    t.append(('funnel_conversion(interval,text,anyelement,timestamptz,boolean[])', ent[:2]))
    t.append(('funnel_summary(interval,text,anyelement,timestamptz,boolean[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_funnel_summary('1 day', '{m}', e, ts, c1, c2, c3), 'hex') FROM ev"
        for m in MODES[:3]]))
    t.append(('funnel_breakdown(interval,text,anyelement,text,timestamptz,boolean[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_funnel_breakdown('1 day', '{m}', e, CASE WHEN c1 THEN 'a' WHEN c2 THEN NULL ELSE 'b' || e::text END, ts, c1, c2, c3), 'hex') FROM ev"
        for m in ['breakdown first_touch', 'breakdown step 2', 'breakdown all_events', 'exclude 3 from 1 to 2, breakdown last_touch']]))
    t.append(('journey_agg(funnel_event)', [
        EVENTS_CTE + " SELECT encode(fuzz.cap_journey_agg(funnel_event(ts, c1, c2, c3)), 'hex') FROM ev GROUP BY e",
        EVENTS_CTE + " SELECT encode(fuzz.cap_journey_agg(funnel_event(ts, c1, c2, c3)), 'hex') FROM ev"]))
    t.append(('funnel_summary(interval,text,funnel_event[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_journey_summary('1 day', '{m}', j), 'hex') FROM (SELECT journey_agg(funnel_event(ts, c1, c2, c3)) AS j FROM ev GROUP BY e) x"
        for m in MODES[:3]]))
    t.append(('funnel_trends(interval,text,funnel_event[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_journey_trends('1 day', '{m}', j), 'hex') FROM (SELECT journey_agg(funnel_event(ts, c1, c2, c3)) AS j FROM ev GROUP BY e) x"
        for m in ('bucket day', 'bucket hour, time_zone Europe/Paris', 'bucket month, exclude 3 from 1 to 2')]))
    t.append(('funnel_breakdown(interval,text,text,funnel_event[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_journey_breakdown('1 day', '{m}', CASE WHEN e % 3 = 0 THEN NULL ELSE 'v' || (e % 2) END, j), 'hex')"
        " FROM (SELECT e, journey_agg(funnel_event(ts, c1, c2, c3)) AS j FROM ev GROUP BY e) x"
        for m in ('', 'optional 2', 'exclude 3 from 1 to 2')]))
    t.append(('customer_rfm(timestamptz,numeric,timestamptz,interval)', [
        ORDERS_CTE + " SELECT encode(fuzz.cap_customer_rfm(ts, amount, '2024-01-01', '7 days'), 'hex') FROM o GROUP BY c"]))
    t.append(('bgnbd_fit(double precision,double precision,double precision)', [
        "SELECT encode(fuzz.cap_bgnbd_fit(f, CASE WHEN f = 0 THEN 0 ELSE 1 + g * 7 % 39 END, 40), 'hex')"
        " FROM generate_series(1, 80) g, LATERAL (SELECT (g * g) % 7 % 4 AS f) x"]))
    t.append(('gamma_gamma_fit(double precision,double precision)', [
        "SELECT encode(fuzz.cap_gamma_gamma_fit(1 + g % 4, 5 + (g * 37) % 50 + g % 3 * 0.25), 'hex') FROM generate_series(1, 80) g"]))
    t.append(('ltv(anyelement,timestamptz,numeric,interval,double precision)', [
        ORDERS_CTE + " SELECT encode(fuzz.cap_ltv(c, ts, amount, '1 year', 0.01), 'hex') FROM o"]))
    t.append(('ltv_report(anyelement,timestamptz,numeric,interval,double precision)', [
        ORDERS_CTE + " SELECT encode(fuzz.cap_ltv(c, ts, amount, '6 months', 0), 'hex') FROM o"]))
    t.append(('cohort_retention(anyelement,timestamptz,text,integer)', [
        ORDERS_CTE + f" SELECT encode(fuzz.cap_cohort_retention(c, ts, '{p}', 3), 'hex') FROM o"
        for p in ['month', 'week', 'day']]))
    t.append(('attribution(text,anyelement,timestamptz,text,numeric,interval)', [
        TOUCH_CTE + f" SELECT encode(fuzz.cap_attribution('{m}', e, ts, ch, v, '30 days'), 'hex') FROM t"
        for m in ['linear', 'time_decay(1 day)', 'markov', 'first_touch']]))
    t.append(('sequence_match(text,timestamptz,boolean[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_sequence_match('{p}', ts, c1, c2, c3), 'hex') FROM ev GROUP BY e"
        for p in ['(?1).*(?t<=3600)(?2)', '(?1)(?2)', '']]))
    t.append(('sequence_count(text,timestamptz,boolean[])', [
        EVENTS_CTE + " SELECT encode(fuzz.cap_sequence_match('(?1).(?3)', ts, c1, c2, c3), 'hex') FROM ev"]))
    t.append(('sequence_next_node(text,text,timestamptz,text,boolean,boolean[])', [
        EVENTS_CTE + f" SELECT encode(fuzz.cap_sequence_next_node({d}, ts, e::text || 'x', c3, c1, c2), 'hex') FROM ev GROUP BY e"
        for d in ["'forward', 'first_match'", "'backward', 'tail'", "'backward', 'last_match'"]]))
    t.append(('pipeline_model(anyelement,timestamptz,text,text[])', [
        DEALS_CTE + " SELECT encode(fuzz.cap_pipeline_model(deal, ts, stage, ARRAY['won','lost']), 'hex') FROM d"]))
    t.append(('paths(anyelement,timestamptz,text,text,text,integer,integer)', [
        TOUCH_CTE + f" SELECT encode(fuzz.cap_paths(e, ts, ch, {a}, {b}, 3, 5), 'hex') FROM t"
        for a, b in [("NULL", "NULL"), ("'search'", "NULL"), ("NULL", "'conversion'")]]))
    t.append(('funnel_correlation(interval,text,anyelement,timestamptz,text,text[],integer,text)', [
        TOUCH_CTE + " SELECT encode(fuzz.cap_funnel_correlation('7 days', '', e, ts, ch, ARRAY['search','conversion'], 0, ch), 'hex') FROM t",
        TOUCH_CTE + " SELECT encode(fuzz.cap_funnel_correlation('2 days', 'strict_order', e::text, ts, ch, ARRAY['search','email','conversion'], NULL, NULL), 'hex') FROM t"]))
    return t

# types with text and binary input whose values round-trip
IO_TYPES = ['funnel_event', 'funnel_summary', 'attribution_summary', 'pipeline_summary',
            'markov_transitions', 'fit_stats', 'cohort_counts', 'journey']
# composite types: record input, then the functions that read them
RECORD_USES = {
    'rfm_summary': "SELECT (v).frequency FROM (SELECT {v}::rfm_summary v) s",
    'bgnbd_model': "SELECT expected_purchases(v, 30), expected_purchases(v, 10, 2, 20, 40), probability_alive(v, 2, 20, 40), ltv(v, '(6.25,3.74,15.44,0,946)'::gamma_gamma_model, 2, 20, 40, 35, 12) FROM (SELECT {v}::bgnbd_model v) s",
    'gamma_gamma_model': "SELECT expected_average_spend(v, 2, 35), ltv('(0.243,4.414,0.793,2.426,0,2357)'::bgnbd_model, v, 2, 20, 40, 35, 24, 0.01, 30) FROM (SELECT {v}::gamma_gamma_model v) s",
    'sbg_model': "SELECT sbg_survival(v, 3), sbg_retention_rate(v, 5), sbg_expected_remaining_lifetime(v, 2, 0.1), sbg_expected_remaining_lifetime(v) FROM (SELECT {v}::sbg_model v) s",
    'cohort_matrix': "SELECT count(*) FROM (SELECT {v}::cohort_matrix v) s, cohort_report(s.v) r, cohort_heatmap(s.v) h",
    'customer_value_report': "SELECT (v).customers FROM (SELECT {v}::customer_value_report v) s",
}

# functions that parse text or take numbers from outside: a template with
# slots; a case mutates one slot's literal
NUMS = ['0', '-0', '1', '-1', 'NaN', 'Infinity', '-Infinity', '1e308', '-1e308',
        '5e-324', '1e-300', '2147483647', '-2147483648', '9223372036854775807',
        '-9223372036854775808', '4294967296', '64', '65', '100000000']
INTS = ['0', '1', '2', '3', '4', '-1', '8', '63', '64', '65', '1000', '2147483647', '-2147483648']
TIMES = ['infinity', '-infinity', '294276-12-31 23:59:59.999999+00',
         '4714-11-24 00:00:00+00 BC', '1970-01-01 00:00+00', '2000-01-01 00:00+00',
         '2024-01-01 10:00+00', '2024-02-29 12:00+14']
INTERVALS = ['0', '1 microsecond', '1 hour', '1 day', '-1 day', '1 month', '1 year',
             '178000000 years', '-178000000 years', '2147483647 days',
             '2147483647 months', '-2147483648 months', '9223372036854775807 microseconds',
             '-9223372036854775808 microseconds', '1 day -24 hours', '1 month -30 days']
PERIODS = ['day', 'week', 'month', 'quarter', 'year', 'Month', ' week ', '']
ATTR_MODELS = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay',
               'time_decay(3 days)', 'markov', ' Time_Decay ( 3 days ) ',
               'time_decay(-1 day)', 'time_decay(0)', 'time_decay(178000000 years)']
NAMES = ["ARRAY['visit','cart','buy']", "ARRAY['a']", "ARRAY[]::text[]",
         "ARRAY['visit',NULL,'buy']", "ARRAY['x','x','x']", "'{{a,b},{c,d}}'::text[]",
         "array_fill('s'::text, ARRAY[64])", "array_fill('s'::text, ARRAY[65])"]

JOURNEYS = ['{"2024-01-01 00:00+00 {1}","2024-01-01 00:01+00 {2}","2024-01-01 00:02+00 {3}"}',
            '{"2024-01-01 00:02+00 {3}",NULL,"2024-01-01 00:00+00 {1}","2024-01-01 00:00+00 {1}","2024-01-01 00:00+00 {}"}',
            '{}', '{"294276-12-31 23:59:59.999999+00 {64}","4714-11-24 00:00:00+00 BC {1,64}"}',
            '{{"2024-01-01 00:00+00 {1}"}}', '[5:6]={"2024-01-01 00:00+00 {1}","2024-01-01 00:00+00 {2}"}']

# product-funnel options every function over a journey takes (optional
# steps and any order are refused, 0A000, where times are recorded)
JOURNEY_OPTIONS = ['exclude 3 from 1 to 2', 'exclude 4 from 1 to 3, exclusion_counts_reached',
                   'exclude 64 from 1 to 63', 'exclude 2 from 1 to 3']
# step_times: funnel_summary only (elsewhere 0A000, "not used by this function")
SUMMARY_OPTIONS = JOURNEY_OPTIONS + ['step_times']
LEVEL_OPTIONS = JOURNEY_OPTIONS + ['optional 2', 'optional 3, exclude 5 from 1 to 4', 'any_order', 'any_order_first']

def quote(s):
    tag = 'q'
    while ('$' + tag + '$') in s or s.endswith('$' + tag) or s.endswith('$'):
        if s.endswith('$'):
            return "'" + s.replace("'", "''") + "'"
        tag += 'q'
    return '$' + tag + '$' + s + '$' + tag + '$'

def unquote(lit):
    """The text of a literal made by quote(), or None for other SQL."""
    m = re.fullmatch(r"\$(q+)\$(.*)\$\1\$", lit, re.S)
    if m:
        return m.group(2)
    if len(lit) > 1 and lit[0] == "'" and lit[-1] == "'" and "'" not in lit[1:-1].replace("''", ""):
        return lit[1:-1].replace("''", "'")
    return None

def T(*opts):          # a slot: a list of literal choices (SQL text)
    return list(opts)

def lit(vals):
    return [quote(v) for v in vals]

CALLS = [
    # modes, windows, timestamps: every funnel aggregate reads them per row
    ("window_funnel({w}::interval, {m}::text, ts, c1, c2, c3)", EVENTS_CTE + " SELECT {call} FROM ev GROUP BY e",
     {'w': lit(INTERVALS), 'm': lit(MODES + ['strict_once, allow_reentry', 'bogus', 'strict_order,,'])}),
    ("time_to_convert({w}::interval, {m}::text, {k}::integer, ts, c1, c2, c3)", EVENTS_CTE + " SELECT {call} FROM ev GROUP BY e",
     {'w': lit(INTERVALS), 'm': lit(MODES), 'k': lit(['0', '1', '2', '3', '4', '-1', '64', '2147483647'])}),
    ("window_funnel({w}::interval, {m}::text, ({t})::timestamptz, true, {b})", "SELECT {call} FROM generate_series(1, 3)",
     {'w': lit(INTERVALS), 'm': lit(MODES), 't': lit(TIMES), 'b': ['true', 'false', 'NULL']}),
    ("window_funnel({w}::interval, {m}::text, ts, ({ev})::text, ({names})::text[])", EVENTS_CTE + " SELECT {call} FROM ev GROUP BY e",
     {'w': lit(INTERVALS), 'm': lit(MODES), 'ev': lit(['visit', 'cart', 'buy', '', 'VISIT', 'x' * 300]) + ["CASE WHEN c1 THEN 'visit' ELSE 'buy' END"],
      'names': NAMES}),
    ("window_funnel({w}::interval, {j}::funnel_event[], {m}::text)", "SELECT {call}",
     {'w': lit(INTERVALS), 'm': lit(MODES),
      'j': lit(['{"2024-01-01 00:00+00 {1}","2024-01-01 00:01+00 {2}","2024-01-01 00:02+00 {3}"}',
                '{"infinity {1}","-infinity {2}"}', '{}', '{"2024-01-01 00:00+00 {64}","2024-01-01 00:00+00 {1,64}"}',
                '{{"2024-01-01 00:00+00 {1}"}}'])}),
    ("time_to_convert({w}::interval, {j}::funnel_event[], {m}::text, {k}::integer)", "SELECT {call}",
     {'w': lit(INTERVALS), 'm': lit(MODES), 'k': ['NULL', '1', '2', '0', '-5', '64', '65'],
      'j': lit(['{"2024-01-01 00:00+00 {1}","2024-01-01 00:01+00 {2}"}', '{"294276-12-31 23:59:59.999999+00 {1}","-infinity {2}"}'])}),
    # journeys
    ("journey_merge({j}::funnel_event[], {k}::funnel_event[])", "SELECT {call}",
     {'j': lit(JOURNEYS) + ['NULL'], 'k': lit(JOURNEYS) + ['NULL']}),
    ("journey_trim({j}::funnel_event[], ({t})::timestamptz)", "SELECT {call}",
     {'j': lit(JOURNEYS), 't': lit(TIMES)}),
    ("funnel_summary({w}::interval, {m}::text, {j}::funnel_event[])", "SELECT {call} FROM generate_series(1, 3)",
     {'w': lit(INTERVALS), 'm': lit(MODES + SUMMARY_OPTIONS), 'j': lit(JOURNEYS)}),
    # the journey type: its functions, with the modes and the product options
    ("window_funnel({w}::interval, {j}::journey, {m}::text)",
     "SELECT {call}", {'w': lit(INTERVALS), 'm': lit(MODES + LEVEL_OPTIONS), 'j': lit(JOURNEYS)}),
    ("time_to_convert({w}::interval, {j}::journey, {m}::text, {k}::integer)",
     "SELECT {call}", {'w': lit(INTERVALS), 'm': lit(MODES + JOURNEY_OPTIONS), 'j': lit(JOURNEYS),
                       'k': ['NULL', '1', '2', '0', '64', '65']}),
    ("funnel_summary({w}::interval, {m}::text, {j}::journey)", "SELECT {call} FROM generate_series(1, 3)",
     {'w': lit(INTERVALS), 'm': lit(MODES + SUMMARY_OPTIONS), 'j': lit(JOURNEYS)}),
    ("journey_merge({j}::journey, {k}::journey), journey_trim({j}::journey, ({t})::timestamptz)", "SELECT {call}",
     {'j': lit(JOURNEYS) + ['NULL'], 'k': lit(JOURNEYS) + ['NULL'], 't': lit(TIMES)}),
    ("funnel_stage_counts({w}::interval, {m}::text, e, ts, c1, c2, c3)", EVENTS_CTE + " SELECT {call} FROM ev",
     {'w': lit(INTERVALS), 'm': lit(MODES)}),
    ("funnel_summary({w}::interval, {m}::text, e, ({t})::timestamptz + g * interval '1 minute', g % 3 = 0, g % 3 = 1)",
     "SELECT {call} FROM generate_series(1, 20) g, (VALUES (1), (2)) x(e)",
     {'w': lit(INTERVALS), 'm': lit(MODES), 't': lit(TIMES)}),
    ("funnel_stage_counts({l}::integer, {n}::integer)", "SELECT {call} FROM generate_series(1, 3)",
     {'l': lit(INTS), 'n': lit(INTS)}),
    ("funnel_conversion({a}::bigint[])", "SELECT {call}",
     {'a': lit(['{10,5,1}', '{}', '{0,0}', '{-1,5}', '{1,NULL}', '{{1,2},{3,4}}', '{9223372036854775807,1}', '{5,10}'])}),
    # funnel_summary readers
    ("funnel_time_percentile(s, {k}::integer, {f}::float8), funnel_window(s), funnel_stage_counts(s), funnel_conversion(s)",
     EVENTS_CTE + " SELECT {call} FROM (SELECT funnel_summary('1 day', e, ts, c1, c2, c3) s FROM ev) x",
     {'k': lit(INTS), 'f': lit(NUMS + ['0.5', '0.99', '1.0000001'])}),
    ("(SELECT count(*) FROM funnel_report(s, ({names})::text[])) + length(funnel_chart(s, ({names})::text[], {wd}::integer)) + length(funnel_svg(s, ({names})::text[]))",
     EVENTS_CTE + " SELECT {call} FROM (SELECT funnel_summary('1 day', e, ts, c1, c2, c3) s FROM ev) x",
     {'names': ["ARRAY['Visit','Cart','Buy']", "ARRAY['<script>&\"''','\\\\','']", "ARRAY['a','b']", "NULL",
                "ARRAY[NULL,'b','c']", "array_fill('x'::text, ARRAY[3])", "ARRAY[repeat('w', 100000),'b','c']"],
      'wd': lit(INTS)}),
    ("(SELECT count(*) FROM funnel_report(s, {sp}::numeric, ({names})::text[]))",
     EVENTS_CTE + " SELECT {call} FROM (SELECT funnel_summary('1 day', e, ts, c1, c2, c3) s FROM ev) x",
     {'sp': lit(NUMS + ['1e1000', '0.000001']), 'names': ["ARRAY['Visit','Cart','Buy']", "NULL", "ARRAY['a']"]}),
    ("(SELECT count(*) FROM funnel_cost_report({a}::bigint[], {sp}::numeric, ({names})::text[]))", "SELECT {call}",
     {'a': lit(['{10,5,1}', '{}', '{0,0}', '{-1}', '{{1},{2}}']), 'sp': lit(NUMS), 'names': ["NULL", "ARRAY['a','b','c']"]}),
    ("cac_payback_months({a}::numeric, {b}::numeric, {c}::numeric)", "SELECT {call}",
     {'a': lit(NUMS), 'b': lit(NUMS), 'c': lit(NUMS + ['0.5'])}),
    # customer value
    ("customer_rfm(ts, amount, ({t})::timestamptz, {u}::interval)", ORDERS_CTE + " SELECT {call} FROM o GROUP BY c",
     {'t': lit(TIMES), 'u': lit(INTERVALS)}),
    # one row of thirty takes the slots' values, the others are valid
    ("bgnbd_fit(CASE WHEN g = 1 THEN {f}::float8 ELSE (g * g) % 7 % 4 END, CASE WHEN g = 1 THEN {r}::float8 ELSE (g * g) % 7 % 4 * (1 + g * 7 % 39) END, {t}::float8)",
     "SELECT {call} FROM generate_series(1, 80) g",
     {'f': lit(NUMS + ['0', '1', '2', '1e6']), 'r': lit(NUMS + ['0', '0.5', '20', '39.999']),
      't': lit(['40', '40', '100', '1e6', '1e300', 'NaN', 'Infinity', '0'])}),
    ("gamma_gamma_fit(CASE WHEN g = 1 THEN {f}::float8 ELSE 1 + g % 3 END, CASE WHEN g = 1 THEN {m}::float8 ELSE 5 + (g * 37) % 50 + g % 3 * 0.25 END)",
     "SELECT {call} FROM generate_series(1, 80) g",
     {'f': lit(NUMS + ['1', '2', '1e6']), 'm': lit(NUMS + ['0.01', '1e6', '1e-10'])}),
    ("sbg_fit({a}::bigint[])", "SELECT {call}",
     {'a': lit(['{1000,631,468,382,326,289,262,241}', '{10}', '{}', '{10,20}', '{10,0,0}', '{10,NULL}',
                '{9223372036854775807,1}', '{-1,-2}', '{{1,2},{3,4}}', '{1000,999,998,997,996,995,994,993,992,991,990}'])}),
    ("ltv(c, ({t})::timestamptz, amount, {h}::interval, {d}::float8)", ORDERS_CTE + " SELECT {call} FROM o",
     {'t': ['ts', 'ts'] + lit(TIMES), 'h': lit(INTERVALS), 'd': lit(NUMS)}),
    ("ltv_report(c, ts, ({a})::numeric, {h}::interval)", ORDERS_CTE + " SELECT {call} FROM o",
     {'a': ['amount', 'amount'] + lit(NUMS + ['1e100', '-5']), 'h': lit(INTERVALS)}),
    ("cohort_retention(c, ({t})::timestamptz, {p}::text, {n}::integer)", ORDERS_CTE + " SELECT {call} FROM o",
     {'t': ['ts', 'ts'] + lit(TIMES), 'p': lit(PERIODS + ['fortnight', 'months', 'MONTH']), 'n': lit(INTS)}),
    ("retention(VARIADIC {a}::boolean[])", "SELECT {call} FROM generate_series(1, 3)",
     {'a': lit(['{t,f,t}', '{}', '{t}', '{NULL,t}', '{{t,f},{t,t}}']) + ["array_fill(true, ARRAY[32])", "array_fill(true, ARRAY[33])", "array_fill(true, ARRAY[65])"]}),
    # sequences: patterns, directions, bases
    ("sequence_match({p}::text, ts, c1, c2, c3), sequence_count({p}::text, ts, c1, c2, c3)", EVENTS_CTE + " SELECT {call} FROM ev GROUP BY e",
     {'p': lit(['(?1)(?2)', '(?1).*(?t<=3600)(?3)', '(?1)(?t>=0)', '', '.*', '(?', '(?t', '(?4)', '(?0)', '(?1)(?t<1)(?t<2)',
                '(?99999999999999999999)', '(?1)(?t<=99999999999999999999)', '(?1)(?t==18446744073709551615)(?2)', '(?t<5)(?1)'])
           + ["repeat('.*', 5000)", "repeat('(?1)', 3000)", "repeat('.', 100) || '(?2)'"]}),
    ("sequence_next_node({d}::text, {b}::text, ({t})::timestamptz, ({v})::text, c1, c2, c3)", EVENTS_CTE + " SELECT {call} FROM ev GROUP BY e",
     {'d': lit(['forward', 'backward', 'Forward', '', 'x' * 300]), 'b': lit(['head', 'tail', 'first_match', 'last_match', 'HEAD', '']),
      't': ['ts', 'ts'] + lit(TIMES), 'v': ["e::text", "NULL::text", "repeat('v', 100000)", "''"]}),
    # channels
    ("attribution({m}::text, e, ({t})::timestamptz, ({ch})::text, v, {w}::interval)", TOUCH_CTE + " SELECT {call} FROM t",
     {'m': lit(ATTR_MODELS), 't': ['ts', 'ts'] + lit(TIMES), 'ch': ['ch', 'ch', "''", "repeat(ch, 5000)", "NULL::text", "ch || E'\\u2603'"],
      'w': lit(INTERVALS)}),
    ("attribution_model(s) || attribution_bar_chart(ARRAY[s, s], {wd}::integer) || attribution_svg(ARRAY[s])",
     TOUCH_CTE + " SELECT {call} FROM (SELECT attribution('linear', e, ts, ch, v) s FROM t) x",
     {'wd': lit(INTS)}),
    ("pipeline_model(deal, ({t})::timestamptz, ({st})::text, ({term})::text[])", DEALS_CTE + " SELECT {call} FROM d",
     {'t': ['ts', 'ts'] + lit(TIMES), 'st': ['stage', 'stage', "''", "NULL::text", "upper(stage)", "repeat(stage, 3000)"],
      'term': ["ARRAY['won','lost']", "ARRAY[]::text[]", "ARRAY[NULL]::text[]", "ARRAY['won','won']", "'{{won},{lost}}'::text[]", "ARRAY['lead']"]}),
    ("(SELECT count(*) FROM pipeline_forecast(m, {st}::text, {n}::bigint)) + (SELECT count(*) FROM pipeline_forecast(m, ARRAY[{st}::text, 'qualified'], ARRAY[{n}::bigint, 3]))"
     " + (SELECT count(*) FROM pipeline_lead_forecast(m, {p}::interval)) + (SELECT count(*) FROM pipeline_period_forecast(m, {p}::interval))"
     " + pipeline_lead_rate(m) + (SELECT count(*) FROM pipeline_report(m)) + (SELECT count(*) FROM pipeline_forecast(m))",
     DEALS_CTE + " SELECT {call} FROM (SELECT pipeline_model(deal, ts, stage, ARRAY['won','lost']) m FROM d) x",
     {'st': lit(['lead', 'qualified', 'won', 'nope', '', 'LEAD']), 'n': lit(INTS + ['9223372036854775807']), 'p': lit(INTERVALS)}),
]

# --------------------------------------------------------------------------
# mutations
# --------------------------------------------------------------------------
BOUND_INTS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 64, 65,
              0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
              0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
              0x7ffffffffffffff0,
              # timestamps: PostgreSQL's first and last valid, and one past each
              0xfd0f7cc1411fa000, 0xfd0f7cc1411f9fff, 0x7fffff5bb3b29fff, 0x7fffff5bb3b2a000,
              0x000000141dd76000]   # one day in microseconds
DOUBLES = [float('nan'), float('inf'), float('-inf'), 1e308, -1e308, 5e-324, -0.0, 0.0, 1e-300]
TEXT_TOKENS = NUMS + TIMES + ['{', '}', '[', ']', '"', ',', ':', '\\', '\\u0000', '\\ud800',
                              'null', 'true', '1e999999', '-', '.', ' ', '\t', 'NaN', '"NaN"',
                              '{"a":1}', '[[[[[[[[[[[[', '}}}}', '0x10', '00000000000000000001',
                              '\u00e9', '\u2603', '\U0001F600', 'BC', '+', 'infinity']

def mutate_bytes(rng, data, pool):
    data = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
        op = rng.randrange(11)
        n = len(data)
        pos = rng.randrange(n + 1) if n else 0
        if op == 0 and n:                                   # bit flips
            for _ in range(rng.randint(1, 4)):
                p = rng.randrange(n)
                data[p] ^= 1 << rng.randrange(8)
        elif op == 1 and n:                                 # one byte, interesting or random
            data[rng.randrange(n)] = rng.choice([0, 0xff, 0x7f, 0x80, 0x01, 0x40, rng.randrange(256)])
        elif op == 2:                                       # insert bytes
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and n:                                 # delete a range
            data[pos:pos + rng.randint(1, 8)] = b''
        elif op == 4:                                       # truncate
            data = data[:pos]
        elif op == 5 and n:                                 # boundary integer, big-endian
            width = rng.choice([1, 2, 4, 8])
            v = rng.choice(BOUND_INTS) & ((1 << (8 * width)) - 1)
            p = rng.randrange(max(1, n - width + 1))
            data[p:p + width] = v.to_bytes(width, 'big')
        elif op == 6 and n:                                 # IEEE double
            p = rng.randrange(max(1, n - 7))
            data[p:p + 8] = struct.pack('>d', rng.choice(DOUBLES))
        elif op == 7 and pool:                              # splice with another value
            other = rng.choice(pool)
            q = rng.randrange(len(other) + 1)
            data = data[:pos] + bytearray(other[q:])
        elif op == 8 and n:                                 # duplicate a range (growth)
            a = rng.randrange(n)
            b = min(n, a + rng.randint(1, 64))
            data[pos:pos] = data[a:b] * rng.choice([1, 2, 16])
        elif op == 9 and n:                                 # a 32-bit length / count
            p = rng.randrange(max(1, n - 3))
            data[p:p + 4] = rng.choice([0xffffffff, 0x7fffffff, 0x40000000, n, n + 1, n - 1, 0x10000]).to_bytes(4, 'big', signed=False) if n >= 1 else b''
        elif op == 10 and n >= 2:                           # swap two ranges
            a, b = sorted(rng.sample(range(n), 2))
            data[a], data[b] = data[b], data[a]
    return bytes(data)

def mutate_text(rng, s, pool):
    if rng.random() < 0.45:
        b = mutate_bytes(rng, s.encode(), [p.encode() for p in pool])
        s = b.decode('utf-8', 'replace')
    else:
        for _ in range(rng.choice([1, 1, 2, 3])):
            op = rng.randrange(5)
            toks = list(re.finditer(r'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|"[^"]*"', s))
            if op == 0 and toks:                            # replace a number or string
                m = rng.choice(toks)
                s = s[:m.start()] + rng.choice(TEXT_TOKENS) + s[m.end():]
            elif op == 1:                                   # insert a token
                p = rng.randrange(len(s) + 1)
                s = s[:p] + rng.choice(TEXT_TOKENS) + s[p:]
            elif op == 2 and s:                             # repeat a segment (huge)
                a = rng.randrange(len(s))
                b = min(len(s), a + rng.randint(1, 40))
                s = s[:a] + s[a:b] * rng.choice([2, 10, 1000, 20000]) + s[b:]
            elif op == 3 and pool:                          # splice two values
                o = rng.choice(pool)
                s = s[:rng.randrange(len(s) + 1)] + o[rng.randrange(len(o) + 1):]
            elif op == 4 and s:                             # truncate
                s = s[:rng.randrange(len(s))]
    return s.replace('\x00', '')

# --------------------------------------------------------------------------
# running SQL through psql
# --------------------------------------------------------------------------
def psql_rows(sql):
    r = subprocess.run(['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('fuzz: seed query failed: %s\n%s' % (r.stderr.strip(), sql))
    return [l for l in r.stdout.split('\n') if l != '']

class Case:
    __slots__ = ('id', 'target', 'kind', 'stmts', 'shown', 'state', 'msg')
    def __init__(self, id, target, kind, stmts, shown):
        self.id, self.target, self.kind, self.stmts, self.shown = id, target, kind, stmts, shown
        self.state, self.msg = None, ''

def server_up():
    for _ in range(120):
        if subprocess.run(['pg_isready', '-q'], capture_output=True).returncode == 0:
            return True
        time.sleep(0.5)
    return False

def run_cases(cases, workdir, verbose):
    """Runs the cases in psql sessions; a lost connection marks the case
    that was running as a crash and the rest resume in a new session."""
    i = 0
    while i < len(cases):
        batch = cases[i:i + 400]
        path = os.path.join(workdir, 'cases.sql')
        # psql sets SQLSTATE after SQL statements but not after \\copy: the
        # error of a \\copy is read from stderr, by line number
        copy_lines = {}
        line = 2
        with open(path, 'w', encoding='utf-8') as f:
            f.write("\\set ON_ERROR_STOP 0\n\\set VERBOSITY verbose\n")
            for c in batch:
                f.write("\\echo @@begin %d\n" % c.id)
                line += 1
                for s in c.stmts:
                    text = s.rstrip().rstrip(';') + ("\n" if s.startswith('\\') else ";\n")
                    if s.startswith('\\copy'):
                        copy_lines[line + 1] = c.id
                    f.write(text)
                    line += text.count('\n')
                    f.write("\\echo @@s %d :SQLSTATE :'LAST_ERROR_MESSAGE'\n" % c.id)
                    line += 1
                f.write("\\echo @@end %d\n" % c.id)
                line += 1
        r = subprocess.run(['psql', '-X', '-q', '-o', '/dev/null', '-f', path],
                           capture_output=True, text=True, errors='replace')
        byid = {c.id: c for c in batch}
        last_begin, done = None, set()
        for line in r.stdout.split('\n'):
            if line.startswith('@@begin '):
                last_begin = int(line.split()[1])
            elif line.startswith('@@end '):
                done.add(int(line.split()[1]))
            elif line.startswith('@@s '):
                parts = line.split(' ', 3)
                c = byid[int(parts[1])]
                st = parts[2]
                if c.state in (None, '00000'):
                    c.state = st
                    c.msg = parts[3] if len(parts) > 3 and st != '00000' else ''
        for m in re.finditer(r'^psql:[^\n]*?:(\d+): ERROR:  ([0-9A-Z]{5}): ([^\n]*)', r.stderr, re.M):
            cid = copy_lines.get(int(m.group(1)))
            if cid is not None and byid[cid].state in (None, '00000'):
                byid[cid].state, byid[cid].msg = m.group(2), m.group(3)
        crashed = None
        for c in batch:
            if c.id not in done:
                crashed = c if c.id == last_begin else None
                break
        if crashed is None and len(done) < len(batch):
            crashed = next(c for c in batch if c.id not in done)
        if crashed is not None:
            crashed.state = 'CRASH'
            crashed.msg = (r.stderr.strip().split('\n') or [''])[-1][:300]
            if verbose:
                print('fuzz: connection lost at case %d; waiting for the server' % crashed.id, flush=True)
            if not server_up():
                sys.exit('fuzz: the server did not come back after case %d' % crashed.id)
            i = cases.index(crashed) + 1
        else:
            i += len(batch)

# --------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cases', type=int, default=3000)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--timeout', type=int, default=20, help='statement_timeout in seconds')
    ap.add_argument('--workdir', default='/tmp')
    ap.add_argument('--only', default=None, help='regular expression on target names')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--show-errors', action='store_true', help='list the distinct error messages per target')
    args = ap.parse_args()
    if args.seed is None and os.environ.get('FUNNEL_TEST_SEED'):
        args.seed = int(os.environ['FUNNEL_TEST_SEED'])     # as test/run.sh passes it
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)
    print('fuzz: seed %d, %d cases' % (seed, args.cases), flush=True)
    # the seed queries too (test/tools/valgrind.sh runs them 20-50 times slower)
    os.environ['PGOPTIONS'] = '-c statement_timeout=%ds' % args.timeout
    t0 = time.time()

    # targets: (name, kind, pool of valid values, make(value) -> [statements], shown)
    targets = []
    seeds = seed_queries()
    for typ in IO_TYPES:
        pool = psql_rows(seeds[typ])
        rt = "SELECT fuzz.roundtrip('%s')" % typ
        targets.append(('text:' + typ, 'text', pool,
                        (lambda t, rt: lambda v: [
                            "TRUNCATE fz_%s" % t,
                            "INSERT INTO fz_%s VALUES (%s::%s)" % (t, quote(v), t), rt])(typ, rt)))
        bpool = [bytes.fromhex(h) for h in psql_rows(
            "SELECT encode(%s_send(v::%s), 'hex') FROM (%s) s(v)" % (typ, typ, seeds[typ]))]
        targets.append(('binary:' + typ, 'binary', bpool,
                        (lambda t, rt: lambda path: [
                            "TRUNCATE fz_%s" % t,
                            "\\copy fz_%s FROM '%s' WITH (FORMAT binary)" % (t, path), rt])(typ, rt)))
    for typ, use in RECORD_USES.items():
        pool = psql_rows(seeds[typ])
        targets.append(('record:' + typ, 'text', pool,
                        (lambda use: lambda v: [use.format(v=quote(v))])(use)))
    for agg, queries in state_targets():
        pool = []
        for q in queries:
            pool += [bytes.fromhex(h) for h in psql_rows(q)]
        targets.append(('state:' + agg.split('(')[0] + '(' + str(len(agg)) + ')', 'state', pool,
                        (lambda agg: lambda b: [
                            "SELECT fuzz.check_state(%s::regprocedure, '\\x%s'::bytea)" % (quote(agg), b.hex())])(agg)))
    for n, (call, frame, slots) in enumerate(CALLS):
        name = 'call:%s#%d' % (re.search(r'[a-z_]+\(', call).group(0)[:-1], n)
        targets.append((name, 'call', (call, frame, slots), None))
    if args.only:
        targets = [t for t in targets if re.search(args.only, t[0])]

    print('fuzz: %d targets, seeds made in %.1f s' % (len(targets), time.time() - t0), flush=True)
    bindir = os.path.join(args.workdir, 'bin')
    os.makedirs(bindir, exist_ok=True)
    cases = []
    for i in range(args.cases):
        name, kind, pool, make = targets[i % len(targets)]
        if kind == 'text':
            v = mutate_text(rng, rng.choice(pool), pool)
            cases.append(Case(i, name, kind, make(v), v[:200]))
        elif kind == 'state':
            b = mutate_bytes(rng, rng.choice(pool), pool)
            cases.append(Case(i, name, kind, make(b), b.hex()[:400]))
        elif kind == 'binary':
            b = mutate_bytes(rng, rng.choice(pool), pool)
            path = os.path.join(bindir, '%d.bin' % i)
            with open(path, 'wb') as f:   # COPY binary: header, one tuple of one field, trailer
                f.write(b'PGCOPY\n\xff\r\n\x00' + struct.pack('>ii', 0, 0))
                f.write(struct.pack('>hi', 1, len(b)) + b + struct.pack('>h', -1))
            cases.append(Case(i, name, kind, make(path), b.hex()[:400]))
        else:
            call, frame, slots = pool
            vals = {k: rng.choice(v) for k, v in slots.items()}
            k = rng.choice(sorted(slots))
            choice = vals[k]
            literals = [unquote(c) for c in slots[k] if unquote(c) is not None]
            if unquote(choice) is not None and rng.random() < 0.4:   # mutate a literal's text
                vals[k] = quote(mutate_text(rng, unquote(choice), literals))
            sql = frame.replace('{call}', call.format(**vals))
            cases.append(Case(i, name, kind, [sql], sql[-300:]))
    t1 = time.time()
    run_cases(cases, args.workdir, args.verbose)
    elapsed = time.time() - t1

    # classify
    counts = {}
    findings = []
    for c in cases:
        st = c.state or 'LOST'
        if st == '00000':
            outcome = 'ok'
        elif st.startswith(ALLOWED) or state_option_unused(c):
            outcome = 'error'
        else:
            outcome = 'FINDING'
            findings.append(c)
        tc = counts.setdefault(c.target, {'ok': 0, 'error': 0, 'FINDING': 0})
        tc[outcome] += 1
    print('fuzz: %d cases in %.1f s (%.0f/s)' % (len(cases), elapsed, len(cases) / max(elapsed, 1e-9)))
    print('%-48s %6s %6s %8s' % ('target', 'ok', 'error', 'findings'))
    for name in sorted(counts):
        tc = counts[name]
        print('%-48s %6d %6d %8d' % (name, tc['ok'], tc['error'], tc['FINDING']))
    codes = {}
    for c in cases:
        if c.state and c.state != '00000':
            codes[c.state] = codes.get(c.state, 0) + 1
    print('SQLSTATEs: ' + ', '.join('%s %d' % kv for kv in sorted(codes.items())))
    if args.show_errors:
        seen = {}
        for c in cases:
            if c.state and c.state != '00000':
                key = (c.target, c.state, re.sub(r'\d+', 'N', c.msg)[:150])
                seen[key] = seen.get(key, 0) + 1
        for (t, st, m), n in sorted(seen.items()):
            print('  %-40s %s %5d %s' % (t, st, n, m))
    log = os.environ.get('FUZZ_SERVER_LOG')
    logfind = []
    if log and os.path.exists(log):
        with open(log, errors='replace') as f:
            for line in f:
                if re.search(r'terminated by signal|runtime error:|AddressSanitizer|TRAP:|was terminated|PANIC', line):
                    logfind.append(line.rstrip())
    outdir = os.environ.get('FUZZ_FINDINGS', '/tmp/funnel-fuzz-findings')
    for c in findings:
        print('FINDING case %d %s: %s %s\n    input: %s' % (c.id, c.target, c.state, c.msg, c.shown))
        os.makedirs(outdir, exist_ok=True)
        path = os.path.join(outdir, 'seed%d-case%d.sql' % (seed, c.id))
        with open(path, 'w', encoding='utf-8') as f:
            for st in c.stmts:
                if st.startswith('\\copy'):   # keep the binary file beside the SQL
                    src = st.split("'")[1]
                    dst = path[:-4] + '.bin'
                    with open(src, 'rb') as a, open(dst, 'wb') as b:
                        b.write(a.read())
                    st = st.replace(src, dst)
                f.write(st.rstrip().rstrip(';') + ('\n' if st.startswith('\\') else ';\n'))
        print('    replay: bash test/fuzz.sh --replay %s' % path)
    for l in logfind[:20]:
        print('SERVER LOG: ' + l)
    print('fuzz: seed %d: %d cases, %d findings, %d server log alarms' % (seed, len(cases), len(findings), len(logfind)))
    return 1 if findings or logfind else 0

if __name__ == '__main__':
    sys.exit(main())
