/*
 * src/sequences/sequence_next_node.c
 *    sequence_next_node(direction, base, ts, value, base_cond, event1, ...):
 *    ClickHouse's sequenceNextNode as an aggregate.  The state is the
 *    group's list of rows (time, value, event conditions, base condition);
 *    the final function sorts it by time and value (as ClickHouse does) and
 *    returns the value of the row after (forward) or before (backward) the
 *    chain event1, event2, ... that starts at the base row.
 *
 *    ClickHouse keeps rows of equal time and value in arrival order (a
 *    stable sort); a query has no arrival order, so such rows are ordered
 *    by their event conditions and then their base condition.  Values are
 *    compared byte by byte (collation "C"), as ClickHouse compares strings.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/agg_state.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define NEXT_NODE_MAX_EVENTS 64

typedef enum NodeDirection
{
	NODE_FORWARD,
	NODE_BACKWARD
} NodeDirection;

typedef enum NodeBase
{
	NODE_HEAD,
	NODE_TAIL,
	NODE_FIRST_MATCH,
	NODE_LAST_MATCH
} NodeBase;

static const char *const direction_names[] = {"forward", "backward"};
static const char *const base_names[] = {"head", "tail", "first_match", "last_match"};

typedef struct NodeRow
{
	int64		ts;
	uint64		events;			/* bit k-1: event condition k */
	int64		off;			/* value: bytes off .. off + len of the buffer */
	int32		len;
	bool		can_be_base;
} NodeRow;

typedef struct NextNodeState
{
	NodeDirection direction;
	NodeBase	base;
	int32		nevents;		/* event conditions, 0..64 */
	NodeRow    *rows;
	int64		nrows;
	int64		rows_cap;
	char	   *values;
	int64		values_len;
	int64		values_cap;
	Size		mem;
	bool		sorted;
} NextNodeState;

static NodeDirection
parse_direction(text *t)
{
	char	   *s = text_to_cstring(t);

	if (strcmp(s, "forward") == 0)
		return NODE_FORWARD;
	if (strcmp(s, "backward") == 0)
		return NODE_BACKWARD;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized sequence direction \"%s\"", s),
			 errhint("Use 'forward' or 'backward'.")));
	pg_unreachable();
}

static NodeBase
parse_base(text *t)
{
	char	   *s = text_to_cstring(t);
	int			i;

	for (i = 0; i < (int) lengthof(base_names); i++)
		if (strcmp(s, base_names[i]) == 0)
			return (NodeBase) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized sequence base \"%s\"", s),
			 errhint("Use 'head', 'tail', 'first_match' or 'last_match'.")));
	pg_unreachable();
}

/* ClickHouse's checks of the parameters and the event count. */
static void
check_config(NodeDirection dir, NodeBase base, int nevents)
{
	if ((base == NODE_HEAD && dir == NODE_BACKWARD) ||
		(base == NODE_TAIL && dir == NODE_FORWARD))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence base \"%s\" cannot be used with direction \"%s\"",
						base_names[base], direction_names[dir]),
				 errhint("Use 'head' with 'forward' and 'tail' with 'backward'; "
						 "'first_match' and 'last_match' go with either.")));
	if ((base == NODE_FIRST_MATCH || base == NODE_LAST_MATCH) && nevents < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence base \"%s\" needs at least one event condition", base_names[base])));
	if (nevents > NEXT_NODE_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a next-node search cannot have more than %d event conditions", NEXT_NODE_MAX_EVENTS),
				 errdetail("%d event conditions were given.", nevents)));
}

static int	node_row_cmp(const void *a, const void *b, void *arg);
static void sort_rows(NextNodeState *st);

static NextNodeState *
state_create(MemoryContext cxt, NodeDirection dir, NodeBase base, int nevents)
{
	NextNodeState *st = MemoryContextAllocZero(cxt, sizeof(NextNodeState));

	st->direction = dir;
	st->base = base;
	st->nevents = nevents;
	st->sorted = true;
	st->mem = sizeof(NextNodeState);
	return st;
}

static void
append_row(MemoryContext cxt, NextNodeState *st, int64 ts, uint64 events,
		   bool can_be_base, const char *value, int32 len)
{
	NodeRow    *r;

	st->rows = funnel_state_grow(cxt, st->rows, &st->rows_cap, st->nrows + 1,
								 sizeof(NodeRow), &st->mem);
	/* a byte at least: values is not NULL once there is a row, empty or not */
	st->values = funnel_state_grow(cxt, st->values, &st->values_cap,
								   Max(st->values_len + len, 1), 1, &st->mem);
	r = &st->rows[st->nrows];
	r->ts = ts;
	r->events = events;
	r->off = st->values_len;
	r->len = len;
	r->can_be_base = can_be_base;
	memcpy(st->values + st->values_len, value, len);
	st->values_len += len;
	/* rows usually come in time order: then the final sort is skipped */
	if (st->sorted && st->nrows > 0 &&
		(ts < r[-1].ts || (ts == r[-1].ts && node_row_cmp(&r[-1], r, st->values) > 0)))
		st->sorted = false;
	st->nrows++;
}

/* Event conditions as bits; a NULL condition is false. */
static uint64
events_from_array(ArrayType *a, int *n)
{
	bool	   *vals;
	bits8	   *nulls;
	uint64		bits = 0;
	int			i,
				j = 0;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("sequence conditions must be a one-dimensional array")));
	if (ARR_ELEMTYPE(a) != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("sequence conditions must be boolean")));
	*n = (ARR_NDIM(a) == 0) ? 0 : ARR_DIMS(a)[0];
	if (*n > NEXT_NODE_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a next-node search cannot have more than %d event conditions", NEXT_NODE_MAX_EVENTS),
				 errdetail("%d event conditions were given.", *n)));
	vals = (bool *) ARR_DATA_PTR(a);
	nulls = ARR_NULLBITMAP(a);
	for (i = 0; i < *n; i++)
	{
		if (nulls != NULL && !(nulls[i / 8] & (1 << (i % 8))))
			continue;
		if (vals[j++])
			bits |= (uint64) 1 << i;
	}
	return bits;
}

/*
 * Transition: (direction text, base text, ts timestamptz, value text,
 * base_cond boolean [, VARIADIC events boolean[]]).  Rows with a NULL ts or
 * value are left out (as ClickHouse leaves out NULL values).
 */
PG_FUNCTION_INFO_V1(sequence_next_node_sfunc);
Datum
sequence_next_node_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_next_node_sfunc");
	NextNodeState *st = FUNNEL_STATE_ARG(NextNodeState, 0);
	NodeDirection dir;
	NodeBase	base;
	uint64		events = 0;
	int			nevents = 0;
	text	   *value;
	int64		ts;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence direction must not be NULL")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sequence base must not be NULL")));
	if (PG_NARGS() > 6)
	{
		if (PG_ARGISNULL(6))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("sequence conditions must not be a NULL array")));
		events = events_from_array(PG_GETARG_ARRAYTYPE_P(6), &nevents);
	}

	if (st == NULL)
	{
		dir = parse_direction(PG_GETARG_TEXT_PP(1));
		base = parse_base(PG_GETARG_TEXT_PP(2));
		check_config(dir, base, nevents);
		st = state_create(cxt, dir, base, nevents);
	}
	else
	{
		text	   *d = PG_GETARG_TEXT_PP(1);
		text	   *b = PG_GETARG_TEXT_PP(2);
		const char *dn = direction_names[st->direction];
		const char *bn = base_names[st->base];

		if (VARSIZE_ANY_EXHDR(d) != strlen(dn) || memcmp(VARDATA_ANY(d), dn, strlen(dn)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence direction differs between rows of one group")));
		if (VARSIZE_ANY_EXHDR(b) != strlen(bn) || memcmp(VARDATA_ANY(b), bn, strlen(bn)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence base differs between rows of one group")));
		if (nevents != st->nevents)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sequence condition count differs between rows of one group (%d and %d)",
							st->nevents, nevents)));
	}

	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(3);
	funnel_check_timestamp(ts);
	value = PG_GETARG_TEXT_PP(4);
	append_row(cxt, st, ts, events, !PG_ARGISNULL(5) && PG_GETARG_BOOL(5),
			   VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(sequence_next_node_combine);
Datum
sequence_next_node_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_next_node_combine");
	NextNodeState *a = FUNNEL_STATE_ARG(NextNodeState, 0);
	NextNodeState *b = FUNNEL_STATE_ARG(NextNodeState, 1);
	int64		i;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = state_create(cxt, b->direction, b->base, b->nevents);
	else if (a->direction != b->direction || a->base != b->base || a->nevents != b->nevents)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sequence direction, base or condition count differs between rows of one group")));
	for (i = 0; i < b->nrows; i++)
	{
		const NodeRow *r = &b->rows[i];

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		append_row(cxt, a, r->ts, r->events, r->can_be_base, b->values + r->off, r->len);
	}
	PG_RETURN_POINTER(a);
}

/*
 * Rows in time and value order.  This reorders the rows, not what they
 * are: the final function stays read-only in effect (window functions,
 * shared states).
 */
static void
sort_rows(NextNodeState *st)
{
	if (!st->sorted)
	{
		qsort_arg(st->rows, st->nrows, sizeof(NodeRow), node_row_cmp, st->values);
		st->sorted = true;
	}
}

PG_FUNCTION_INFO_V1(sequence_next_node_serialize);
Datum
sequence_next_node_serialize(PG_FUNCTION_ARGS)
{
	NextNodeState *st = (NextNodeState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	funnel_agg_context(fcinfo, "sequence_next_node_serialize");
	/* in the order the final function sorts to: it then changes no byte */
	sort_rows(st);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (uint8) st->direction);
	pq_sendbyte(&buf, (uint8) st->base);
	pq_sendbyte(&buf, (uint8) st->nevents);
	pq_sendint64(&buf, st->nrows);
	for (i = 0; i < st->nrows; i++)
	{
		const NodeRow *r = &st->rows[i];

		pq_sendint64(&buf, r->ts);
		pq_sendint64(&buf, (int64) r->events);
		pq_sendbyte(&buf, r->can_be_base ? 1 : 0);
		pq_sendint32(&buf, r->len);
		pq_sendbytes(&buf, st->values + r->off, r->len);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static void
need(StringInfo buf, int n)
{
	if (buf->len - buf->cursor < n)
		funnel_invalid_state("The state ends early.");
}

PG_FUNCTION_INFO_V1(sequence_next_node_deserialize);
Datum
sequence_next_node_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "sequence_next_node_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	NextNodeState *st;
	int			dir,
				base,
				nevents;
	uint64		mask;
	int64		n,
				i;

	funnel_state_reader(b, &buf);
	need(&buf, 3 + 8);
	dir = pq_getmsgbyte(&buf);
	base = pq_getmsgbyte(&buf);
	nevents = pq_getmsgbyte(&buf);
	if (dir > NODE_BACKWARD || base > NODE_LAST_MATCH || nevents > NEXT_NODE_MAX_EVENTS)
		funnel_invalid_state("The direction, base or condition count is out of range.");
	mask = nevents == 64 ? PG_UINT64_MAX : (((uint64) 1 << nevents) - 1);
	st = state_create(cxt, (NodeDirection) dir, (NodeBase) base, nevents);
	n = pq_getmsgint64(&buf);
	funnel_state_check_count(&buf, n, 8 + 8 + 1 + 4);
	for (i = 0; i < n; i++)
	{
		int64		ts;
		uint64		events;
		int			can_be_base;
		int32		len;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		need(&buf, 8 + 8 + 1 + 4);
		ts = pq_getmsgint64(&buf);
		events = (uint64) pq_getmsgint64(&buf);
		can_be_base = pq_getmsgbyte(&buf);
		len = (int32) pq_getmsgint(&buf, 4);
		if (TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
			funnel_invalid_state("An event time is out of range.");
		if ((events & ~mask) != 0 || can_be_base > 1)
			funnel_invalid_state("An event's conditions are out of range.");
		if (len < 0 || len > buf.len - buf.cursor)
			funnel_invalid_state("A value length does not match the state's length.");
		append_row(cxt, st, ts, events, can_be_base == 1, buf.data + buf.cursor, len);
		buf.cursor += len;
	}
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

static int
node_row_cmp(const void *a, const void *b, void *arg)
{
	const NodeRow *x = a;
	const NodeRow *y = b;
	const char *values = arg;
	int			c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	c = memcmp(values + x->off, values + y->off, Min(x->len, y->len));
	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->events != y->events)
		return x->events < y->events ? -1 : 1;
	return (int) x->can_be_base - (int) y->can_be_base;
}

/* ClickHouse: getBaseIndex; -1 for none. */
static int64
base_index(const NextNodeState *st)
{
	int64		n = st->nrows;
	int64		i;

	switch (st->base)
	{
		case NODE_HEAD:
			return st->rows[0].can_be_base ? 0 : -1;
		case NODE_TAIL:
			return st->rows[n - 1].can_be_base ? n - 1 : -1;
		case NODE_FIRST_MATCH:
			for (i = 0; i < n; i++)
				if ((st->rows[i].events & 1) && st->rows[i].can_be_base)
					return i;
			return -1;
		case NODE_LAST_MATCH:
			for (i = n - 1; i >= 0; i--)
				if ((st->rows[i].events & 1) && st->rows[i].can_be_base)
					return i;
			return -1;
	}
	return -1;
}

/*
 * Final (ClickHouse: getNextNodeIndex): the value of the row nevents rows
 * after (forward) or before (backward) the base, when the rows from the
 * base on match event1, event2, ... in turn; NULL otherwise.
 */
PG_FUNCTION_INFO_V1(sequence_next_node_final);
Datum
sequence_next_node_final(PG_FUNCTION_ARGS)
{
	NextNodeState *st = FUNNEL_STATE_ARG(NextNodeState, 0);
	int64		base,
				idx,
				i;
	int			k = 0;

	if (st == NULL || st->nrows <= st->nevents)
		PG_RETURN_NULL();
	sort_rows(st);
	base = base_index(st);
	if (base < 0)
		PG_RETURN_NULL();

	if (st->nevents == 0)
		idx = base;
	else if (st->direction == NODE_FORWARD)
	{
		for (k = 0, i = base; k < st->nevents && i < st->nrows; k++, i++)
			if (!(st->rows[i].events & ((uint64) 1 << k)))
				break;
		if (k != st->nevents)
			PG_RETURN_NULL();
		idx = base + k;
	}
	else
	{
		for (k = 0; k < st->nevents && k < base; k++)
			if (!(st->rows[base - k].events & ((uint64) 1 << k)))
				break;
		if (k != st->nevents)
			PG_RETURN_NULL();
		idx = base - k;
	}
	if (idx < 0 || idx >= st->nrows)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(st->values + st->rows[idx].off,
											  st->rows[idx].len));
}
