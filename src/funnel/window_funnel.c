/*
 * src/funnel/window_funnel.c
 *    The window_funnel aggregate (one level per group) and the
 *    window_funnel(window, journey funnel_event[], mode) function.  Both
 *    hand their rows to the funnel engine in engine/walk.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/interval_usecs.h"
#include "engine/funnel.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "port/pg_bitutils.h"

/*
 * One group's state: kept small (at most 128 bytes for up to 5 steps in the
 * default mode) because GROUP BY user makes a million of them.  The
 * configuration is shared: rows of one call site point at one copy.
 */
typedef struct WindowFunnelState
{
	const FunnelConfig *cfg;
	FunnelTrack track;			/* variable size: keep last */
} WindowFunnelState;

/*
 * Allocations are rounded up to a power of two: give the inline log what
 * would otherwise be wasted (at least 16 bytes).
 */
static WindowFunnelState *
state_create(MemoryContext cxt, const FunnelConfig *cfg)
{
	Size		fixed = offsetof(WindowFunnelState, track) + funnel_track_size(cfg, 0);
	Size		size = Max(pg_nextpower2_32((uint32) fixed + 16), 64);
	WindowFunnelState *st = MemoryContextAlloc(cxt, size);

	st->cfg = cfg;
	funnel_track_init(cfg, &st->track, (int) (size - fixed));
	return st;
}

/* A state's memory: the state and its log. */
static Size
state_memory(const WindowFunnelState *st)
{
	Size		size = offsetof(WindowFunnelState, track) +
		funnel_track_size(st->cfg, st->track.inline_cap);

	if (st->track.log_cap > st->track.inline_cap)
		size += st->track.log_cap;
	return size;
}

static int32
read_target(FunctionCallInfo fcinfo, FunnelInput *in)
{
	int32		target;
	int			reported;

	if (in->arg_target == 0 || PG_ARGISNULL(in->arg_target))
		return 0;
	target = PG_GETARG_INT32(in->arg_target);
	/* a level: optional steps are not counted */
	reported = in->cfg.nsteps - pg_popcount64(in->cfg.optional);
	if (target < 1 || target > reported)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("to_step %d is out of range", target),
				 errdetail("The funnel has steps 1 to %d.", reported)));
	return target;
}

/* One row into a per-group state (window_funnel, time_to_convert). */
static Datum
group_add(FunctionCallInfo fcinfo, FunnelInputKind kind, int args,
		  bool want_elapsed)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, want_elapsed ? "time_to_convert" : "window_funnel");
	WindowFunnelState *st = FUNNEL_STATE_ARG(WindowFunnelState, 0);
	FunnelInput *in = funnel_input_get(fcinfo, kind, args);
	int64		ts;
	uint64		steps;
	bool		use = funnel_input_read(fcinfo, in, &ts, &steps);
	const FunnelConfig *cfg;

	funnel_check_used_options(&in->cfg, 0);
	in->cfg.want_elapsed = want_elapsed;
	in->cfg.target = read_target(fcinfo, in);
	cfg = funnel_input_config(in);
	if (st == NULL)
	{
		funnel_check_elapsed(cfg);
		st = state_create(cxt, cfg);
	}
	else if (st->cfg != cfg)
		funnel_config_check_same(st->cfg, cfg);
	if (use)
	{
		Size		grown = funnel_track_add(st->cfg, &st->track, cxt, ts, steps);

		if (grown)
			funnel_check_memory(state_memory(st));
	}
	PG_RETURN_POINTER(st);
}

/*
 * The window_funnel and time_to_convert transitions, one per input form
 * (conditions, funnel_event, event names; with or without a mode or target
 * step): each adds the row's time and matched steps to the group's state.
 */
#define GROUP_SFUNC(name, kind, args, elapsed) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	return group_add(fcinfo, kind, args, elapsed); \
}

GROUP_SFUNC(window_funnel_bools_sfunc, FUNNEL_INPUT_BOOLS, 0, false)
GROUP_SFUNC(window_funnel_mode_bools_sfunc, FUNNEL_INPUT_BOOLS, FUNNEL_ARG_MODE, false)
GROUP_SFUNC(window_funnel_event_sfunc, FUNNEL_INPUT_EVENT, 0, false)
GROUP_SFUNC(window_funnel_mode_event_sfunc, FUNNEL_INPUT_EVENT, FUNNEL_ARG_MODE, false)
GROUP_SFUNC(window_funnel_names_sfunc, FUNNEL_INPUT_NAMES, 0, false)
GROUP_SFUNC(window_funnel_mode_names_sfunc, FUNNEL_INPUT_NAMES, FUNNEL_ARG_MODE, false)
GROUP_SFUNC(time_to_convert_bools_sfunc, FUNNEL_INPUT_BOOLS, 0, true)
GROUP_SFUNC(time_to_convert_mode_bools_sfunc, FUNNEL_INPUT_BOOLS, FUNNEL_ARG_MODE, true)
GROUP_SFUNC(time_to_convert_target_bools_sfunc, FUNNEL_INPUT_BOOLS, FUNNEL_ARG_MODE | FUNNEL_ARG_TARGET, true)
GROUP_SFUNC(time_to_convert_event_sfunc, FUNNEL_INPUT_EVENT, 0, true)
GROUP_SFUNC(time_to_convert_mode_event_sfunc, FUNNEL_INPUT_EVENT, FUNNEL_ARG_MODE, true)
GROUP_SFUNC(time_to_convert_target_event_sfunc, FUNNEL_INPUT_EVENT, FUNNEL_ARG_MODE | FUNNEL_ARG_TARGET, true)
GROUP_SFUNC(time_to_convert_names_sfunc, FUNNEL_INPUT_NAMES, 0, true)
GROUP_SFUNC(time_to_convert_mode_names_sfunc, FUNNEL_INPUT_NAMES, FUNNEL_ARG_MODE, true)
GROUP_SFUNC(time_to_convert_target_names_sfunc, FUNNEL_INPUT_NAMES, FUNNEL_ARG_MODE | FUNNEL_ARG_TARGET, true)

/*
 * The step time_to_convert measures to: to_step, else the funnel's last
 * step; for funnel_event input (64 possible steps) the highest step any
 * event names.
 */
static int
target_step(const FunnelConfig *cfg, const FunnelEvent *events, int n)
{
	uint64		seen = 0;
	int			i;

	if (cfg->target > 0)
		return cfg->target;
	for (i = 0; i < n; i++)
		seen |= events[i].steps;
	return funnel_reported_steps(cfg, seen);
}

/*
 * time_to_convert final function: time from step 1 to the target step on
 * the chain the funnel walk reaches it with; NULL when not reached.
 */
PG_FUNCTION_INFO_V1(time_to_convert_final);
Datum
time_to_convert_final(PG_FUNCTION_ARGS)
{
	WindowFunnelState *st;
	int64		elapsed[FUNNEL_MAX_STEPS];
	int			level;
	int			target;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (WindowFunnelState *) PG_GETARG_POINTER(0);
	level = funnel_track_level(st->cfg, &st->track, state_memory(st), elapsed);
	if (st->cfg->open_steps && st->cfg->target == 0)
		target = funnel_reported_steps(st->cfg, funnel_track_steps(&st->track));
	else
		target = target_step(st->cfg, NULL, 0);
	if (target == 0 || level < target)
		PG_RETURN_NULL();
	return IntervalPGetDatum(funnel_usecs_interval(elapsed[target - 1]));
}

/*
 * window_funnel final function: the funnel level (0..steps) the walk reaches
 * over the group's events.  Never modifies the state, so the aggregate works
 * as a window function.
 */
PG_FUNCTION_INFO_V1(window_funnel_final);
Datum
window_funnel_final(PG_FUNCTION_ARGS)
{
	WindowFunnelState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	st = (WindowFunnelState *) PG_GETARG_POINTER(0);
	PG_RETURN_INT32(funnel_track_level(st->cfg, &st->track, state_memory(st), NULL));
}

static FunnelConfig *
config_copy(MemoryContext cxt, const FunnelConfig *cfg)
{
	FunnelConfig *copy = MemoryContextAlloc(cxt, sizeof(FunnelConfig));

	*copy = *cfg;
	return copy;
}

/*
 * window_funnel / time_to_convert combine function: appends the second
 * state's events to the first (the funnel settings must agree).
 */
PG_FUNCTION_INFO_V1(window_funnel_combine);
Datum
window_funnel_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "window_funnel_combine");
	WindowFunnelState *a = FUNNEL_STATE_ARG(WindowFunnelState, 0);
	WindowFunnelState *b = FUNNEL_STATE_ARG(WindowFunnelState, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = state_create(cxt, config_copy(cxt, b->cfg));
	else
		funnel_config_check_same(a->cfg, b->cfg);
	funnel_track_merge(a->cfg, &a->track, &b->track, cxt);
	funnel_check_memory(state_memory(a));
	PG_RETURN_POINTER(a);
}

/* window_funnel / time_to_convert state serialisation: settings and events. */
PG_FUNCTION_INFO_V1(window_funnel_serialize);
Datum
window_funnel_serialize(PG_FUNCTION_ARGS)
{
	WindowFunnelState *st = (WindowFunnelState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "window_funnel_serialize");
	pq_begintypsend(&buf);
	funnel_config_serialize(st->cfg, &buf);
	funnel_track_serialize(&st->track, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * window_funnel / time_to_convert state deserialisation; every field read is
 * checked.
 */
PG_FUNCTION_INFO_V1(window_funnel_deserialize);
Datum
window_funnel_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "window_funnel_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	FunnelConfig *cfg = MemoryContextAlloc(cxt, sizeof(FunnelConfig));
	WindowFunnelState *st;

	funnel_state_reader(b, &buf);
	funnel_config_deserialize(cfg, &buf);
	st = state_create(cxt, cfg);
	funnel_track_deserialize(cfg, &st->track, &buf, cxt);
	funnel_check_memory(state_memory(st));
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/* With exclusions, a journey's events name only steps and exclusions. */
static void
check_journey_steps(const FunnelConfig *cfg, const FunnelEvent *events, int n)
{
	int			i;

	if (cfg->nexcl == 0)
		return;
	for (i = 0; i < n; i++)
		funnel_check_row_steps(cfg, events[i].steps);
}

/* The level of a stored journey's events (arguments: window, journey, mode). */
static int32
journey_level(FunctionCallInfo fcinfo, const FunnelEvent *events, int n)
{
	const FunnelConfig *cfg = funnel_journey_config(fcinfo, PG_GETARG_INTERVAL_P(0),
													PG_GETARG_TEXT_PP(2), false, 0);

	check_journey_steps(cfg, events, n);
	return funnel_events_level(cfg, events, n, 0, NULL);
}

/*
 * window_funnel(window, journey funnel_event[], mode): the funnel level the
 * walk reaches over the events of a stored journey.
 */
PG_FUNCTION_INFO_V1(window_funnel_journey);
Datum
window_funnel_journey(PG_FUNCTION_ARGS)
{
	int			n;
	FunnelEvent *events = funnel_journey_events(PG_GETARG_ARRAYTYPE_P(1), &n);

	PG_RETURN_INT32(journey_level(fcinfo, events, n));
}

/* window_funnel(window, journey journey, mode): the same, compact journey. */
PG_FUNCTION_INFO_V1(window_funnel_compact);
Datum
window_funnel_compact(PG_FUNCTION_ARGS)
{
	FunnelEvent buf[FUNNEL_JOURNEY_STACK_EVENTS];
	int			n;
	FunnelEvent *events = funnel_journey_decode_into(PG_GETARG_JOURNEY_P(1), &n,
													 buf, FUNNEL_JOURNEY_STACK_EVENTS);

	PG_RETURN_INT32(journey_level(fcinfo, events, n));
}

/*
 * The time to convert of a stored journey's events (arguments as
 * time_to_convert's: window, journey, mode, to_step); NULL when the target
 * step is not reached.
 */
static Datum
journey_time_to_convert(FunctionCallInfo fcinfo, const FunnelEvent *events, int n)
{
	FunnelConfig cfg;
	int			level,
				target;
	int64		elapsed[FUNNEL_MAX_STEPS];

	cfg = *funnel_journey_config(fcinfo, PG_GETARG_INTERVAL_P(0), PG_GETARG_TEXT_PP(2), true, 0);
	if (!PG_ARGISNULL(3))
	{
		cfg.target = PG_GETARG_INT32(3);
		if (cfg.target < 1 || cfg.target > FUNNEL_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("to_step %d is out of range", cfg.target),
					 errdetail("Steps are numbered from 1 to %d.", FUNNEL_MAX_STEPS)));
	}
	check_journey_steps(&cfg, events, n);
	target = target_step(&cfg, events, n);
	if (target == 0)
		PG_RETURN_NULL();
	level = funnel_events_level(&cfg, events, n, 0, elapsed);
	if (level < target)
		PG_RETURN_NULL();
	return IntervalPGetDatum(funnel_usecs_interval(elapsed[target - 1]));
}

/*
 * time_to_convert(window, journey funnel_event[], mode, to_step): the time
 * to convert of a stored journey; NULL when the target step is not reached.
 */
PG_FUNCTION_INFO_V1(time_to_convert_journey);
Datum
time_to_convert_journey(PG_FUNCTION_ARGS)
{
	int			n;
	FunnelEvent *events;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	events = funnel_journey_events(PG_GETARG_ARRAYTYPE_P(1), &n);
	return journey_time_to_convert(fcinfo, events, n);
}

/* time_to_convert(window, journey journey, mode, to_step): compact journey. */
PG_FUNCTION_INFO_V1(time_to_convert_compact);
Datum
time_to_convert_compact(PG_FUNCTION_ARGS)
{
	FunnelEvent buf[FUNNEL_JOURNEY_STACK_EVENTS];
	int			n;
	FunnelEvent *events;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	events = funnel_journey_decode_into(PG_GETARG_JOURNEY_P(1), &n,
										buf, FUNNEL_JOURNEY_STACK_EVENTS);
	return journey_time_to_convert(fcinfo, events, n);
}
