/*
 * src/common/agg_state.c
 *    What every aggregate with an internal state shares: its memory context,
 *    combine functions' NULL states, the one memory cap, and checked reading
 *    of serialised states (they come from outside: every length, count and
 *    value is checked before use, with one error for all of them).
 */
#include "postgres.h"

#include "common/agg_state.h"
#include "common/module.h"
#include "libpq/pqformat.h"
#include "utils/memutils.h"

/* The aggregate's memory context; an error when not called as an aggregate. */
MemoryContext
funnel_agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return cxt;
}

/*
 * The result of a combine function whose second state is NULL: the first
 * state as it is, NULL when it is NULL too.
 */
Datum
funnel_combine_keep_first(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/*
 * funnel.max_state_memory: every aggregate whose state grows with its input
 * counts the bytes it allocates and calls this after each growth.
 */
void
funnel_check_state_memory(Size bytes)
{
	if (bytes / 1024 > (Size) funnel_max_state_memory_kb)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate state exceeds funnel.max_state_memory"),
				 errdetail("The state of one group would use more than %d kB.",
						   funnel_max_state_memory_kb),
				 errhint("Raise funnel.max_state_memory, or aggregate fewer rows per group "
						 "(for example one month, or one hash partition of the entities, at a time).")));
}

/*
 * An array of elem-byte entries with room for at least need of them: grown
 * (doubling) in cxt when *cap is smaller, the growth added to *mem and
 * checked against funnel.max_state_memory.
 */
void *
funnel_state_grow(MemoryContext cxt, void *ptr, int64 *cap, int64 need,
				  Size elem, Size *mem)
{
	int64		newcap;

	if (need <= *cap)
		return ptr;
	newcap = Max(*cap * 2, Max(need, 4));
	if ((Size) newcap > MaxAllocHugeSize / elem)
		funnel_check_state_memory(MaxAllocHugeSize);
	*mem += (Size) (newcap - *cap) * elem;
	funnel_check_state_memory(*mem);
	*cap = newcap;
	if (ptr == NULL)
		return MemoryContextAllocHuge(cxt, newcap * elem);
	return repalloc_huge(ptr, newcap * elem);
}

/* ---------- reading serialised states ---------- */

/* A corrupt serialised state: the one error of every deserialise function. */
void
funnel_invalid_state(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid aggregate state"),
			 errdetail_internal("%s", detail)));
}

/* A read-only StringInfo over the bytes of a serialised state. */
void
funnel_state_reader(bytea *data, StringInfo buf)
{
	buf->data = VARDATA_ANY(data);
	buf->len = VARSIZE_ANY_EXHDR(data);
	buf->maxlen = buf->len;
	buf->cursor = 0;
}

/* Every byte of the state must have been read. */
void
funnel_state_check_end(StringInfo buf)
{
	if (buf->cursor != buf->len)
		funnel_invalid_state("The state has trailing bytes.");
}

/*
 * A count of n items of at least min_bytes each must fit in what is left
 * (so that a corrupt count cannot make the reader allocate for it).
 */
void
funnel_state_check_count(StringInfo buf, int64 n, Size min_bytes)
{
	if (n < 0 || (uint64) n > (uint64) (buf->len - buf->cursor) / Max(min_bytes, 1))
		funnel_invalid_state("An item count of the state does not match its length.");
}

/* A value in its type's binary send format, with its length before it. */
void
funnel_state_send_value(StringInfo buf, FmgrInfo *send_fn, Datum value)
{
	bytea	   *b = SendFunctionCall(send_fn, value);

	pq_sendint32(buf, VARSIZE(b) - VARHDRSZ);
	pq_sendbytes(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
	pfree(b);
}

/* Reads what funnel_state_send_value wrote; the type's receive checks it. */
Datum
funnel_state_recv_value(StringInfo buf, FmgrInfo *recv_fn, Oid ioparam)
{
	int			len;
	StringInfoData vb;
	Datum		value;

	if (buf->len - buf->cursor < 4)
		funnel_invalid_state("The state ends inside a value's length.");
	len = pq_getmsgint(buf, 4);
	if (len < 0 || len > buf->len - buf->cursor)
		funnel_invalid_state("A value of the state is longer than the data.");
	/* receive functions want their own, NUL-terminated buffer */
	initStringInfo(&vb);
	appendBinaryStringInfo(&vb, pq_getmsgbytes(buf, len), len);
	value = ReceiveFunctionCall(recv_fn, &vb, ioparam, -1);
	if (vb.cursor != vb.len)
		funnel_invalid_state("A value of the state has trailing bytes.");
	pfree(vb.data);
	return value;
}

/* The rest of a binary message as a varlena (checked by the caller first). */
bytea *
funnel_recv_rest(StringInfo buf)
{
	int			len = buf->len - buf->cursor;
	bytea	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), buf->data + buf->cursor, len);
	buf->cursor = buf->len;
	return result;
}
