/*
 * src/engine/entities.c
 *    The state of the whole-table funnel aggregates (funnel_stage_counts,
 *    funnel_conversion, funnel_summary): the funnel configuration and every
 *    entity's rows in the entity store (engine/entity_store.c), each row the
 *    16 bytes of a FunnelEvent.  The final functions walk every entity's
 *    events with the one walk (funnel_events_level), partition by partition.
 *
 * Memory: while rows are added, about 6 bytes per row for bigint and
 * integer entities (compact rows: the key, the time since the partition's
 * row before and the steps as varints; 29 at most), 32 plus the key, padded
 * to 8, for other types; past half of funnel.max_state_memory they go to a
 * temporary file.  Processing one partition takes about 36 bytes per row of
 * the partition (each row decoded once, then grouped) and 40 per entity of it.
 */
#include "postgres.h"

#include "common/int.h"
#include "engine/entities.h"
#include "engine/funnel.h"
#include "engine/whole_entities.h"
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
	t->store = estore_create(fcinfo, cxt, typid, collation,
							 sizeof(uint64) | ESTORE_PAYLOAD_MASK);
	return t;
}

/* Only a deserialised state (hostile bytes) can hold counts this large. */
static void
add_levels(int64 *to, const int64 *from)
{
	int			k;

	for (k = 0; k <= FUNNEL_MAX_STEPS; k++)
		if (pg_add_s64_overflow(to[k], from[k], &to[k]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("funnel level count is out of range")));
}

/* Append b's rows to a (combine step of parallel aggregation). */
void
entity_table_merge(EntityTable *a, EntityTable *b)
{
	funnel_config_check_same(&a->cfg, &b->cfg);
	a->seen_steps |= b->seen_steps;
	if (b->has_levels)
		add_levels(a->levels, b->levels);
	a->has_levels |= b->has_levels;
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

static void
foreach_events(EntityTable *t, EntityEventsFn fn, void *arg)
{
	EventsCall	c;

	c.fn = fn;
	c.arg = arg;
	estore_foreach(t->store, entity_events, &c);
}

/*
 * Call fn for every entity's events, in no particular order.  Reads the
 * state only, so final functions can use it.  Only the level finals
 * (entity_table_levels) read entities walked early.
 */
void
entity_table_foreach(EntityTable *t, EntityEventsFn fn, void *arg)
{
	if (t->has_levels)
		funnel_invalid_state("The state holds entities already walked, which this aggregate cannot read.");
	foreach_events(t, fn, arg);
}

typedef struct LevelHistogram
{
	const FunnelConfig *cfg;
	int64		at_level[FUNNEL_MAX_STEPS + 1];
} LevelHistogram;

static void
count_level(const FunnelEvent *events, int nevents, Size held, void *arg)
{
	LevelHistogram *h = (LevelHistogram *) arg;

	h->at_level[funnel_events_level(h->cfg, events, nevents, held, NULL)]++;
}

/*
 * at_level[k] = entities whose level is k (0..FUNNEL_MAX_STEPS): those
 * walked early and those of the rows, walked now.  Reads the state only.
 */
void
entity_table_levels(EntityTable *t, int64 *at_level)
{
	LevelHistogram h;

	memset(&h, 0, sizeof(h));
	h.cfg = &t->cfg;
	if (t->has_levels)
		add_levels(h.at_level, t->levels);
	foreach_events(t, count_level, &h);
	memcpy(at_level, h.at_level, sizeof(h.at_level));
}

/* ---------- the transition shared by the whole-table aggregates ---------- */

/*
 * The finals that need no more than each entity's level: a state of theirs
 * over whole entities can be walked before the combine.
 */
static const char *const level_finals[] = {
	"funnel_stage_counts_final", "funnel_conversion_final", NULL
};

/*
 * The state of the first row (t NULL), or t checked against the
 * configuration this call site read last (a new one: compared again).
 */
static pg_noinline EntityTable *
entity_table_check(FunctionCallInfo fcinfo, EntityTable *t, FunnelInput *in)
{
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
		if (in->whole_entities == 0)
			in->whole_entities =
				(funnel_input_whole_entities(fcinfo, in->arg_entity - 1, PG_GET_COLLATION()) &&
				 funnel_agg_finals_among(fcinfo, level_finals)) ? 2 : 1;
		t->walk_early = (in->whole_entities == 2);
	}
	else
		funnel_config_check_same(&t->cfg, &in->cfg);
	t->checked_input = in;
	t->checked_version = in->cfg_version;
	return t;
}

/*
 * One row into the per-entity store: shared by every whole-table funnel
 * aggregate (want_elapsed also records each entity's time to every step).
 * The rows of a settled call site come through funnel_entities_add_settled
 * (entities.h) alone; this takes every row it does not.
 */
Datum
funnel_entities_add(FunctionCallInfo fcinfo, FunnelInputKind kind, int args,
					bool want_elapsed)
{
	EntityTable *t = FUNNEL_STATE_ARG(EntityTable, 0);
	FunnelInput *in = funnel_input_get(fcinfo, kind, args | FUNNEL_ARG_ENTITY);
	int64		ts = 0;
	uint64		steps = 0;
	bool		use = funnel_input_read(fcinfo, in, &ts, &steps);

	in->cfg.want_elapsed = want_elapsed;
	if (unlikely(t == NULL || t->checked_input != in ||
				 t->checked_version != in->cfg_version))
		t = entity_table_check(fcinfo, t, in);

	/* NULL entities are ignored; so are rows no step can use */
	if (use && !PG_ARGISNULL(in->arg_entity) &&
		(steps != 0 || (t->cfg.mode & FUNNEL_STRICT_ORDER)))
	{
		Datum		key = PG_GETARG_DATUM(in->arg_entity);

		t->seen_steps |= steps;
		if (!estore_try_add_steps(t->store, key, ts, steps))
			estore_add_steps_long(t->store, key, ts, steps);
	}
	PG_RETURN_POINTER(t);
}

/* A settled call site's row that the store's inline append did not take. */
Datum
funnel_entities_add_long(EntityTable *t, Datum key, int64 ts, uint64 steps)
{
	estore_add_steps_long(t->store, key, ts, steps);
	PG_RETURN_POINTER(t);
}

/* ---------- serialisation ---------- */

/*
 * Layout: the funnel configuration, the seen steps, a flag (1: the entities
 * walked early by level follow, FUNNEL_MAX_STEPS + 1 counts), then the
 * store's rows.  A state over whole entities whose finals need only levels
 * is walked here, where its rows are (serialisation ends a partial
 * aggregate's state), and sends no rows.
 */
bytea *
entity_table_serialize(EntityTable *t)
{
	StringInfoData buf;
	int			k;

	pq_begintypsend(&buf);
	funnel_config_serialize(&t->cfg, &buf);
	pq_sendint64(&buf, (int64) t->seen_steps);
	if (t->walk_early && t->store->nrows > 0)
	{
		int64		at_level[FUNNEL_MAX_STEPS + 1];
		EntityStore *none = estore_create(NULL, CurrentMemoryContext, t->store->typid,
										  t->store->collation, sizeof(uint64) | ESTORE_PAYLOAD_MASK);

		ereport(DEBUG1,
				(errmsg_internal("funnel: walked the entities of %llu rows in the partial aggregate that read them all",
								 (unsigned long long) t->store->nrows)));
		entity_table_levels(t, at_level);
		pq_sendbyte(&buf, 1);
		for (k = 0; k <= FUNNEL_MAX_STEPS; k++)
			pq_sendint64(&buf, at_level[k]);
		estore_serialize(none, &buf);
		/* the partial aggregate is done with the rows: their memory goes to the next one */
		estore_spent(t->store);
		t->walk_early = false;
		memcpy(t->levels, at_level, sizeof(at_level));
		t->has_levels = true;
		return pq_endtypsend(&buf);
	}
	pq_sendbyte(&buf, t->has_levels ? 1 : 0);
	if (t->has_levels)
		for (k = 0; k <= FUNNEL_MAX_STEPS; k++)
			pq_sendint64(&buf, t->levels[k]);
	estore_serialize(t->store, &buf);
	return pq_endtypsend(&buf);
}

EntityTable *
entity_table_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, bytea *data)
{
	StringInfoData buf;
	EntityTable *t = MemoryContextAllocZero(cxt, sizeof(EntityTable));
	int			flag;
	int			k;

	funnel_state_reader(data, &buf);
	funnel_config_deserialize(&t->cfg, &buf);
	t->seen_steps = (uint64) pq_getmsgint64(&buf);
	flag = pq_getmsgbyte(&buf);
	if (flag != 0 && flag != 1)
		funnel_invalid_state("The state has invalid flags.");
	t->has_levels = (flag == 1);
	for (k = 0; t->has_levels && k <= FUNNEL_MAX_STEPS; k++)
	{
		t->levels[k] = pq_getmsgint64(&buf);
		if (t->levels[k] < 0 || (k > t->cfg.nsteps && t->levels[k] != 0))
			funnel_invalid_state("A level count of the state is out of range.");
	}
	t->store = estore_deserialize(fcinfo, cxt, &buf, sizeof(uint64) | ESTORE_PAYLOAD_MASK,
								  NULL, NULL);
	funnel_state_check_end(&buf);
	return t;
}
