/*
 * src/engine/entities.h
 *    The state of the whole-table funnel aggregates (see engine/entities.c):
 *    one funnel configuration and every entity's rows in the entity store.
 */
#ifndef FUNNEL_ENTITIES_H
#define FUNNEL_ENTITIES_H

#include "engine/entity_store.h"
#include "engine/funnel.h"

typedef struct EntityTable
{
	FunnelConfig cfg;
	uint64		seen_steps;		/* union of all steps seen (funnel_event form) */
	EntityStore *store;			/* rows: int64 ts, uint64 steps (a FunnelEvent) */
	/*
	 * Entities already walked, by level (has_levels): a partial aggregate
	 * that reads whole entities and whose finals need only the levels
	 * (walk_early) walks them when it serialises, where they are in cache,
	 * and sends these counts instead of the rows.
	 */
	bool		walk_early;
	bool		has_levels;
	int64		levels[FUNNEL_MAX_STEPS + 1];
	/* cfg was last found equal to this call site's input at this version */
	const FunnelInput *checked_input;
	uint64		checked_version;
} EntityTable;

/*
 * Called once per entity with its events in arrival order (the walk sorts
 * them) and the bytes the state and the walk hold, for fn to count what it
 * allocates on top against funnel.max_state_memory.
 */
typedef void (*EntityEventsFn) (const FunnelEvent *events, int nevents,
								Size held, void *arg);

extern EntityTable *entity_table_create(FunctionCallInfo fcinfo, MemoryContext cxt,
										const FunnelConfig *cfg, Oid typid,
										Oid collation);
extern void entity_table_merge(EntityTable *a, EntityTable *b);
extern void entity_table_foreach(EntityTable *t, EntityEventsFn fn, void *arg);
extern void entity_table_levels(EntityTable *t, int64 *at_level);
extern Datum funnel_entities_add(FunctionCallInfo fcinfo, FunnelInputKind kind,
								 int args, bool want_elapsed);
extern Datum funnel_entities_add_long(EntityTable *t, Datum key, int64 ts, uint64 steps);

/*
 * The transition of the whole-table aggregates: the row of a settled call
 * site whose state is checked, read and appended inline in each
 * aggregate's transition, its argument numbers constants, with no call on
 * the way that returns (no stack slot whose address is taken, no wrapper
 * call).  Every other row goes on to funnel_entities_add, which reads it
 * again from the start.
 */
static pg_attribute_always_inline Datum
funnel_entities_add_settled(FunctionCallInfo fcinfo, FunnelInputKind kind,
							int args, bool want_elapsed)
{
	FunnelInput *in = (FunnelInput *) fcinfo->flinfo->fn_extra;
	/* where funnel_input_setup finds them, as constants */
	int			arg_entity = funnel_arg_number(args | FUNNEL_ARG_ENTITY, FUNNEL_ARG_ENTITY);
	int			arg_input = funnel_arg_number(args | FUNNEL_ARG_ENTITY, FUNNEL_ARG_INPUT);
	EntityTable *t;
	int64		ts;
	uint64		steps;
	Datum		key;

	if (kind == FUNNEL_INPUT_EVENT || unlikely(in == NULL || PG_ARGISNULL(0)))
		return funnel_entities_add(fcinfo, kind, args, want_elapsed);
	t = (EntityTable *) PG_GETARG_POINTER(0);
	if (unlikely(t->checked_input != in || t->checked_version != in->cfg_version))
		return funnel_entities_add(fcinfo, kind, args, want_elapsed);
	switch (funnel_input_read_settled(fcinfo, in, arg_input, &ts, &steps))
	{
		case FUNNEL_READ_ROW:
			break;
		case FUNNEL_READ_IGNORE:
			PG_RETURN_POINTER(t);
		case FUNNEL_READ_WHOLE:
			return funnel_entities_add(fcinfo, kind, args, want_elapsed);
	}
	/* as in funnel_entities_add */
	if (PG_ARGISNULL(arg_entity) || (steps == 0 && !(t->cfg.mode & FUNNEL_STRICT_ORDER)))
		PG_RETURN_POINTER(t);
	t->seen_steps |= steps;
	key = PG_GETARG_DATUM(arg_entity);
	if (unlikely(!estore_try_add_steps(t->store, key, ts, steps)))
		return funnel_entities_add_long(t, key, ts, steps);
	PG_RETURN_POINTER(t);
}

/* The SQL-callable transition of a whole-table aggregate for one input form. */
#define ENTITIES_SFUNC(name, kind, args, want_elapsed) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	return funnel_entities_add_settled(fcinfo, kind, args, want_elapsed); \
}
extern bytea *entity_table_serialize(EntityTable *t);
extern EntityTable *entity_table_deserialize(FunctionCallInfo fcinfo,
											 MemoryContext cxt, bytea *data);

#endif							/* FUNNEL_ENTITIES_H */
