/*
 * src/sequences/sessions.c
 *    Sessions by inactivity: session_number(), a window function numbering
 *    an entity's sessions in time order, and session_numbers(), the same
 *    rule applied to a stored funnel_event[] journey.
 *
 *    A row starts a new session when it is the first row, when more than
 *    "gap" has passed since the previous row, when more than "max_length"
 *    has passed since the session's first row, or when its new_session
 *    condition is true.  Rows at one time never split: both time rules
 *    compare with strictly greater.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/interval_usecs.h"
#include "engine/funnel.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/timestamp.h"
#include "windowapi.h"

/* What session_number keeps per partition. */
typedef struct SessionWalk
{
	bool		started;		/* a row with a time was seen */
	int64		prev_ts;		/* time of the previous row */
	int64		start_ts;		/* first row of the current session */
	int64		session;		/* current session number, from 1 */
} SessionWalk;

/* b - a, saturated: the two times of funnel events cannot be further apart. */
static inline int64
time_since(int64 a, int64 b)
{
	int64		d;

	if (pg_sub_s64_overflow(b, a, &d))
		return PG_INT64_MAX;
	return d;
}

/*
 * One row: true when it starts a new session (the walk is then moved to
 * it).  ts must not go back in time.
 */
static bool
session_step(SessionWalk *w, int64 ts, int64 gap, int64 max_length, bool new_session)
{
	bool		starts;

	if (!w->started)
	{
		w->started = true;
		w->session = 1;
		w->prev_ts = w->start_ts = ts;
		return true;
	}
	starts = new_session || time_since(w->prev_ts, ts) > gap ||
		(max_length >= 0 && time_since(w->start_ts, ts) > max_length);
	if (starts)
	{
		w->session++;
		w->start_ts = ts;
	}
	w->prev_ts = ts;
	return starts;
}

/* gap and max_length arguments in microseconds; max_length -1 when NULL. */
static int64
session_gap_usecs(Interval *gap)
{
	return funnel_interval_usecs(gap, "session gap", false);
}

static int64
session_max_length_usecs(Interval *max_length)
{
	if (max_length == NULL)
		return -1;
	return funnel_interval_usecs(max_length, "maximum session length", false);
}

/*
 * session_number(ts, gap, max_length, new_session) OVER (PARTITION BY
 * entity ORDER BY ts): the session of the current row, 1 for the first.
 * A row with a NULL ts gets NULL and does not count.
 */
PG_FUNCTION_INFO_V1(session_number);
Datum
session_number(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	SessionWalk *w;
	bool		isnull;
	Datum		d;
	int64		ts,
				gap,
				max_length = -1;
	bool		new_session = false;

	w = (SessionWalk *) WinGetPartitionLocalMemory(winobj, sizeof(SessionWalk));

	d = WinGetFuncArgCurrent(winobj, 0, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	ts = DatumGetTimestampTz(d);
	funnel_check_timestamp(ts);

	d = WinGetFuncArgCurrent(winobj, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("session gap must not be NULL"),
				 errhint("Pass an interval such as '30 minutes'.")));
	gap = session_gap_usecs(DatumGetIntervalP(d));

	if (PG_NARGS() > 2)
	{
		d = WinGetFuncArgCurrent(winobj, 2, &isnull);
		if (!isnull)
			max_length = session_max_length_usecs(DatumGetIntervalP(d));
	}
	if (PG_NARGS() > 3)
	{
		d = WinGetFuncArgCurrent(winobj, 3, &isnull);
		new_session = !isnull && DatumGetBool(d);
	}

	if (w->started && ts < w->prev_ts)
		ereport(ERROR,
				(errcode(ERRCODE_WINDOWING_ERROR),
				 errmsg("session rows are not in ascending order of time"),
				 errhint("Order the window by the time argument: OVER (PARTITION BY entity ORDER BY ts).")));
	session_step(w, ts, gap, max_length, new_session);
	PG_RETURN_INT64(w->session);
}

/* An event of a journey and its place in the array. */
typedef struct SessionEvent
{
	int64		ts;
	uint64		steps;
	int			pos;
} SessionEvent;

static int
session_event_cmp(const void *a, const void *b)
{
	const SessionEvent *x = a;
	const SessionEvent *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/*
 * session_numbers(journey funnel_event[], gap, max_length, new_session_step):
 * for each element of the journey, in the array's order, the number of its
 * session (sessions numbered in time order); NULL for a NULL element.  An
 * event matching step new_session_step starts a new session.
 */
PG_FUNCTION_INFO_V1(session_numbers);
Datum
session_numbers(PG_FUNCTION_ARGS)
{
	ArrayType  *journey;
	int64		gap,
				max_length = -1;
	int			new_step = 0;
	int			n,
				nslots,
				i;
	bits8	   *nulls;
	SessionEvent *ev;
	Datum	   *out;
	bool	   *outnull;
	SessionWalk w = {0};
	int			dims[1];
	int			lbs[1] = {1};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	journey = PG_GETARG_ARRAYTYPE_P(0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("session gap must not be NULL"),
				 errhint("Pass an interval such as '30 minutes'.")));
	gap = session_gap_usecs(PG_GETARG_INTERVAL_P(1));
	if (!PG_ARGISNULL(2))
		max_length = session_max_length_usecs(PG_GETARG_INTERVAL_P(2));
	if (!PG_ARGISNULL(3))
	{
		new_step = PG_GETARG_INT32(3);
		if (new_step < 1 || new_step > FUNNEL_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("new_session_step %d is out of range", new_step),
					 errdetail("Steps are numbered 1 to %d.", FUNNEL_MAX_STEPS)));
	}

	if (ARR_NDIM(journey) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a funnel journey must be a one-dimensional array")));
	nslots = (ARR_NDIM(journey) == 0) ? 0 : ARR_DIMS(journey)[0];
	if (nslots == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT4OID));
	nulls = ARR_NULLBITMAP(journey);

	ev = palloc(sizeof(SessionEvent) * nslots);
	n = 0;
	for (i = 0; i < nslots; i++)
	{
		FunnelEvent e;

		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
			continue;
		memcpy(&e, ARR_DATA_PTR(journey) + (Size) n * sizeof(FunnelEvent), sizeof(FunnelEvent));
		ev[n].ts = e.ts;
		ev[n].steps = e.steps;
		ev[n].pos = i;
		n++;
	}
	qsort(ev, n, sizeof(SessionEvent), session_event_cmp);

	out = palloc(sizeof(Datum) * nslots);
	outnull = palloc(sizeof(bool) * nslots);
	for (i = 0; i < nslots; i++)
		outnull[i] = true;
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		session_step(&w, ev[i].ts, gap, max_length,
					 new_step > 0 && (ev[i].steps & ((uint64) 1 << (new_step - 1))) != 0);
		if (w.session > PG_INT32_MAX)
			elog(ERROR, "session count overflow");
		out[ev[i].pos] = Int32GetDatum((int32) w.session);
		outnull[ev[i].pos] = false;
	}
	dims[0] = nslots;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(out, outnull, 1, dims, lbs, INT4OID,
											 4, true, TYPALIGN_INT));
}
