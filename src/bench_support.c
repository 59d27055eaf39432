/*
 * bench_support.c
 *    Benchmark support only (bench/run.sh): a no-op aggregate transition
 *    that receives any arguments and only counts its rows.  It measures
 *    PostgreSQL's own cost of one pass that hands the same arguments to an
 *    aggregate (scan, expression evaluation, function call), the floor every
 *    funnel aggregate is compared with.  Not part of the funnel API.
 */
#include "postgres.h"

#include "fmgr.h"

typedef struct NoopState
{
	int64		rows;
} NoopState;

PG_FUNCTION_INFO_V1(funnel_noop_sfunc);
Datum
funnel_noop_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	NoopState  *st;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel_noop_sfunc called in non-aggregate context")));
	if (PG_ARGISNULL(0))
		st = (NoopState *) MemoryContextAllocZero(cxt, sizeof(NoopState));
	else
		st = (NoopState *) PG_GETARG_POINTER(0);
	st->rows++;
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(funnel_noop_final);
Datum
funnel_noop_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(((NoopState *) PG_GETARG_POINTER(0))->rows);
}
