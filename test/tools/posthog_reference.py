#!/usr/bin/env python3
"""A transcription of PostHog's funnel engine (the funnel-udf crate of the
PostHog/posthog repository: src/steps.rs, the ordered walk with exclusions,
optional steps and breakdown attribution; src/unordered_steps.rs, the
unordered walk), used as the independent reference of the product-funnel
options (doc/product_funnels.md).  Written from the Rust, statement for
statement, keeping its quirks; what we deliberately do differently is listed
in doc/product_funnels.md and kept out of the comparison by the data the
differential test generates (test/tools/posthog_differential.py).

An event is a dict: timestamp (seconds, > 0: PostHog takes 0 for "none"),
uuid, breakdown, steps (1-based step numbers; -k for an exclusion that ends
the chain held by step k-1).  events are sorted by timestamp (stable), as
PostHog's query sorts them (arraySort on the timestamp).
"""
import copy

DEFAULT = {'timestamp': 0.0, 'excluded': False, 'timings': [], 'uuids': [], 'steps': 0}


def _fresh(ts):
    return {'timestamp': ts, 'excluded': False, 'timings': [], 'uuids': [], 'steps': 0}


def exclusion_steps(from_step, to_step):
    """PostHog's encoding of an exclusion from step a to step b (1-based):
    funnelFromStep = a - 1, funnelToStep = b - 1 (0-based); the exclusion
    flag is put at every 0-based index i in funnelFromStep + 1 .. funnelToStep
    and reaches the UDF as -(i + 1)."""
    return [-(i + 1) for i in range(from_step, to_step)]


def _group_by_timestamp(events):
    groups = []
    for e in events:
        if groups and groups[-1][0]['timestamp'] == e['timestamp']:
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


def ordered(events, num_steps, window, optional_steps=(), breakdown_attribution='first_touch',
            prop_vals=(None,), funnel_order_type='ordered'):
    """steps.rs: returns one (step_index, prop_val, timings) per prop_val;
    step_index is 0-based, -1 when the entity is not in the funnel (no step
    or excluded)."""
    breakdown_step = None
    if breakdown_attribution.startswith('step_'):
        breakdown_step = int(breakdown_attribution[5:])
    results = []
    for prop_val in prop_vals:
        v = {'max_step': (0, copy.deepcopy(DEFAULT)),
             'entered': [copy.deepcopy(DEFAULT) for _ in range(num_steps + 1)]}
        if breakdown_attribution == 'all_events':
            filtered = [e for e in events if e['breakdown'] == prop_val]
        else:
            filtered = list(events)
        for group in _group_by_timestamp(filtered):
            ts = group[0]['timestamp']
            v['entered'][0] = _fresh(ts)
            if len(group) == 1:
                _process_event(v, group[0], prop_val, False, num_steps, window, optional_steps,
                               breakdown_step, funnel_order_type)
            elif all(e['steps'] == group[0]['steps'] for e in group):
                for e in group:
                    _process_event(v, e, prop_val, False, num_steps, window, optional_steps,
                                   breakdown_step, funnel_order_type)
            else:
                # different events at one time: one event per positive step,
                # sorted by step (stable); exclusions are not run
                split = []
                for e in group:
                    for s in e['steps']:
                        if s > 0:
                            f = dict(e)
                            f['steps'] = [s]
                            split.append(f)
                split.sort(key=lambda f: f['steps'][0])
                for e in split:
                    _process_event(v, e, prop_val, True, num_steps, window, optional_steps,
                                   breakdown_step, funnel_order_type)
            if v['entered'][num_steps]['timestamp'] > 0.0:
                break
        final_index, final_value = v['max_step']
        if final_value['excluded']:
            results.append((-1, prop_val, []))
            continue
        optional_count = len([i for i in optional_steps if i <= final_index])
        t = final_value['timings']
        results.append((final_index - 1 - optional_count, prop_val,
                        [t[i + 1] - t[i] for i in range(len(t) - 1)]))
    return results


def _process_event(v, event, prop_val, multiple, num_steps, window, optional_steps,
                   breakdown_step, funnel_order_type):
    entered = v['entered']
    for step in reversed(event['steps']):
        exclusion = False
        if step < 0:
            exclusion = True
            step = -step
        prev = step - 1
        prev_ts = entered[prev]['timestamp']
        in_window = prev_ts != 0.0 and event['timestamp'] - prev_ts <= window
        while prev > 0 and (prev_ts == 0.0 or not in_window) and prev in optional_steps:
            prev -= 1
            prev_ts = entered[prev]['timestamp']
            in_window = prev_ts != 0.0 and event['timestamp'] - prev_ts <= window
        already = entered[step]['timestamp'] == prev_ts and entered[step]['timestamp'] != 0.0
        if in_window and not already:
            previous = entered[prev]
            if exclusion:
                if not previous['excluded']:
                    entered[prev]['excluded'] = True
                    if v['max_step'][0] == prev:
                        if event['timestamp'] - v['max_step'][1]['timestamp'] <= window:
                            v['max_step'][1]['excluded'] = True
            else:
                unmatched = (breakdown_step is not None and prev == breakdown_step
                             and prop_val != event['breakdown'])
                used = multiple and event['uuid'] in previous['uuids']
                if not unmatched and not used:
                    t = list(previous['timings'])
                    u = list(previous['uuids'])
                    if step not in optional_steps:
                        t.append(event['timestamp'])
                        u.append(event['uuid'])
                    new = {'timestamp': previous['timestamp'], 'excluded': previous['excluded'],
                           'timings': t, 'uuids': u,
                           'steps': previous['steps'] | (1 << (step - 1))}
                    if not previous['excluded']:
                        entered[step] = copy.deepcopy(new)
                    if step > v['max_step'][0] or (step == v['max_step'][0]
                                                    and v['max_step'][1]['excluded']):
                        v['max_step'] = (step, new)
    if not multiple and funnel_order_type == 'strict':
        for i in range(1, len(entered)):
            if i not in event['steps']:
                entered[i] = copy.deepcopy(DEFAULT)


def unordered(events, num_steps, window, breakdown_attribution='first_touch', prop_vals=(None,)):
    """unordered_steps.rs: the most steps with an event inside one window
    (exclusions are not applied there).  Steps are 0-based in this walk's
    input (events_by_step[step]); returns (step_index, prop_val) with -1 for
    no step."""
    results = []
    for prop_val in prop_vals:
        by_step = [[] for _ in range(num_steps)]
        max_step = 0
        completed = 0
        if breakdown_attribution == 'all_events':
            filtered = [e for e in events if e['breakdown'] == prop_val]
        else:
            filtered = list(events)
        for group in _group_by_timestamp(filtered):
            excl = [e for e in group if all(s < 0 for s in e['steps'])]
            steps = [e for e in group if not all(s < 0 for s in e['steps'])]
            order = group if len(group) == 1 or not excl else steps + excl + steps
            for e in order:
                if e['steps'][0] < 0:
                    continue
                # min_by_key with a key of (): the first step listed
                s = e['steps'][0]
                if not by_step[s]:
                    completed += 1
                by_step[s].append(e)
                for k in range(num_steps):
                    if by_step[k]:
                        while True:
                            if not by_step[k]:
                                completed -= 1
                                break
                            if e['timestamp'] - by_step[k][0]['timestamp'] > window:
                                by_step[k].pop(0)
                            else:
                                break
                if completed > max_step:
                    max_step = completed
        results.append((max_step - 1, prop_val))
    return results


def trends(events, num_steps, window, from_step=0):
    """trends.rs (ordered, no breakdown): events carry an 'interval_start'
    (the period of the event's time); exclusions as in ordered() (-k marks
    the chain held by step k-1).  Returns {interval_start: 1 (converted) or
    -1 (entered, not converted)}."""
    attempts = {}      # interval_start -> {'entered': [[ts, excluded] per step 0..n], 'max': [step, ts, how]}
    results = {}
    for group in _group_by_timestamp(events):
        for event in group:
            ts = event['timestamp']
            for step in reversed(event['steps']):
                exclusion = step < 0
                step = abs(step)
                if step == 1:
                    b = event['interval_start']
                    if b in results:
                        continue
                    a = attempts.get(b)
                    if a is None or (a['max'][0] == 1 and a['max'][2] != 'not'):
                        entered = [[0.0, False] for _ in range(num_steps + 1)]
                        entered[1] = [ts, False]
                        attempts[b] = {'entered': entered, 'max': [1, ts, 'not']}
                    else:
                        a['entered'][1] = [ts, False]
                else:
                    for b in list(attempts):
                        a = attempts[b]
                        e = a['entered']
                        in_window = ts - e[step - 1][0] <= window
                        prev_excluded = e[step - 1][1]
                        already = e[step][0] == e[step - 1][0]
                        if in_window and not already:
                            if exclusion:
                                if not prev_excluded:
                                    e[step - 1][1] = True
                                    if a['max'][0] == step - 1 and ts - a['max'][1] <= window:
                                        a['max'][2] = 'partial'
                            else:
                                if not prev_excluded:
                                    e[step] = [e[step - 1][0], False]
                                if e[num_steps][0] != 0.0:
                                    results[b] = 1
                                    del attempts[b]
                                elif step > a['max'][0] or (step == a['max'][0] and a['max'][2] == 'partial'):
                                    a['max'] = [step, ts, 'full' if prev_excluded else 'not']
    # an attempt reached from an excluded step drops every unconverted one
    if not any(a['max'][2] == 'full' for a in attempts.values()):
        for b, a in attempts.items():
            if b not in results and a['max'][0] >= from_step + 1 and a['max'][2] != 'partial':
                results[b] = -1
    return results


def prop_vals(events, attribution, step_index=None):
    """PostHog's breakdown values of one entity (funnel_udf.py, _prop_vals,
    single-property breakdown), over the entity's events (rows matching a
    step or an exclusion).  An event's 'prop' is its property (None: not
    set); the UDF sees ifNull(prop, '') as its 'breakdown'.

    first_touch / last_touch: [argMinIf / argMaxIf(prop, timestamp,
    isNotNull(prop))], [None] when no event has the property.  ClickHouse
    keeps whichever of several events of one time it meets first; here the
    least value (byte order) of them, the rule doc/product_funnels.md gives.
    step_N (N 0-based): groupUniqArray(ifNull(if(step_N = 1, prop, NULL), '')).
    all_events: groupUniqArray(ifNull(prop, ''))."""
    if attribution in ('first_touch', 'last_touch'):
        cand = [e for e in events if e['prop'] is not None]
        if not cand:
            return [None]
        if attribution == 'first_touch':
            t = min(e['timestamp'] for e in cand)
        else:
            t = max(e['timestamp'] for e in cand)
        return [min(e['prop'].encode() for e in cand if e['timestamp'] == t).decode()]
    if attribution.startswith('step_'):
        n = int(attribution[5:])
        vals = []
        for e in events:
            v = e['prop'] if (n + 1) in e['steps'] and e['prop'] is not None else ''
            if v not in vals:
                vals.append(v)
        return vals
    vals = []
    for e in events:
        v = e['prop'] if e['prop'] is not None else ''
        if v not in vals:
            vals.append(v)
    return vals


def breakdown(events, num_steps, window, attribution, optional_steps=(), funnel_order_type='ordered'):
    """One entity's breakdown as PostHog's query computes it: its prop_vals,
    the UDF's walk per value (ordered or unordered), and HAVING
    step_reached >= 0.  Returns {prop_val: step_index} (0-based)."""
    for e in events:
        e['breakdown'] = e['prop'] if e['prop'] is not None else ''
    vals = prop_vals(events, attribution)
    if funnel_order_type == 'unordered':
        res = [(r[0], r[1]) for r in unordered(events, num_steps, window, attribution, vals)]
    else:
        res = [(r[0], r[1]) for r in ordered(events, num_steps, window, optional_steps, attribution, vals)]
    return {v: s for s, v in res if s >= 0}
