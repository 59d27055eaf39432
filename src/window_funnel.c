/*
 * window_funnel.c
 *    The window_funnel aggregate (one level per group) and the
 *    window_funnel(window, journey funnel_event[], mode) function.  Both
 *    hand their rows to the funnel engine in funnel_walk.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funnel.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

typedef struct WindowFunnelState
{
	FunnelConfig cfg;
	Size		mem;			/* bytes allocated, for funnel.max_state_memory */
	FunnelTrack track;			/* variable size: keep last */
} WindowFunnelState;

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return cxt;
}

static WindowFunnelState *
state_create(MemoryContext cxt, const FunnelConfig *cfg)
{
	Size		size = offsetof(WindowFunnelState, track) + funnel_track_size(cfg);
	WindowFunnelState *st = MemoryContextAllocZero(cxt, size);

	st->cfg = *cfg;
	st->mem = size;
	funnel_track_init(cfg, &st->track);
	return st;
}

static Datum
window_funnel_add(FunctionCallInfo fcinfo, FunnelInputKind kind, bool has_mode)
{
	MemoryContext cxt = agg_context(fcinfo, "window_funnel");
	WindowFunnelState *st = PG_ARGISNULL(0) ? NULL : (WindowFunnelState *) PG_GETARG_POINTER(0);
	FunnelInput *in = funnel_input_get(fcinfo, kind, has_mode, false);
	int64		ts;
	uint64		steps;
	bool		use = funnel_input_read(fcinfo, in, &ts, &steps);

	if (st == NULL)
		st = state_create(cxt, &in->cfg);
	else
		funnel_config_check_same(&st->cfg, &in->cfg);
	if (use)
	{
		Size		grown = funnel_track_add(&st->cfg, &st->track, cxt, ts, steps);

		if (grown)
		{
			st->mem += grown;
			funnel_check_memory(st->mem);
		}
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(window_funnel_bools_sfunc);
Datum
window_funnel_bools_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_BOOLS, false);
}

PG_FUNCTION_INFO_V1(window_funnel_mode_bools_sfunc);
Datum
window_funnel_mode_bools_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_BOOLS, true);
}

PG_FUNCTION_INFO_V1(window_funnel_event_sfunc);
Datum
window_funnel_event_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_EVENT, false);
}

PG_FUNCTION_INFO_V1(window_funnel_mode_event_sfunc);
Datum
window_funnel_mode_event_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_EVENT, true);
}

PG_FUNCTION_INFO_V1(window_funnel_names_sfunc);
Datum
window_funnel_names_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_NAMES, false);
}

PG_FUNCTION_INFO_V1(window_funnel_mode_names_sfunc);
Datum
window_funnel_mode_names_sfunc(PG_FUNCTION_ARGS)
{
	return window_funnel_add(fcinfo, FUNNEL_INPUT_NAMES, true);
}

/* Never modifies the state, so the aggregate works as a window function. */
PG_FUNCTION_INFO_V1(window_funnel_final);
Datum
window_funnel_final(PG_FUNCTION_ARGS)
{
	WindowFunnelState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	st = (WindowFunnelState *) PG_GETARG_POINTER(0);
	PG_RETURN_INT32(funnel_track_level(&st->cfg, &st->track, NULL));
}

PG_FUNCTION_INFO_V1(window_funnel_combine);
Datum
window_funnel_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "window_funnel_combine");
	WindowFunnelState *a = PG_ARGISNULL(0) ? NULL : (WindowFunnelState *) PG_GETARG_POINTER(0);
	WindowFunnelState *b = PG_ARGISNULL(1) ? NULL : (WindowFunnelState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = state_create(cxt, &b->cfg);
	else
		funnel_config_check_same(&a->cfg, &b->cfg);
	a->mem += funnel_track_merge(&a->cfg, &a->track, &b->track, cxt);
	funnel_check_memory(a->mem);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(window_funnel_serialize);
Datum
window_funnel_serialize(PG_FUNCTION_ARGS)
{
	WindowFunnelState *st = (WindowFunnelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	agg_context(fcinfo, "window_funnel_serialize");
	pq_begintypsend(&buf);
	funnel_config_serialize(&st->cfg, &buf);
	funnel_track_serialize(&st->track, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(window_funnel_deserialize);
Datum
window_funnel_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "window_funnel_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	FunnelConfig cfg;
	WindowFunnelState *st;

	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	funnel_config_deserialize(&cfg, &buf);
	st = state_create(cxt, &cfg);
	st->mem += funnel_track_deserialize(&cfg, &st->track, &buf, cxt);
	if (buf.cursor != buf.len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid funnel aggregate state: trailing bytes")));
	PG_RETURN_POINTER(st);
}

/* window_funnel(window, journey funnel_event[], mode): a stored journey. */
PG_FUNCTION_INFO_V1(window_funnel_journey);
Datum
window_funnel_journey(PG_FUNCTION_ARGS)
{
	Interval   *window = PG_GETARG_INTERVAL_P(0);
	ArrayType  *journey = PG_GETARG_ARRAYTYPE_P(1);
	text	   *mode = PG_GETARG_TEXT_PP(2);
	FunnelConfig cfg;
	FunnelEvent *events;
	int			n;

	memset(&cfg, 0, sizeof(cfg));
	cfg.window = funnel_window_usecs(window);
	cfg.mode = funnel_parse_mode(mode);
	cfg.nsteps = FUNNEL_MAX_STEPS;
	events = funnel_journey_events(journey, &n);
	PG_RETURN_INT32(funnel_events_level(&cfg, events, n, NULL));
}
