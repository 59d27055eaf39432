/*
 * src/common/expanded_acc.c
 *    The state of rollup(markov_transitions), rollup(pipeline_summary),
 *    rollup(cohort_counts) and the model fits' fit_stats.
 *
 * Citus merges the partial states of its workers only for a state type that
 * is not a pseudo-type, so these states are values of the concrete type.
 * While rows are added the state is an expanded object (utils/expandeddatum.h)
 * holding the type's mutable accumulator: the executor keeps a read-write
 * expanded state in place and flattens it only to pass it on, where a flat
 * state would be copied whole for every row.
 */
#include "postgres.h"

#include "common/expanded_acc.h"
#include "utils/memutils.h"

static Size
expanded_acc_flat_size(ExpandedObjectHeader *eohptr)
{
	ExpandedAcc *ea = (ExpandedAcc *) eohptr;

	if (ea->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(ea->hdr.eoh_context);

		ea->flat = ea->type->flatten(ea->acc);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(ea->flat);
}

static void
expanded_acc_flatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ExpandedAcc *ea = (ExpandedAcc *) eohptr;

	Assert(ea->flat != NULL && VARSIZE(ea->flat) == allocated_size);
	memcpy(result, ea->flat, allocated_size);
}

static const ExpandedObjectMethods expanded_acc_methods = {
	expanded_acc_flat_size,
	expanded_acc_flatten
};

/* d as our read-write expanded state of the type, or NULL if it is not one */
ExpandedAcc *
expanded_acc_of(Datum d, const ExpandedAccType *type)
{
	if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
	{
		ExpandedObjectHeader *eoh = DatumGetEOHP(d);

		if (eoh->eoh_methods == &expanded_acc_methods &&
			((ExpandedAcc *) eoh)->type == type)
			return (ExpandedAcc *) eoh;
	}
	return NULL;
}

/* A new expanded state in a context of its own under parent; acc not made */
ExpandedAcc *
expanded_acc_create(MemoryContext parent, const ExpandedAccType *type, Size context_size)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "funnel mergeable state", 0,
											  context_size, ALLOCSET_DEFAULT_MAXSIZE);
	ExpandedAcc *ea = MemoryContextAllocZero(cxt, sizeof(ExpandedAcc));

	MemoryContextSetIdentifier(cxt, type->name);

	EOH_init_header(&ea->hdr, &expanded_acc_methods, cxt);
	ea->type = type;
	return ea;
}

/* The accumulator is about to change: forget its flat form */
void
expanded_acc_changed(ExpandedAcc *ea)
{
	if (ea->flat != NULL)
	{
		pfree(ea->flat);
		ea->flat = NULL;
	}
}

/*
 * type_merge(a, b), the transition and combine function of rollup: a and b
 * hold disjoint sets of entities; a NULL one is left out.  Called as an
 * aggregate it adds b into the expanded state a (made from a flat a on the
 * first call: the first row, or a copy of a partial result); otherwise it
 * returns a new flat value.
 */
Datum
expanded_acc_merge(FunctionCallInfo fcinfo, const ExpandedAccType *type)
{
	MemoryContext aggcxt;
	ExpandedAcc *ea = NULL;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (!AggCheckCallContext(fcinfo, &aggcxt))
	{
		void	   *acc = type->create(CurrentMemoryContext);

		if (!PG_ARGISNULL(0))
			type->add(acc, CurrentMemoryContext, PG_GETARG_DATUM(0));
		type->add(acc, CurrentMemoryContext, PG_GETARG_DATUM(1));
		PG_RETURN_BYTEA_P(type->flatten(acc));
	}
	if (!PG_ARGISNULL(0))
		ea = expanded_acc_of(PG_GETARG_DATUM(0), type);
	if (ea == NULL)
	{
		ea = expanded_acc_create(aggcxt, type, ALLOCSET_SMALL_INITSIZE);
		ea->acc = type->create(ea->hdr.eoh_context);
		if (!PG_ARGISNULL(0))
			type->add(ea->acc, ea->hdr.eoh_context, PG_GETARG_DATUM(0));
	}
	expanded_acc_changed(ea);
	type->add(ea->acc, ea->hdr.eoh_context, PG_GETARG_DATUM(1));
	PG_RETURN_DATUM(EOHPGetRWDatum(&ea->hdr));
}
