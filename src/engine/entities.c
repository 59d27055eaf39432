/*
 * src/engine/entities.c
 *    The per-entity table behind the whole-table funnel aggregates
 *    (funnel_stage_counts, funnel_conversion, funnel_summary): a hash table
 *    from entity to its funnel track, built in one pass over the rows.
 *
 * Memory: each entity costs one hash entry (24 bytes, table kept at most
 * 90% full) and one track: 96 bytes + 8 per step (16 per step with
 * strict_increase, 24 with elapsed times), which holds the first ~40 bytes
 * of its event log (4-6 bytes per logged event in time order, the first
 * 10); a longer log moves to the heap.  Tracks and keys come from a bump
 * arena, so they carry no per-chunk overhead.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "engine/funnel.h"
#include "engine/entities.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#if defined(__GNUC__) || defined(__clang__)
#define prefetch(p) __builtin_prefetch(p)
#else
#define prefetch(p) ((void) 0)
#endif

/* log bytes inside each entity's track: about 7 events in time order */
#define ENTITY_INLINE_LOG 40

static inline uint32 entity_hash_key(EntityTable *t, Datum key);
static inline bool entity_equal(EntityTable *t, Datum a, Datum b);

#define SH_PREFIX entity
#define SH_ELEMENT_TYPE EntityEntry
#define SH_KEY_TYPE Datum
#define SH_KEY key
#define SH_HASH_KEY(tb, key) entity_hash_key((EntityTable *) (tb)->private_data, key)
#define SH_EQUAL(tb, a, b) entity_equal((EntityTable *) (tb)->private_data, a, b)
#define SH_SCOPE static inline
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) (a)->hash
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

static inline uint32
entity_hash_key(EntityTable *t, Datum key)
{
	switch (t->kind)
	{
		case ENTITY_INT8:
			return murmurhash32((uint32) DatumGetInt64(key) ^
								(uint32) ((uint64) DatumGetInt64(key) >> 32) * 0x9E3779B1u);
		case ENTITY_INT4:
			return murmurhash32((uint32) DatumGetInt32(key));
		default:
			return DatumGetUInt32(FunctionCall1Coll(t->hash_fn, t->collation, key));
	}
}

static inline bool
entity_equal(EntityTable *t, Datum a, Datum b)
{
	if (t->kind != ENTITY_GENERIC)
		return a == b;
	return DatumGetBool(FunctionCall2Coll(t->eq_fn, t->collation, a, b));
}

/* ---------- arena for tracks and keys ---------- */

static void *
arena_alloc(EntityTable *t, Size size)
{
	void	   *p;
	Size		align;

	size = MAXALIGN(size);
	/* tracks start on a cache line: 128 bytes touch 2 lines, not 3 */
	align = (size >= PG_CACHE_LINE_SIZE) ? PG_CACHE_LINE_SIZE - 1 : 0;
	if (size + align > t->arena_left)
	{
		Size		block = Max(size + align, t->arena_block);

		t->arena_cur = MemoryContextAllocHuge(t->cxt, block);
		t->arena_left = block;
		t->mem += block;
		funnel_check_memory(t->mem);
		/* grow blocks up to 1 MB: small groups stay small */
		if (t->arena_block < 1024 * 1024)
			t->arena_block *= 2;
	}
	if (align)
	{
		Size		pad = TYPEALIGN(PG_CACHE_LINE_SIZE, (uintptr_t) t->arena_cur) -
			(uintptr_t) t->arena_cur;

		t->arena_cur += pad;
		t->arena_left -= pad;
	}
	p = t->arena_cur;
	t->arena_cur += size;
	t->arena_left -= size;
	return p;
}

/* ---------- the table ---------- */

EntityTable *
entity_table_create(MemoryContext cxt, const FunnelConfig *cfg, Oid typid,
					Oid collation)
{
	EntityTable *t = MemoryContextAllocZero(cxt, sizeof(EntityTable));
	TypeCacheEntry *tce;

	t->cxt = cxt;
	t->cfg = *cfg;
	t->typid = typid;
	/* entities compare under the call's collation (e.g. for text) */
	if (!OidIsValid(collation) && type_is_collatable(typid))
		collation = DEFAULT_COLLATION_OID;
	t->collation = collation;
	t->arena_block = 1024;		/* doubles up to 1 MB: small groups stay small */
	get_typlenbyval(typid, &t->typlen, &t->typbyval);
	if (typid == INT8OID && t->typbyval)
		t->kind = ENTITY_INT8;
	else if (typid == INT4OID)
		t->kind = ENTITY_INT4;
	else
	{
		tce = lookup_type_cache(typid, TYPECACHE_HASH_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
		if (!OidIsValid(tce->hash_proc) || !OidIsValid(tce->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("funnel entity type %s has no default hash operator class",
							format_type_be(typid)),
					 errhint("Use an entity of a hashable type such as bigint, integer, text or uuid, "
							 "or cast it to one.")));
		t->kind = ENTITY_GENERIC;
		t->hash_fn = &tce->hash_proc_finfo;
		t->eq_fn = &tce->eq_opr_finfo;
	}
	t->track_size = funnel_track_size(cfg, ENTITY_INLINE_LOG);
	t->hash = entity_create(cxt, 16, t);
	t->mem = sizeof(EntityTable) + t->hash->size * sizeof(EntityEntry);
	return t;
}

static inline void
account_hash(EntityTable *t, uint64 old_size)
{
	if (t->hash->size != old_size)
	{
		t->mem += (t->hash->size - old_size) * sizeof(EntityEntry);
		funnel_check_memory(t->mem);
	}
}

/*
 * The track of an entity, created empty when the entity is new (*created
 * tells which, if not NULL).
 */
static FunnelTrack *
entity_track(EntityTable *t, Datum key, bool *created)
{
	EntityEntry *e;
	bool		found;
	uint64		old_size = t->hash->size;

	e = entity_insert(t->hash, key, &found);
	if (created)
		*created = !found;
	if (!found)
	{
		if (!t->typbyval)
		{
			Size		len = datumGetSize(key, false, t->typlen);
			void	   *copy = arena_alloc(t, len);

			memcpy(copy, DatumGetPointer(key), len);
			e->key = PointerGetDatum(copy);
		}
		e->track = arena_alloc(t, t->track_size);
		funnel_track_init(&t->cfg, e->track, ENTITY_INLINE_LOG);
		t->nentities++;
		account_hash(t, old_size);
	}
	return e->track;
}

FunnelTrack *
entity_table_track(EntityTable *t, Datum key)
{
	return entity_track(t, key, NULL);
}

static inline void
track_add(EntityTable *t, FunnelTrack *track, int64 ts, uint64 steps)
{
	Size		grown = funnel_track_add(&t->cfg, track, t->cxt, ts, steps);

	if (grown)
	{
		t->mem += grown;
		funnel_check_memory(t->mem);
	}
}

/*
 * Apply the batched rows: look every entity up first (prefetching its
 * track), then add the rows in order.  On time-ordered input nearly every
 * row is another entity, and each lookup is a cache miss; a batch overlaps
 * them.
 */
void
entity_table_flush(EntityTable *t)
{
	FunnelTrack *tracks[ENTITY_BATCH];
	int			i;

	for (i = 0; i < t->nbatch; i++)
	{
		EntityRow  *r = &t->batch[i];
		EntityEntry *e;
		bool		found;
		uint64		old_size = t->hash->size;

		e = entity_insert_hash(t->hash, r->key, r->hash, &found);
		if (!found)
		{
			e->track = arena_alloc(t, t->track_size);
			funnel_track_init(&t->cfg, e->track, ENTITY_INLINE_LOG);
			t->nentities++;
			account_hash(t, old_size);
		}
		tracks[i] = e->track;
		prefetch(tracks[i]);
		prefetch((char *) tracks[i] + t->track_size - 1);
	}
	/* a log on the heap is one more line: prefetch where the row goes */
	for (i = 0; i < t->nbatch; i++)
		if (tracks[i]->log_cap > tracks[i]->inline_cap)
			prefetch(tracks[i]->log + tracks[i]->log_len);
	for (i = 0; i < t->nbatch; i++)
		track_add(t, tracks[i], t->batch[i].ts, t->batch[i].steps);
	t->nbatch = 0;
}

void
entity_table_add(EntityTable *t, Datum key, int64 ts, uint64 steps)
{
	if (t->kind != ENTITY_GENERIC)
	{
		EntityRow  *r = &t->batch[t->nbatch++];

		r->key = key;
		r->hash = entity_hash_key(t, key);
		r->ts = ts;
		r->steps = steps;
		prefetch(&t->hash->data[r->hash & t->hash->sizemask]);
		if (t->nbatch == ENTITY_BATCH)
			entity_table_flush(t);
		return;
	}
	/*
	 * By-reference keys live only as long as their row: no batching.  A
	 * varlena key may be compressed, stored out of line, or an expanded
	 * object (array_append's result, say): hash, compare and keep its flat
	 * form, never the pointer.
	 */
	if (t->typlen == -1)
		key = PointerGetDatum(PG_DETOAST_DATUM_PACKED(key));
	track_add(t, entity_table_track(t, key), ts, steps);
}

/* Merge b's entities into a (combine step of parallel aggregation). */
void
entity_table_merge(EntityTable *a, const EntityTable *b)
{
	entity_iterator it;
	EntityEntry *e;
	int			i;

	funnel_config_check_same(&a->cfg, &b->cfg);
	if (a->typid != b->typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot merge funnel states of entity types %s and %s",
						format_type_be(a->typid), format_type_be(b->typid))));
	entity_table_flush(a);
	a->seen_steps |= b->seen_steps;
	entity_start_iterate(b->hash, &it);
	while ((e = entity_iterate(b->hash, &it)) != NULL)
	{
		bool		created;
		FunnelTrack *dst = entity_track(a, e->key, &created);

		CHECK_FOR_INTERRUPTS();
		/* an entity only b has (e.g. partitions by entity) is copied as is */
		if (created)
			a->mem += funnel_track_copy(&a->cfg, dst, e->track, a->cxt);
		else
			a->mem += funnel_track_merge(&a->cfg, dst, e->track, a->cxt);
		funnel_check_memory(a->mem);
	}
	/* rows b has not applied yet come after all of b's others */
	for (i = 0; i < b->nbatch; i++)
		entity_table_add(a, b->batch[i].key, b->batch[i].ts, b->batch[i].steps);
}

/*
 * Call fn for every entity's track, in no particular order, with the bytes
 * the table and those copies hold (for fn to count what it allocates on
 * top, against funnel.max_state_memory).  Reads the table only: rows still
 * in the batch are applied to copies of the tracks they touch, so final
 * functions can use this.
 */
void
entity_table_foreach(EntityTable *t,
					 void (*fn) (const FunnelTrack *track, Size held, void *arg),
					 void *arg)
{
	Size		held = t->mem;
	entity_iterator it;
	EntityEntry *e;
	uint64		n = 0;
	const FunnelTrack *orig[ENTITY_BATCH];
	FunnelTrack *copy[ENTITY_BATCH];
	Datum		keys[ENTITY_BATCH];
	int			ncopies = 0;
	int			i,
				j;

	for (i = 0; i < t->nbatch; i++)
	{
		EntityRow  *r = &t->batch[i];
		EntityEntry *found = entity_lookup_hash(t->hash, r->key, r->hash);
		const FunnelTrack *o = found ? found->track : NULL;

		for (j = 0; j < ncopies; j++)
			if (o ? orig[j] == o : (orig[j] == NULL && keys[j] == r->key))
				break;
		if (j == ncopies)
		{
			copy[j] = palloc(t->track_size);
			funnel_track_init(&t->cfg, copy[j], ENTITY_INLINE_LOG);
			held += t->track_size;
			if (o)
				held += funnel_track_copy(&t->cfg, copy[j], o, CurrentMemoryContext);
			funnel_check_memory(held);
			orig[j] = o;
			keys[j] = r->key;
			ncopies++;
		}
		held += funnel_track_add(&t->cfg, copy[j], CurrentMemoryContext, r->ts, r->steps);
	}
	funnel_check_memory(held);

	entity_start_iterate(t->hash, &it);
	while ((e = entity_iterate(t->hash, &it)) != NULL)
	{
		const FunnelTrack *track = e->track;

		if ((++n & 0x3FF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (j = 0; j < ncopies; j++)
			if (orig[j] == track)
			{
				track = copy[j];
				break;
			}
		fn(track, held, arg);
	}
	for (j = 0; j < ncopies; j++)
	{
		if (orig[j] == NULL)
			fn(copy[j], held, arg);	/* entities only the batch has */
	}
}

/* ---------- the transition shared by the whole-table aggregates ---------- */

/*
 * One row into a per-entity table: shared by every whole-table funnel
 * aggregate (want_elapsed also records each entity's time to every step).
 */
Datum
funnel_entities_add(FunctionCallInfo fcinfo, FunnelInputKind kind, int args,
					bool want_elapsed)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_stage_counts");
	EntityTable *t = FUNNEL_STATE_ARG(EntityTable, 0);
	FunnelInput *in = funnel_input_get(fcinfo, kind, args | FUNNEL_ARG_ENTITY);
	int64		ts;
	uint64		steps;
	bool		use = funnel_input_read(fcinfo, in, &ts, &steps);

	in->cfg.want_elapsed = want_elapsed;
	if (t == NULL)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, in->arg_entity);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the data type of the entity argument")));
		t = entity_table_create(cxt, &in->cfg, typid, PG_GET_COLLATION());
	}
	else
		funnel_config_check_same(&t->cfg, &in->cfg);

	/* NULL entities are ignored; so are rows no step can use */
	if (use && !PG_ARGISNULL(in->arg_entity) &&
		(steps != 0 || (t->cfg.mode & FUNNEL_STRICT_ORDER)))
	{
		t->seen_steps |= steps;
		entity_table_add(t, PG_GETARG_DATUM(in->arg_entity), ts, steps);
	}
	PG_RETURN_POINTER(t);
}

/* ---------- serialisation ---------- */

/*
 * Layout: the funnel configuration, entity type, seen steps, entity count,
 * then per entity its key (raw for integers, funnel_key_write otherwise)
 * and its track log.
 */
bytea *
entity_table_serialize(EntityTable *t)
{
	StringInfoData buf;
	entity_iterator it;
	EntityEntry *e;
	entity_table_flush(t);		/* the partial state is complete: apply its batch */
	pq_begintypsend(&buf);
	funnel_config_serialize(&t->cfg, &buf);
	pq_sendint32(&buf, t->typid);
	pq_sendint32(&buf, t->collation);
	pq_sendint64(&buf, (int64) t->seen_steps);
	pq_sendint64(&buf, (int64) t->nentities);
	entity_start_iterate(t->hash, &it);
	while ((e = entity_iterate(t->hash, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (t->kind == ENTITY_INT8)
			pq_sendint64(&buf, DatumGetInt64(e->key));
		else if (t->kind == ENTITY_INT4)
			pq_sendint32(&buf, DatumGetInt32(e->key));
		else
			funnel_key_write(&buf, e->key, t->typlen, t->typbyval);
		funnel_track_serialize(e->track, &buf);
	}
	return pq_endtypsend(&buf);
}

EntityTable *
entity_table_deserialize(MemoryContext cxt, bytea *data)
{
	Oid			collation;
	StringInfoData buf;
	FunnelConfig cfg;
	Oid			typid;
	uint64		seen,
				n,
				i;
	EntityTable *t;

	funnel_state_reader(data, &buf);
	funnel_config_deserialize(&cfg, &buf);
	typid = pq_getmsgint(&buf, 4);
	collation = pq_getmsgint(&buf, 4);
	seen = (uint64) pq_getmsgint64(&buf);
	n = (uint64) pq_getmsgint64(&buf);
	if (!OidIsValid(typid) || get_typtype(typid) == '\0')
		funnel_invalid_state("The state names an entity type that does not exist.");
	if (OidIsValid(collation) && !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		funnel_invalid_state("The state names a collation that does not exist.");
	if (n > (uint64) (buf.len - buf.cursor))
		funnel_invalid_state("The entity count of the state does not match its length.");
	t = entity_table_create(cxt, &cfg, typid, collation);
	t->seen_steps = seen;
	for (i = 0; i < n; i++)
	{
		Datum		key;
		FunnelTrack *track;
		EntityEntry *e;
		bool		found;
		uint64		old_size = t->hash->size;

		CHECK_FOR_INTERRUPTS();
		if (t->kind == ENTITY_INT8)
			key = Int64GetDatum(pq_getmsgint64(&buf));
		else if (t->kind == ENTITY_INT4)
			key = Int32GetDatum((int32) pq_getmsgint(&buf, 4));
		else if (!funnel_key_read(&buf, t->typlen, t->typbyval, &key))
			funnel_invalid_state("An entity key of the state is longer than the data.");
		e = entity_insert(t->hash, key, &found);
		if (found)
			funnel_invalid_state("The state holds an entity twice.");
		if (!t->typbyval)
		{
			Size		len = datumGetSize(key, false, t->typlen);
			void	   *copy = arena_alloc(t, len);

			memcpy(copy, DatumGetPointer(key), len);
			pfree(DatumGetPointer(key));
			e->key = PointerGetDatum(copy);
		}
		track = arena_alloc(t, t->track_size);
		funnel_track_init(&cfg, track, ENTITY_INLINE_LOG);
		e->track = track;
		t->nentities++;
		account_hash(t, old_size);
		t->mem += funnel_track_deserialize(&cfg, track, &buf, cxt);
		funnel_check_memory(t->mem);
	}
	funnel_state_check_end(&buf);
	return t;
}
