/*
 * src/engine/entities.c
 *    The state of the whole-table funnel aggregates (funnel_stage_counts,
 *    funnel_conversion, funnel_summary): the funnel configuration and every
 *    entity's rows in the entity store (engine/entity_store.c), each row the
 *    16 bytes of a FunnelEvent.  The final functions walk every entity's
 *    events with the one walk (funnel_events_level), partition by partition.
 *
 * Memory: while rows are added, about 8 bytes per row for bigint and
 * integer entities (compact rows: the key, the time since the partition's
 * row before and the steps as varints; 29 at most), 32 plus the key, padded
 * to 8, for other types; past half of funnel.max_state_memory they go to a
 * temporary file.  Processing one partition takes about 36 bytes per row of
 * the partition (each row decoded once, then grouped) and 40 per entity of it.
 */
#include "postgres.h"

#include "engine/entities.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

EntityTable *
entity_table_create(FunctionCallInfo fcinfo, MemoryContext cxt,
					const FunnelConfig *cfg, Oid typid, Oid collation)
{
	EntityTable *t = MemoryContextAllocZero(cxt, sizeof(EntityTable));

	StaticAssertStmt(sizeof(FunnelEvent) == 16, "a stored row is a FunnelEvent");
	t->cfg = *cfg;
	t->store = estore_create(fcinfo, cxt, typid, collation, sizeof(uint64));
	return t;
}

/* Append b's rows to a (combine step of parallel aggregation). */
void
entity_table_merge(EntityTable *a, EntityTable *b)
{
	funnel_config_check_same(&a->cfg, &b->cfg);
	a->seen_steps |= b->seen_steps;
	estore_merge(a->store, b->store);
}

typedef struct EventsCall
{
	EntityEventsFn fn;
	void	   *arg;
} EventsCall;

static void
entity_events(Datum key, char *rows, int64 nrows, Size held, void *arg)
{
	EventsCall *c = (EventsCall *) arg;

	(void) key;
	if (nrows > PG_INT32_MAX)
		funnel_check_memory(MaxAllocHugeSize);
	c->fn((const FunnelEvent *) rows, (int) nrows, held, c->arg);
}

/*
 * Call fn for every entity's events, in no particular order.  Reads the
 * state only, so final functions can use it.
 */
void
entity_table_foreach(EntityTable *t, EntityEventsFn fn, void *arg)
{
	EventsCall	c;

	c.fn = fn;
	c.arg = arg;
	estore_foreach(t->store, entity_events, &c);
}

/* ---------- the transition shared by the whole-table aggregates ---------- */

/*
 * One row into the per-entity store: shared by every whole-table funnel
 * aggregate (want_elapsed also records each entity's time to every step).
 */
Datum
funnel_entities_add(FunctionCallInfo fcinfo, FunnelInputKind kind, int args,
					bool want_elapsed)
{
	EntityTable *t = FUNNEL_STATE_ARG(EntityTable, 0);
	FunnelInput *in = funnel_input_get(fcinfo, kind, args | FUNNEL_ARG_ENTITY);
	int64		ts;
	uint64		steps;
	bool		use = funnel_input_read(fcinfo, in, &ts, &steps);

	in->cfg.want_elapsed = want_elapsed;
	if (t == NULL)
	{
		MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_stage_counts");
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, in->arg_entity);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the data type of the entity argument")));
		funnel_check_elapsed(&in->cfg);
		t = entity_table_create(fcinfo, cxt, &in->cfg, typid, PG_GET_COLLATION());
		t->checked_input = in;
		t->checked_version = in->cfg_version;
	}
	else if (t->checked_input != in || t->checked_version != in->cfg_version)
	{
		/* compared again only when this call site read a new configuration */
		funnel_config_check_same(&t->cfg, &in->cfg);
		t->checked_input = in;
		t->checked_version = in->cfg_version;
	}

	/* NULL entities are ignored; so are rows no step can use */
	if (use && !PG_ARGISNULL(in->arg_entity) &&
		(steps != 0 || (t->cfg.mode & FUNNEL_STRICT_ORDER)))
	{
		t->seen_steps |= steps;
		estore_add(t->store, PG_GETARG_DATUM(in->arg_entity), ts, &steps);
	}
	PG_RETURN_POINTER(t);
}

/* ---------- serialisation ---------- */

/* Layout: the funnel configuration, the seen steps, then the store's rows. */
bytea *
entity_table_serialize(EntityTable *t)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	funnel_config_serialize(&t->cfg, &buf);
	pq_sendint64(&buf, (int64) t->seen_steps);
	estore_serialize(t->store, &buf);
	return pq_endtypsend(&buf);
}

EntityTable *
entity_table_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, bytea *data)
{
	StringInfoData buf;
	EntityTable *t = MemoryContextAllocZero(cxt, sizeof(EntityTable));

	funnel_state_reader(data, &buf);
	funnel_config_deserialize(&t->cfg, &buf);
	t->seen_steps = (uint64) pq_getmsgint64(&buf);
	t->store = estore_deserialize(fcinfo, cxt, &buf, sizeof(uint64), NULL, NULL);
	funnel_state_check_end(&buf);
	return t;
}
