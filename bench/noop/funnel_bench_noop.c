/*
 * bench/noop/funnel_bench_noop.c
 *    The benchmark's no-op aggregate: a transition that takes any arguments
 *    and only counts rows, so bench/run.sh can measure what PostgreSQL itself
 *    costs to hand a funnel aggregate's arguments to an aggregate.
 *
 * A module of its own, built and loaded only by bench/run.sh into its own
 * cluster: it is not part of the funnel extension (1.0 shipped the same two
 * functions; 1.1 drops them).
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

typedef struct NoopState
{
	int64		rows;
} NoopState;

/* Transition: counts its rows, ignores its arguments. */
PG_FUNCTION_INFO_V1(funnel_bench_noop_sfunc);
Datum
funnel_bench_noop_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	NoopState  *st;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "aggregate transition function called in non-aggregate context");
	if (PG_ARGISNULL(0))
		st = (NoopState *) MemoryContextAllocZero(cxt, sizeof(NoopState));
	else
		st = (NoopState *) PG_GETARG_POINTER(0);
	st->rows++;
	PG_RETURN_POINTER(st);
}

/* Final function: the row count (0 for no rows). */
PG_FUNCTION_INFO_V1(funnel_bench_noop_final);
Datum
funnel_bench_noop_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(((NoopState *) PG_GETARG_POINTER(0))->rows);
}
