/*
 * src/paths/correlation.c
 *    funnel_correlation(window, [mode,] entity, ts, event, steps
 *    [, min_count, property]): which events (and values of one property)
 *    go with converting in a funnel (doc/correlation.md).
 *
 * Every entity is walked through the funnel by the one funnel walk
 * (engine/walk.c).  An entity that reached step 1 entered; it converted if
 * it reached the last step.  Its entry is the start of the chain with which
 * the walk first reached the entity's level, and its end the time of that
 * level's event when it converted, entry + window when it dropped off.  The
 * events counted for it, once each, are those strictly between entry and
 * end whose name is none of the funnel's steps (as PostHog does); the
 * property values counted are those of every row from entry to end, ends
 * included (so that a value carried by the entry event counts).
 *
 * When some entities converted and some did not, for each event name or
 * property value seen by at least min_count entities: converters and non-converters with it, PostHog's odds ratio
 * (+1 smoothing of every cell) and the two-sided p-value of Fisher's exact
 * test of the 2x2 table (an exact test: valid for the small counts a
 * min_count admits, where chi-square's approximation is not).
 *
 * The rows are kept in the per-entity event log (paths/event_log.c), with
 * names tagged: 'E' event, 'N' NULL event, 'P' property value.
 */
#include "postgres.h"

#include <math.h>

#include "common/agg_state.h"
#include "common/json_fields.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "paths/event_log.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#define TAG_EVENT		'E'
#define TAG_NULL_EVENT	'N'
#define TAG_PROPERTY	'P'

/* PostHog's default threshold: min(25, 2% of the entities that entered) */
#define DEFAULT_MIN_COUNT		25
#define DEFAULT_MIN_SHARE		0.02
#define MIN_COUNT_DEFAULT_RULE	(-1)

typedef struct CorrState
{
	FunnelConfig cfg;
	/* the call site and its configuration's version last checked */
	const FunnelInput *checked_input;
	uint64		checked_version;
	int32		min_count;		/* MIN_COUNT_DEFAULT_RULE: PostHog's rule */
	bool		has_property;
	/* the distinct step names and the steps each names */
	int			nnames;
	char	  **names;
	int		   *name_lens;
	uint64	   *name_steps;
	JourneyLog *log;
} CorrState;

static int32
read_min_count(FunctionCallInfo fcinfo, int arg)
{
	int32		m;

	if (arg >= PG_NARGS() || PG_ARGISNULL(arg))
		return MIN_COUNT_DEFAULT_RULE;
	m = PG_GETARG_INT32(arg);
	if (m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("correlation min_count %d is out of range", m),
				 errdetail("The minimum count must be zero or positive; NULL takes min(25, 2%% of the entities that entered).")));
	return m;
}

/*
 * funnel_correlation transition.  Arguments: state, window, [mode,] entity,
 * ts, event, steps text[] [, min_count, property].  Rows with a NULL entity
 * or time are skipped; a NULL event matches no step.
 */
PG_FUNCTION_INFO_V1(funnel_correlation_sfunc);
Datum
funnel_correlation_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_correlation");
	CorrState  *st = FUNNEL_STATE_ARG(CorrState, 0);
	bool		full = PG_NARGS() > 6;
	FunnelInput *in = funnel_input_get(fcinfo, FUNNEL_INPUT_NAMES,
									   FUNNEL_ARG_ENTITY | (full ? FUNNEL_ARG_MODE : 0));
	int64		ts;
	uint64		steps;
	int32		min_count;
	bool		use_row;
	int			a = in->arg_input;

	use_row = funnel_input_read(fcinfo, in, &ts, &steps);
	min_count = read_min_count(fcinfo, full ? 7 : PG_NARGS());
	if (st == NULL)
	{
		int			i;

		funnel_check_used_options(&in->cfg, 0);
		st = MemoryContextAllocZero(cxt, sizeof(CorrState));
		st->cfg = in->cfg;
		st->checked_input = in;
		st->checked_version = in->cfg_version;
		st->min_count = min_count;
		st->has_property = full;
		st->nnames = in->nnames;
		st->names = MemoryContextAlloc(cxt, sizeof(char *) * (in->nnames + 1));
		st->name_lens = MemoryContextAlloc(cxt, sizeof(int) * (in->nnames + 1));
		st->name_steps = MemoryContextAlloc(cxt, sizeof(uint64) * (in->nnames + 1));
		for (i = 0; i < in->nnames; i++)
		{
			st->names[i] = MemoryContextAlloc(cxt, in->name_lens[i] + 1);
			memcpy(st->names[i], in->names[i], in->name_lens[i] + 1);
			st->name_lens[i] = in->name_lens[i];
			st->name_steps[i] = in->name_steps[i];
		}
		st->log = event_log_create(fcinfo, cxt, in->arg_entity);
	}
	else
	{
		/* compared again only when this call site read a new configuration */
		if (st->checked_input != in || st->checked_version != in->cfg_version)
		{
			funnel_check_used_options(&in->cfg, 0);
			funnel_config_check_same(&st->cfg, &in->cfg);
			st->checked_input = in;
			st->checked_version = in->cfg_version;
		}
		if (min_count != st->min_count)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("correlation min_count must be the same for every row of a group")));
	}
	if (!use_row || PG_ARGISNULL(in->arg_entity))
		PG_RETURN_POINTER(st);
	if (PG_ARGISNULL(a + 1))
		event_log_add_tagged(st->log, PG_GETARG_DATUM(in->arg_entity), ts, TAG_NULL_EVENT, "", 0);
	else
	{
		text	   *ev = PG_GETARG_TEXT_PP(a + 1);

		event_log_add_tagged(st->log, PG_GETARG_DATUM(in->arg_entity), ts, TAG_EVENT,
							 VARDATA_ANY(ev), VARSIZE_ANY_EXHDR(ev));
	}
	if (full && !PG_ARGISNULL(8))
	{
		text	   *pv = PG_GETARG_TEXT_PP(8);

		event_log_add_tagged(st->log, PG_GETARG_DATUM(in->arg_entity), ts, TAG_PROPERTY,
							 VARDATA_ANY(pv), VARSIZE_ANY_EXHDR(pv));
	}
	PG_RETURN_POINTER(st);
}

static void
check_same_state_config(const CorrState *a, const CorrState *b)
{
	int			i;

	funnel_config_check_same(&a->cfg, &b->cfg);
	if (a->min_count != b->min_count)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("correlation min_count must be the same for every row of a group")));
	if (a->has_property != b->has_property || a->nnames != b->nnames)
		elog(ERROR, "cannot combine funnel_correlation states of different forms");
	for (i = 0; i < a->nnames; i++)
		if (a->name_lens[i] != b->name_lens[i] || a->name_steps[i] != b->name_steps[i] ||
			memcmp(a->names[i], b->names[i], a->name_lens[i]) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("funnel step names differ between rows of one group"),
					 errhint("Give every row of a group the same steps array.")));
}

static CorrState *
copy_state_config(MemoryContext cxt, const CorrState *b)
{
	CorrState  *a = MemoryContextAllocZero(cxt, sizeof(CorrState));
	int			i;

	a->cfg = b->cfg;
	a->min_count = b->min_count;
	a->has_property = b->has_property;
	a->nnames = b->nnames;
	a->names = MemoryContextAlloc(cxt, sizeof(char *) * (b->nnames + 1));
	a->name_lens = MemoryContextAlloc(cxt, sizeof(int) * (b->nnames + 1));
	a->name_steps = MemoryContextAlloc(cxt, sizeof(uint64) * (b->nnames + 1));
	for (i = 0; i < b->nnames; i++)
	{
		a->names[i] = MemoryContextAlloc(cxt, b->name_lens[i] + 1);
		memcpy(a->names[i], b->names[i], b->name_lens[i]);
		a->names[i][b->name_lens[i]] = '\0';
		a->name_lens[i] = b->name_lens[i];
		a->name_steps[i] = b->name_steps[i];
	}
	return a;
}

PG_FUNCTION_INFO_V1(funnel_correlation_combine);
Datum
funnel_correlation_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_correlation_combine");
	CorrState  *a = FUNNEL_STATE_ARG(CorrState, 0);
	CorrState  *b = FUNNEL_STATE_ARG(CorrState, 1);
	MemoryContext old;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	old = MemoryContextSwitchTo(cxt);
	if (a == NULL)
	{
		a = copy_state_config(cxt, b);
		a->log = event_log_create_like(fcinfo, cxt, b->log);
	}
	else
		check_same_state_config(a, b);
	event_log_merge(a->log, b->log);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/*
 * Layout: the funnel configuration, min_count, the property flag, the step
 * names (length, bytes, steps), the log.
 */
PG_FUNCTION_INFO_V1(funnel_correlation_serialize);
Datum
funnel_correlation_serialize(PG_FUNCTION_ARGS)
{
	CorrState  *st = (CorrState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int			i;

	funnel_agg_context(fcinfo, "funnel_correlation_serialize");
	pq_begintypsend(&buf);
	funnel_config_serialize(&st->cfg, &buf);
	pq_sendint32(&buf, st->min_count);
	pq_sendbyte(&buf, st->has_property ? 1 : 0);
	pq_sendint32(&buf, st->nnames);
	for (i = 0; i < st->nnames; i++)
	{
		pq_sendint32(&buf, st->name_lens[i]);
		pq_sendbytes(&buf, st->names[i], st->name_lens[i]);
		pq_sendint64(&buf, (int64) st->name_steps[i]);
	}
	event_log_serialize(st->log, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(funnel_correlation_deserialize);
Datum
funnel_correlation_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_correlation_deserialize");
	StringInfoData buf;
	CorrState  *st;
	int			flag,
				i,
				j;
	uint64		all = 0;

	funnel_state_reader(PG_GETARG_BYTEA_PP(0), &buf);
	st = MemoryContextAllocZero(cxt, sizeof(CorrState));
	funnel_config_deserialize(&st->cfg, &buf);
	if (st->cfg.open_steps || st->cfg.want_elapsed || st->cfg.target != 0)
		funnel_invalid_state("The funnel_correlation state has invalid flags.");
	st->min_count = (int32) pq_getmsgint(&buf, 4);
	flag = pq_getmsgbyte(&buf);
	st->nnames = (int32) pq_getmsgint(&buf, 4);
	if (st->min_count < MIN_COUNT_DEFAULT_RULE || flag > 1 ||
		st->nnames < 0 || st->nnames > st->cfg.nsteps)
		funnel_invalid_state("The funnel_correlation state has an invalid min_count, flag or step name count.");
	st->has_property = flag == 1;
	st->names = MemoryContextAlloc(cxt, sizeof(char *) * (st->nnames + 1));
	st->name_lens = MemoryContextAlloc(cxt, sizeof(int) * (st->nnames + 1));
	st->name_steps = MemoryContextAlloc(cxt, sizeof(uint64) * (st->nnames + 1));
	for (i = 0; i < st->nnames; i++)
	{
		int32		len = (int32) pq_getmsgint(&buf, 4);
		const char *s;
		uint64		steps;

		if (len < 0 || len > buf.len - buf.cursor)
			funnel_invalid_state("A step name of the state is longer than the data.");
		s = pq_getmsgbytes(&buf, len);
		steps = (uint64) pq_getmsgint64(&buf);
		if (memchr(s, '\0', len) != NULL || !pg_verifymbstr(s, len, true))
			funnel_invalid_state("A step name of the state is not valid text.");
		if (steps == 0 || (st->cfg.nsteps < 64 && (steps >> st->cfg.nsteps) != 0) ||
			(steps & all) != 0)
			funnel_invalid_state("The steps of a step name of the state are out of range.");
		for (j = 0; j < i; j++)
			if (st->name_lens[j] == len && memcmp(st->names[j], s, len) == 0)
				funnel_invalid_state("The state holds a step name twice.");
		all |= steps;
		st->names[i] = MemoryContextAlloc(cxt, len + 1);
		memcpy(st->names[i], s, len);
		st->names[i][len] = '\0';
		st->name_lens[i] = len;
		st->name_steps[i] = steps;
	}
	st->log = event_log_deserialize(fcinfo, cxt, &buf);
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------- statistics ---------- */

static double
log_choose(int64 n, int64 k)
{
	return lgamma((double) n + 1) - lgamma((double) k + 1) - lgamma((double) (n - k) + 1);
}

/*
 * Two-sided p-value of Fisher's exact test of the table [[a, b], [c, d]]:
 * the probability, under the hypergeometric law of the top-left cell given
 * the margins, of the tables no more likely than the one observed (with a
 * relative tolerance of 1e-7 for ties, as R's fisher.test).  The law is
 * unimodal: its terms are summed outwards from the mode, relative to the
 * mode's, until they vanish.
 */
static double
fisher_exact_two_sided(int64 a, int64 b, int64 c, int64 d)
{
	int64		n = a + b + c + d;
	int64		col = a + c;	/* drawn population's "successes" */
	int64		row = a + b;	/* draws */
	int64		lo = Max(0, row - (n - col));
	int64		hi = Min(row, col);
	int64		mode;
	int64		x;
	double		rel_a,
				limit,
				rel,
				total = 1.0,
				tails = 0.0;

	if (n == 0 || lo == hi)
		return 1.0;
	mode = (int64) floor(((double) row + 1) * ((double) col + 1) / ((double) n + 2));
	mode = Max(lo, Min(hi, mode));
	rel_a = exp(log_choose(col, a) + log_choose(n - col, row - a) -
				log_choose(col, mode) - log_choose(n - col, row - mode));
	limit = rel_a * (1 + 1e-7);
	if (1.0 <= limit)
		tails += 1.0;
	/* upwards: p(x + 1) / p(x) = (col - x)(row - x) / ((x + 1)(n - col - row + x + 1)) */
	rel = 1.0;
	for (x = mode; x < hi; x++)
	{
		rel *= ((double) (col - x) * (double) (row - x)) /
			((double) (x + 1) * (double) (n - col - row + x + 1));
		if (rel < 1e-300)
			break;
		total += rel;
		if (rel <= limit)
			tails += rel;
		if ((x & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	rel = 1.0;
	for (x = mode; x > lo; x--)
	{
		rel *= ((double) x * (double) (n - col - row + x)) /
			((double) (col - x + 1) * (double) (row - x + 1));
		if (rel < 1e-300)
			break;
		total += rel;
		if (rel <= limit)
			tails += rel;
		if ((x & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return Min(1.0, tails / total);
}

/* ---------- the final function ---------- */

typedef struct Driver
{
	int32		id;				/* tagged name id */
	int32		rank;			/* of the tagged name: kind, then bytes */
	int64		converters;
	int64		non_converters;
	double		odds_ratio;
	double		p_value;
} Driver;

static int
driver_cmp(const void *a, const void *b)
{
	const Driver *x = a;
	const Driver *y = b;

	if (x->odds_ratio != y->odds_ratio)
		return x->odds_ratio > y->odds_ratio ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/* the funnel level of the first nevents events (in time order); held: bytes in use */
static inline int
prefix_level(const FunnelConfig *cfg, const FunnelEvent *ev, int nevents, Size held, int64 *elapsed)
{
	return funnel_events_level(cfg, ev, nevents, held, elapsed);
}

PG_FUNCTION_INFO_V1(funnel_correlation_final);
Datum
funnel_correlation_final(PG_FUNCTION_ARGS)
{
	CorrState  *st = FUNNEL_STATE_ARG(CorrState, 0);
	FunnelConfig wcfg;
	EventJourneys j;
	uint64	   *name_mask;
	char	   *name_tag;
	int64	   *succ,
			   *fail;
	uint32	   *stamp;
	int64		converters = 0,
				non_converters = 0;
	Size		held = 0;		/* bytes in use, for the walk's own checks */
	FunnelEvent *ev = NULL;
	int		   *group_end = NULL;
	uint64		evcap = 0;
	int64		elapsed[FUNNEL_MAX_STEPS];
	int64		scratch[FUNNEL_MAX_STEPS];
	Driver	   *drivers;
	int			ndrivers = 0;
	double		threshold;
	int32		i;
	uint32		e;
	StringInfoData buf;

	if (st == NULL)
		PG_RETURN_NULL();
	wcfg = st->cfg;
	wcfg.want_elapsed = true;
	/* counts of entities only: the order they come in cannot change them */
	event_log_journeys(st->log, false, &j);

	/* what each logged name is: a step event, another event, a property value */
	name_mask = palloc0(sizeof(uint64) * (j.nnames + 1));
	name_tag = palloc0(j.nnames + 1);
	for (i = 0; i < j.nnames; i++)
	{
		int			k;

		name_tag[i] = j.names[i][0];
		if (name_tag[i] != TAG_EVENT)
			continue;
		for (k = 0; k < st->nnames; k++)
			if (st->name_lens[k] == j.name_lens[i] - 1 &&
				memcmp(st->names[k], j.names[i] + 1, st->name_lens[k]) == 0)
				name_mask[i] = st->name_steps[k];
	}
	funnel_check_memory(j.bytes + (2 * sizeof(int64) + sizeof(uint32) + sizeof(Driver)) * (Size) j.nnames);
	succ = palloc0(sizeof(int64) * (j.nnames + 1));
	fail = palloc0(sizeof(int64) * (j.nnames + 1));
	stamp = palloc0(sizeof(uint32) * (j.nnames + 1));

	for (e = 0; e < j.nent; e++)
	{
		const EventRow *r = j.rows + j.starts[e];
		uint64		nr = j.starts[e + 1] - j.starts[e];
		uint64		k;
		int			n = 0,
					ngroups = 0,
					level,
					glo,
					ghi;
		int64		reached,
					start,
					end;
		bool		converted;

		CHECK_FOR_INTERRUPTS();
		if (nr > evcap)
		{
			evcap = Max(nr, 2 * evcap);
			if (evcap > (uint64) PG_INT32_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("too many rows for one entity")));
			if (ev)
			{
				pfree(ev);
				pfree(group_end);
			}
			held = j.bytes + (2 * sizeof(int64) + sizeof(uint32) + sizeof(Driver)) * (Size) j.nnames +
				(sizeof(FunnelEvent) + sizeof(int)) * evcap;
			funnel_check_memory(held);
			ev = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(FunnelEvent) * evcap);
			group_end = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int) * evcap);
		}
		for (k = 0; k < nr; k++)
		{
			if (name_tag[r[k].name] == TAG_PROPERTY)
				continue;
			if (n > 0 && r[k].ts != ev[n - 1].ts)
				group_end[ngroups++] = n;
			ev[n].ts = r[k].ts;
			ev[n].steps = name_mask[r[k].name];
			n++;
		}
		if (n == 0)
			continue;
		group_end[ngroups++] = n;
		level = prefix_level(&wcfg, ev, n, held, elapsed);
		if (level == 0)
			continue;
		/* the first time group after which the walk has reached the level */
		glo = 0;
		ghi = ngroups - 1;
		while (glo < ghi)
		{
			int			mid = glo + (ghi - glo) / 2;

			if (prefix_level(&wcfg, ev, group_end[mid], held, scratch) >= level)
				ghi = mid;
			else
				glo = mid + 1;
		}
		reached = ev[group_end[glo] - 1].ts;
		start = reached - elapsed[level - 1];
		/* the last reported step: optional steps are not counted in levels */
		converted = level == wcfg.nsteps - pg_popcount64(wcfg.optional);
		if (converted)
			end = reached;
		else
			end = start > PG_INT64_MAX - wcfg.window ? PG_INT64_MAX : start + wcfg.window;
		for (k = 0; k < nr; k++)
		{
			int32		id = r[k].name;
			bool		counts;

			if (r[k].ts > end)
				break;
			if (name_tag[id] == TAG_PROPERTY)
				counts = r[k].ts >= start;
			else
				counts = name_tag[id] == TAG_EVENT && name_mask[id] == 0 &&
					r[k].ts > start && r[k].ts < end;
			if (counts && stamp[id] != e + 1)
			{
				stamp[id] = e + 1;
				if (converted)
					succ[id]++;
				else
					fail[id]++;
			}
		}
		if (converted)
			converters++;
		else
			non_converters++;
	}

	if (st->min_count == MIN_COUNT_DEFAULT_RULE)
		threshold = Min((double) DEFAULT_MIN_COUNT,
						DEFAULT_MIN_SHARE * (double) (converters + non_converters));
	else
		threshold = st->min_count;
	drivers = palloc(sizeof(Driver) * (j.nnames + 1));
	/* without converters or without non-converters nothing can be told (PostHog) */
	for (i = 0; i < j.nnames && converters > 0 && non_converters > 0; i++)
	{
		int64		s = succ[i],
					f = fail[i];
		Driver	   *d;

		if (s + f == 0 || (double) (s + f) < threshold)
			continue;
		d = &drivers[ndrivers++];
		d->id = i;
		d->rank = j.ranks[i];
		d->converters = s;
		d->non_converters = f;
		d->odds_ratio = ((double) (s + 1) * (double) (non_converters - f + 1)) /
			((double) (converters - s + 1) * (double) (f + 1));
		d->p_value = fisher_exact_two_sided(s, f, converters - s, non_converters - f);
	}
	qsort(drivers, ndrivers, sizeof(Driver), driver_cmp);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"converters\": " INT64_FORMAT ", \"non_converters\": " INT64_FORMAT
					 ", \"min_count\": ", converters, non_converters);
	funnel_json_double(&buf, threshold);
	appendStringInfoString(&buf, ", \"drivers\": [");
	for (i = 0; i < ndrivers; i++)
	{
		Driver	   *d = &drivers[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "{\"kind\": \"%s\", \"name\": ",
						 name_tag[d->id] == TAG_PROPERTY ? "property" : "event");
		escape_json(&buf, j.names[d->id] + 1);
		appendStringInfo(&buf, ", \"converters\": " INT64_FORMAT ", \"non_converters\": " INT64_FORMAT
						 ", \"odds_ratio\": ", d->converters, d->non_converters);
		funnel_json_double(&buf, d->odds_ratio);
		appendStringInfoString(&buf, ", \"p_value\": ");
		funnel_json_double(&buf, d->p_value);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
