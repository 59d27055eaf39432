/*
 * src/sequences/sequence_match.c
 *    sequence_match(pattern, ts, cond1, ...) and sequence_count(...):
 *    ClickHouse's sequenceMatch and sequenceCount as aggregates.  The state
 *    is the group's list of (time, conditions) for the rows that matched a
 *    condition; combine appends lists (parallel aggregation), the final
 *    functions sort it and run the pattern (sequence_pattern.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/agg_state.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "sequences/sequence_pattern.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

typedef struct SeqMatchState
{
	SeqEvent   *events;
	int64		nevents;
	int64		cap;
	Size		mem;			/* bytes counted against funnel.max_state_memory */
	int32		nconds;
	uint32		conds_met;		/* conditions some stored row matched */
	bool		sorted;
	int32		pattern_len;
	char	   *pattern;
	SeqPattern *parsed;			/* set by the first final call */
} SeqMatchState;

static SeqMatchState *
state_create(MemoryContext cxt, const char *pattern, int pattern_len, int nconds)
{
	SeqMatchState *st = MemoryContextAllocZero(cxt, sizeof(SeqMatchState));

	st->pattern = MemoryContextAlloc(cxt, pattern_len + 1);
	memcpy(st->pattern, pattern, pattern_len);
	st->pattern[pattern_len] = '\0';
	st->pattern_len = pattern_len;
	st->nconds = nconds;
	st->sorted = true;
	st->mem = sizeof(SeqMatchState) + pattern_len + 1;
	funnel_check_memory(st->mem);
	return st;
}

static void
check_nconds(int n)
{
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a sequence pattern needs at least one condition")));
	if (n > SEQ_MAX_CONDITIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a sequence pattern cannot have more than %d conditions", SEQ_MAX_CONDITIONS),
				 errdetail("%d conditions were given.", n)));
}

/* The conditions of one row as bits; a NULL condition is false. */
static uint32
conds_from_array(ArrayType *conds, int *n)
{
	bool	   *vals;
	bits8	   *nulls;
	uint32		bits = 0;
	int			i,
				j = 0;

	if (ARR_NDIM(conds) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("sequence conditions must be a one-dimensional array")));
	if (ARR_ELEMTYPE(conds) != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("sequence conditions must be boolean")));
	*n = (ARR_NDIM(conds) == 0) ? 0 : ARR_DIMS(conds)[0];
	check_nconds(*n);
	vals = (bool *) ARR_DATA_PTR(conds);
	nulls = ARR_NULLBITMAP(conds);
	for (i = 0; i < *n; i++)
	{
		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
			continue;
		if (vals[j++])
			bits |= (uint32) 1 << i;
	}
	return bits;
}

static void
append_event(MemoryContext cxt, SeqMatchState *st, int64 ts, uint32 conds)
{
	st->events = funnel_state_grow(cxt, st->events, &st->cap, st->nevents + 1,
								   sizeof(SeqEvent), &st->mem);
	/* rows usually come in time order: then the final sort is skipped */
	if (st->sorted && st->nevents > 0 &&
		(ts < st->events[st->nevents - 1].ts ||
		 (ts == st->events[st->nevents - 1].ts && conds < st->events[st->nevents - 1].conds)))
		st->sorted = false;
	st->events[st->nevents].ts = ts;
	st->events[st->nevents].conds = conds;
	st->nevents++;
	st->conds_met |= conds;
}

/*
 * Transition of sequence_match and sequence_count: (pattern text, ts
 * timestamptz, VARIADIC conds boolean[]).  A row with a NULL ts is left
 * out; a row that matches no condition is not stored (ClickHouse neither).
 */
PG_FUNCTION_INFO_V1(sequence_match_sfunc);
Datum
sequence_match_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_match_sfunc");
	SeqMatchState *st = FUNNEL_STATE_ARG(SeqMatchState, 0);
	text	   *pattern;
	uint32		conds;
	int			n;
	int64		ts;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence pattern must not be NULL")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence conditions must not be a NULL array")));
	pattern = PG_GETARG_TEXT_PP(1);
	conds = conds_from_array(PG_GETARG_ARRAYTYPE_P(3), &n);

	if (st == NULL)
		st = state_create(cxt, VARDATA_ANY(pattern), VARSIZE_ANY_EXHDR(pattern), n);
	else
	{
		if ((int32) VARSIZE_ANY_EXHDR(pattern) != st->pattern_len ||
			memcmp(VARDATA_ANY(pattern), st->pattern, st->pattern_len) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence pattern differs between rows of one group")));
		if (n != st->nconds)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence condition count differs between rows of one group (%d and %d)",
							st->nconds, n)));
	}

	if (PG_ARGISNULL(2) || conds == 0)
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(2);
	funnel_check_timestamp(ts);
	append_event(cxt, st, ts, conds);
	PG_RETURN_POINTER(st);
}

static void
check_same(const SeqMatchState *a, const SeqMatchState *b)
{
	if (a->pattern_len != b->pattern_len || memcmp(a->pattern, b->pattern, a->pattern_len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence pattern differs between rows of one group")));
	if (a->nconds != b->nconds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence condition count differs between rows of one group (%d and %d)",
						a->nconds, b->nconds)));
}

/* Combine: the second state's events appended to the first. */
PG_FUNCTION_INFO_V1(sequence_match_combine);
Datum
sequence_match_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_match_combine");
	SeqMatchState *a = FUNNEL_STATE_ARG(SeqMatchState, 0);
	SeqMatchState *b = FUNNEL_STATE_ARG(SeqMatchState, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = state_create(cxt, b->pattern, b->pattern_len, b->nconds);
	else
		check_same(a, b);
	if (b->nevents > 0)
	{
		a->events = funnel_state_grow(cxt, a->events, &a->cap, a->nevents + b->nevents,
									  sizeof(SeqEvent), &a->mem);
		if (!b->sorted ||
			(a->nevents > 0 && seq_events_cmp(&a->events[a->nevents - 1], &b->events[0]) > 0))
			a->sorted = false;
		memcpy(a->events + a->nevents, b->events, sizeof(SeqEvent) * b->nevents);
		a->nevents += b->nevents;
	}
	a->conds_met |= b->conds_met;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(sequence_match_serialize);
Datum
sequence_match_serialize(PG_FUNCTION_ARGS)
{
	SeqMatchState *st = (SeqMatchState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	funnel_agg_context(fcinfo, "sequence_match_serialize");
	/* in the order the final function sorts to: it then changes no byte */
	if (!st->sorted)
	{
		seq_events_sort(st->events, st->nevents);
		st->sorted = true;
	}
	pq_begintypsend(&buf);
	pq_sendint32(&buf, (uint32) st->pattern_len);
	pq_sendbytes(&buf, st->pattern, st->pattern_len);
	pq_sendint32(&buf, (uint32) st->nconds);
	pq_sendint32(&buf, st->conds_met);
	pq_sendint64(&buf, st->nevents);
	for (i = 0; i < st->nevents; i++)
	{
		pq_sendint64(&buf, st->events[i].ts);
		pq_sendint32(&buf, st->events[i].conds);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static uint32
read_u32(StringInfo buf)
{
	if (buf->len - buf->cursor < 4)
		funnel_invalid_state("The state ends early.");
	return pq_getmsgint(buf, 4);
}

static int64
read_i64(StringInfo buf)
{
	if (buf->len - buf->cursor < 8)
		funnel_invalid_state("The state ends early.");
	return pq_getmsgint64(buf);
}

/* Deserialisation: every length, count, time and condition set checked. */
PG_FUNCTION_INFO_V1(sequence_match_deserialize);
Datum
sequence_match_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_match_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	SeqMatchState *st;
	uint32		plen,
				nconds,
				met,
				mask;
	int64		n,
				i;
	const char *pattern;

	funnel_state_reader(b, &buf);
	plen = read_u32(&buf);
	if (plen > (uint32) (buf.len - buf.cursor))
		funnel_invalid_state("The pattern length does not match the state's length.");
	pattern = buf.data + buf.cursor;
	buf.cursor += plen;
	nconds = read_u32(&buf);
	if (nconds < 1 || nconds > SEQ_MAX_CONDITIONS)
		funnel_invalid_state("The condition count is out of range.");
	mask = nconds == 32 ? PG_UINT32_MAX : (((uint32) 1 << nconds) - 1);
	met = read_u32(&buf);
	if (met & ~mask)
		funnel_invalid_state("A condition number is out of range.");
	st = state_create(cxt, pattern, (int) plen, (int) nconds);
	n = read_i64(&buf);
	funnel_state_check_count(&buf, n, 12);
	st->events = funnel_state_grow(cxt, NULL, &st->cap, n, sizeof(SeqEvent), &st->mem);
	for (i = 0; i < n; i++)
	{
		int64		ts = read_i64(&buf);
		uint32		c = read_u32(&buf);

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
			funnel_invalid_state("An event time is out of range.");
		if (c == 0 || (c & ~met))
			funnel_invalid_state("An event's conditions are out of range.");
		st->events[i].ts = ts;
		st->events[i].conds = c;
	}
	st->nevents = n;
	st->conds_met = met;
	st->sorted = false;			/* sorted once, in the final function */
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/* The parsed pattern a final function keeps for the next group. */
typedef struct SeqParsedCache
{
	char	   *pattern;
	int32		len;
	int32		nconds;
	SeqPattern *parsed;
} SeqParsedCache;

/*
 * The state ready to match: pattern parsed (once per query), events
 * sorted.  Sorting in place leaves the set of events as
 * it was, so the final functions stay read-only in effect and work as
 * window functions.  NULL when the pattern names a condition no row met
 * (no match is possible: ClickHouse's shortcut, which also skips the
 * iteration limit).
 */
static SeqMatchState *
state_ready(FunctionCallInfo fcinfo, SeqMatchState *st)
{
	funnel_agg_context(fcinfo, "sequence_match_final");
	if (st->parsed == NULL)
	{
		/*
		 * Parsed once per query: the last pattern is kept with the final
		 * function (every group of a query nearly always has the same one).
		 */
		SeqParsedCache *cache = (SeqParsedCache *) fcinfo->flinfo->fn_extra;

		if (cache == NULL || cache->nconds != st->nconds || cache->len != st->pattern_len ||
			memcmp(cache->pattern, st->pattern, st->pattern_len) != 0)
		{
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
			SeqPattern *parsed = seq_pattern_parse(st->pattern, st->pattern_len, st->nconds);

			if (cache == NULL)
				cache = palloc0(sizeof(SeqParsedCache));
			else
				pfree(cache->pattern);
			cache->pattern = pnstrdup(st->pattern, st->pattern_len);
			cache->len = st->pattern_len;
			cache->nconds = st->nconds;
			cache->parsed = parsed;
			fcinfo->flinfo->fn_extra = cache;
			MemoryContextSwitchTo(old);
		}
		st->parsed = cache->parsed;
	}
	if ((st->parsed->conds_in_pattern & st->conds_met) != st->parsed->conds_in_pattern)
		return NULL;
	if (!st->sorted)
	{
		seq_events_sort(st->events, st->nevents);
		st->sorted = true;
	}
	return st;
}

/* sequence_match final: whether the events match the pattern. */
PG_FUNCTION_INFO_V1(sequence_match_final);
Datum
sequence_match_final(PG_FUNCTION_ARGS)
{
	SeqMatchState *st = FUNNEL_STATE_ARG(SeqMatchState, 0);

	if (st == NULL)
		PG_RETURN_NULL();
	st = state_ready(fcinfo, st);
	if (st == NULL)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(seq_pattern_match(st->parsed, st->events, st->nevents));
}

/* sequence_count final: the number of non-overlapping matches. */
PG_FUNCTION_INFO_V1(sequence_count_final);
Datum
sequence_count_final(PG_FUNCTION_ARGS)
{
	SeqMatchState *st = FUNNEL_STATE_ARG(SeqMatchState, 0);

	if (st == NULL)
		PG_RETURN_INT64(0);
	st = state_ready(fcinfo, st);
	if (st == NULL)
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(seq_pattern_count(st->parsed, st->events, st->nevents));
}
