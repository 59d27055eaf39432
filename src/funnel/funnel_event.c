/*
 * src/funnel/funnel_event.c
 *    The funnel_event type: a timestamp and the set of funnel steps (1..64)
 *    one event matches.  Fixed length, 16 bytes.
 *
 * Text form: the time in ISO 8601 at UTC, a space, and the step set in
 * braces, e.g. "2024-03-01 09:30:00.25+00 {1,3}".  Output never depends on
 * DateStyle or TimeZone, so it round-trips exactly; input takes any
 * timestamptz literal before the braces.
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"

/* The error for an event time outside the valid range (infinities too). */
void
funnel_timestamp_error(int64 ts)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("funnel events cannot have an infinite timestamp"),
				 errhint("Use a finite timestamp, or leave such rows out with WHERE ts <> 'infinity'.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("timestamp out of range")));
}

void
funnel_check_timestamp(int64 ts)
{
	if (!IS_VALID_TIMESTAMP(ts))
		funnel_timestamp_error(ts);
}

static FunnelEvent *
make_event(int64 ts, uint64 steps)
{
	FunnelEvent *ev = palloc(sizeof(FunnelEvent));

	ev->ts = ts;
	ev->steps = steps;
	return ev;
}

static void
check_step(int64 step)
{
	if (step < 1 || step > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("funnel step %lld is out of range", (long long) step),
				 errdetail("Steps are numbered from 1 to %d.", FUNNEL_MAX_STEPS)));
}

/*
 * Steps whose condition is true (NULL counts as false).  Sets *nsteps to
 * the number of conditions, checked to be 1..64.
 */
uint64
funnel_steps_from_bools(ArrayType *conds, int *nsteps)
{
	int			n;
	uint64		steps = 0;
	bits8	   *nulls;
	bool	   *vals;
	int			i;

	if (ARR_NDIM(conds) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("funnel step conditions must be a one-dimensional array")));
	if (ARR_ELEMTYPE(conds) != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("funnel step conditions must be boolean")));
	n = (ARR_NDIM(conds) == 0) ? 0 : ARR_DIMS(conds)[0];
	funnel_check_nsteps(n);
	vals = (bool *) ARR_DATA_PTR(conds);
	nulls = ARR_NULLBITMAP(conds);
	if (nulls == NULL)
	{
		for (i = 0; i < n; i++)
			if (vals[i])
				steps |= (uint64) 1 << i;
	}
	else
	{
		/* the data area holds only the non-null elements */
		int			j = 0;

		for (i = 0; i < n; i++)
		{
			if (nulls[i / 8] & (1 << (i % 8)))
			{
				if (vals[j])
					steps |= (uint64) 1 << i;
				j++;
			}
		}
	}
	*nsteps = n;
	return steps;
}

/* ---------- I/O ---------- */

/*
 * The time part of funnel_event text; a bad one is reported as 22P02.  It
 * is parsed as timestamptz_in does, through the return codes of
 * ParseDateTime and DecodeDateTime: no error is caught, so an out of memory
 * or a cancel raised meanwhile stays what it is.
 */
static int64
parse_event_time(const char *str, const char *tsstr)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf,
				dtype,
				tz,
				dterr;
	struct pg_tm tt;
	fsec_t		fsec;
	TimestampTz result = 0;
	const char *problem = NULL;

	dterr = ParseDateTime(tsstr, workbuf, sizeof(workbuf), field, ftype,
						  MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz);
	if (dterr == DTERR_FIELD_OVERFLOW || dterr == DTERR_MD_FIELD_OVERFLOW)
		problem = "date/time field value out of range";
	else if (dterr == DTERR_TZDISP_OVERFLOW)
		problem = "time zone displacement out of range";
	else if (dterr != 0)
		problem = "invalid input syntax for type timestamp with time zone";
	else
	{
		switch (dtype)
		{
			case DTK_DATE:
				if (tm2timestamp(&tt, fsec, &tz, &result) != 0)
					problem = "timestamp out of range";
				break;
			case DTK_EPOCH:
				result = SetEpochTimestamp();
				break;
			case DTK_LATE:
				TIMESTAMP_NOEND(result);
				break;
			case DTK_EARLY:
				TIMESTAMP_NOBEGIN(result);
				break;
			default:
				problem = "invalid input syntax for type timestamp with time zone";
				break;
		}
	}
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
				 errdetail("The timestamp \"%s\" is not valid: %s.", tsstr, problem)));
	return result;
}


/*
 * funnel_event text input: a timestamptz literal followed by the set of
 * steps (1..64) in braces.
 */
PG_FUNCTION_INFO_V1(funnel_event_in);
Datum
funnel_event_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	char	   *brace = strchr(str, '{');
	char	   *p;
	char	   *tsstr;
	int64		ts;
	uint64		steps = 0;

	if (brace == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
				 errdetail("Missing the step set in braces after the timestamp, as in \"2024-03-01 09:30:00+00 {1,3}\".")));

	tsstr = pnstrdup(str, brace - str);
	for (p = tsstr; *p && isspace((unsigned char) *p); p++)
		;
	if (*p == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
				 errdetail("Missing the timestamp before the step set.")));
	ts = parse_event_time(str, tsstr);
	funnel_check_timestamp(ts);

	p = brace + 1;
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '}')
	{
		for (;;)
		{
			char	   *end;
			long		step;

			while (isspace((unsigned char) *p))
				p++;
			if (!isdigit((unsigned char) *p) && *p != '-' && *p != '+')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
						 errdetail("Expected a step number at \"%s\".", p)));
			errno = 0;
			step = strtol(p, &end, 10);
			if (end == p)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
						 errdetail("Expected a step number at \"%s\".", p)));
			/* out of range: name the step as written, not as strtol clamped it */
			if (errno == ERANGE || step < 1 || step > FUNNEL_MAX_STEPS)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("funnel step %.*s is out of range", (int) (end - p), p),
						 errdetail("Steps are numbered from 1 to %d.", FUNNEL_MAX_STEPS)));
			steps |= (uint64) 1 << (step - 1);
			p = end;
			while (isspace((unsigned char) *p))
				p++;
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == '}')
				break;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
					 errdetail("Expected \",\" or \"}\" at \"%s\".", *p ? p : "end of input")));
		}
	}
	p++;
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type funnel_event: \"%s\"", str),
				 errdetail("Unexpected \"%s\" after the step set.", p)));
	PG_RETURN_POINTER(make_event(ts, steps));
}

/* The time as ISO 8601 at UTC, whatever DateStyle and TimeZone say. */
static void
append_utc_timestamp(StringInfo buf, int64 ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		tsbuf[MAXDATELEN + 1];

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_isdst = 0;			/* print the +00 offset */
	EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, tsbuf);
	appendStringInfoString(buf, tsbuf);
}

static void
append_steps(StringInfo buf, uint64 steps)
{
	bool		first = true;

	appendStringInfoChar(buf, '{');
	while (steps)
	{
		appendStringInfo(buf, first ? "%d" : ",%d", pg_rightmost_one_pos64(steps) + 1);
		first = false;
		steps &= steps - 1;
	}
	appendStringInfoChar(buf, '}');
}

/* An event's text form (the journey type's output writes it too). */
void
funnel_event_append_text(StringInfo buf, const FunnelEvent *ev)
{
	append_utc_timestamp(buf, ev->ts);
	appendStringInfoChar(buf, ' ');
	append_steps(buf, ev->steps);
}

/* funnel_event text output: the time in ISO 8601 at UTC and the step set. */
PG_FUNCTION_INFO_V1(funnel_event_out);
Datum
funnel_event_out(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	funnel_event_append_text(&buf, PG_GETARG_FUNNEL_EVENT_P(0));
	PG_RETURN_CSTRING(buf.data);
}

/* funnel_event binary input: time (int64 microseconds, finite) and step mask. */
PG_FUNCTION_INFO_V1(funnel_event_recv);
Datum
funnel_event_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		ts = pq_getmsgint64(buf);
	uint64		steps = (uint64) pq_getmsgint64(buf);

	if (TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid funnel_event: timestamp %lld is infinite or out of range",
						(long long) ts)));
	PG_RETURN_POINTER(make_event(ts, steps));
}

/* funnel_event binary output: time (int64 microseconds) and step mask. */
PG_FUNCTION_INFO_V1(funnel_event_send);
Datum
funnel_event_send(PG_FUNCTION_ARGS)
{
	FunnelEvent *ev = PG_GETARG_FUNNEL_EVENT_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, ev->ts);
	pq_sendint64(&buf, (int64) ev->steps);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- constructors and accessors ---------- */

/* funnel_event(ts, step): an event at ts matching the one step (1..64). */
PG_FUNCTION_INFO_V1(funnel_event_from_step);
Datum
funnel_event_from_step(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	int32		step = PG_GETARG_INT32(1);

	funnel_check_timestamp(ts);
	check_step(step);
	PG_RETURN_POINTER(make_event(ts, (uint64) 1 << (step - 1)));
}

/*
 * funnel_event(ts, VARIADIC steps boolean[]): an event at ts matching step
 * k when the k-th condition is true.
 */
PG_FUNCTION_INFO_V1(funnel_event_from_conditions);
Datum
funnel_event_from_conditions(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	ArrayType  *conds = PG_GETARG_ARRAYTYPE_P(1);
	int			n;
	uint64		steps;

	funnel_check_timestamp(ts);
	steps = funnel_steps_from_bools(conds, &n);
	PG_RETURN_POINTER(make_event(ts, steps));
}

/* event_time(funnel_event): the event's time. */
PG_FUNCTION_INFO_V1(funnel_event_time);
Datum
funnel_event_time(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(PG_GETARG_FUNNEL_EVENT_P(0)->ts);
}

/* event_steps(funnel_event): the steps the event matches, ascending. */
PG_FUNCTION_INFO_V1(funnel_event_steps);
Datum
funnel_event_steps(PG_FUNCTION_ARGS)
{
	uint64		steps = PG_GETARG_FUNNEL_EVENT_P(0)->steps;
	Datum		elems[FUNNEL_MAX_STEPS];
	int			n = 0;

	while (steps)
	{
		elems[n++] = Int32GetDatum(pg_rightmost_one_pos64(steps) + 1);
		steps &= steps - 1;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, 4, true, TYPALIGN_INT));
}

/* ---------- comparison and hashing ---------- */

static inline int
event_cmp(const FunnelEvent *a, const FunnelEvent *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->steps != b->steps)
		return a->steps < b->steps ? -1 : 1;
	return 0;
}

/* The order of funnel_event_cmp, for C callers (journeys keep it). */
int
funnel_event_compare(const FunnelEvent *a, const FunnelEvent *b)
{
	return event_cmp(a, b);
}

/*
 * The six comparison operators of funnel_event (=, <>, <, <=, >, >=): by
 * time, then by step mask (unsigned), as funnel_event_cmp.
 */
#define EVENT_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = event_cmp(PG_GETARG_FUNNEL_EVENT_P(0), PG_GETARG_FUNNEL_EVENT_P(1)); \
	PG_RETURN_BOOL(expr); \
}

EVENT_CMP_FN(funnel_event_eq, c == 0)
EVENT_CMP_FN(funnel_event_ne, c != 0)
EVENT_CMP_FN(funnel_event_lt, c < 0)
EVENT_CMP_FN(funnel_event_le, c <= 0)
EVENT_CMP_FN(funnel_event_gt, c > 0)
EVENT_CMP_FN(funnel_event_ge, c >= 0)

/*
 * funnel_event_cmp: btree comparison, by time and then by step mask
 * (unsigned).
 */
PG_FUNCTION_INFO_V1(funnel_event_cmp);
Datum
funnel_event_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(event_cmp(PG_GETARG_FUNNEL_EVENT_P(0), PG_GETARG_FUNNEL_EVENT_P(1)));
}

/*
 * funnel_event_hash: hash of the time and step mask, for hash joins and
 * hash indexes.
 */
PG_FUNCTION_INFO_V1(funnel_event_hash);
Datum
funnel_event_hash(PG_FUNCTION_ARGS)
{
	FunnelEvent *ev = PG_GETARG_FUNNEL_EVENT_P(0);

	return hash_any((const unsigned char *) ev, sizeof(FunnelEvent));
}

/* funnel_event_hash_extended: seeded 64-bit hash of the time and step mask. */
PG_FUNCTION_INFO_V1(funnel_event_hash_extended);
Datum
funnel_event_hash_extended(PG_FUNCTION_ARGS)
{
	FunnelEvent *ev = PG_GETARG_FUNNEL_EVENT_P(0);

	return hash_any_extended((const unsigned char *) ev, sizeof(FunnelEvent),
							 PG_GETARG_INT64(1));
}

/*
 * The events of a funnel_event[] journey, NULL elements left out.  Without
 * NULLs the array's data is used in place (16-byte elements, no padding).
 */
FunnelEvent *
funnel_journey_events(ArrayType *journey, int *nevents)
{
	int			n;
	FunnelEvent *ev;
	bits8	   *nulls;
	int			i,
				j;

	if (ARR_NDIM(journey) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a funnel journey must be a one-dimensional array")));
	n = (ARR_NDIM(journey) == 0) ? 0 : ARR_DIMS(journey)[0];
	nulls = ARR_NULLBITMAP(journey);
	if (nulls == NULL)
	{
		*nevents = n;
		return (FunnelEvent *) ARR_DATA_PTR(journey);
	}
	ev = palloc(sizeof(FunnelEvent) * ((Size) n + 1));
	j = 0;
	for (i = 0; i < n; i++)
		if (nulls[i / 8] & (1 << (i % 8)))
		{
			memcpy(&ev[j], ARR_DATA_PTR(journey) + (Size) j * sizeof(FunnelEvent), sizeof(FunnelEvent));
			j++;
		}
	*nevents = j;
	return ev;
}
