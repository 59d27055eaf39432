/*
 * src/report/funnel_summary.c
 *    The funnel_summary type and its aggregates: funnel_summary(...) over raw
 *    rows (the per-entity table of engine/entities.c, each entity walked by
 *    the funnel engine with its time to every step) and rollup(funnel_summary)
 *    to merge summaries of disjoint sets of entities.
 *
 * Per step a summary holds the number of entities that reached it and the
 * distribution of their times from step 1 to it, as a log-bucketed
 * histogram (relative accuracy FS_ALPHA = 1%): exact counts, the exact
 * minimum and maximum, zero times counted apart, and for t > 0 one count per
 * bucket gamma^(i-1) < t <= gamma^i.  Merging adds counts bucket by bucket,
 * so a rollup is exactly the summary computed over all the entities at once.
 * A quantile is the bucket holding the rank (nearest-rank definition, the
 * same as percentile_disc), reported as the bucket's representative value:
 * within 1% of the exact percentile_disc of the times (plus rounding to whole
 * microseconds), exact at the minimum and maximum.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/interval_usecs.h"
#include "engine/funnel.h"
#include "engine/entities.h"
#include "report/funnel_summary.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

/* ---------- the sketch ---------- */

static double
log_gamma(void)
{
	static double lg = 0.0;

	if (lg == 0.0)
		lg = log((1.0 + FS_ALPHA) / (1.0 - FS_ALPHA));
	return lg;
}

/* bucket of a time t >= 1 microsecond */
static int
bucket_of_double(double t)
{
	double		i = ceil(log(t) / log_gamma());

	if (i < 0)
		return 0;
	if (i > FS_MAX_BUCKET)
		return FS_MAX_BUCKET;
	return (int) i;
}

static int
bucket_of(int64 t)
{
	return bucket_of_double((double) t);
}

/* representative value of bucket i: within FS_ALPHA of every time in it */
static double
bucket_value(int i)
{
	double		gamma = exp(log_gamma());

	return 2.0 * exp(i * log_gamma()) / (gamma + 1.0);
}

/* ---------- accumulator (mutable, dense bucket ranges) ---------- */

typedef struct StepAcc
{
	int64		entities;
	int64		zero;
	int64		min_us;
	int64		max_us;
	int32		lo;				/* b[i - lo] counts bucket i, lo..hi */
	int32		hi;
	int64	   *b;
} StepAcc;

typedef struct SummaryAcc
{
	MemoryContext cxt;
	bool		configured;
	uint8		flags;
	uint8		mode;
	uint32		options;		/* funnel_options_id, 0 = none */
	int			nsteps;
	int64		window;
	/* funnel_summary over journeys: the funnel of the group's first row */
	FunnelConfig journey_cfg;
	/* st[k]: times from step 1 to step k + 1; st[FUNNEL_MAX_STEPS + k]: from step k */
	StepAcc		st[2 * FUNNEL_MAX_STEPS];
} SummaryAcc;

/* Stored step i of a summary with nsteps steps: from step 1, then from the previous step. */
static inline StepAcc *
stored_step(SummaryAcc *acc, int i)
{
	return i < acc->nsteps ? &acc->st[i] : &acc->st[FUNNEL_MAX_STEPS + i - acc->nsteps];
}

static inline int
acc_nstored(const SummaryAcc *acc)
{
	return acc->nsteps * ((acc->flags & FS_FLAG_STEP_TIMES) ? 2 : 1);
}

static SummaryAcc *
acc_create(MemoryContext cxt)
{
	SummaryAcc *acc = MemoryContextAllocZero(cxt, sizeof(SummaryAcc));

	acc->cxt = cxt;
	return acc;
}

static void
add_checked(int64 *dst, int64 v)
{
	if (pg_add_s64_overflow(*dst, v, dst))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("funnel summary count is out of range for type bigint")));
}

static void
acc_add_bucket(SummaryAcc *acc, StepAcc *s, int idx, int64 count)
{
	Assert(idx >= 0 && idx <= FS_MAX_BUCKET);
	if (s->b == NULL || idx < s->lo || idx > s->hi)
	{
		int			lo = s->b ? Min(s->lo, idx - 32) : idx - 16;
		int			hi = s->b ? Max(s->hi, idx + 32) : idx + 16;
		int64	   *nb;

		lo = Max(lo, 0);
		hi = Min(hi, FS_MAX_BUCKET);
		nb = MemoryContextAllocZero(acc->cxt, sizeof(int64) * (hi - lo + 1));
		if (s->b)
		{
			memcpy(nb + (s->lo - lo), s->b, sizeof(int64) * (s->hi - s->lo + 1));
			pfree(s->b);
		}
		s->b = nb;
		s->lo = lo;
		s->hi = hi;
	}
	add_checked(&s->b[idx - s->lo], count);
}

/* one entity's time (microseconds) to a step */
static void
acc_add_time(SummaryAcc *acc, StepAcc *s, int64 t)
{
	if (t < 0)
		t = 0;					/* cannot happen: chains go forward in time */
	if (s->entities == 0 || t < s->min_us)
		s->min_us = t;
	if (s->entities == 0 || t > s->max_us)
		s->max_us = t;
	s->entities++;
	if (t == 0)
		s->zero++;
	else
		acc_add_bucket(acc, s, bucket_of(t), 1);
}

static char *
window_text(int64 usecs)
{
	return DatumGetCString(DirectFunctionCall1(interval_out,
											   IntervalPGetDatum(funnel_usecs_interval(usecs))));
}

/* Set the funnel of the accumulator, or check that a summary is of the same. */
static void
acc_configure(SummaryAcc *acc, uint8 flags, uint8 mode, uint32 options, int nsteps,
			  int64 window)
{
	if (!acc->configured)
	{
		acc->configured = true;
		acc->flags = flags;
		acc->mode = mode;
		acc->options = options;
		acc->nsteps = nsteps;
		acc->window = window;
		return;
	}
	/* a summary without step times leaves the merged one without them */
	if (!(flags & FS_FLAG_STEP_TIMES))
		acc->flags &= ~FS_FLAG_STEP_TIMES;
	if ((acc->flags & FS_FLAG_OPEN) != (flags & FS_FLAG_OPEN))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot roll up a summary of funnel_event input with a summary of step conditions"),
				 errhint("Only summaries of the same funnel (same steps, window and mode) can be rolled up.")));
	if (acc->window != window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot roll up funnel summaries with different windows (%s and %s)",
						window_text(acc->window), window_text(window)),
				 errhint("Only summaries of the same funnel (same steps, window and mode) can be rolled up.")));
	if (acc->mode != mode)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot roll up funnel summaries with different modes (\"%s\" and \"%s\")",
						acc->mode ? funnel_mode_names(acc->mode) : "default",
						mode ? funnel_mode_names(mode) : "default"),
				 errhint("Only summaries of the same funnel (same steps, window and mode) can be rolled up.")));
	if (acc->options != options)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot roll up funnel summaries with different product-funnel options"),
				 errdetail("Their optional steps, exclusions or any-order options differ%s.",
						   acc->options == 0 || options == 0 ? " (one summary has none)" : ""),
				 errhint("Only summaries of the same funnel (same steps, window and mode) can be rolled up.")));
	if (flags & FS_FLAG_OPEN)
		acc->nsteps = Max(acc->nsteps, nsteps);	/* steps past a summary's highest: 0 */
	else if (acc->nsteps != nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot roll up funnel summaries with different step counts (%d and %d)",
						acc->nsteps, nsteps),
				 errhint("Only summaries of the same funnel (same steps, window and mode) can be rolled up.")));
}

static void
merge_step_totals(StepAcc *d, int64 entities, int64 zero, int64 min_us, int64 max_us)
{
	if (entities == 0)
		return;
	if (d->entities == 0 || min_us < d->min_us)
		d->min_us = min_us;
	if (d->entities == 0 || max_us > d->max_us)
		d->max_us = max_us;
	add_checked(&d->entities, entities);
	add_checked(&d->zero, zero);
}

static void
acc_merge_summary(SummaryAcc *acc, const FunnelSummary *s)
{
	const int64 *counts = FS_COUNTS(s);
	const int16 *idx = FS_INDEXES(s);
	int			k,
				j;

	acc_configure(acc, s->flags, s->mode, s->options, s->nsteps, s->window);
	for (k = 0; k < s->nsteps; k++)
	{
		const FunnelSummaryStep *ss = &s->steps[k];
		StepAcc    *d = &acc->st[k];

		merge_step_totals(d, ss->entities, ss->zero, ss->min_us, ss->max_us);
		for (j = ss->first; j < ss->first + ss->nbuckets; j++)
			acc_add_bucket(acc, d, idx[j], counts[j]);
	}
	if (!(acc->flags & FS_FLAG_STEP_TIMES))
		return;
	for (k = 0; k < s->nsteps; k++)
	{
		const FunnelSummaryStep *ss = &s->steps[s->nsteps + k];
		StepAcc    *d = &acc->st[FUNNEL_MAX_STEPS + k];

		merge_step_totals(d, ss->entities, ss->zero, ss->min_us, ss->max_us);
		for (j = ss->first; j < ss->first + ss->nbuckets; j++)
			acc_add_bucket(acc, d, idx[j], counts[j]);
	}
}

static void
acc_merge_acc(SummaryAcc *a, const SummaryAcc *b)
{
	int			k,
				i;

	if (!b->configured)
		return;
	acc_configure(a, b->flags, b->mode, b->options, b->nsteps, b->window);
	for (k = 0; k < 2 * FUNNEL_MAX_STEPS; k++)
	{
		const StepAcc *s = &b->st[k];
		StepAcc    *d = &a->st[k];

		if (k >= b->nsteps && k < FUNNEL_MAX_STEPS)
			continue;
		if (k >= FUNNEL_MAX_STEPS &&
			(k >= FUNNEL_MAX_STEPS + b->nsteps || !(a->flags & FS_FLAG_STEP_TIMES)))
			break;

		merge_step_totals(d, s->entities, s->zero, s->min_us, s->max_us);
		if (s->b)
			for (i = s->lo; i <= s->hi; i++)
				if (s->b[i - s->lo] != 0)
					acc_add_bucket(a, d, i, s->b[i - s->lo]);
	}
}

/* The flat value of an accumulator (never modifies it). */
static FunnelSummary *
acc_to_summary(const SummaryAcc *acc)
{
	int			k,
				i,
				nb = 0,
				pos = 0;
	Size		size;
	FunnelSummary *s;
	int64	   *counts;
	int16	   *idx;
	int			nstored = acc_nstored(acc);

	for (k = 0; k < nstored; k++)
	{
		const StepAcc *st = stored_step((SummaryAcc *) acc, k);

		if (st->b)
			for (i = st->lo; i <= st->hi; i++)
				if (st->b[i - st->lo] != 0)
					nb++;
	}
	size = offsetof(FunnelSummary, steps) + sizeof(FunnelSummaryStep) * nstored +
		(sizeof(int64) + sizeof(int16)) * nb;
	s = palloc0(size);
	SET_VARSIZE(s, size);
	s->version = (acc->flags & FS_FLAG_STEP_TIMES) ? FS_VERSION_STEP_TIMES : FS_VERSION;
	s->flags = acc->flags;
	s->mode = acc->mode;
	s->options = acc->options;
	s->nsteps = (uint8) acc->nsteps;
	s->nbuckets = nb;
	s->window = acc->window;
	counts = FS_COUNTS(s);
	idx = FS_INDEXES(s);
	for (k = 0; k < nstored; k++)
	{
		const StepAcc *st = stored_step((SummaryAcc *) acc, k);
		FunnelSummaryStep *ss = &s->steps[k];

		ss->entities = st->entities;
		ss->zero = st->zero;
		ss->min_us = st->entities ? st->min_us : 0;
		ss->max_us = st->entities ? st->max_us : 0;
		ss->first = pos;
		if (st->b)
			for (i = st->lo; i <= st->hi; i++)
				if (st->b[i - st->lo] != 0)
				{
					counts[pos] = st->b[i - st->lo];
					idx[pos] = (int16) i;
					pos++;
				}
		ss->nbuckets = pos - ss->first;
	}
	return s;
}

/*
 * The bucket of a time, allowing for the last bit of log(): a time within
 * 1e-12 of a bucket boundary may fall on either side on another platform.
 */
static bool
bucket_holds(int idx, int64 t)
{
	return idx >= bucket_of_double(Max((double) t * (1.0 - 1e-12), 1.0)) &&
		idx <= bucket_of_double((double) t * (1.0 + 1e-12));
}

/*
 * A summary from outside that is not valid: what names the input (NULL for
 * the rollup aggregate's serialised state, whose error is the one of every
 * corrupt aggregate state).
 */
static void
summary_bad(int code, const char *what, const char *msg)
{
	if (what == NULL)
		funnel_invalid_state(psprintf("The funnel_summary_rollup state is corrupt: %s.", msg));
	ereport(ERROR, (errcode(code), errmsg("invalid %s: %s", what, msg)));
}

static void
check_step(const SummaryAcc *acc, const StepAcc *st, int k, bool from_previous,
		   int code, const char *what)
{
	int64		total = st->zero;
	int			lowest = -1,
				highest = -1;
	int			i;

#define BAD(msg) summary_bad(code, what, msg)
	if (st->entities < 0 || st->zero < 0)
		BAD("negative count");
	if (st->b)
		for (i = st->lo; i <= st->hi; i++)
		{
			if (st->b[i - st->lo] < 0)
				BAD("negative count");
			if (st->b[i - st->lo] > 0)
			{
				if (lowest < 0)
					lowest = i;
				highest = i;
			}
			if (pg_add_s64_overflow(total, st->b[i - st->lo], &total))
				BAD("counts overflow");
		}
	if (total != st->entities)
		BAD("a step's time counts do not add up to its entities");
	if (k == 0 && st->zero != st->entities)
		BAD("times at step 1 must be 0");
	if (from_previous && st->entities != acc->st[k].entities)
		BAD("the times from the previous step are not of the step's entities");
	if (!from_previous && k > 0 && st->entities > acc->st[k - 1].entities)
		BAD("a step has more entities than the step before it");
	if (st->entities == 0)
	{
		if (st->min_us != 0 || st->max_us != 0)
			BAD("minimum or maximum time of a step no entity reached");
		return;
	}
	if (st->min_us < 0 || st->max_us < st->min_us)
		BAD("minimum and maximum times out of order");
	if (st->max_us > acc->window)
		BAD("a time exceeds the window");
	if ((st->zero > 0) != (st->min_us == 0))
		BAD("minimum time does not match the zero count");
	if ((lowest >= 0) != (st->max_us > 0))
		BAD("maximum time does not match the buckets");
	if (lowest < 0)
		return;
	if (!bucket_holds(highest, st->max_us))
		BAD("the highest bucket is not the maximum time's");
	if (st->min_us > 0 && !bucket_holds(lowest, st->min_us))
		BAD("the lowest bucket is not the minimum time's");
	if (st->zero == 0 && st->entities == 1 && st->min_us != st->max_us)
		BAD("one time with different minimum and maximum");
#undef BAD
}

/*
 * Consistency of an accumulator built from outside data (text or binary
 * input, deserialisation), the one check for all three.  The invariants of
 * a summary that funnel_summary() or rollup() made: per step, the zero
 * count and the bucket counts add up to the step's entities; no step has
 * more entities than the one before it; step 1's times are all 0; the
 * minimum and maximum are times of entities, so the lowest and highest
 * buckets are those of the minimum (when it is not 0) and the maximum; no
 * time exceeds the window (a chain ends within it).  Times of different
 * steps are not ordered: step k+1 may be reached by a faster chain than
 * the one that first reached step k.  The times from the previous step
 * (version 2) are of the same entities as the step's times from step 1.
 */
static void
acc_check(const SummaryAcc *acc, int code, const char *what)
{
	int			k;

	for (k = 0; k < acc->nsteps; k++)
		check_step(acc, &acc->st[k], k, false, code, what);
	if (acc->flags & FS_FLAG_STEP_TIMES)
		for (k = 0; k < acc->nsteps; k++)
			check_step(acc, &acc->st[FUNNEL_MAX_STEPS + k], k, true, code, what);
	if (acc->nsteps == 0 && !(acc->flags & FS_FLAG_OPEN))
		summary_bad(code, what, "step count out of range");
}

/* ---------- binary form (send/recv and aggregate serialisation) ---------- */

static void
summary_send_buf(const FunnelSummary *s, StringInfo buf)
{
	const int64 *counts = FS_COUNTS(s);
	const int16 *idx = FS_INDEXES(s);
	int			k,
				j;

	pq_sendbyte(buf, s->version);
	pq_sendbyte(buf, s->flags);
	pq_sendbyte(buf, s->mode);
	pq_sendbyte(buf, s->nsteps);
	pq_sendint64(buf, s->window);
	if (s->flags & FS_FLAG_OPTIONS)
		pq_sendint32(buf, s->options);
	for (k = 0; k < FS_NSTORED(s); k++)
	{
		const FunnelSummaryStep *ss = &s->steps[k];

		pq_sendint64(buf, ss->entities);
		pq_sendint64(buf, ss->zero);
		pq_sendint64(buf, ss->min_us);
		pq_sendint64(buf, ss->max_us);
		pq_sendint32(buf, ss->nbuckets);
		for (j = ss->first; j < ss->first + ss->nbuckets; j++)
		{
			pq_sendint16(buf, idx[j]);
			pq_sendint64(buf, counts[j]);
		}
	}
}

static void
check_header(int version, int flags, int mode, int nsteps, int64 window,
			 int code, const char *what)
{
#define BAD(msg) summary_bad(code, what, msg)
	if (version != FS_VERSION && version != FS_VERSION_STEP_TIMES)
		BAD("unknown version");
	if (flags & ~(FS_FLAG_OPEN | FS_FLAG_STEP_TIMES | FS_FLAG_OPTIONS))
		BAD("unknown flags");
	if ((version == FS_VERSION_STEP_TIMES) != ((flags & FS_FLAG_STEP_TIMES) != 0))
		BAD("the version does not match the flags");
	if (mode & ~FUNNEL_ALL_MODES)
		BAD("unknown mode");
	if ((mode & FUNNEL_ALLOW_REENTRY) && !(mode & FUNNEL_STRICT_ORDER))
		BAD("allow_reentry without strict_order");
	if (nsteps < ((flags & FS_FLAG_OPEN) ? 0 : 1) || nsteps > FUNNEL_MAX_STEPS)
		BAD("step count out of range");
	if (window < 0)
		BAD("negative window");
#undef BAD
}

/* Read and validate every byte: the data comes from outside. */
static SummaryAcc *
acc_from_binary(StringInfo buf, MemoryContext cxt, int code, const char *what)
{
	SummaryAcc *acc = acc_create(cxt);
	int			version = pq_getmsgbyte(buf);
	int			flags = pq_getmsgbyte(buf);
	int			mode = pq_getmsgbyte(buf);
	int			nsteps = pq_getmsgbyte(buf);
	int64		window = pq_getmsgint64(buf);
	uint32		options = 0;
	int			k,
				j;

	check_header(version, flags, mode, nsteps, window, code, what);
	if (flags & FS_FLAG_OPTIONS)
	{
		options = (uint32) pq_getmsgint(buf, 4);
		if (options == 0)
			summary_bad(code, what, "options flag without options");
	}
	acc_configure(acc, flags, mode, options, nsteps, window);
	for (k = 0; k < acc_nstored(acc); k++)
	{
		StepAcc    *st = stored_step(acc, k);
		int32		nb;
		int			prev = -1;

		st->entities = pq_getmsgint64(buf);
		st->zero = pq_getmsgint64(buf);
		st->min_us = pq_getmsgint64(buf);
		st->max_us = pq_getmsgint64(buf);
		nb = (int32) pq_getmsgint(buf, 4);
		if (nb < 0 || nb > FS_MAX_BUCKET + 1 || (int64) nb * 10 > buf->len - buf->cursor)
			summary_bad(code, what, "bucket count out of range");
		for (j = 0; j < nb; j++)
		{
			int			i = (int16) pq_getmsgint(buf, 2);
			int64		c = pq_getmsgint64(buf);

			if (i <= prev || i > FS_MAX_BUCKET)
				summary_bad(code, what, "bucket index out of order or range");
			if (c <= 0)
				summary_bad(code, what, "bucket count not positive");
			acc_add_bucket(acc, st, i, c);
			prev = i;
		}
	}
	if (buf->cursor != buf->len)
		summary_bad(code, what, "trailing bytes");
	acc_check(acc, code, what);
	return acc;
}

/* funnel_summary binary output: steps, window, counts and time histograms. */
PG_FUNCTION_INFO_V1(funnel_summary_send);
Datum
funnel_summary_send(PG_FUNCTION_ARGS)
{
	FunnelSummary *s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	summary_send_buf(s, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* funnel_summary binary input; every field read is checked. */
PG_FUNCTION_INFO_V1(funnel_summary_recv);
Datum
funnel_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	SummaryAcc *acc = acc_from_binary(buf, CurrentMemoryContext,
									  ERRCODE_INVALID_BINARY_REPRESENTATION,
									  "binary funnel_summary");

	PG_RETURN_POINTER(acc_to_summary(acc));
}

/* ---------- text form: a JSON document ---------- */

/*
 * funnel_summary text output: a JSON document (entities per step, then the
 * time histograms).
 */
PG_FUNCTION_INFO_V1(funnel_summary_out);
Datum
funnel_summary_out(PG_FUNCTION_ARGS)
{
	FunnelSummary *s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	const int64 *counts = FS_COUNTS(s);
	const int16 *idx = FS_INDEXES(s);
	StringInfoData buf;
	int			k,
				j;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": %d, \"steps\": %d, \"window_us\": " INT64_FORMAT
					 ", \"mode\": \"%s\", \"open_steps\": %s, ",
					 s->version, s->nsteps, s->window, funnel_mode_names(s->mode),
					 (s->flags & FS_FLAG_OPEN) ? "true" : "false");
	if (s->flags & FS_FLAG_OPTIONS)
		appendStringInfo(&buf, "\"options_id\": %u, ", s->options);
	appendStringInfoString(&buf, "\"entities\": [");
	for (k = 0; k < s->nsteps; k++)
		appendStringInfo(&buf, "%s" INT64_FORMAT, k ? ", " : "", s->steps[k].entities);
	for (k = 0; k < FS_NSTORED(s); k++)
	{
		const FunnelSummaryStep *ss = &s->steps[k];

		if (k == 0 || k == s->nsteps)
			appendStringInfoString(&buf, k == 0 ? "], \"times_us\": [" : "], \"step_times_us\": [");
		appendStringInfo(&buf, "%s{\"zero\": " INT64_FORMAT ", \"min\": " INT64_FORMAT
						 ", \"max\": " INT64_FORMAT ", \"buckets\": [",
						 (k % s->nsteps) ? ", " : "", ss->zero, ss->min_us, ss->max_us);
		for (j = ss->first; j < ss->first + ss->nbuckets; j++)
			appendStringInfo(&buf, "%s[%d, " INT64_FORMAT "]",
							 j > ss->first ? ", " : "", idx[j], counts[j]);
		appendStringInfoString(&buf, "]}");
	}
	if (s->nsteps == 0)
		appendStringInfoString(&buf, "], \"times_us\": [");
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

#define TEXT_WHAT "input syntax for type funnel_summary"

static void
text_bad(const char *msg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid " TEXT_WHAT ": %s", msg),
			 errhint("The text form is the JSON document that funnel_summary's output gives.")));
}

static int64
json_int(const JsonbValue *v, const char *field)
{
	char	   *str;
	const char *p;
	char	   *end;
	int64		result;

	if (v == NULL || v->type != jbvNumeric)
		text_bad(psprintf("\"%s\" must be an integer", field));
	str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	p = str + (*str == '-');
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		text_bad(psprintf("\"%s\" must be an integer", field));
	errno = 0;
	result = strtoi64(str, &end, 10);
	if (errno == ERANGE || *end != '\0')
		text_bad(psprintf("\"%s\" value %s is out of range for type bigint", field, str));
	return result;
}

/*
 * The mode as funnel_summary's output writes it (comma-separated names,
 * whitespace allowed): its own parser, so that every error is 22P02.
 */
static uint32
json_mode(const JsonbValue *v)
{
	char	   *str,
			   *tok,
			   *save;
	uint32		mode = 0;

	if (v == NULL || v->type != jbvString)
		text_bad("\"mode\" must be a string");
	str = pnstrdup(v->val.string.val, v->val.string.len);
	for (tok = strtok_r(str, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *end = tok + strlen(tok);
		uint32		flag;

		while (isspace((unsigned char) *tok))
			tok++;
		while (end > tok && isspace((unsigned char) end[-1]))
			*--end = '\0';
		flag = funnel_mode_flag(tok, end - tok);
		if (flag == 0)
			text_bad(psprintf("unrecognized mode \"%s\"", tok));
		mode |= flag;
	}
	return mode;
}

static JsonbContainer *
json_container(const JsonbValue *v, bool array, const char *field)
{
	if (v == NULL || v->type != jbvBinary ||
		(array ? !JsonContainerIsArray(v->val.binary.data) : !JsonContainerIsObject(v->val.binary.data)))
		text_bad(psprintf("\"%s\" must be %s", field, array ? "an array" : "an object"));
	return v->val.binary.data;
}

static JsonbValue *
json_key(JsonbContainer *c, const char *key)
{
	return getKeyJsonValueFromContainer(c, key, strlen(key), NULL);
}

/*
 * funnel_summary text input: the JSON document funnel_summary_out writes,
 * every field validated.
 */
PG_FUNCTION_INFO_V1(funnel_summary_in);
Datum
funnel_summary_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	JsonbContainer *root = &jb->root;
	JsonbValue *v;
	JsonbContainer *entities,
			   *times,
			   *step_times;
	SummaryAcc *acc;
	int			flags;
	int64		version,
				nsteps,
				window;
	uint32		mode;
	uint32		options = 0;
	bool		open;
	int			extra = 0;
	int			k,
				j;

	if (!JB_ROOT_IS_OBJECT(jb))
		text_bad("not a JSON object");
	version = json_int(json_key(root, "version"), "version");
	v = json_key(root, "options_id");
	if (v != NULL)
	{
		int64		o = json_int(v, "options_id");

		if (o < 1 || o > PG_UINT32_MAX)
			text_bad("\"options_id\" out of range");
		options = (uint32) o;
		extra = 1;
	}
	if (version == FS_VERSION_STEP_TIMES && JsonContainerSize(root) != (uint32) (8 + extra))
		text_bad("expected the keys version, steps, window_us, mode, open_steps, entities, times_us and step_times_us");
	if (version != FS_VERSION_STEP_TIMES && JsonContainerSize(root) != (uint32) (7 + extra))
		text_bad("expected the keys version, steps, window_us, mode, open_steps, entities and times_us");
	nsteps = json_int(json_key(root, "steps"), "steps");
	window = json_int(json_key(root, "window_us"), "window_us");
	mode = json_mode(json_key(root, "mode"));
	v = json_key(root, "open_steps");
	if (v == NULL || v->type != jbvBool)
		text_bad("\"open_steps\" must be true or false");
	open = v->val.boolean;
	if (version != FS_VERSION && version != FS_VERSION_STEP_TIMES)
		text_bad("unknown version");
	if (nsteps < (open ? 0 : 1) || nsteps > FUNNEL_MAX_STEPS)
		text_bad("step count out of range");
	flags = (open ? FS_FLAG_OPEN : 0) | (version == FS_VERSION_STEP_TIMES ? FS_FLAG_STEP_TIMES : 0) |
		(options != 0 ? FS_FLAG_OPTIONS : 0);
	check_header((int) version, flags, mode, (int) nsteps, window,
				 ERRCODE_INVALID_TEXT_REPRESENTATION, TEXT_WHAT);
	entities = json_container(json_key(root, "entities"), true, "entities");
	times = json_container(json_key(root, "times_us"), true, "times_us");
	if (JsonContainerSize(entities) != nsteps || JsonContainerSize(times) != nsteps)
		text_bad("\"entities\" and \"times_us\" must have one element per step");
	step_times = NULL;
	if (flags & FS_FLAG_STEP_TIMES)
	{
		step_times = json_container(json_key(root, "step_times_us"), true, "step_times_us");
		if (JsonContainerSize(step_times) != nsteps)
			text_bad("\"step_times_us\" must have one element per step");
	}

	acc = acc_create(CurrentMemoryContext);
	acc_configure(acc, flags, mode, options, (int) nsteps, window);
	for (k = 0; k < acc_nstored(acc); k++)
	{
		StepAcc    *st = stored_step(acc, k);
		JsonbContainer *t,
				   *buckets;
		int			prev = -1;

		if (k < nsteps)
		{
			st->entities = json_int(getIthJsonbValueFromContainer(entities, k), "entities");
			t = json_container(getIthJsonbValueFromContainer(times, k), false, "times_us");
		}
		else
		{
			/* the times from the previous step are of the step's entities */
			st->entities = acc->st[k - nsteps].entities;
			t = json_container(getIthJsonbValueFromContainer(step_times, k - nsteps), false, "step_times_us");
		}
		if (JsonContainerSize(t) != 4)
			text_bad("an element of \"times_us\" or \"step_times_us\" must have the keys zero, min, max and buckets");
		st->zero = json_int(json_key(t, "zero"), "zero");
		st->min_us = json_int(json_key(t, "min"), "min");
		st->max_us = json_int(json_key(t, "max"), "max");
		buckets = json_container(json_key(t, "buckets"), true, "buckets");
		for (j = 0; j < (int) JsonContainerSize(buckets); j++)
		{
			JsonbContainer *pair = json_container(getIthJsonbValueFromContainer(buckets, j),
												  true, "buckets");
			int64		i,
						c;

			if (JsonContainerSize(pair) != 2)
				text_bad("a bucket must be [index, count]");
			i = json_int(getIthJsonbValueFromContainer(pair, 0), "bucket index");
			c = json_int(getIthJsonbValueFromContainer(pair, 1), "bucket count");
			if (i <= prev || i > FS_MAX_BUCKET)
				text_bad("bucket index out of order or range");
			if (c <= 0)
				text_bad("bucket count not positive");
			acc_add_bucket(acc, st, (int) i, c);
			prev = (int) i;
		}
	}
	acc_check(acc, ERRCODE_INVALID_TEXT_REPRESENTATION, TEXT_WHAT);
	PG_RETURN_POINTER(acc_to_summary(acc));
}

/* ---------- funnel_summary over raw rows ---------- */

ENTITIES_SFUNC(funnel_summary_bools_sfunc, FUNNEL_INPUT_BOOLS, 0, true)
ENTITIES_SFUNC(funnel_summary_mode_bools_sfunc, FUNNEL_INPUT_BOOLS, FUNNEL_ARG_MODE, true)
ENTITIES_SFUNC(funnel_summary_event_sfunc, FUNNEL_INPUT_EVENT, 0, true)
ENTITIES_SFUNC(funnel_summary_mode_event_sfunc, FUNNEL_INPUT_EVENT, FUNNEL_ARG_MODE, true)
ENTITIES_SFUNC(funnel_summary_names_sfunc, FUNNEL_INPUT_NAMES, 0, true)
ENTITIES_SFUNC(funnel_summary_mode_names_sfunc, FUNNEL_INPUT_NAMES, FUNNEL_ARG_MODE, true)

typedef struct SummaryWalk
{
	const FunnelConfig *cfg;
	SummaryAcc *acc;
} SummaryWalk;

static void
summary_add_entity(const FunnelEvent *events, int nevents, Size held, void *arg)
{
	SummaryWalk *w = (SummaryWalk *) arg;
	int64		elapsed[FUNNEL_MAX_STEPS];
	int			level = funnel_events_level(w->cfg, events, nevents, held, elapsed);
	int			k;

	level = Min(level, w->acc->nsteps);
	for (k = 0; k < level; k++)
		acc_add_time(w->acc, &w->acc->st[k], elapsed[k]);
	if (w->acc->flags & FS_FLAG_STEP_TIMES)
	{
		int64		chain[FUNNEL_MAX_STEPS];
		int			clevel = funnel_events_chain_times(w->cfg, events, nevents, held, chain);

		/* the same walk: the same level */
		if (Min(clevel, w->acc->nsteps) != level)
			elog(ERROR, "funnel walk with step times reached level %d, not %d", clevel, level);
		for (k = 0; k < level; k++)
			acc_add_time(w->acc, &w->acc->st[FUNNEL_MAX_STEPS + k],
						 k == 0 ? 0 : chain[k] - chain[k - 1]);
	}
}

/*
 * funnel_summary final function: walks every entity and returns the
 * funnel_summary (entities and time histogram per step).  Reads the state
 * only (works as a window function too).
 */
PG_FUNCTION_INFO_V1(funnel_summary_final);
Datum
funnel_summary_final(PG_FUNCTION_ARGS)
{
	EntityTable *t;
	SummaryAcc *acc;
	SummaryWalk w;
	int			nsteps;
	uint32		options;
	FunnelSummary *s;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (EntityTable *) PG_GETARG_POINTER(0);
	if (!t->cfg.want_elapsed)
		elog(ERROR, "funnel summary state does not record times");
	funnel_check_used_options(&t->cfg, FUNNEL_USES_STEP_TIMES);
	nsteps = funnel_reported_steps(&t->cfg, t->seen_steps);
	acc = acc_create(CurrentMemoryContext);
	options = funnel_options_id(&t->cfg);
	acc_configure(acc, (t->cfg.open_steps ? FS_FLAG_OPEN : 0) |
				  ((t->cfg.options & FUNNEL_OPT_STEP_TIMES) ? FS_FLAG_STEP_TIMES : 0) |
				  (options != 0 ? FS_FLAG_OPTIONS : 0),
				  (uint8) t->cfg.mode, options, nsteps, t->cfg.window);
	w.cfg = &t->cfg;
	w.acc = acc;
	entity_table_foreach(t, summary_add_entity, &w);
	s = acc_to_summary(acc);
	PG_RETURN_POINTER(s);
}

/* ---------- funnel_summary over stored journeys ---------- */

/*
 * funnel_summary(window, [mode,] journey) transition, journey funnel_event[]
 * or journey: a row is one entity's whole journey, walked here as the
 * summary over rows walks each entity (summary_add_entity); its times go
 * into the same accumulator as rollup's (whose combine, serialise and final
 * functions the aggregate shares).  Like the funnel_event form, the funnel
 * has as many steps as the highest step any journey names.
 */
static Datum
journey_summary_add(FunctionCallInfo fcinfo, bool has_mode, bool compact)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_summary");
	SummaryAcc *acc = FUNNEL_STATE_ARG(SummaryAcc, 0);
	int			jarg = has_mode ? 3 : 2;
	const FunnelConfig *cfg;
	FunnelEvent buf[FUNNEL_JOURNEY_STACK_EVENTS];
	FunnelEvent *events;
	SummaryWalk w;
	uint64		seen = 0;
	int			n,
				i;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL")));
	if (has_mode && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel mode must not be NULL"),
				 errhint("Use '' for the default mode.")));
	cfg = funnel_journey_config(fcinfo, PG_GETARG_INTERVAL_P(1),
								has_mode ? PG_GETARG_TEXT_PP(2) : cstring_to_text(""), true,
								FUNNEL_USES_STEP_TIMES);
	if (acc == NULL)
		acc = acc_create(cxt);
	if (!acc->configured)
	{
		uint32		options = funnel_options_id(cfg);

		acc_configure(acc, FS_FLAG_OPEN |
					  ((cfg->options & FUNNEL_OPT_STEP_TIMES) ? FS_FLAG_STEP_TIMES : 0) |
					  (options != 0 ? FS_FLAG_OPTIONS : 0),
					  (uint8) cfg->mode, options, 0, cfg->window);
		acc->journey_cfg = *cfg;
	}
	else if (acc->window != cfg->window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window differs between rows of one group"),
				 errhint("Give every row of a group the same window.")));
	else
		funnel_config_check_same(&acc->journey_cfg, cfg);
	if (PG_ARGISNULL(jarg))
		PG_RETURN_POINTER(acc);
	if (compact)
		events = funnel_journey_decode_into(PG_GETARG_JOURNEY_P(jarg), &n,
											buf, FUNNEL_JOURNEY_STACK_EVENTS);
	else
		events = funnel_journey_events(PG_GETARG_ARRAYTYPE_P(jarg), &n);
	for (i = 0; i < n; i++)
		seen |= events[i].steps;
	if (cfg->nexcl > 0)
		funnel_check_row_steps(cfg, seen);
	acc->nsteps = Max(acc->nsteps, funnel_reported_steps(cfg, seen));
	w.cfg = cfg;
	w.acc = acc;
	summary_add_entity(events, n, 0, &w);
	PG_RETURN_POINTER(acc);
}

/* funnel_summary(window, journey funnel_event[]) transition */
PG_FUNCTION_INFO_V1(funnel_summary_journey_sfunc);
Datum
funnel_summary_journey_sfunc(PG_FUNCTION_ARGS)
{
	return journey_summary_add(fcinfo, false, false);
}

/* funnel_summary(window, mode, journey funnel_event[]) transition */
PG_FUNCTION_INFO_V1(funnel_summary_mode_journey_sfunc);
Datum
funnel_summary_mode_journey_sfunc(PG_FUNCTION_ARGS)
{
	return journey_summary_add(fcinfo, true, false);
}

/* funnel_summary(window, journey journey) transition */
PG_FUNCTION_INFO_V1(funnel_summary_compact_sfunc);
Datum
funnel_summary_compact_sfunc(PG_FUNCTION_ARGS)
{
	return journey_summary_add(fcinfo, false, true);
}

/* funnel_summary(window, mode, journey journey) transition */
PG_FUNCTION_INFO_V1(funnel_summary_mode_compact_sfunc);
Datum
funnel_summary_mode_compact_sfunc(PG_FUNCTION_ARGS)
{
	return journey_summary_add(fcinfo, true, true);
}

/* ---------- rollup(funnel_summary) ---------- */

/*
 * rollup(funnel_summary) transition: adds one summary's counts and time
 * histograms (the funnels must agree).
 */
PG_FUNCTION_INFO_V1(funnel_summary_rollup_sfunc);
Datum
funnel_summary_rollup_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "rollup");
	SummaryAcc *acc = FUNNEL_STATE_ARG(SummaryAcc, 0);

	if (PG_ARGISNULL(1))
	{
		if (acc == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(acc);
	}
	if (acc == NULL)
		acc = acc_create(cxt);
	acc_merge_summary(acc, PG_GETARG_FUNNEL_SUMMARY_P(1));
	PG_RETURN_POINTER(acc);
}

/*
 * rollup(funnel_summary) combine function: adds the second accumulator to
 * the first.
 */
PG_FUNCTION_INFO_V1(funnel_summary_rollup_combine);
Datum
funnel_summary_rollup_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_summary_rollup_combine");
	SummaryAcc *a = FUNNEL_STATE_ARG(SummaryAcc, 0);
	SummaryAcc *b = FUNNEL_STATE_ARG(SummaryAcc, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = acc_create(cxt);
	acc_merge_acc(a, b);
	PG_RETURN_POINTER(a);
}

/* rollup(funnel_summary) state serialisation, as a funnel_summary. */
PG_FUNCTION_INFO_V1(funnel_summary_rollup_serialize);
Datum
funnel_summary_rollup_serialize(PG_FUNCTION_ARGS)
{
	SummaryAcc *acc;
	StringInfoData buf;

	funnel_agg_context(fcinfo, "funnel_summary_rollup_serialize");
	acc = (SummaryAcc *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, acc->configured ? 1 : 0);
	if (acc->configured)
		summary_send_buf(acc_to_summary(acc), &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* rollup(funnel_summary) state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(funnel_summary_rollup_deserialize);
Datum
funnel_summary_rollup_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_summary_rollup_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	int			configured;

	funnel_state_reader(b, &buf);
	configured = pq_getmsgbyte(&buf);
	if (configured == 0)
	{
		funnel_state_check_end(&buf);
		PG_RETURN_POINTER(acc_create(cxt));
	}
	if (configured != 1)
		funnel_invalid_state("The funnel_summary_rollup state has invalid flags.");
	PG_RETURN_POINTER(acc_from_binary(&buf, cxt, ERRCODE_INVALID_BINARY_REPRESENTATION, NULL));
}

/*
 * rollup(funnel_summary) final function: the merged summary; NULL when
 * every input was NULL.
 */
PG_FUNCTION_INFO_V1(funnel_summary_rollup_final);
Datum
funnel_summary_rollup_final(PG_FUNCTION_ARGS)
{
	SummaryAcc *acc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	acc = (SummaryAcc *) PG_GETARG_POINTER(0);
	if (!acc->configured)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(acc_to_summary(acc));
}

/* ---------- accessors ---------- */

bool
funnel_summary_quantile(const FunnelSummary *s, int step, double q, int64 *result)
{
	return funnel_summary_step_quantile(s, &s->steps[step - 1], q, result);
}

/* Mean of a stored step's times: each bucket at its representative value. */
bool
funnel_summary_step_mean(const FunnelSummary *s, const FunnelSummaryStep *ss, double *result)
{
	const int64 *counts = FS_COUNTS(s);
	const int16 *idx = FS_INDEXES(s);
	double		sum = 0.0;
	int			j;

	if (ss->entities == 0)
		return false;
	if (ss->entities - ss->zero == 1)
		sum = (double) ss->max_us;	/* one time: exact */
	else
		for (j = ss->first; j < ss->first + ss->nbuckets; j++)
			sum += (double) counts[j] * Min(Max(bucket_value(idx[j]), (double) ss->min_us),
											(double) ss->max_us);
	*result = sum / (double) ss->entities;
	return true;
}

bool
funnel_summary_step_quantile(const FunnelSummary *s, const FunnelSummaryStep *ss,
							 double q, int64 *result)
{
	const int64 *counts = FS_COUNTS(s);
	const int16 *idx = FS_INDEXES(s);
	double		r;
	int64		rank,
				cum;
	int			j;

	if (ss->entities == 0)
		return false;
	/* nearest rank: the smallest time with at least q of the entities at or below it */
	r = ceil(q * (double) ss->entities);
	rank = (r < 1.0) ? 1 : (r >= (double) ss->entities) ? ss->entities : (int64) r;
	if (rank <= ss->zero)
	{
		*result = 0;
		return true;
	}
	if (rank == 1)
	{
		*result = ss->min_us;
		return true;
	}
	if (rank == ss->entities)
	{
		*result = ss->max_us;
		return true;
	}
	cum = ss->zero;
	for (j = ss->first; j < ss->first + ss->nbuckets; j++)
	{
		cum += counts[j];
		if (cum >= rank)
		{
			double		v = bucket_value(idx[j]);

			if (v <= (double) ss->min_us)
				*result = ss->min_us;
			else if (v >= (double) ss->max_us)
				*result = ss->max_us;
			else
				*result = (int64) rint(v);
			return true;
		}
	}
	*result = ss->max_us;		/* not reached: counts add up (checked on input) */
	return true;
}

/*
 * funnel_stage_counts(summary): element k counts the entities that reached
 * step k.
 */
PG_FUNCTION_INFO_V1(funnel_summary_stage_counts);
Datum
funnel_summary_stage_counts(PG_FUNCTION_ARGS)
{
	FunnelSummary *s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	Datum		elems[FUNNEL_MAX_STEPS];
	int			k;

	for (k = 0; k < s->nsteps; k++)
		elems[k] = Int64GetDatum(s->steps[k].entities);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, s->nsteps, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * funnel_time_percentile(summary, step, fraction): nearest-rank percentile
 * of the times from step 1 to step (within 1%); NULL when no entity reached it.
 */
PG_FUNCTION_INFO_V1(funnel_summary_time_percentile);
Datum
funnel_summary_time_percentile(PG_FUNCTION_ARGS)
{
	FunnelSummary *s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	int32		step = PG_GETARG_INT32(1);
	float8		q = PG_GETARG_FLOAT8(2);
	int64		us;

	if (step < 1 || step > s->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("step %d is out of range", step),
				 errdetail("This funnel summary has steps 1 to %d.", s->nsteps)));
	if (isnan(q) || q < 0.0 || q > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("percentile fraction %g is not between 0 and 1", q)));
	if (!funnel_summary_quantile(s, step, q, &us))
		PG_RETURN_NULL();
	PG_RETURN_INTERVAL_P(funnel_usecs_interval(us));
}

/* funnel_window(summary): the window the summary's funnel was computed with. */
PG_FUNCTION_INFO_V1(funnel_summary_window);
Datum
funnel_summary_window(PG_FUNCTION_ARGS)
{
	FunnelSummary *s = PG_GETARG_FUNNEL_SUMMARY_P(0);

	PG_RETURN_INTERVAL_P(funnel_usecs_interval(s->window));
}

/* ---------- rollup(funnel_summary) with a funnel_summary state ---------- */

/*
 * Since 1.1 the state of rollup(funnel_summary) is a funnel_summary itself,
 * so that Citus can merge the partial rollups of its workers on the
 * coordinator (it does so only for aggregates whose state type is not a
 * pseudo-type, and passes the states as text).  Merging into a flat value
 * would copy the whole summary for every row, so the state is an expanded
 * object (utils/expandeddatum.h) holding the mutable accumulator; the
 * executor keeps a read-write expanded state in place, and flattens it only
 * to pass it on (to the parallel leader, to Citus, as the result).  The
 * internal-state functions above are those of 1.0's rollup; their combine,
 * serialise, deserialise and final functions also serve funnel_summary over
 * stored journeys.
 */

typedef struct ExpandedSummary
{
	ExpandedObjectHeader hdr;
	SummaryAcc *acc;			/* in hdr.eoh_context */
	FunnelSummary *flat;		/* the flat form of acc, or NULL until asked */
} ExpandedSummary;

static Size expanded_summary_flat_size(ExpandedObjectHeader *eohptr);
static void expanded_summary_flatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods expanded_summary_methods = {
	expanded_summary_flat_size,
	expanded_summary_flatten
};

static Size
expanded_summary_flat_size(ExpandedObjectHeader *eohptr)
{
	ExpandedSummary *es = (ExpandedSummary *) eohptr;

	if (es->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(es->hdr.eoh_context);

		es->flat = acc_to_summary(es->acc);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(es->flat);
}

static void
expanded_summary_flatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ExpandedSummary *es = (ExpandedSummary *) eohptr;

	Assert(es->flat != NULL && VARSIZE(es->flat) == allocated_size);
	memcpy(result, es->flat, allocated_size);
}

/* A new expanded summary holding s, in a child context of parent. */
static ExpandedSummary *
expanded_summary_create(MemoryContext parent, const FunnelSummary *s)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "funnel_summary rollup",
											  ALLOCSET_SMALL_SIZES);
	ExpandedSummary *es = MemoryContextAllocZero(cxt, sizeof(ExpandedSummary));

	EOH_init_header(&es->hdr, &expanded_summary_methods, cxt);
	es->acc = acc_create(cxt);
	acc_merge_summary(es->acc, s);
	return es;
}

/* A read-write expanded summary of ours, or NULL. */
static ExpandedSummary *
expanded_summary_of(Datum d)
{
	ExpandedObjectHeader *eoh;

	if (!VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
		return NULL;
	eoh = DatumGetEOHP(d);
	return eoh->eoh_methods == &expanded_summary_methods ? (ExpandedSummary *) eoh : NULL;
}

/*
 * funnel_summary_merge(a, b): the summary of the entities of a and b (two
 * summaries of the same funnel over disjoint sets of entities); a NULL one
 * is left out.  The transition and combine function of rollup: called as
 * an aggregate it merges b into the expanded state a (made from a flat a on
 * the first call), otherwise it returns a new flat value.
 */
PG_FUNCTION_INFO_V1(funnel_summary_merge);
Datum
funnel_summary_merge(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ExpandedSummary *es;
	SummaryAcc *acc;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (!AggCheckCallContext(fcinfo, &aggcxt))
	{
		acc = acc_create(CurrentMemoryContext);
		if (!PG_ARGISNULL(0))
			acc_merge_summary(acc, PG_GETARG_FUNNEL_SUMMARY_P(0));
		acc_merge_summary(acc, PG_GETARG_FUNNEL_SUMMARY_P(1));
		PG_RETURN_POINTER(acc_to_summary(acc));
	}
	es = PG_ARGISNULL(0) ? NULL : expanded_summary_of(PG_GETARG_DATUM(0));
	if (es == NULL)
	{
		/* first row, or a flat state (a copy of a partial result) */
		es = expanded_summary_create(aggcxt, PG_GETARG_FUNNEL_SUMMARY_P(PG_ARGISNULL(0) ? 1 : 0));
		if (PG_ARGISNULL(0))
			PG_RETURN_DATUM(EOHPGetRWDatum(&es->hdr));
	}
	if (es->flat != NULL)
	{
		pfree(es->flat);
		es->flat = NULL;
	}
	acc_merge_summary(es->acc, PG_GETARG_FUNNEL_SUMMARY_P(1));
	PG_RETURN_DATUM(EOHPGetRWDatum(&es->hdr));
}
