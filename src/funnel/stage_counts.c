/*
 * src/funnel/stage_counts.c
 *    Whole-table funnel aggregates: funnel_stage_counts and funnel_conversion
 *    over raw rows (one pass, entities in a hash table, each walked by the
 *    funnel engine), the same from precomputed per-entity levels, and
 *    funnel_conversion(stage_counts bigint[]).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "engine/funnel.h"
#include "engine/entities.h"
#include "libpq/pqformat.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* ---------- over raw rows ---------- */

ENTITIES_SFUNC(funnel_entities_bools_sfunc, FUNNEL_INPUT_BOOLS, 0, false)
ENTITIES_SFUNC(funnel_entities_mode_bools_sfunc, FUNNEL_INPUT_BOOLS, FUNNEL_ARG_MODE, false)
ENTITIES_SFUNC(funnel_entities_event_sfunc, FUNNEL_INPUT_EVENT, 0, false)
ENTITIES_SFUNC(funnel_entities_mode_event_sfunc, FUNNEL_INPUT_EVENT, FUNNEL_ARG_MODE, false)
ENTITIES_SFUNC(funnel_entities_names_sfunc, FUNNEL_INPUT_NAMES, 0, false)
ENTITIES_SFUNC(funnel_entities_mode_names_sfunc, FUNNEL_INPUT_NAMES, FUNNEL_ARG_MODE, false)

/*
 * Combine function of the whole-table funnel aggregates: merges the second
 * per-entity table into the first (the funnel settings must agree).
 */
PG_FUNCTION_INFO_V1(funnel_entities_combine);
Datum
funnel_entities_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_entities_combine");
	EntityTable *a = FUNNEL_STATE_ARG(EntityTable, 0);
	EntityTable *b = FUNNEL_STATE_ARG(EntityTable, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = entity_table_create(fcinfo, cxt, &b->cfg, b->store->typid, b->store->collation);
	entity_table_merge(a, b);
	PG_RETURN_POINTER(a);
}

/* Serialisation of the per-entity table of the whole-table funnel aggregates. */
PG_FUNCTION_INFO_V1(funnel_entities_serialize);
Datum
funnel_entities_serialize(PG_FUNCTION_ARGS)
{
	funnel_agg_context(fcinfo, "funnel_entities_serialize");
	PG_RETURN_BYTEA_P(entity_table_serialize((EntityTable *) PG_GETARG_POINTER(0)));
}

/*
 * Deserialisation of the per-entity table of the whole-table funnel
 * aggregates; every field read is checked.
 */
PG_FUNCTION_INFO_V1(funnel_entities_deserialize);
Datum
funnel_entities_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_entities_deserialize");

	PG_RETURN_POINTER(entity_table_deserialize(fcinfo, cxt, PG_GETARG_BYTEA_PP(0)));
}

/* Number of steps reported: for funnel_event input, the highest step seen. */
static int
reported_steps(const EntityTable *t)
{
	return funnel_reported_steps(&t->cfg, t->seen_steps);
}

/* Only a deserialised state (hostile bytes) can hold counts this large. */
static void
level_count_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("funnel level count is out of range")));
}

/* counts[k-1] = entities whose level is at least k */
static void
stage_counts(EntityTable *t, int nsteps, int64 *counts)
{
	int64		at_level[FUNNEL_MAX_STEPS + 1];
	int			k;
	int64		acc = 0;

	entity_table_levels(t, at_level);
	for (k = FUNNEL_MAX_STEPS; k >= 1; k--)
	{
		if (pg_add_s64_overflow(acc, at_level[k], &acc))
			level_count_overflow();
		if (k <= nsteps)
			counts[k - 1] = acc;
	}
}

static Datum
counts_array(const int64 *counts, int n)
{
	Datum		elems[FUNNEL_MAX_STEPS];
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(counts[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Conversion from cumulative counts: element 1 is 1 when anyone entered
 * (NULL otherwise), element k is counts[k] / counts[k-1] (NULL for 0/0).
 */
static Datum
conversion_array(const int64 *counts, int n)
{
	Datum		elems[FUNNEL_MAX_STEPS];
	bool		nulls[FUNNEL_MAX_STEPS];
	int			dims[1];
	int			lbs[1] = {1};
	int			k;

	for (k = 0; k < n; k++)
	{
		int64		prev = (k == 0) ? counts[0] : counts[k - 1];

		nulls[k] = (prev == 0);
		elems[k] = Float8GetDatum(prev == 0 ? 0.0 : (double) counts[k] / (double) prev);
	}
	dims[0] = n;
	if (n == 0)
		return PointerGetDatum(construct_empty_array(FLOAT8OID));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, FLOAT8OID, 8,
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * funnel_stage_counts final function: walks every entity and counts the
 * entities that reached each step.  Final functions read the state only, so
 * they also work with OVER.
 */
PG_FUNCTION_INFO_V1(funnel_stage_counts_final);
Datum
funnel_stage_counts_final(PG_FUNCTION_ARGS)
{
	EntityTable *t;
	int64		counts[FUNNEL_MAX_STEPS];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (EntityTable *) PG_GETARG_POINTER(0);
	funnel_check_used_options(&t->cfg, 0);
	n = reported_steps(t);
	stage_counts(t, n, counts);
	return counts_array(counts, n);
}

/*
 * funnel_conversion final function: walks every entity and returns the
 * conversion from each stage to the next (element 1 is 1.0).
 */
PG_FUNCTION_INFO_V1(funnel_conversion_final);
Datum
funnel_conversion_final(PG_FUNCTION_ARGS)
{
	EntityTable *t;
	int64		counts[FUNNEL_MAX_STEPS];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = (EntityTable *) PG_GETARG_POINTER(0);
	funnel_check_used_options(&t->cfg, 0);
	n = reported_steps(t);
	stage_counts(t, n, counts);
	return conversion_array(counts, n);
}

/* ---------- from per-entity levels ---------- */

typedef struct LevelCounts
{
	int32		nsteps;
	int64		at_level[FUNNEL_MAX_STEPS + 1];
} LevelCounts;

/*
 * funnel_stage_counts(level, steps) / funnel_conversion(level, steps)
 * transition: counts one entity at its level (0..steps).
 */
PG_FUNCTION_INFO_V1(funnel_levels_sfunc);
Datum
funnel_levels_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_stage_counts");
	LevelCounts *st = FUNNEL_STATE_ARG(LevelCounts, 0);
	int32		level,
				nsteps;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the number of funnel steps must not be NULL")));
	nsteps = PG_GETARG_INT32(2);
	funnel_check_nsteps(nsteps);
	if (st == NULL)
	{
		st = MemoryContextAllocZero(cxt, sizeof(LevelCounts));
		st->nsteps = nsteps;
	}
	else if (st->nsteps != nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel step count differs between rows of one group (%d and %d)",
						st->nsteps, nsteps)));
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);	/* a NULL level: entity not counted */
	level = PG_GETARG_INT32(1);
	if (level < 0 || level > nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("funnel level %d is out of range", level),
				 errdetail("A level of a %d-step funnel is 0 to %d.", nsteps, nsteps)));
	st->at_level[level]++;
	PG_RETURN_POINTER(st);
}

/*
 * Level histogram combine function: adds the second histogram to the first
 * (the number of steps must agree).
 */
PG_FUNCTION_INFO_V1(funnel_levels_combine);
Datum
funnel_levels_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_levels_combine");
	LevelCounts *a = FUNNEL_STATE_ARG(LevelCounts, 0);
	LevelCounts *b = FUNNEL_STATE_ARG(LevelCounts, 1);
	int			k;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
	{
		a = MemoryContextAllocZero(cxt, sizeof(LevelCounts));
		a->nsteps = b->nsteps;
	}
	else if (a->nsteps != b->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel step count differs between rows of one group (%d and %d)",
						a->nsteps, b->nsteps)));
	for (k = 0; k <= FUNNEL_MAX_STEPS; k++)
		if (pg_add_s64_overflow(a->at_level[k], b->at_level[k], &a->at_level[k]))
			level_count_overflow();
	PG_RETURN_POINTER(a);
}

/* Level histogram serialisation: the number of steps and the counts. */
PG_FUNCTION_INFO_V1(funnel_levels_serialize);
Datum
funnel_levels_serialize(PG_FUNCTION_ARGS)
{
	LevelCounts *st = (LevelCounts *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int			k;

	funnel_agg_context(fcinfo, "funnel_levels_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->nsteps);
	for (k = 0; k <= st->nsteps; k++)
		pq_sendint64(&buf, st->at_level[k]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Level histogram deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(funnel_levels_deserialize);
Datum
funnel_levels_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_levels_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	LevelCounts *st = MemoryContextAllocZero(cxt, sizeof(LevelCounts));
	int			k;

	funnel_state_reader(b, &buf);
	st->nsteps = pq_getmsgint(&buf, 4);
	if (st->nsteps < 1 || st->nsteps > FUNNEL_MAX_STEPS)
		funnel_invalid_state("The funnel level state's step count is out of range.");
	for (k = 0; k <= st->nsteps; k++)
	{
		st->at_level[k] = pq_getmsgint64(&buf);
		if (st->at_level[k] < 0)
			funnel_invalid_state("The funnel level state has a negative count.");
	}
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

static void
levels_to_counts(const LevelCounts *st, int64 *counts)
{
	int			k;
	int64		acc = 0;

	for (k = st->nsteps; k >= 1; k--)
	{
		if (pg_add_s64_overflow(acc, st->at_level[k], &acc))
			level_count_overflow();
		counts[k - 1] = acc;
	}
}

/*
 * funnel_stage_counts(level, steps) final function: element k counts the
 * entities at level >= k.
 */
PG_FUNCTION_INFO_V1(funnel_levels_counts_final);
Datum
funnel_levels_counts_final(PG_FUNCTION_ARGS)
{
	int64		counts[FUNNEL_MAX_STEPS];
	LevelCounts *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (LevelCounts *) PG_GETARG_POINTER(0);
	levels_to_counts(st, counts);
	return counts_array(counts, st->nsteps);
}

/*
 * funnel_conversion(level, steps) final function: conversion from each stage
 * to the next of the level histogram.
 */
PG_FUNCTION_INFO_V1(funnel_levels_conversion_final);
Datum
funnel_levels_conversion_final(PG_FUNCTION_ARGS)
{
	int64		counts[FUNNEL_MAX_STEPS];
	LevelCounts *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (LevelCounts *) PG_GETARG_POINTER(0);
	levels_to_counts(st, counts);
	return conversion_array(counts, st->nsteps);
}

/*
 * funnel_conversion(stage_counts bigint[]): the conversion from each stage
 * to the next of a stage-count array (element 1 is 1.0).
 */
PG_FUNCTION_INFO_V1(funnel_conversion_from_counts);
Datum
funnel_conversion_from_counts(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				k;
	int64		counts[FUNNEL_MAX_STEPS];

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("stage counts must be a one-dimensional array")));
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n > FUNNEL_MAX_STEPS)
		funnel_check_nsteps(n);
	for (k = 0; k < n; k++)
	{
		if (nulls[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("stage counts must not contain NULL")));
		counts[k] = DatumGetInt64(elems[k]);
		if (counts[k] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stage count %lld at step %d is negative", (long long) counts[k], k + 1)));
		if (k > 0 && counts[k] > counts[k - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stage counts must not increase: step %d has %lld, step %d has %lld",
							k, (long long) counts[k - 1], k + 1, (long long) counts[k]),
					 errhint("Element k counts the entities that reached step k or further.")));
	}
	return conversion_array(counts, n);
}

/* ---------- from per-entity levels, with a bigint[] state ---------- */

/*
 * Since 1.1 funnel_stage_counts(level, steps) and funnel_conversion(level,
 * steps) keep their level histogram in a bigint[]: element k + 1 counts the
 * entities at level k (0..steps).  Unlike internal, a concrete state type
 * lets Citus add the histograms of the workers on the coordinator (it
 * passes them as text), so the two-level query (levels grouped by the
 * distribution column, then counted) sends one histogram per shard and
 * group instead of one row per entity.  The functions above are the 1.0
 * aggregates' internal state; only funnel--1.0.sql still names them.
 *
 * A state can come from anywhere (a worker's text, a direct call): every
 * state read is checked.
 */

/* The number of steps of a level histogram; errors for a malformed one. */
static int
level_histogram_steps(ArrayType *a)
{
	const int64 *c;
	int			n,
				k;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID)
		funnel_invalid_state("A funnel level histogram is a one-dimensional bigint array without NULLs.");
	n = ARR_DIMS(a)[0];
	if (n < 2 || n > FUNNEL_MAX_STEPS + 1)
		funnel_invalid_state("A funnel level histogram has 2 to 65 elements (levels 0 to the number of steps).");
	c = (const int64 *) ARR_DATA_PTR(a);
	for (k = 0; k < n; k++)
		if (c[k] < 0)
			funnel_invalid_state("A funnel level histogram has a negative count.");
	return n - 1;
}

/*
 * The state to update: the first argument itself when called as an
 * aggregate (it lives in the aggregate's memory and nobody else sees it,
 * as in PostgreSQL's int8 avg transitions), a copy otherwise.
 */
static ArrayType *
level_histogram_writable(FunctionCallInfo fcinfo, int argno)
{
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

static ArrayType *
level_histogram_new(int nsteps)
{
	Datum		zeros[FUNNEL_MAX_STEPS + 1];
	int			k;

	for (k = 0; k <= nsteps; k++)
		zeros[k] = Int64GetDatum(0);
	return construct_array(zeros, nsteps + 1, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

static void
level_histogram_check_steps(int have, int nsteps)
{
	if (have != nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel step count differs between rows of one group (%d and %d)",
						have, nsteps)));
}

/*
 * Transition: counts one entity at its level (0..steps); a NULL level is
 * an entity not counted.  The histogram is made in the aggregate's memory
 * on the first row.
 */
PG_FUNCTION_INFO_V1(funnel_level_histogram_sfunc);
Datum
funnel_level_histogram_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ArrayType  *st;
	int64	   *c;
	int32		level,
				nsteps;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the number of funnel steps must not be NULL")));
	nsteps = PG_GETARG_INT32(2);
	funnel_check_nsteps(nsteps);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = NULL;

		if (AggCheckCallContext(fcinfo, &aggcxt))
			old = MemoryContextSwitchTo(aggcxt);
		st = level_histogram_new(nsteps);
		if (old != NULL)
			MemoryContextSwitchTo(old);
	}
	else
	{
		st = level_histogram_writable(fcinfo, 0);
		level_histogram_check_steps(level_histogram_steps(st), nsteps);
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(st);
	level = PG_GETARG_INT32(1);
	if (level < 0 || level > nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("funnel level %d is out of range", level),
				 errdetail("A level of a %d-step funnel is 0 to %d.", nsteps, nsteps)));
	c = (int64 *) ARR_DATA_PTR(st);
	if (pg_add_s64_overflow(c[level], 1, &c[level]))
		level_count_overflow();
	PG_RETURN_ARRAYTYPE_P(st);
}

/*
 * Combine: adds the second histogram to the first (the number of steps must
 * agree).  Strict: the executor keeps the non-NULL one of a NULL pair.
 */
PG_FUNCTION_INFO_V1(funnel_level_histogram_combine);
Datum
funnel_level_histogram_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = level_histogram_writable(fcinfo, 0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			n = level_histogram_steps(a);
	int64	   *ca = (int64 *) ARR_DATA_PTR(a);
	const int64 *cb;
	int			k;

	level_histogram_check_steps(n, level_histogram_steps(b));
	cb = (const int64 *) ARR_DATA_PTR(b);
	for (k = 0; k <= n; k++)
		if (pg_add_s64_overflow(ca[k], cb[k], &ca[k]))
			level_count_overflow();
	PG_RETURN_ARRAYTYPE_P(a);
}

/* Cumulative counts of a checked histogram: counts[k - 1] = entities at level >= k. */
static int
level_histogram_counts(ArrayType *st, int64 *counts)
{
	int			n = level_histogram_steps(st);
	const int64 *c = (const int64 *) ARR_DATA_PTR(st);
	int64		acc = 0;
	int			k;

	for (k = n; k >= 1; k--)
	{
		if (pg_add_s64_overflow(acc, c[k], &acc))
			level_count_overflow();
		counts[k - 1] = acc;
	}
	return n;
}

/* funnel_stage_counts(level, steps) final function (reads the state only). */
PG_FUNCTION_INFO_V1(funnel_level_histogram_stage_counts);
Datum
funnel_level_histogram_stage_counts(PG_FUNCTION_ARGS)
{
	int64		counts[FUNNEL_MAX_STEPS];
	int			n = level_histogram_counts(PG_GETARG_ARRAYTYPE_P(0), counts);

	return counts_array(counts, n);
}

/* funnel_conversion(level, steps) final function (reads the state only). */
PG_FUNCTION_INFO_V1(funnel_level_histogram_conversion);
Datum
funnel_level_histogram_conversion(PG_FUNCTION_ARGS)
{
	int64		counts[FUNNEL_MAX_STEPS];
	int			n = level_histogram_counts(PG_GETARG_ARRAYTYPE_P(0), counts);

	return conversion_array(counts, n);
}
