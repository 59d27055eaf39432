/*
 * src/common/released_1_0.c
 *    C functions that only the released 1.0 install script still names.
 *
 * funnel--1.0.sql is frozen and created funnel_noop_sfunc/funnel_noop_final,
 * the support of a benchmark-only no-op aggregate; the 1.0--1.1 upgrade drops
 * them and bench/ now builds its own module.  CREATE FUNCTION checks that a C
 * symbol exists, so the library keeps both to let 1.0 be installed (and then
 * upgraded) with this library.  They count rows and nothing else.
 */
#include "postgres.h"

#include "common/agg_state.h"
#include "fmgr.h"

typedef struct NoopState
{
	int64		rows;
} NoopState;

/* Transition of the 1.0 no-op aggregate: counts its rows. */
PG_FUNCTION_INFO_V1(funnel_noop_sfunc);
Datum
funnel_noop_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_noop_sfunc");
	NoopState  *st;

	if (PG_ARGISNULL(0))
		st = (NoopState *) MemoryContextAllocZero(cxt, sizeof(NoopState));
	else
		st = (NoopState *) PG_GETARG_POINTER(0);
	st->rows++;
	PG_RETURN_POINTER(st);
}

/* Final function of the 1.0 no-op aggregate: the row count. */
PG_FUNCTION_INFO_V1(funnel_noop_final);
Datum
funnel_noop_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(((NoopState *) PG_GETARG_POINTER(0))->rows);
}
