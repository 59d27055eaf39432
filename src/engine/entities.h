/*
 * src/engine/entities.h
 *    Per-entity funnel tracks in one hash table (see engine/entities.c).
 */
#ifndef FUNNEL_ENTITIES_H
#define FUNNEL_ENTITIES_H

#include "engine/funnel.h"

typedef struct EntityEntry
{
	Datum		key;
	FunnelTrack *track;
	uint32		hash;
	char		status;
} EntityEntry;

typedef enum EntityKind
{
	ENTITY_INT8,				/* by-value keys compared as Datums */
	ENTITY_INT4,
	ENTITY_GENERIC				/* the type's default hash opclass */
} EntityKind;

struct entity_hash;

/* rows of by-value entities are applied in batches (see entity_table_flush) */
#define ENTITY_BATCH 64

typedef struct EntityRow
{
	Datum		key;
	uint32		hash;
	int64		ts;
	uint64		steps;
} EntityRow;

typedef struct EntityTable
{
	FunnelConfig cfg;
	MemoryContext cxt;
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	EntityKind	kind;
	FmgrInfo   *hash_fn;
	FmgrInfo   *eq_fn;
	struct entity_hash *hash;
	uint64		nentities;
	uint64		seen_steps;		/* union of all steps seen (funnel_event form) */
	Size		track_size;
	Size		mem;			/* bytes allocated, for funnel.max_state_memory */
	int			nbatch;
	EntityRow	batch[ENTITY_BATCH];
	char	   *arena_cur;
	Size		arena_left;
	Size		arena_block;
} EntityTable;

extern EntityTable *entity_table_create(MemoryContext cxt, const FunnelConfig *cfg,
										Oid typid, Oid collation);
extern FunnelTrack *entity_table_track(EntityTable *t, Datum key);
extern void entity_table_add(EntityTable *t, Datum key, int64 ts, uint64 steps);
extern void entity_table_flush(EntityTable *t);
extern void entity_table_merge(EntityTable *a, const EntityTable *b);
extern void entity_table_foreach(EntityTable *t,
								 void (*fn) (const FunnelTrack *track, Size held, void *arg),
								 void *arg);
extern Datum funnel_entities_add(FunctionCallInfo fcinfo, FunnelInputKind kind,
								 int args, bool want_elapsed);

/* The SQL-callable transition of a whole-table aggregate for one input form. */
#define ENTITIES_SFUNC(name, kind, args, want_elapsed) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	return funnel_entities_add(fcinfo, kind, args, want_elapsed); \
}
extern bytea *entity_table_serialize(EntityTable *t);
extern EntityTable *entity_table_deserialize(MemoryContext cxt, bytea *data);

#endif							/* FUNNEL_ENTITIES_H */
