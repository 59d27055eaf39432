/*
 * src/journeys/journey_type.c
 *    The journey type: a canonical journey (doc/journeys.md) stored compactly,
 *    its times delta-coded and its step masks as varints, with text and
 *    binary I/O and the casts to and from funnel_event[].
 *
 * Layout (after the varlena header), version 1:
 *   uint8   version (1)
 *   uint8   unit of the time deltas: 0 microseconds, 1 milliseconds,
 *           2 seconds (the largest that divides every delta)
 *   varint  number of events n
 *   n > 0:  varint zigzag(time of the first event, microseconds)
 *           varint its step mask
 *           per further event: varint (time - previous time) / unit,
 *           varint step mask
 * The events are canonical: in time order, then by step mask (unsigned),
 * each distinct event once; so a delta of 0 comes with a greater mask.
 * The values are short (a journey of 8 events of whole seconds takes about
 * 30 bytes against 152 as funnel_event[]) and need no alignment, so a
 * stored one keeps its 1-byte header and is read in place.
 *
 * Every value read from outside (text or binary input) is checked to be
 * canonical and within range; a stored value, written by this file, is
 * decoded with bounds checks only.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/varint.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#define JOURNEY_VERSION 1
#define JOURNEY_HEADER 2		/* version and unit bytes */

static const int64 journey_units[] = {1, 1000, 1000000};

#define JOURNEY_NUNITS ((int) lengthof(journey_units))

/* the most events a journey holds: as many as a funnel_event[] can */
#define JOURNEY_MAX_EVENTS \
	((int64) Min((Size) MaxArraySize, (MaxAllocSize - ARR_OVERHEAD_NONULLS(1)) / sizeof(FunnelEvent)))

static void journey_too_long(int64 n) pg_attribute_noreturn();

static void
journey_too_long(int64 n)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("journey of %lld events is too long", (long long) n),
			 errdetail("A journey holds at most %lld events.", (long long) JOURNEY_MAX_EVENTS),
			 errhint("Trim the journey to a retention horizon with journey_trim.")));
}

/*
 * The journey value of n canonical events (the caller guarantees the
 * order: journey_build's callers sort and deduplicate first).
 */
struct varlena *
funnel_journey_encode(const FunnelEvent *ev, int64 n)
{
	int			unit;
	int64		i;
	Size		cap;
	struct varlena *result;
	char	   *start,
			   *p;

	if (n > JOURNEY_MAX_EVENTS)
		journey_too_long(n);
	/* the largest unit that divides every delta */
	for (unit = JOURNEY_NUNITS - 1; unit > 0; unit--)
	{
		for (i = 1; i < n; i++)
			if (((uint64) ev[i].ts - (uint64) ev[i - 1].ts) % journey_units[unit] != 0)
				break;
		if (i >= n)
			break;
	}
	cap = VARHDRSZ + JOURNEY_HEADER + FUNNEL_VARINT_MAX * (2 * (Size) n + 2);
	result = (struct varlena *) palloc_extended(cap, MCXT_ALLOC_HUGE);
	start = p = VARDATA(result);
	*p++ = JOURNEY_VERSION;
	*p++ = (char) unit;
	p = funnel_put_varint(p, (uint64) n);
	for (i = 0; i < n; i++)
	{
		if (i == 0)
			p = funnel_put_varint(p, funnel_zigzag(ev[0].ts));
		else
			p = funnel_put_varint(p, ((uint64) ev[i].ts - (uint64) ev[i - 1].ts) /
								  journey_units[unit]);
		p = funnel_put_varint(p, ev[i].steps);
	}
	if ((Size) (p - start) + VARHDRSZ > MaxAllocSize)
		journey_too_long(n);
	SET_VARSIZE(result, VARHDRSZ + (p - start));
	return result;
}

/* A stored journey that does not decode: only a corrupted page does this. */
static void journey_corrupt(void) pg_attribute_noreturn();

static void
journey_corrupt(void)
{
	elog(ERROR, "corrupt journey value");
}

/* The number of events of a journey, from its header. */
static int
journey_header(const struct varlena *journey, const char **pos, const char **end,
			   int *unit)
{
	const char *p = VARDATA_ANY(journey);
	uint64		n;

	*end = p + VARSIZE_ANY_EXHDR(journey);
	if (*end - p < JOURNEY_HEADER + 1 || p[0] != JOURNEY_VERSION ||
		(uint8) p[1] >= JOURNEY_NUNITS)
		journey_corrupt();
	*unit = (uint8) p[1];
	p = funnel_get_varint(p + JOURNEY_HEADER, *end, &n);
	if (p == NULL || n > (uint64) JOURNEY_MAX_EVENTS)
		journey_corrupt();
	*pos = p;
	return (int) n;
}

/*
 * The events of a journey (detoasted, possibly with a short header), in
 * its canonical order: into buf when they fit in its bufcap events (the
 * walks over a table of journeys pass one on the stack), else into a new
 * array.
 */
FunnelEvent *
funnel_journey_decode_into(const struct varlena *journey, int *nevents,
						   FunnelEvent *buf, int bufcap)
{
	const char *p,
			   *end;
	int			unit;
	int			n = journey_header(journey, &p, &end, &unit);
	uint64		mult = (uint64) journey_units[unit];
	FunnelEvent *ev = buf;
	uint64		ts = 0;
	int			i;

	if (n > bufcap)
		ev = palloc_extended(sizeof(FunnelEvent) * ((Size) n + 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		uint64		d,
					s;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		/* the usual case: one byte each (a delta under 128 units, steps 1..7) */
		if (p + 1 < end && !((p[0] | p[1]) & 0x80))
		{
			d = (uint8) p[0];
			s = (uint8) p[1];
			p += 2;
		}
		else
		{
			p = funnel_get_varint(p, end, &d);
			if (p)
				p = funnel_get_varint(p, end, &s);
			if (!p)
				journey_corrupt();
		}
		ts = (i == 0) ? (uint64) funnel_unzigzag(d) : ts + d * mult;
		ev[i].ts = (int64) ts;
		ev[i].steps = s;
	}
	if (p != end)
		journey_corrupt();
	*nevents = n;
	return ev;
}

/* The events of a journey, as funnel_journey_decode_into, in a new array. */
FunnelEvent *
funnel_journey_decode(const struct varlena *journey, int *nevents)
{
	return funnel_journey_decode_into(journey, nevents, NULL, -1);
}

/* The number of events of a journey, without decoding them. */
int
funnel_journey_length(const struct varlena *journey)
{
	const char *p,
			   *end;
	int			unit;

	return journey_header(journey, &p, &end, &unit);
}

/*
 * A journey from bytes read from outside (binary input): every field is
 * checked, the events must be canonical and their times finite and in
 * range.  The value is encoded again, so that a journey has one layout
 * whatever bytes spelled it (a longer varint, a smaller time unit).
 */
static struct varlena *
journey_from_untrusted(const char *data, int len)
{
	const char *p = data,
			   *end = data + len;
	uint64		n,
				d,
				s,
				prev_steps = 0;
	int64		ts = 0,
				mult;
	uint64		i;
	FunnelEvent *ev;

	if (len < JOURNEY_HEADER + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: %d bytes are too few", len)));
	if (p[0] != JOURNEY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: unrecognized format version %d", (uint8) p[0]),
				 errdetail("This version of the extension reads version %d.", JOURNEY_VERSION)));
	if ((uint8) p[1] >= JOURNEY_NUNITS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: unrecognized time unit %d", (uint8) p[1]),
				 errdetail("Units are 0 (microseconds), 1 (milliseconds) and 2 (seconds).")));
	mult = journey_units[(uint8) p[1]];
	p = funnel_get_varint(p + JOURNEY_HEADER, end, &n);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: the event count is cut short")));
	/* each event takes at least 2 bytes: a count the bytes cannot hold is a lie */
	if (n > (uint64) (end - p) / 2 || n > (uint64) JOURNEY_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: %llu events in %d bytes", (unsigned long long) n, len)));
	ev = palloc_extended(sizeof(FunnelEvent) * ((Size) n + 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		p = funnel_get_varint(p, end, &d);
		if (p)
			p = funnel_get_varint(p, end, &s);
		if (p == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid journey: event %llu of %llu is cut short",
							(unsigned long long) i + 1, (unsigned long long) n)));
		if (i == 0)
			ts = funnel_unzigzag(d);
		else
		{
			/* a delta that would pass the last valid time is out of range */
			if (d > ((uint64) END_TIMESTAMP - (uint64) ts) / (uint64) mult)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid journey: the time of event %llu is out of range",
								(unsigned long long) i + 1)));
			if (d == 0 && s <= prev_steps)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid journey: event %llu is not after event %llu",
								(unsigned long long) i + 1, (unsigned long long) i),
						 errdetail("A journey holds distinct events in time order, then in step mask order.")));
			ts = (int64) ((uint64) ts + d * (uint64) mult);
		}
		if (TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid journey: the time of event %llu is infinite or out of range",
							(unsigned long long) i + 1)));
		prev_steps = s;
		ev[i].ts = ts;
		ev[i].steps = s;
	}
	if (p != end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid journey: %d bytes after the last event", (int) (end - p))));
	return funnel_journey_encode(ev, (int64) n);
}

/*
 * The funnel_event type, found beside the journey type (its I/O functions
 * know only their own type); cached for the call site.
 */
static Oid
event_type_of(FunctionCallInfo fcinfo, Oid journey_type)
{
	Oid		   *cached = (Oid *) fcinfo->flinfo->fn_extra;
	HeapTuple	tup;
	Oid			nsp,
				event_type;

	if (cached)
		return *cached;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(journey_type));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", journey_type);
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	event_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								 CStringGetDatum("funnel_event"), ObjectIdGetDatum(nsp));
	if (!OidIsValid(event_type))
		elog(ERROR, "type funnel_event not found beside type journey");
	cached = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));
	*cached = event_type;
	fcinfo->flinfo->fn_extra = cached;
	return event_type;
}

/* The journey of the events of a funnel_event[]: sorted, distinct, no NULLs. */
static struct varlena *
journey_from_array(ArrayType *arr)
{
	int			n;
	FunnelEvent *ev = funnel_journey_events(arr, &n);
	FunnelEvent *copy;

	if (funnel_events_are_canonical(ev, n))
		return funnel_journey_encode(ev, n);
	copy = palloc_extended(sizeof(FunnelEvent) * ((Size) n + 1), MCXT_ALLOC_HUGE);
	memcpy(copy, ev, sizeof(FunnelEvent) * (Size) n);
	n = funnel_events_make_canonical(copy, n);
	return funnel_journey_encode(copy, n);
}

/*
 * journey text input: the text of a funnel_event[] ('{"2024-03-01 09:00+00
 * {1}", ...}'), in any order; the journey holds its distinct events.
 */
PG_FUNCTION_INFO_V1(journey_in);
Datum
journey_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Oid			event_type = event_type_of(fcinfo, PG_GETARG_OID(1));
	Datum		arr;

	arr = OidFunctionCall3(F_ARRAY_IN, CStringGetDatum(str),
						   ObjectIdGetDatum(event_type), Int32GetDatum(-1));
	PG_RETURN_POINTER(journey_from_array(DatumGetArrayTypeP(arr)));
}

/* journey text output: that of the funnel_event[] of its events. */
PG_FUNCTION_INFO_V1(journey_out);
Datum
journey_out(PG_FUNCTION_ARGS)
{
	struct varlena *journey = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	int			n,
				i;
	FunnelEvent *ev = funnel_journey_decode(journey, &n);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		appendStringInfoString(&buf, i == 0 ? "\"" : ",\"");
		funnel_event_append_text(&buf, &ev[i]);
		appendStringInfoChar(&buf, '"');
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_CSTRING(buf.data);
}

/* journey binary input: the stored layout, every field checked. */
PG_FUNCTION_INFO_V1(journey_recv);
Datum
journey_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	struct varlena *result = journey_from_untrusted(buf->data + buf->cursor, len);

	buf->cursor = buf->len;
	PG_RETURN_POINTER(result);
}

/* journey binary output: the stored layout. */
PG_FUNCTION_INFO_V1(journey_send);
Datum
journey_send(PG_FUNCTION_ARGS)
{
	struct varlena *journey = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(journey), VARSIZE_ANY_EXHDR(journey));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* journey(funnel_event[]): the cast; NULL elements and duplicates left out. */
PG_FUNCTION_INFO_V1(journey_from_events);
Datum
journey_from_events(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(journey_from_array(PG_GETARG_ARRAYTYPE_P(0)));
}

/* funnel_event[] of a journey: the cast back, in canonical order. */
PG_FUNCTION_INFO_V1(journey_to_events);
Datum
journey_to_events(PG_FUNCTION_ARGS)
{
	struct varlena *journey = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	Oid			elemtype = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	int			n;
	FunnelEvent *ev = funnel_journey_decode(journey, &n);

	if (!OidIsValid(elemtype))
		elog(ERROR, "journey_to_events: could not determine the result type");
	PG_RETURN_ARRAYTYPE_P(funnel_events_array(ev, n, elemtype));
}

/* event_count(journey): its number of events. */
PG_FUNCTION_INFO_V1(journey_event_count);
Datum
journey_event_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(funnel_journey_length(PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0))));
}
