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
 */
#include "postgres.h"

#include "engine/entities.h"
#include "engine/funnel.h"
#include "lib/stringinfo.h"
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
} TrendPeriod;

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
	MemoryContext cxt;			/* the final function's: periods and attempts
								 * outlive the store's per-entity contexts */
} TrendWalk;

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
	return &tw->periods[lo];
}

/* An attempt reached the last step: it entered and converted. */
static void
trend_converted(TrendWalk *tw, Attempt *a)
{
	TrendPeriod *p = period_slot(tw, a->period, 0);

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
			p->entered++;
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
			period_slot(tw, tw->att[i].period, 0)->entered++;
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
	StringInfoData buf;
	int			i,
				n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (EntityTable *) PG_GETARG_POINTER(0);
	funnel_check_used_options(&t->cfg, FUNNEL_USES_PERIODS);
	if (t->cfg.bucket == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a funnel trend needs a period in the mode"),
				 errhint("Add \"bucket day\" (or hour, week, month), and \"time_zone <name>\" for local periods.")));
	memset(&tw, 0, sizeof(tw));
	tw.cxt = CurrentMemoryContext;
	tw.cfg = &t->cfg;
	tw.nsteps = funnel_reported_steps(&t->cfg, t->seen_steps);
	tw.zone = cstring_to_text(t->cfg.time_zone[0] ? t->cfg.time_zone : "UTC");
	tw.unit = cstring_to_text(funnel_bucket_name(t->cfg.bucket));
	entity_table_foreach(t, trend_add_entity, &tw);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"window_us\": " INT64_FORMAT ", \"bucket\": \"%s\", \"time_zone\": ",
					 t->cfg.window, funnel_bucket_name(t->cfg.bucket));
	escape_json(&buf, t->cfg.time_zone[0] ? t->cfg.time_zone : "UTC");
	appendStringInfoString(&buf, ", \"periods\": [");
	for (i = 0, n = 0; i < tw.nperiods; i++)
	{
		TrendPeriod *p = &tw.periods[i];

		/* with exclusions a period's only attempts may have dropped out */
		if (p->entered == 0)
			continue;

		/* Unix microseconds: to_timestamp(x / 1e6) reads them back */
		appendStringInfo(&buf, "%s{\"start_us\": " INT64_FORMAT ", \"end_us\": " INT64_FORMAT
						 ", \"entered\": " INT64_FORMAT ", \"converted\": " INT64_FORMAT "}",
						 n++ ? ", " : "",
						 p->start + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
						 p->end + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
						 p->entered, p->converted);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
