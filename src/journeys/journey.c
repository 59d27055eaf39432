/*
 * src/journeys/journey.c
 *    Journeys that grow: a stored journey (funnel_event[]) kept in canonical
 *    form, merged with the events that arrived since it was written, trimmed
 *    to a retention horizon, and the journey_agg aggregate that builds the
 *    journey (or the delta of one) of an entity from raw rows.
 *
 * Canonical form: events in funnel_event order (time, then step mask), each
 * distinct event once, no NULL elements.  Events with one time and
 * different steps stay separate events (ties), as the funnel walk needs
 * them: a row that matched no step (strict_order's step 0) and the rows of
 * one time each keep their own steps.  An exact duplicate (same time, same
 * steps) is one event, so folding the same rows in twice changes nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

static int
event_qsort_cmp(const void *a, const void *b)
{
	return funnel_event_compare((const FunnelEvent *) a, (const FunnelEvent *) b);
}

/* Whether the events are strictly increasing: canonical already. */
bool
funnel_events_are_canonical(const FunnelEvent *ev, int n)
{
	int			i;

	for (i = 1; i < n; i++)
		if (funnel_event_compare(&ev[i - 1], &ev[i]) >= 0)
			return false;
	return true;
}

/* Sort in place and keep each distinct event once; returns the new count. */
int
funnel_events_make_canonical(FunnelEvent *ev, int n)
{
	int			i,
				j;

	if (n < 2)
		return n;
	qsort(ev, n, sizeof(FunnelEvent), event_qsort_cmp);
	j = 1;
	for (i = 1; i < n; i++)
		if (funnel_event_compare(&ev[j - 1], &ev[i]) != 0)
			ev[j++] = ev[i];
	return j;
}

/*
 * A journey's events in canonical form: the array's own data when it is
 * canonical already (the usual case for a stored journey), else a sorted,
 * deduplicated copy.
 */
static const FunnelEvent *
journey_canonical_events(ArrayType *journey, int *n)
{
	FunnelEvent *ev = funnel_journey_events(journey, n);
	FunnelEvent *copy;

	if (funnel_events_are_canonical(ev, *n))
		return ev;
	if ((Pointer) ev >= (Pointer) journey &&
		(Pointer) ev < (Pointer) journey + VARSIZE(journey))
	{
		copy = palloc_extended(sizeof(FunnelEvent) * (Size) *n, MCXT_ALLOC_HUGE);
		memcpy(copy, ev, sizeof(FunnelEvent) * (Size) *n);
		ev = copy;
	}
	*n = funnel_events_make_canonical(ev, *n);
	return ev;
}

/* A funnel_event[] of the n events (one dimension, no NULLs). */
ArrayType *
funnel_events_array(const FunnelEvent *ev, int64 n, Oid elemtype)
{
	Size		nbytes;
	ArrayType  *result;

	if (n == 0)
		return construct_empty_array(elemtype);
	if (n > (int64) MaxArraySize ||
		(Size) n > (MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(FunnelEvent))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("journey of %lld events is too long", (long long) n),
				 errdetail("A journey holds at most %d events.",
						   (int) ((MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(FunnelEvent))),
				 errhint("Trim the journey to a retention horizon with journey_trim.")));
	nbytes = ARR_OVERHEAD_NONULLS(1) + sizeof(FunnelEvent) * (Size) n;
	result = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = elemtype;
	ARR_DIMS(result)[0] = (int) n;
	ARR_LBOUND(result)[0] = 1;
	memcpy(ARR_DATA_PTR(result), ev, sizeof(FunnelEvent) * (Size) n);
	return result;
}

/*
 * The events of two canonical journeys in canonical form (an event in both
 * once), into a new array; *n is set to their number.
 */
static FunnelEvent *
events_merge(const FunnelEvent *ea, int na, const FunnelEvent *eb, int nb, int64 *n)
{
	FunnelEvent *out;
	int			i = 0,
				j = 0;
	int64		k = 0;

	out = palloc_extended(sizeof(FunnelEvent) * ((Size) na + nb + 1), MCXT_ALLOC_HUGE);
	while (i < na && j < nb)
	{
		int			c = funnel_event_compare(&ea[i], &eb[j]);

		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (c <= 0)
		{
			out[k++] = ea[i++];
			if (c == 0)
				j++;			/* the same event in both: once */
		}
		else
			out[k++] = eb[j++];
	}
	while (i < na)
		out[k++] = ea[i++];
	while (j < nb)
		out[k++] = eb[j++];
	*n = k;
	return out;
}

/*
 * journey_merge(journey funnel_event[], delta funnel_event[]): the events of
 * both in canonical form.  Either may be in any order, hold NULLs or
 * duplicates; a NULL argument is an empty journey (NULL when both are).
 */
PG_FUNCTION_INFO_V1(journey_merge);
Datum
journey_merge(PG_FUNCTION_ARGS)
{
	ArrayType  *a,
			   *b;
	const FunnelEvent *ea,
			   *eb;
	FunnelEvent *out;
	int			na,
				nb;
	int64		k;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		a = PG_GETARG_ARRAYTYPE_P(PG_ARGISNULL(0) ? 1 : 0);
		ea = journey_canonical_events(a, &na);
		PG_RETURN_ARRAYTYPE_P(funnel_events_array(ea, na, ARR_ELEMTYPE(a)));
	}
	a = PG_GETARG_ARRAYTYPE_P(0);
	b = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_ELEMTYPE(a) != ARR_ELEMTYPE(b))
		elog(ERROR, "journey_merge: arrays of different element types");
	ea = journey_canonical_events(a, &na);
	eb = journey_canonical_events(b, &nb);
	if (nb == 0)
		PG_RETURN_ARRAYTYPE_P(funnel_events_array(ea, na, ARR_ELEMTYPE(a)));
	out = events_merge(ea, na, eb, nb, &k);
	PG_RETURN_ARRAYTYPE_P(funnel_events_array(out, k, ARR_ELEMTYPE(a)));
}

/*
 * journey_merge(journey journey, delta journey): the same for the compact
 * type, whose values are canonical already; a NULL argument is an empty
 * journey (NULL when both are).
 */
PG_FUNCTION_INFO_V1(journey_merge_compact);
Datum
journey_merge_compact(PG_FUNCTION_ARGS)
{
	FunnelEvent *ea,
			   *eb,
			   *out;
	int			na,
				nb;
	int64		k;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(PG_ARGISNULL(0) ? 1 : 0));
	ea = funnel_journey_decode(PG_GETARG_JOURNEY_P(0), &na);
	eb = funnel_journey_decode(PG_GETARG_JOURNEY_P(1), &nb);
	if (nb == 0)
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	out = events_merge(ea, na, eb, nb, &k);
	PG_RETURN_POINTER(funnel_journey_encode(out, k));
}

/*
 * journey_trim(journey funnel_event[], horizon timestamptz): the events at
 * or after the horizon, in the order the journey has them (NULLs left out).
 */
PG_FUNCTION_INFO_V1(journey_trim);
Datum
journey_trim(PG_FUNCTION_ARGS)
{
	ArrayType  *journey = PG_GETARG_ARRAYTYPE_P(0);
	TimestampTz horizon = PG_GETARG_TIMESTAMPTZ(1);
	FunnelEvent *ev;
	FunnelEvent *out;
	int			n,
				i;
	int64		k = 0;

	ev = funnel_journey_events(journey, &n);
	out = palloc_extended(sizeof(FunnelEvent) * ((Size) n + 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
		if (ev[i].ts >= horizon)
			out[k++] = ev[i];
	if (k == n && !ARR_HASNULL(journey))
		PG_RETURN_ARRAYTYPE_P(journey);
	PG_RETURN_ARRAYTYPE_P(funnel_events_array(out, k, ARR_ELEMTYPE(journey)));
}

/* journey_trim(journey journey, horizon timestamptz): the same, compact. */
PG_FUNCTION_INFO_V1(journey_trim_compact);
Datum
journey_trim_compact(PG_FUNCTION_ARGS)
{
	TimestampTz horizon = PG_GETARG_TIMESTAMPTZ(1);
	FunnelEvent *ev;
	int			n,
				i;

	ev = funnel_journey_decode(PG_GETARG_JOURNEY_P(0), &n);
	/* canonical: the kept events are a suffix */
	for (i = 0; i < n && ev[i].ts < horizon; i++)
		;
	if (i == 0)
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	PG_RETURN_POINTER(funnel_journey_encode(ev + i, n - i));
}

/* ---------- journey_agg ---------- */

/* The events of a group, in arrival order; canonical only in the final. */
typedef struct JourneyAggState
{
	FunnelEvent *events;
	int64		n;
	int64		cap;
	Size		mem;
} JourneyAggState;

static JourneyAggState *
agg_state_create(MemoryContext cxt)
{
	JourneyAggState *st = MemoryContextAllocZero(cxt, sizeof(JourneyAggState));

	st->mem = sizeof(JourneyAggState);
	return st;
}

static void
agg_state_append(MemoryContext cxt, JourneyAggState *st,
				 const FunnelEvent *ev, int64 n)
{
	if (n == 0)
		return;
	st->events = funnel_state_grow(cxt, st->events, &st->cap, st->n + n,
								   sizeof(FunnelEvent), &st->mem);
	memcpy(st->events + st->n, ev, sizeof(FunnelEvent) * (Size) n);
	st->n += n;
}

/* journey_agg transition: one event (NULL events are left out). */
PG_FUNCTION_INFO_V1(journey_agg_sfunc);
Datum
journey_agg_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "journey_agg_sfunc");
	JourneyAggState *st = FUNNEL_STATE_ARG(JourneyAggState, 0);

	if (st == NULL)
		st = agg_state_create(cxt);
	if (!PG_ARGISNULL(1))
		agg_state_append(cxt, st, PG_GETARG_FUNNEL_EVENT_P(1), 1);
	PG_RETURN_POINTER(st);
}

/* journey_agg combine: the second state's events appended to the first's. */
PG_FUNCTION_INFO_V1(journey_agg_combine);
Datum
journey_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "journey_agg_combine");
	JourneyAggState *a = FUNNEL_STATE_ARG(JourneyAggState, 0);
	JourneyAggState *b = FUNNEL_STATE_ARG(JourneyAggState, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = agg_state_create(cxt);
	agg_state_append(cxt, a, b->events, b->n);
	PG_RETURN_POINTER(a);
}

/* journey_agg serialisation: the count, then each event's time and steps. */
PG_FUNCTION_INFO_V1(journey_agg_serialize);
Datum
journey_agg_serialize(PG_FUNCTION_ARGS)
{
	JourneyAggState *st = (JourneyAggState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	funnel_agg_context(fcinfo, "journey_agg_serialize");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->n);
	for (i = 0; i < st->n; i++)
	{
		pq_sendint64(&buf, st->events[i].ts);
		pq_sendint64(&buf, (int64) st->events[i].steps);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* journey_agg deserialisation: the count and every time are checked. */
PG_FUNCTION_INFO_V1(journey_agg_deserialize);
Datum
journey_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "journey_agg_deserialize");
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	JourneyAggState *st = agg_state_create(cxt);
	int64		n,
				i;

	funnel_state_reader(bytes, &buf);
	if (buf.len < 8)
		funnel_invalid_state("The state is shorter than its event count.");
	n = pq_getmsgint64(&buf);
	funnel_state_check_count(&buf, n, 2 * sizeof(int64));
	st->events = funnel_state_grow(cxt, NULL, &st->cap, n, sizeof(FunnelEvent), &st->mem);
	for (i = 0; i < n; i++)
	{
		int64		ts = pq_getmsgint64(&buf);

		if (TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
			funnel_invalid_state("An event time is infinite or out of range.");
		st->events[i].ts = ts;
		st->events[i].steps = (uint64) pq_getmsgint64(&buf);
	}
	st->n = n;
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/*
 * journey_agg final: the group's events as a canonical journey (NULL over no
 * events).  Sorts a copy: the state is left as it was (window use).
 */
PG_FUNCTION_INFO_V1(journey_agg_final);
Datum
journey_agg_final(PG_FUNCTION_ARGS)
{
	JourneyAggState *st;
	FunnelEvent *ev;
	Oid			elemtype;
	int64		n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (JourneyAggState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	/* the final function's own declared type: funnel_event[] */
	elemtype = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	if (!OidIsValid(elemtype))
		elog(ERROR, "journey_agg_final: could not determine the result type");
	if (st->n > (int64) MaxArraySize)
		funnel_events_array(NULL, st->n, elemtype);	/* reports the limit */
	funnel_check_memory(st->mem + sizeof(FunnelEvent) * (Size) st->n);
	ev = palloc_extended(sizeof(FunnelEvent) * (Size) st->n, MCXT_ALLOC_HUGE);
	memcpy(ev, st->events, sizeof(FunnelEvent) * (Size) st->n);
	n = st->n;
	if (!funnel_events_are_canonical(ev, (int) n))
		n = funnel_events_make_canonical(ev, (int) n);
	PG_RETURN_ARRAYTYPE_P(funnel_events_array(ev, n, elemtype));
}
