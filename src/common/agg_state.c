/*
 * src/common/agg_state.c
 *    What every aggregate with an internal state shares: its memory context,
 *    combine functions' NULL states, the one memory cap, and checked reading
 *    of serialised states (they come from outside: every length, count and
 *    value is checked before use, with one error for all of them).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupmacs.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "common/agg_state.h"
#include "common/int.h"
#include "common/module.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

/*
 * The aggregate's memory context; an error when not called as an aggregate.
 * Support functions are shared between aggregates, so the error names the
 * function actually called (fname only when there is no flinfo).  Calling a
 * support function by hand is a misuse of internals: elog, as PostgreSQL's
 * own aggregates do.
 */
MemoryContext
funnel_agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
	{
		char	   *called = NULL;

		if (fcinfo->flinfo != NULL && OidIsValid(fcinfo->flinfo->fn_oid))
			called = get_func_name(fcinfo->flinfo->fn_oid);
		elog(ERROR, "%s called in non-aggregate context", called ? called : fname);
	}
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
funnel_check_memory(Size bytes)
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
		funnel_check_memory(MaxAllocHugeSize);
	*mem += (Size) (newcap - *cap) * elem;
	funnel_check_memory(*mem);
	*cap = newcap;
	if (ptr == NULL)
		return MemoryContextAllocHuge(cxt, newcap * elem);
	return repalloc_huge(ptr, newcap * elem);
}

/*
 * a + b, two counts of a state; what names them in the error.  Counts
 * gathered from rows cannot overflow; those of states deserialised from
 * hostile bytes can, when states are combined or their counts summed.
 */
int64
funnel_count_add(int64 a, int64 b, const char *what)
{
	int64		sum;

	if (pg_add_s64_overflow(a, b, &sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what)));
	return sum;
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

/*
 * Entity keys in the serialised state of a parallel aggregate: the value's
 * own bytes, as PostgreSQL copies a datum (datumCopy), not its binary send
 * format, which many hashable types (aclitem, say) lack.  A serialised
 * state only travels between the processes of one server, so native byte
 * order is right; the reader still checks every length.
 */
void
funnel_key_write(StringInfo buf, Datum key, int16 typlen, bool typbyval)
{
	if (typbyval)
	{
		Datum		bytes;		/* aligned for store_att_byval */

		store_att_byval(&bytes, key, typlen);
		appendBinaryStringInfo(buf, (char *) &bytes, typlen);
	}
	else if (typlen > 0)
		appendBinaryStringInfo(buf, DatumGetPointer(key), typlen);
	else if (typlen == -1)
	{
		/* a compressed or out-of-line value goes as its plain bytes */
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(key));

		pq_sendint32(buf, VARSIZE_ANY_EXHDR(v));
		appendBinaryStringInfo(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
		if ((Pointer) v != DatumGetPointer(key))
			pfree(v);
	}
	else
	{
		int			len = strlen(DatumGetCString(key)) + 1;

		pq_sendint32(buf, len);
		appendBinaryStringInfo(buf, DatumGetCString(key), len);
	}
}

/*
 * Read a key funnel_key_write wrote, into palloc'd memory (by-reference
 * types).  False when the bytes left cannot hold one.
 */
bool
funnel_key_read(StringInfo buf, int16 typlen, bool typbyval, Datum *key)
{
	int			left = buf->len - buf->cursor;
	char	   *copy;

	if (typlen > 0)
	{
		if (left < typlen)
			return false;
		if (typbyval)
		{
			Datum		bytes;		/* aligned for fetch_att */

			if (typlen > (int) sizeof(Datum))
				return false;
			memcpy(&bytes, buf->data + buf->cursor, typlen);
			*key = fetch_att(&bytes, true, typlen);
		}
		else
		{
			copy = palloc(typlen);
			memcpy(copy, buf->data + buf->cursor, typlen);
			*key = PointerGetDatum(copy);
		}
		buf->cursor += typlen;
		return true;
	}
	if (typlen != -1 && typlen != -2)
		return false;
	if (left < 4)
		return false;
	{
		int32		len = (int32) pq_getmsgint(buf, 4);

		if (len < 0 || len > buf->len - buf->cursor || len > (int32) (MaxAllocSize - VARHDRSZ))
			return false;
		if (typlen == -1)
		{
			copy = palloc(len + VARHDRSZ);
			SET_VARSIZE(copy, len + VARHDRSZ);
			memcpy(VARDATA(copy), buf->data + buf->cursor, len);
		}
		else
		{
			/* a cstring: its terminating NUL and no other */
			if (len == 0 || memchr(buf->data + buf->cursor, '\0', len) != buf->data + buf->cursor + len - 1)
				return false;
			copy = palloc(len);
			memcpy(copy, buf->data + buf->cursor, len);
		}
		buf->cursor += len;
		*key = PointerGetDatum(copy);
	}
	return true;
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

char *
funnel_c_symbol(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Datum		src,
				bin;
	bool		src_null,
				bin_null;
	char	   *result = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &src_null);
	bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &bin_null);
	if (!src_null && !bin_null && ((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
		result = psprintf("%s %s", TextDatumGetCString(src), TextDatumGetCString(bin));
	ReleaseSysCache(tup);
	return result;
}
