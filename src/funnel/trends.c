/*
 * src/funnel/trends.c
 *    funnel_trends: conversion by entry period (PostHog's funnel trends,
 *    funnel-udf/src/trends.rs).  The rows reach it through the per-entity
 *    table of the whole-table aggregates; the final function walks each
 *    entity's logged rows once, with one attempt per entry period, and
 *    counts per period the entities that entered and those that converted.
 *
 * An entity enters period P when it does step 1 at a time whose period (in
 * the mode's time zone) is P.  Its attempt for P is the default walk's
 * chain set: a later step-1 row in P restarts step 1 of it, as in the walk;
 * a step-k row extends every open attempt whose step k-1 holds a chain
 * started within the window.  The attempt converts when it reaches the last
 * step; once it has, later step-1 rows of P are ignored.  Periods follow
 * local time (a day in Europe/Paris is 23, 24 or 25 hours); the window is
 * absolute time.
 *
 * Over stored journeys (one row per entity) each journey is walked in the
 * transition, into per-period counts that combine and serialise: see
 * "funnel_trends over stored journeys" below.
 */
#include "postgres.h"

#include "common/agg_state.h"
#include "engine/entities.h"
#include "engine/funnel.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

typedef struct TrendPeriod
{
	int64		start;			/* TimestampTz of the period's first instant */
	int64		end;			/* and of the next period's */
	int64		entered;
	int64		converted;
	/* over stored journeys only (TrendAcc) */
	int64		entered_open;	/* the entries of the journeys walked to the
								 * top step, were a higher step the last */
	int64		entered_below;	/* entries of journeys below the top step */
} TrendPeriod;

/* a + b (funnel_count_add) */
#define trend_count_add(a, b) funnel_count_add((a), (b), "funnel trend count")

/* which counter a walk's entries go to (TrendAcc) */
#define TREND_COUNT_ENTERED	0
#define TREND_COUNT_OPEN	1
#define TREND_COUNT_BELOW	2

/* how an attempt's furthest step stands to the exclusions (trends.rs) */
#define TREND_NOT_EXCLUDED	0
#define TREND_PARTIAL		1	/* an exclusion came after it: not entered */
#define TREND_FULL			2	/* reached from an excluded step: the entity's
								 * unconverted attempts all drop out */

typedef struct Attempt
{
	int64		period;			/* start of its entry period */
	int64		last_entry;		/* latest step-1 time: nothing older extends */
	uint64		held;			/* steps holding a chain */
	bool		converted;
	bool		open;			/* can still extend (not converted, in the window) */
	/* with exclusions only */
	uint64		excluded;		/* steps whose chain saw an exclusion */
	int			max_step;		/* furthest step reached, when, and how */
	int64		max_ts;
	int			max_excluded;	/* TREND_* */
	int64		start[FUNNEL_MAX_STEPS];	/* chain start held by each step */
} Attempt;

typedef struct TrendWalk
{
	const FunnelConfig *cfg;
	int			nsteps;			/* the last step (funnel_event input: the highest seen) */
	text	   *zone;
	text	   *unit;
	/* the period of the latest step-1 row, [pstart, pend) */
	int64		pstart;
	int64		pend;
	bool		have_period;
	/* the periods seen over all entities */
	TrendPeriod *periods;
	int			nperiods;
	int			cap;
	/* one entity's attempts */
	Attempt    *att;
	int			natt;
	int			att_cap;
	Size		held;
	int			count_into;		/* TREND_COUNT_* */
	MemoryContext cxt;			/* the final function's: periods and attempts
								 * outlive the store's per-entity contexts */
} TrendWalk;

static inline void
count_entered(TrendWalk *tw, TrendPeriod *p)
{
	if (tw->count_into == TREND_COUNT_ENTERED)
		p->entered++;
	else if (tw->count_into == TREND_COUNT_OPEN)
		p->entered_open++;
	else
		p->entered_below++;
}

/* The local period holding ts: [date_trunc(unit, local ts), + 1 unit) back in absolute time. */
static void
period_of(TrendWalk *tw, int64 ts)
{
	Datum		local;
	Datum		first;
	Datum		next;
	Interval	one;
	int			lo = 0,
				hi = tw->nperiods;

	if (tw->have_period && ts >= tw->pstart && ts < tw->pend)
		return;
	/* a period seen before (for another entity): no time zone arithmetic */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (tw->periods[mid].start <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && ts < tw->periods[lo - 1].end)
	{
		tw->pstart = tw->periods[lo - 1].start;
		tw->pend = tw->periods[lo - 1].end;
		tw->have_period = true;
		return;
	}
	local = DirectFunctionCall2(timestamptz_zone, PointerGetDatum(tw->zone), TimestampTzGetDatum(ts));
	first = DirectFunctionCall2(timestamp_trunc, PointerGetDatum(tw->unit), local);
	memset(&one, 0, sizeof(one));
	switch (tw->cfg->bucket)
	{
		case FUNNEL_BUCKET_HOUR:
			one.time = USECS_PER_HOUR;
			break;
		case FUNNEL_BUCKET_DAY:
			one.day = 1;
			break;
		case FUNNEL_BUCKET_WEEK:
			one.day = 7;
			break;
		default:
			one.month = 1;
			break;
	}
	next = DirectFunctionCall2(timestamp_pl_interval, first, IntervalPGetDatum(&one));
	tw->pstart = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, PointerGetDatum(tw->zone), first));
	tw->pend = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, PointerGetDatum(tw->zone), next));
	/* an instant in a repeated local hour may fall before its period's start: keep it in */
	if (ts < tw->pstart)
		tw->pstart = ts;
	if (tw->pend <= ts)
		tw->pend = ts + 1;
	tw->have_period = true;
}

static TrendPeriod *
period_slot(TrendWalk *tw, int64 start, int64 end)
{
	int			lo = 0,
				hi = tw->nperiods;

	/* periods are kept sorted by start */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (tw->periods[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < tw->nperiods && tw->periods[lo].start == start)
		return &tw->periods[lo];
	if (tw->nperiods == tw->cap)
	{
		tw->cap = tw->cap ? tw->cap * 2 : 64;
		funnel_check_memory(tw->held + sizeof(TrendPeriod) * tw->cap);
		tw->periods = tw->periods ? repalloc_huge(tw->periods, sizeof(TrendPeriod) * tw->cap)
			: MemoryContextAlloc(tw->cxt, sizeof(TrendPeriod) * tw->cap);
	}
	memmove(&tw->periods[lo + 1], &tw->periods[lo], sizeof(TrendPeriod) * (tw->nperiods - lo));
	tw->nperiods++;
	tw->periods[lo].start = start;
	tw->periods[lo].end = end;
	tw->periods[lo].entered = 0;
	tw->periods[lo].converted = 0;
	tw->periods[lo].entered_open = 0;
	tw->periods[lo].entered_below = 0;
	return &tw->periods[lo];
}

/* An attempt reached the last step: it entered and converted. */
static void
trend_converted(TrendWalk *tw, Attempt *a)
{
	TrendPeriod *p = period_slot(tw, a->period, 0);

	/* a walk that counts elsewhere than entered has an unreachable last step */
	Assert(tw->count_into == TREND_COUNT_ENTERED);
	a->converted = true;
	a->open = false;
	p->converted++;
	if (tw->cfg->nexcl > 0)
		p->entered++;
}

/* A step-1 entry at ts: restart the attempt of its period, or open one. */
static void
trend_entry_first(TrendWalk *tw, int64 ts)
{
	Attempt    *a;

	period_of(tw, ts);
	/* step-1 rows come in time order: their periods never go back */
	if (tw->natt > 0 && tw->att[tw->natt - 1].period == tw->pstart)
	{
		a = &tw->att[tw->natt - 1];
		if (a->converted)
			return;
		if (tw->cfg->nexcl > 0)
		{
			if (a->max_step == 1 && a->max_excluded != TREND_NOT_EXCLUDED)
			{
				/* excluded at step 1: the attempt starts afresh (trends.rs) */
				a->held = 0;
				a->excluded = 0;
				a->max_excluded = TREND_NOT_EXCLUDED;
				a->max_ts = ts;
			}
			a->excluded &= ~(uint64) 1;
		}
	}
	else
	{
		TrendPeriod *p = period_slot(tw, tw->pstart, tw->pend);

		if (tw->natt == tw->att_cap)
		{
			tw->att_cap = tw->att_cap ? tw->att_cap * 2 : 8;
			funnel_check_memory(tw->held + sizeof(Attempt) * tw->att_cap);
			tw->att = tw->att ? repalloc_huge(tw->att, sizeof(Attempt) * tw->att_cap)
				: MemoryContextAlloc(tw->cxt, sizeof(Attempt) * tw->att_cap);
		}
		a = &tw->att[tw->natt++];
		a->period = tw->pstart;
		a->held = 0;
		a->converted = false;
		a->excluded = 0;
		a->max_step = 1;
		a->max_ts = ts;
		a->max_excluded = TREND_NOT_EXCLUDED;
		/* with exclusions, whether it entered is known at the entity's end */
		if (tw->cfg->nexcl == 0)
			count_entered(tw, p);
	}
	a->open = true;
	a->last_entry = ts;
	a->start[0] = ts;
	a->held |= 1;
	if (tw->nsteps == 1)
		trend_converted(tw, a);
}

/*
 * A step-k entry (k > 1) at ts: extend every open attempt that can; an
 * exclusion entry (exclusion) marks the chain of step k - 1 instead.
 */
static void
trend_entry(TrendWalk *tw, int64 ts, int k, bool exclusion)
{
	uint64		window = (uint64) tw->cfg->window;
	int			i;

	for (i = 0; i < tw->natt; i++)
	{
		Attempt    *a = &tw->att[i];
		int64		start;

		if (!a->open)
			continue;
		if ((uint64) ts - (uint64) a->last_entry > window)
		{
			a->open = false;	/* every chain of it started before its last entry */
			continue;
		}
		if (!(a->held & ((uint64) 1 << (k - 2))))
			continue;
		start = a->start[k - 2];
		if ((uint64) ts - (uint64) start > window)
			continue;
		if ((a->held & ((uint64) 1 << (k - 1))) && a->start[k - 1] == start)
			continue;			/* this chain already went on */
		if (tw->cfg->nexcl > 0)
		{
			/* trends.rs: the walk with exclusions */
			bool		prev_excluded = (a->excluded & ((uint64) 1 << (k - 2))) != 0;

			if (exclusion)
			{
				if (!prev_excluded)
				{
					a->excluded |= (uint64) 1 << (k - 2);
					if (a->max_step == k - 1 && (uint64) ts - (uint64) a->max_ts <= window)
						a->max_excluded = TREND_PARTIAL;
				}
				continue;
			}
			if (!prev_excluded)
			{
				a->start[k - 1] = start;
				a->held |= (uint64) 1 << (k - 1);
				a->excluded &= ~((uint64) 1 << (k - 1));
			}
			if (a->held & ((uint64) 1 << (tw->nsteps - 1)))
				trend_converted(tw, a);
			else if (k > a->max_step ||
					 (k == a->max_step && a->max_excluded == TREND_PARTIAL))
			{
				a->max_step = k;
				a->max_ts = ts;
				a->max_excluded = prev_excluded ? TREND_FULL : TREND_NOT_EXCLUDED;
			}
			continue;
		}
		a->start[k - 1] = start;
		a->held |= (uint64) 1 << (k - 1);
		if (k == tw->nsteps)
			trend_converted(tw, a);
	}
}

/*
 * The entity's rows are over: with exclusions, its unconverted attempts
 * count as entered unless an exclusion came after their furthest step, and
 * none does when one of them reached a step from an excluded one (trends.rs).
 */
static void
trend_end_entity(TrendWalk *tw)
{
	bool		full = false;
	int			i;

	if (tw->cfg->nexcl == 0)
		return;
	for (i = 0; i < tw->natt; i++)
		full |= (!tw->att[i].converted && tw->att[i].max_excluded == TREND_FULL);
	if (full)
		return;
	for (i = 0; i < tw->natt; i++)
		if (!tw->att[i].converted && tw->att[i].max_excluded != TREND_PARTIAL)
			count_entered(tw, period_slot(tw, tw->att[i].period, 0));
}

static int
event_ts_cmp(const void *a, const void *b)
{
	int64		x = ((const FunnelEvent *) a)->ts;
	int64		y = ((const FunnelEvent *) b)->ts;

	return (x > y) - (x < y);
}

static void
trend_add_entity(const FunnelEvent *events, int n, Size held, void *arg)
{
	TrendWalk  *tw = (TrendWalk *) arg;
	FunnelEvent *ev;
	int			i;
	uint64		mask = tw->nsteps == 64 ? PG_UINT64_MAX : ((uint64) 1 << tw->nsteps) - 1;

	if (n == 0)
		return;
	tw->held = held + sizeof(FunnelEvent) * ((Size) n + 1);
	funnel_check_memory(tw->held);
	ev = palloc_extended(sizeof(FunnelEvent) * (Size) n, MCXT_ALLOC_HUGE);
	memcpy(ev, events, sizeof(FunnelEvent) * (Size) n);
	/* rows of one time are taken together: their order does not matter */
	for (i = 1; i < n; i++)
		if (ev[i].ts < ev[i - 1].ts)
			break;
	if (i < n)
		qsort(ev, n, sizeof(FunnelEvent), event_ts_cmp);
	tw->natt = 0;
	i = 0;
	while (i < n)
	{
		int64		ts = ev[i].ts;
		uint64		steps = 0;

		CHECK_FOR_INTERRUPTS();
		for (; i < n && ev[i].ts == ts; i++)
			steps |= ev[i].steps;
		/* the exclusions of one time first, as in the walk of product funnels */
		if (steps & tw->cfg->excl_mask)
		{
			int			x,
						s;

			for (x = 0; x < tw->cfg->nexcl; x++)
			{
				const FunnelExclusion *e = &tw->cfg->excl[x];

				if (!(steps & ((uint64) 1 << (e->pos - 1))))
					continue;
				/* trends.rs marks step to - 1 down to step from */
				for (s = e->to; s > e->from; s--)
					trend_entry(tw, ts, s, true);
			}
		}
		steps &= mask;
		/* the entries of one time in step order, as in the walk */
		while (steps)
		{
			int			k = pg_rightmost_one_pos64(steps) + 1;

			if (k == 1)
				trend_entry_first(tw, ts);
			else
				trend_entry(tw, ts, k, false);
			steps &= steps - 1;
		}
	}
	trend_end_entity(tw);
	pfree(ev);
}

/* The checks of a trend's configuration its final function makes. */
static void
trend_check_config(const FunnelConfig *cfg)
{
	funnel_check_used_options(cfg, FUNNEL_USES_PERIODS);
	if (cfg->bucket == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a funnel trend needs a period in the mode"),
				 errhint("Add \"bucket day\" (or hour, week, month), and \"time_zone <name>\" for local periods.")));
}

/* The walk's configuration, time zone and period unit (in tw->cxt). */
static void
trend_walk_configure(TrendWalk *tw, const FunnelConfig *cfg)
{
	MemoryContext old = MemoryContextSwitchTo(tw->cxt);

	tw->cfg = cfg;
	tw->zone = cstring_to_text(cfg->time_zone[0] ? cfg->time_zone : "UTC");
	tw->unit = cstring_to_text(funnel_bucket_name(cfg->bucket));
	MemoryContextSwitchTo(old);
}

/*
 * The result of a trend: per entry period with an entry, in time order,
 * its start and end, the entities that entered and those that converted,
 * as jsonb (read by funnel_trend_report).
 */
static Datum
trend_result(const FunnelConfig *cfg, const TrendPeriod *periods, int nperiods)
{
	StringInfoData buf;
	int			i,
				n;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"window_us\": " INT64_FORMAT ", \"bucket\": \"%s\", \"time_zone\": ",
					 cfg->window, funnel_bucket_name(cfg->bucket));
	escape_json(&buf, cfg->time_zone[0] ? cfg->time_zone : "UTC");
	appendStringInfoString(&buf, ", \"periods\": [");
	for (i = 0, n = 0; i < nperiods; i++)
	{
		const TrendPeriod *p = &periods[i];
		int64		entered = trend_count_add(p->entered, p->entered_below);

		/* with exclusions a period's only attempts may have dropped out */
		if (entered == 0)
			continue;

		/* Unix microseconds: to_timestamp(x / 1e6) reads them back */
		appendStringInfo(&buf, "%s{\"start_us\": " INT64_FORMAT ", \"end_us\": " INT64_FORMAT
						 ", \"entered\": " INT64_FORMAT ", \"converted\": " INT64_FORMAT "}",
						 n++ ? ", " : "",
						 p->start + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
						 p->end + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
						 entered, p->converted);
	}
	appendStringInfoString(&buf, "]}");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * funnel_trends final function: per entry period, in time order, its start
 * and end, the entities that entered and those that converted, as jsonb
 * (read by funnel_trend_report).  Reads the state only.
 */
PG_FUNCTION_INFO_V1(funnel_trends_final);
Datum
funnel_trends_final(PG_FUNCTION_ARGS)
{
	EntityTable *t;
	TrendWalk	tw;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (EntityTable *) PG_GETARG_POINTER(0);
	trend_check_config(&t->cfg);
	memset(&tw, 0, sizeof(tw));
	tw.cxt = CurrentMemoryContext;
	trend_walk_configure(&tw, &t->cfg);
	/* the target: to_step, else the last step */
	tw.nsteps = (t->cfg.options & FUNNEL_OPT_TO_STEP) ? t->cfg.target :
		funnel_reported_steps(&t->cfg, t->seen_steps);
	entity_table_foreach(t, trend_add_entity, &tw);
	return trend_result(&t->cfg, tw.periods, tw.nperiods);
}

/* ---------- funnel_trends over stored journeys ---------- */

/*
 * funnel_trends(window, mode, journey): a row is one entity's whole journey
 * (funnel_event[] or journey), walked in the transition as the final
 * function over rows walks each entity.  As for the funnel_event form, the
 * last step is the highest step any journey names (with exclusions, of the
 * steps before them), which a row alone does not know.  A journey that
 * names no step above h cannot reach a higher last step, and its walk is
 * then the same whatever that step is (the last step only decides
 * conversions).  So a journey naming up to step h is walked:
 *
 * - when h is the highest so far (top): to step h, into entered and
 *   converted, and, as if the last step were above h, into entered_open;
 * - when h < top: as if the last step were above h, into entered_below.
 *
 * When a journey names a higher step, every period's entered_open moves to
 * entered_below and the walks to the old top are dropped.  A period then
 * has entered + entered_below entries and converted conversions.
 */
typedef struct TrendAcc
{
	FunnelConfig cfg;
	bool		configured;
	int			top;			/* the highest step a journey named */
	TrendWalk	tw;				/* its periods (tw.cxt: the aggregate's) */
} TrendAcc;

static TrendAcc *
trend_acc_create(MemoryContext cxt)
{
	TrendAcc   *acc = MemoryContextAllocZero(cxt, sizeof(TrendAcc));

	acc->tw.cxt = cxt;
	return acc;
}

static void
trend_acc_configure(TrendAcc *acc, const FunnelConfig *cfg)
{
	acc->cfg = *cfg;
	acc->configured = true;
	trend_walk_configure(&acc->tw, &acc->cfg);
}

static Size
trend_acc_memory(const TrendAcc *acc)
{
	return sizeof(TrendAcc) + sizeof(TrendPeriod) * (Size) acc->tw.cap +
		sizeof(Attempt) * (Size) acc->tw.att_cap;
}

/* A journey names a step above top: the walks to top no longer count. */
static void
trend_acc_raise(TrendAcc *acc, int top)
{
	int			i;

	for (i = 0; i < acc->tw.nperiods; i++)
	{
		TrendPeriod *p = &acc->tw.periods[i];

		p->entered_below = trend_count_add(p->entered_below, p->entered_open);
		p->entered = p->converted = p->entered_open = 0;
	}
	acc->top = top;
}

/* One entity's events (in any order) into the trend. */
static void
trend_acc_add(TrendAcc *acc, const FunnelEvent *ev, int n)
{
	TrendWalk  *tw = &acc->tw;
	uint64		seen = 0;
	int			h,
				i;

	for (i = 0; i < n; i++)
		seen |= ev[i].steps;
	if (acc->cfg.nexcl > 0)
		funnel_check_row_steps(&acc->cfg, seen);
	h = funnel_reported_steps(&acc->cfg, seen);
	if (h == 0)
		return;					/* no step: no entry */
	if (acc->cfg.options & FUNNEL_OPT_TO_STEP)
	{
		/* the last step is known: one walk to it */
		acc->top = acc->cfg.target;
		tw->nsteps = acc->cfg.target;
		tw->count_into = TREND_COUNT_ENTERED;
		trend_add_entity(ev, n, trend_acc_memory(acc), tw);
		funnel_check_memory(trend_acc_memory(acc));
		return;
	}
	if (h > acc->top)
		trend_acc_raise(acc, h);
	if (h == acc->top)
	{
		tw->nsteps = h;
		tw->count_into = TREND_COUNT_ENTERED;
		trend_add_entity(ev, n, trend_acc_memory(acc), tw);
	}
	/* the walk as if the last step were above h (none can be above nsteps) */
	if (h < acc->cfg.nsteps)
	{
		tw->nsteps = h + 1;
		tw->count_into = h == acc->top ? TREND_COUNT_OPEN : TREND_COUNT_BELOW;
		trend_add_entity(ev, n, trend_acc_memory(acc), tw);
	}
	funnel_check_memory(trend_acc_memory(acc));
}

static Datum
journey_trend_add(FunctionCallInfo fcinfo, bool compact)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_trends");
	TrendAcc   *acc = FUNNEL_STATE_ARG(TrendAcc, 0);
	const FunnelConfig *cfg;
	FunnelEvent buf[FUNNEL_JOURNEY_STACK_EVENTS];
	FunnelEvent *events;
	int			n;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel mode must not be NULL"),
				 errhint("Use '' for the default mode.")));
	cfg = funnel_journey_config(fcinfo, PG_GETARG_INTERVAL_P(1), PG_GETARG_TEXT_PP(2), false,
								FUNNEL_USES_PERIODS);
	if (acc == NULL)
		acc = trend_acc_create(cxt);
	if (!acc->configured)
	{
		/* the walk of each row needs the period now */
		trend_check_config(cfg);
		trend_acc_configure(acc, cfg);
	}
	else if (acc->cfg.window != cfg->window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window differs between rows of one group"),
				 errhint("Give every row of a group the same window.")));
	else
		funnel_config_check_same(&acc->cfg, cfg);
	if (PG_ARGISNULL(3))
		PG_RETURN_POINTER(acc);
	if (compact)
		events = funnel_journey_decode_into(PG_GETARG_JOURNEY_P(3), &n,
											buf, FUNNEL_JOURNEY_STACK_EVENTS);
	else
		events = funnel_journey_events(PG_GETARG_ARRAYTYPE_P(3), &n);
	trend_acc_add(acc, events, n);
	PG_RETURN_POINTER(acc);
}

/* funnel_trends(window, mode, journey funnel_event[]) transition */
PG_FUNCTION_INFO_V1(funnel_trends_journey_sfunc);
Datum
funnel_trends_journey_sfunc(PG_FUNCTION_ARGS)
{
	return journey_trend_add(fcinfo, false);
}

/* funnel_trends(window, mode, journey journey) transition */
PG_FUNCTION_INFO_V1(funnel_trends_compact_sfunc);
Datum
funnel_trends_compact_sfunc(PG_FUNCTION_ARGS)
{
	return journey_trend_add(fcinfo, true);
}

/* Adds b's periods to a's (a configured like b, a->top >= b->top). */
static void
trend_acc_merge(TrendAcc *a, const TrendAcc *b)
{
	int			i;

	for (i = 0; i < b->tw.nperiods; i++)
	{
		const TrendPeriod *q = &b->tw.periods[i];
		TrendPeriod *p = period_slot(&a->tw, q->start, q->end);

		CHECK_FOR_INTERRUPTS();
		if (b->top == a->top)
		{
			p->entered = trend_count_add(p->entered, q->entered);
			p->converted = trend_count_add(p->converted, q->converted);
			p->entered_open = trend_count_add(p->entered_open, q->entered_open);
			p->entered_below = trend_count_add(p->entered_below, q->entered_below);
		}
		else
			p->entered_below = trend_count_add(p->entered_below,
											   trend_count_add(q->entered_below, q->entered_open));
	}
	funnel_check_memory(trend_acc_memory(a));
}

/* funnel_trends over journeys: combine function (parallel plans) */
PG_FUNCTION_INFO_V1(funnel_trends_journey_combine);
Datum
funnel_trends_journey_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_trends_journey_combine");
	TrendAcc   *a = FUNNEL_STATE_ARG(TrendAcc, 0);
	TrendAcc   *b = FUNNEL_STATE_ARG(TrendAcc, 1);

	if (b == NULL || !b->configured)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = trend_acc_create(cxt);
	if (!a->configured)
		trend_acc_configure(a, &b->cfg);
	else
		funnel_config_check_same(&a->cfg, &b->cfg);
	if (b->top > a->top)
		trend_acc_raise(a, b->top);
	trend_acc_merge(a, b);
	PG_RETURN_POINTER(a);
}

/*
 * funnel_trends over journeys: state serialisation: a configured flag, the
 * configuration, the top step, and the periods (start, end and the four
 * counts).
 */
PG_FUNCTION_INFO_V1(funnel_trends_journey_serialize);
Datum
funnel_trends_journey_serialize(PG_FUNCTION_ARGS)
{
	TrendAcc   *acc;
	StringInfoData buf;
	int			i;

	funnel_agg_context(fcinfo, "funnel_trends_journey_serialize");
	acc = (TrendAcc *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, acc->configured ? 1 : 0);
	if (acc->configured)
	{
		funnel_config_serialize(&acc->cfg, &buf);
		pq_sendbyte(&buf, (uint8) acc->top);
		pq_sendint32(&buf, acc->tw.nperiods);
		for (i = 0; i < acc->tw.nperiods; i++)
		{
			const TrendPeriod *p = &acc->tw.periods[i];

			pq_sendint64(&buf, p->start);
			pq_sendint64(&buf, p->end);
			pq_sendint64(&buf, p->entered);
			pq_sendint64(&buf, p->converted);
			pq_sendint64(&buf, p->entered_open);
			pq_sendint64(&buf, p->entered_below);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* funnel_trends over journeys: state deserialisation; every field is checked. */
PG_FUNCTION_INFO_V1(funnel_trends_journey_deserialize);
Datum
funnel_trends_journey_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_trends_journey_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	TrendAcc   *acc = trend_acc_create(cxt);
	FunnelConfig cfg;
	int			configured;
	int			n,
				i;

	funnel_state_reader(b, &buf);
	configured = pq_getmsgbyte(&buf);
	if (configured == 0)
	{
		funnel_state_check_end(&buf);
		PG_RETURN_POINTER(acc);
	}
	if (configured != 1)
		funnel_invalid_state("The funnel_trends state has invalid flags.");
	funnel_config_deserialize(&cfg, &buf);
	if (cfg.bucket == 0 || cfg.mode != 0 || cfg.optional != 0 || FUNNEL_ANY_ORDER(&cfg) ||
		cfg.want_elapsed || !cfg.open_steps ||
		(cfg.options & (FUNNEL_OPT_STEP_TIMES | FUNNEL_OPT_EXCLUSION_COUNTS_REACHED)))
		funnel_invalid_state("The funnel_trends state has invalid funnel options.");
	trend_acc_configure(acc, &cfg);
	acc->top = pq_getmsgbyte(&buf);
	if (acc->top > acc->cfg.nsteps)
		funnel_invalid_state("The funnel_trends state's top step is out of range.");
	n = pq_getmsgint(&buf, 4);
	funnel_state_check_count(&buf, n, 6 * sizeof(int64));
	for (i = 0; i < n; i++)
	{
		TrendPeriod q;
		TrendPeriod *p;

		q.start = pq_getmsgint64(&buf);
		q.end = pq_getmsgint64(&buf);
		q.entered = pq_getmsgint64(&buf);
		q.converted = pq_getmsgint64(&buf);
		q.entered_open = pq_getmsgint64(&buf);
		q.entered_below = pq_getmsgint64(&buf);
		if ((i > 0 && q.start <= acc->tw.periods[i - 1].start) || q.end <= q.start ||
			!IS_VALID_TIMESTAMP(q.start) || !IS_VALID_TIMESTAMP(q.end - 1))
			funnel_invalid_state("The funnel_trends state's periods are out of order or range.");
		if (q.entered < 0 || q.converted < 0 || q.entered_open < 0 || q.entered_below < 0 ||
			q.converted > q.entered ||
			(acc->top == 0 && (q.entered | q.entered_open | q.entered_below) != 0))
			funnel_invalid_state("The funnel_trends state has an invalid count.");
		p = period_slot(&acc->tw, q.start, q.end);
		*p = q;
	}
	funnel_state_check_end(&buf);
	funnel_check_memory(trend_acc_memory(acc));
	PG_RETURN_POINTER(acc);
}

/*
 * funnel_trends over journeys: final function, the result of the row
 * forms.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(funnel_trends_journey_final);
Datum
funnel_trends_journey_final(PG_FUNCTION_ARGS)
{
	TrendAcc   *acc = FUNNEL_STATE_ARG(TrendAcc, 0);

	if (acc == NULL || !acc->configured)
		PG_RETURN_NULL();
	trend_check_config(&acc->cfg);
	return trend_result(&acc->cfg, acc->tw.periods, acc->tw.nperiods);
}
