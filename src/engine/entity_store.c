/*
 * src/engine/entity_store.c
 *    The one per-entity store of the whole-table aggregates.
 *
 * A transition appends its row to one of ESTORE_NPARTS partitions, chosen by
 * the top bits of the entity's hash: a sequential write to one of a few
 * hundred open buffers, with no lookup.  Nothing per entity exists until the
 * final function processes the store one partition at a time: it numbers
 * the partition's entities in a small hash table, groups their rows with a
 * counting sort (arrival order kept within an entity) and hands each entity
 * its rows.  A partition holds about 1/256 of the entities, so the hash
 * table and the grouped rows stay in the CPU caches, where one table of all
 * entities misses them on nearly every row of a time-ordered table.
 *
 * Memory: rows in memory, with what the store's owner holds beside them
 * (extra: e.g. the journey log's names and values), are counted against half
 * of funnel.max_state_memory (the other half is left for processing one
 * partition).  Past it, inside
 * an aggregate, every partition's rows in memory are appended to one
 * temporary file (BufFile: removed at the end of the query, on error and on
 * cancel by the resource owner; a shutdown callback closes it at the end of
 * the aggregation) and the final function reads each partition back.  The
 * answer never depends on the limit.  Where no shutdown callback can be
 * registered (the aggregate used as a window function) the rows stay in
 * memory and the limit is an error, as for every other state.
 *
 * Row layouts.  Bigint and integer entities (the fast path) take compact
 * rows, written byte by byte with no alignment.  Most rows are a control
 * byte and three little-endian fields of 0-4 bytes, then the payload's
 * other int32 words as varints of their zigzag:
 *   control | key >> 8 | zigzag(d) in its unit | steps | words
 * The key's low byte is not stored: with the partition, which is the low
 * byte plus a mix of the other bits (estore_key_part), it gives the key
 * back; in a store of one partition the key is whole.  d is the difference
 * from the time of the row before, in the coarsest unit that holds it
 * exactly (event times are often whole seconds or milliseconds, and a
 * difference in microseconds then takes 2-3 bytes more); steps are the
 * payload's first 8 bytes when they are a mask of steps
 * (ESTORE_PAYLOAD_MASK; 0-3 bytes).  The control byte: bits 0-1 the key's
 * bytes less one, bits 2-3 the difference's, bits 4-5 the unit (0
 * microseconds, 1 milliseconds, 2 seconds), bits 6-7 the steps' bytes; or
 * unit 3, a difference in seconds whose steps are one of the first four,
 * its number in bits 6-7 and no steps bytes (an event-name funnel's rows:
 * one step a row).  The fields are read whole and masked: no loop or branch
 * per byte, where a varint's bytes are read one after another.  A row with
 * a negative key, a key or difference past 32 bits or steps past 24 bits,
 * and the first row of a segment take the long form: the control byte
 * ROW_LONG, then varints of zigzag(key) (the whole key), of the time
 *   zigzag(d / 1000000) << 2 | 3, zigzag(d / 1000) << 3 | 5,
 *   zigzag(d) << 1, or 1 and the 8 bytes of the whole time,
 * of the steps and of the words.  A partition's rows of a time-ordered
 * table are about 4 bytes each (the control byte, 2 for the key of up to 16
 * million entities, 1-2 for the time, none for one step of four) instead
 * of 24.
 * Every segment starts with a whole time, so segments are moved,
 * concatenated, spilled and serialised as bytes, and read by one pass that
 * decodes and checks every row (bounds, key range, partition): a combine
 * and a deserialise look at no row.  Other keys keep
 * aligned rows, as their type's functions read the key in place:
 *   uint32 hash | uint32 keylen | int64 ts | payload | key bytes (a Datum for
 *   by-value types; a varlena flattened once) padded to 8
 * Rows are written and read back by the same server only, so native byte
 * order is right (but for the short form's fields: each is written as 4
 * bytes over the spare bytes of the one before, little-endian); a
 * serialised state lives only within one query (the partial states of a
 * parallel or partitionwise plan) and is never stored, so its format needs
 * no version, only the magic number that names it.
 *
 * A parallel worker's rows (64 kB and more) go to the leader through the
 * query's shared memory (the Gather's DSA area, as a parallel hash join's
 * table does), the state sent through the tuple queue saying where: the
 * queue's 64 kB ring costs two process wake-ups every few kB, about half
 * a second for 20 MB of rows on 2 cores.  The leader reads them in place:
 * its combine takes them over and frees them with its own rows, if the
 * Gather still runs then; what the Gather's end or an error leaves there
 * goes with the area.  (On a virtual machine a fresh page can cost more
 * than writing it: rows are never copied into fresh memory only to be
 * read once, and a serialised store's memory is freed for the next.)
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/byte_order.h"
#include "port/pg_bitutils.h"
#include "port/pg_bswap.h"
#include "datatype/timestamp.h"
#include "common/hashfn.h"
#include "common/huge_pages.h"
#include "common/module.h"
#include "common/varint.h"
#include "engine/entity_store.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "access/parallel.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "executor/execParallel.h"
#include "executor/nodeAgg.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/dsa.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#define ESTORE_MAGIC		0x45535436	/* "EST6": rows here or in shared memory */
#define ESTORE_MIN_SEG		256
#define ESTORE_MAX_SEG		(64 * 1024)
#define ESTORE_READ_BUF		(64 * 1024)
/* a parallel worker's rows from this size on go through shared memory */
#define ESTORE_SHARED_MIN	(64 * 1024)
/* blocks the memory segments of a large store are cut from */
#define ESTORE_MIN_BLOCK	(256 * 1024)
#define ESTORE_MAX_BLOCK	(8 * 1024 * 1024)
/*
 * A partition of more than funnel.debug_sub_partition_rows rows (64k: a
 * few thousand entities, whose numbering table stays in the CPU's cache) is
 * processed in up to 2^ESTORE_MAX_SUB_BITS sub-partitions
 */
#define ESTORE_MAX_SUB_BITS	8
/* room left for numbering and walks when sub-partitions are taken, a row */
#define ESTORE_SUB_RESERVE	256

/* rows in memory may use half of funnel.max_state_memory */
static inline Size
estore_row_limit(void)
{
	return (Size) funnel_max_state_memory_kb * 1024 / 2;
}

static inline bool
estore_fast(const EntityStore *s)
{
	return s->kind == ESTORE_KEY_INT8 || s->kind == ESTORE_KEY_INT4;
}

static inline uint32
estore_hash(const EntityStore *s, Datum key)
{
	if (estore_fast(s))
		return estore_fast_hash(s, key);
	return DatumGetUInt32(FunctionCall1Coll(s->hash_fn, s->collation, key));
}

static inline bool
estore_equal(const EntityStore *s, Datum a, Datum b)
{
	if (estore_fast(s))
		return a == b;
	return DatumGetBool(FunctionCall2Coll(s->eq_fn, s->collation, a, b));
}

/* the partition of a hash in a store of 2^part_bits partitions */
static inline int
part_of_bits(int part_bits, uint32 hash)
{
	/* no branch: a 64-bit shift by 32 (part_bits 0) leaves 0 */
	return (int) ((uint64) hash >> (32 - part_bits));
}

static inline int
estore_part_of(const EntityStore *s, uint32 hash)
{
	return part_of_bits(s->part_bits, hash);
}

/* Bring the length of partition p's open segment up to date. */
static inline void
estore_sync_part(EntityStore *s, int p)
{
	if (s->cursor[p].cur != NULL)
	{
		StoreSeg   *seg = &s->parts[p].segs[s->parts[p].nsegs - 1];

		seg->len = s->cursor[p].cur - seg->data;
	}
}

/* Bring the length of every open segment up to date. */
static void
estore_sync(const EntityStore *cs)
{
	EntityStore *s = (EntityStore *) cs;	/* only lengths change */
	int			p;

	for (p = 0; p < s->nparts; p++)
		estore_sync_part(s, p);
}

/* Close partition p's open segment: new rows go to a new one. */
static inline void
estore_close(EntityStore *s, int p)
{
	s->cursor[p].cur = s->cursor[p].end = NULL;
}

/* bytes of the aligned row at p (at least 8 bytes of it must be readable) */
static inline Size
estore_row_size(const EntityStore *s, const char *p)
{
	return 16 + s->payload + MAXALIGN((Size) *(const uint32 *) (p + 4));
}

/* ---------- compact rows: varints ---------- */

/* the most bytes a compact row takes: control, key, time, payload words */
static inline Size
compact_max_row(const EntityStore *s)
{
	return 1 + 10 + 10 + 5 * (s->payload / 4);
}

/* payload bytes written as int32 words (after the steps, if any) */
static inline Size
compact_words_from(const EntityStore *s)
{
	return s->payload_mask ? 8 : 0;
}

/* the fewest: control, a byte each for the key and time, one per word */
static inline Size
compact_min_row(const EntityStore *s)
{
	return 3 + (s->payload - compact_words_from(s)) / 4;
}

/*
 * the control byte of a row in the long form: unit 3 (one step) with a
 * 4-byte key, which no short row has; (control & ROW_LONG) == ROW_LONG is a
 * long row or an invalid one
 */
#define ROW_LONG	0x33
/* a short row's fields are read 4 bytes at a time: this many bytes suffice */
#define ROW_SHORT_READ	16

static const uint32 field_mask[5] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF};
/* by the unit bits of a short row: 3, one step, has its time in seconds */
static const int64 unit_usecs[4] = {1, 1000, USECS_PER_SEC, USECS_PER_SEC};
/*
 * By bits 4-7 of a short row's control byte: the bytes of its steps, and
 * its steps when the control byte says them (unit 3: one of the first four)
 */
typedef struct ShortHigh
{
	uint8		steps_bytes;
	uint8		steps;
} ShortHigh;
static const ShortHigh short_high[16] = {
	{0, 0}, {0, 0}, {0, 0}, {0, 1},
	{1, 0}, {1, 0}, {1, 0}, {0, 2},
	{2, 0}, {2, 0}, {2, 0}, {0, 4},
	{3, 0}, {3, 0}, {3, 0}, {0, 8}
};

static inline uint32
get_le32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(uint32));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap32(v);
#endif
	return v;
}

static pg_noinline void
compact_corrupt(const char *what)
{
	funnel_invalid_state(what);
}

/* A varint from [p, end): a byte at once, longer ones by funnel_get_varint. */
static inline const char *
get_varint(const char *p, const char *end, uint64 *v)
{
	if (likely(p < end && (uint8) *p < 0x80))
	{
		*v = (uint8) *p;
		return p + 1;
	}
	p = funnel_get_varint(p, end, v);
	if (p == NULL)
		compact_corrupt("An entity row of the state is cut short or holds a number of more than 64 bits.");
	return p;
}

/* a whole time: a byte 1 and its 8 bytes */
static inline char *
compact_put_time(char *p, int64 ts, StoreCursor *c)
{
	*p++ = 1;
	memcpy(p, &ts, sizeof(int64));
	c->restart = false;
	return p + sizeof(int64);
}

/* The long form of a row (see the top), after its control byte. */
static pg_noinline char *
compact_put_long(const EntityStore *s, StoreCursor *c, char *p, uint64 zkey,
				 int64 ts, uint64 steps)
{
	uint64		dz;
	int64		d;

	*p++ = ROW_LONG;
	p = funnel_put_varint(p, zkey);
	/*
	 * the difference wraps around; decoding wraps it back (a multiple of a
	 * second or millisecond is the true difference, which cannot wrap: the
	 * times are valid timestamps)
	 */
	d = (int64) ((uint64) ts - (uint64) c->prev_ts);
	if (unlikely(c->restart))
		p = compact_put_time(p, ts, c);
	else if (d % USECS_PER_SEC == 0 && (dz = funnel_zigzag(d / USECS_PER_SEC)) < ((uint64) 1 << 62))
		p = funnel_put_varint(p, dz << 2 | 3);
	else if (d % 1000 == 0 && (dz = funnel_zigzag(d / 1000)) < ((uint64) 1 << 61))
		p = funnel_put_varint(p, dz << 3 | 5);
	else if ((dz = funnel_zigzag(d)) < ((uint64) 1 << 63))
		p = funnel_put_varint(p, dz << 1);
	else
		p = compact_put_time(p, ts, c);
	if (s->payload_mask)
		p = funnel_put_varint(p, steps);
	return p;
}

/*
 * Write one compact row at p (room for compact_max_row bytes) of a store of
 * 2^part_bits partitions; returns its end.  c: the partition's cursor (time
 * of the row before); k the key as an integer, steps the payload's first 8
 * bytes if they are steps.
 */
static pg_attribute_always_inline char *
compact_put(const EntityStore *s, int part_bits, StoreCursor *c, char *p,
			int64 k, int64 ts, uint64 steps, const void *payload)
{
	int			unit;
	/* wraps around as in the long form */
	uint64		dz = compact_time_diff((int64) ((uint64) ts - (uint64) c->prev_ts), &unit);
	Size		w;

	if (likely(!c->restart && compact_fits_short(k, dz, steps)))
		p = compact_put_short(p, (uint32) ((uint64) k >> part_bits), (uint32) dz,
							  unit, (uint32) steps, part_bits == 0);
	else
		p = compact_put_long(s, c, p, funnel_zigzag(k), ts, steps);
	c->prev_ts = ts;
	for (w = compact_words_from(s); w < s->payload; w += 4)
	{
		int32		word;

		memcpy(&word, (const char *) payload + w, sizeof(int32));
		p = funnel_put_varint(p, ((uint32) word << 1) ^ (uint32) (word >> 31));
	}
	return p;
}

/*
 * The fields of a short row at q (ROW_SHORT_READ bytes readable) of
 * partition part of 2^part_bits (0 or ESTORE_PART_BITS): its key and the
 * key's hash (in partition part), time and steps; returns its length.
 */
static pg_attribute_always_inline int
compact_get_short(const char *q, uint8 control, int part_bits, int part,
				  int64 prev_ts, int64 *key, uint32 *hash, int64 *ts, uint64 *steps)
{
	int			kb = (control & 3) + 1;
	int			tb = ((control >> 2) & 3) + 1;
	int			unit = (control >> 4) & 3;
	const ShortHigh *high = &short_high[control >> 4];
	uint32		stored;
	uint32		dz;

	stored = get_le32(q + 1) & field_mask[kb];
	if (part_bits == 0)
	{
		*key = stored;
		*hash = estore_key_bits_hash(stored);
	}
	else
		*key = (int64) estore_key_in_part(stored, part, hash);
	dz = get_le32(q + 1 + kb) & field_mask[tb];
	*steps = (get_le32(q + 1 + kb + tb) & field_mask[high->steps_bytes]) | high->steps;
	/* wrapping arithmetic: hostile bytes give some time, as any difference may */
	*ts = (int64) ((uint64) prev_ts +
				   (uint64) funnel_unzigzag(dz) * (uint64) unit_usecs[unit]);
	return 1 + kb + tb + high->steps_bytes;
}

/* The time of a long row from [p, end) (see the top); returns the rest. */
static const char *
compact_get_long_time(const char *p, const char *end, int64 prev_ts, int64 *ts)
{
	uint64		v;

	p = get_varint(p, end, &v);
	if ((v & 3) == 3)
		*ts = (int64) ((uint64) prev_ts + (uint64) funnel_unzigzag(v >> 2) * USECS_PER_SEC);
	else if ((v & 1) == 0)
		*ts = (int64) ((uint64) prev_ts + (uint64) funnel_unzigzag(v >> 1));
	else if ((v & 7) == 5)
		*ts = (int64) ((uint64) prev_ts + (uint64) funnel_unzigzag(v >> 3) * 1000);
	else if (v == 1)
	{
		if (end - p < (ptrdiff_t) sizeof(int64))
			compact_corrupt("An entity row of the state is cut short.");
		memcpy(ts, p, sizeof(int64));
		p += sizeof(int64);
	}
	else
		compact_corrupt("An entity row of the state has an invalid time.");
	return p;
}

/*
 * Read one compact row of partition part (of 2^part_bits) from [p, end):
 * its key (checked: an integer key in integer range, in this partition), hash, and time and
 * payload into dst (8 + payload bytes; NULL: not wanted).  Returns the
 * row's end.
 */
static inline const char *
compact_get(const EntityStore *s, int part_bits, int part, const char *p,
			const char *end, int64 *prev_ts, Datum *key, uint32 *hash, char *dst)
{
	char		scratch[8 + ESTORE_MAX_PAYLOAD];
	uint64		steps;
	int64		k;
	int64		ts;
	uint8		control;
	Size		w;

	if (unlikely(p >= end))
		compact_corrupt("An entity row of the state is cut short.");
	control = (uint8) *p;
	if (likely((control & ROW_LONG) != ROW_LONG))
	{
		if (likely(end - p >= ROW_SHORT_READ))
			p += compact_get_short(p, control, part_bits, part, *prev_ts, &k, hash, &ts, &steps);
		else
		{
			/* the last bytes of a segment: read from a copy padded with zeros */
			char		tail[ROW_SHORT_READ];
			int			len;

			memset(tail, 0, sizeof(tail));
			memcpy(tail, p, end - p);
			len = compact_get_short(tail, control, part_bits, part, *prev_ts, &k, hash, &ts,
									&steps);
			if (len > end - p)
				compact_corrupt("An entity row of the state is cut short.");
			p += len;
		}
		if (unlikely(steps != 0 && !s->payload_mask))
			compact_corrupt("An entity row of the state has steps where its payload has none.");
	}
	else
	{
		uint64		v;

		if (control != ROW_LONG)
			compact_corrupt("An entity row of the state has an invalid control byte.");
		p = get_varint(p + 1, end, &v);
		k = funnel_unzigzag(v);
		p = compact_get_long_time(p, end, *prev_ts, &ts);
		steps = 0;
		if (s->payload_mask)
		{
			p = get_varint(p, end, &v);
			steps = v;
		}
		/* a short row's key is in its partition by construction, a long row's not */
		*hash = s->kind == ESTORE_KEY_INT8 ? estore_key_bits_hash((uint64) k) :
			estore_key_bits_hash((uint32) k);
		if (unlikely(part_of_bits(part_bits, *hash) != part))
			compact_corrupt("An entity row of the state is in the wrong partition.");
	}
	if (s->kind == ESTORE_KEY_INT8)
		*key = Int64GetDatum(k);
	else
	{
		if (k < PG_INT32_MIN || k > PG_INT32_MAX)
			compact_corrupt("An integer entity of the state is out of range.");
		*key = Int32GetDatum((int32) k);
	}
	*prev_ts = ts;
	if (dst == NULL)
		dst = scratch;
	memcpy(dst, &ts, sizeof(int64));
	if (s->payload_mask)
		memcpy(dst + 8, &steps, sizeof(uint64));
	for (w = compact_words_from(s); w < s->payload; w += 4)
	{
		uint64		v;
		uint32		z;
		int32		word;

		p = get_varint(p, end, &v);
		if (v > PG_UINT32_MAX)
			compact_corrupt("An entity row of the state holds a payload word of more than 32 bits.");
		z = (uint32) v;
		word = (int32) ((z >> 1) ^ -(z & 1));
		memcpy(dst + 8 + w, &word, sizeof(int32));
	}
	return p;
}
/* ---------- the entities of one partition, while it is processed ---------- */

/*
 * The entities of one partition by key, while it is processed: open
 * addressing on the entity's hash with linear probing, at most half full.
 * A slot holds the key, its hash and the entity's index + 1 (0: free).
 * Every row of the partition looks its entity up here; a generic table's
 * insert costs several times the probe.
 */
typedef struct EntitySlot
{
	Datum		key;
	uint32		hash;
	uint32		idx1;
} EntitySlot;

typedef struct EntityNumbers
{
	EntitySlot *slots;
	uint64		mask;			/* slots - 1, a power of two less one */
	uint64		used;
	MemoryContext cxt;
} EntityNumbers;

static void estore_split(EntityStore *s);
static void estore_reset_rows(EntityStore *s, bool keep_blocks);

/* ---------- creation and shutdown ---------- */

/* The Gather (Merge) below an aggregate whose shared memory has this handle. */
typedef struct AreaSearch
{
	dsa_handle	handle;
	dsa_area   *area;
} AreaSearch;

static bool
find_query_area(PlanState *ps, void *arg)
{
	AreaSearch *search = (AreaSearch *) arg;
	struct ParallelExecutorInfo *pei = NULL;

	if (ps == NULL)
		return false;
	if (IsA(ps, GatherState))
		pei = ((GatherState *) ps)->pei;
	else if (IsA(ps, GatherMergeState))
		pei = ((GatherMergeState *) ps)->pei;
	if (pei != NULL && pei->area != NULL && dsa_get_handle(pei->area) == search->handle)
	{
		search->area = pei->area;
		return true;
	}
	return planstate_tree_walker(ps, find_query_area, arg);
}

/* Rows of a parallel worker in the query's shared memory that a merge took over */
typedef struct HeldRows
{
	dsa_area   *area;
	dsa_handle	handle;
	dsa_pointer rows;
} HeldRows;

/*
 * Free the workers' rows in shared memory that merges took over, if their
 * Gather still runs: once it has shut down, they went with its area.
 */
static void
release_held(EntityStore *s)
{
	int			i;

	for (i = 0; i < s->nheld; i++)
	{
		AreaSearch	search;

		search.handle = s->held[i].handle;
		search.area = NULL;
		if (s->agg != NULL && find_query_area(s->agg, &search) &&
			search.area == s->held[i].area)
			dsa_free(search.area, s->held[i].rows);
	}
	s->nheld = 0;
}


/* The aggregation ends (or rescans): close the file, which removes it. */
static void
estore_shutdown(Datum arg)
{
	EntityStore *s = (EntityStore *) DatumGetPointer(arg);

	release_held(s);
	if (s->file != NULL)
	{
		BufFileClose(s->file);
		s->file = NULL;
	}
}

/*
 * A store of entities of type typid (compared under collation), each row
 * carrying payload bytes (a multiple of 8).  fcinfo is the aggregate
 * support function's: inside an Agg node the store may spill.
 */
EntityStore *
estore_create(FunctionCallInfo fcinfo, MemoryContext cxt, Oid typid,
			  Oid collation, Size payload)
{
	EntityStore *s = MemoryContextAllocZero(cxt, sizeof(EntityStore));

	s->payload_mask = (payload & ESTORE_PAYLOAD_MASK) != 0;
	payload &= ~ESTORE_PAYLOAD_MASK;
	if (payload % 8 != 0 || payload > ESTORE_MAX_PAYLOAD || (s->payload_mask && payload < 8))
		elog(ERROR, "funnel entity store: payload of %zu bytes", payload);
	s->cxt = cxt;
	s->rows_cxt = NULL;
	s->part_bits = 0;
	s->nparts = 1;
	s->cursor = MemoryContextAllocZero(cxt, sizeof(StoreCursor));
	s->parts = MemoryContextAllocZero(cxt, sizeof(StorePart));
	s->typid = typid;
	/* entities compare under the call's collation (e.g. for text) */
	if (!OidIsValid(collation) && type_is_collatable(typid))
		collation = DEFAULT_COLLATION_OID;
	s->collation = collation;
	s->payload = payload;
	get_typlenbyval(typid, &s->typlen, &s->typbyval);
	if (typid == INT8OID && s->typbyval)
		s->kind = ESTORE_KEY_INT8;
	else if (typid == INT4OID)
		s->kind = ESTORE_KEY_INT4;
	else
	{
		TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_HASH_PROC_FINFO |
												TYPECACHE_EQ_OPR_FINFO);

		if (!OidIsValid(tce->hash_proc) || !OidIsValid(tce->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("funnel entity type %s has no default hash operator class",
							format_type_be(typid)),
					 errhint("Use an entity of a hashable type such as bigint, integer, text or uuid, "
							 "or cast it to one.")));
		s->kind = s->typbyval ? ESTORE_KEY_BYVAL : ESTORE_KEY_BYREF;
		s->hash_fn = &tce->hash_proc_finfo;
		s->eq_fn = &tce->eq_opr_finfo;
	}
	s->steps_only = estore_fast(s) && s->payload_mask && s->payload == sizeof(uint64);
	if (fcinfo != NULL && fcinfo->context != NULL && IsA(fcinfo->context, AggState))
	{
		AggRegisterCallback(fcinfo, estore_shutdown, PointerGetDatum(s));
		s->can_spill = true;
		s->agg = (PlanState *) fcinfo->context;
		if (IsParallelWorker())
			s->query_area = ((AggState *) fcinfo->context)->ss.ps.state->es_query_dsa;

		/*
		 * One store per plain aggregate (no GROUP BY): its blocks start at
		 * a huge page, one fault instead of 512 for its first 2 MB (a
		 * partitionwise plan makes a store per partition and worker).  Many
		 * groups keep small first blocks.
		 */
		if (((AggState *) fcinfo->context)->aggstrategy == AGG_PLAIN)
			s->arena_next = FUNNEL_HUGE_PAGE_SIZE;
	}
	return s;
}

/* ---------- spilling ---------- */

static void
estore_seek(BufFile *file, int fileno, off_t offset, int whence)
{
	if (BufFileSeek(file, fileno, offset, whence) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not seek in temporary file of funnel entity rows: %m")));
}

static void
estore_read(BufFile *file, void *ptr, Size len)
{
	if (BufFileRead(file, ptr, len) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read from temporary file of funnel entity rows: %m")));
}

static void
estore_open_file(EntityStore *s)
{
	if (s->file == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(s->cxt);

		s->file = BufFileCreateTemp(false);
		MemoryContextSwitchTo(old);
		BufFileTell(s->file, &s->end_fileno, &s->end_offset);
	}
	estore_seek(s->file, s->end_fileno, s->end_offset, SEEK_SET);
}

/* After writing at the end of the file: remember where it now ends. */
static void
estore_file_written(EntityStore *s)
{
	BufFileTell(s->file, &s->end_fileno, &s->end_offset);
}

/*
 * Append every partition's rows in memory to the file, then free them.  A
 * partition's segments written one after another become one segment of the
 * file.
 */
static void
estore_spill(EntityStore *s)
{
	uint64		written = 0;
	int			p,
				i;

	estore_sync(s);
	estore_open_file(s);
	for (p = 0; p < s->nparts; p++)
	{
		StorePart  *part = &s->parts[p];
		int			out = 0;
		bool		last_new = false;	/* segs[out - 1] was written just now */

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < part->nsegs; i++)
		{
			StoreSeg	seg = part->segs[i];

			if (seg.data != NULL && seg.len > 0)
			{
				if (last_new)
				{
					/* contiguous with the segment just written */
					BufFileWrite(s->file, seg.data, seg.len);
					part->segs[out - 1].len += seg.len;
				}
				else
				{
					BufFileTell(s->file, &seg.fileno, &seg.offset);
					BufFileWrite(s->file, seg.data, seg.len);
					part->segs[out++] = seg;
					part->segs[out - 1].data = NULL;
					last_new = true;
				}
				written += seg.len;
			}
			else if (seg.data == NULL)
			{
				part->segs[out++] = seg;
				last_new = false;
			}
			/* one partition's rows are in the store's context: free them */
			if (seg.data != NULL && s->rows_cxt == NULL)
				pfree(seg.data);
		}
		part->nsegs = out;
		estore_close(s, p);
	}
	estore_file_written(s);
	if (s->rows_cxt != NULL)
		estore_reset_rows(s, true);
	s->mem = 0;
	s->nspills++;
	s->spilled_bytes += written;
	ereport(DEBUG1,
			(errmsg_internal("funnel entity store: wrote %llu kB of rows to a temporary file (write %llu, %llu rows so far)",
							 (unsigned long long) (written / 1024),
							 (unsigned long long) s->nspills,
							 (unsigned long long) s->nrows)));
}

/* Room for bytes more in memory: spill first, or fail, past the limit. */
static void
estore_reserve(EntityStore *s, Size bytes)
{
	if (s->mem + s->extra + bytes > estore_row_limit() && s->mem > 0)
	{
		if (s->can_spill)
			estore_spill(s);
		else
			funnel_check_memory(s->mem + s->extra + bytes);
	}
	s->mem += bytes;
}

/* ---------- appending rows ---------- */

/*
 * size bytes for rows in memory.  A large store cuts them from blocks that
 * grow to 8 MB (a quarter of the limit at most), on huge pages where the system has them (one page fault per
 * 2 MB instead of per 4 kB: see common/huge_pages.c); the blocks go when
 * rows_cxt is reset.  Counted by the caller (estore_reserve).
 */
static char *
estore_seg_alloc(EntityStore *s, Size size)
{
	char	   *p;

	if (s->rows_cxt == NULL)
		return MemoryContextAllocHuge(s->cxt, size);
	size = MAXALIGN(size);
	while ((Size) (s->arena_end - s->arena_cur) < size && s->next_block < s->nblocks)
	{
		/* a block the rows before a spill used: its pages are mapped already */
		s->arena_cur = s->blocks[s->next_block];
		s->arena_end = s->arena_cur + s->block_sizes[s->next_block];
		s->next_block++;
	}
	if ((Size) (s->arena_end - s->arena_cur) < size)
	{
		Size		block = Max(s->arena_next, ESTORE_MIN_BLOCK);

		s->arena_next = Min(block * 2, ESTORE_MAX_BLOCK);
		/* under a small limit, blocks of a quarter of it at most */
		block = Min(block, Max(ESTORE_MIN_BLOCK, estore_row_limit() / 4));
		block = Max(block, size);
		s->arena_cur = funnel_alloc_huge_pages(s->rows_cxt, block);
		s->arena_end = s->arena_cur + block;
		if (s->nblocks == s->blockcap)
		{
			s->blockcap = Max(16, s->blockcap * 2);
			if (s->blocks == NULL)
			{
				s->blocks = MemoryContextAlloc(s->cxt, s->blockcap * sizeof(char *));
				s->block_sizes = MemoryContextAlloc(s->cxt, s->blockcap * sizeof(Size));
			}
			else
			{
				s->blocks = repalloc(s->blocks, s->blockcap * sizeof(char *));
				s->block_sizes = repalloc(s->block_sizes, s->blockcap * sizeof(Size));
			}
		}
		s->blocks[s->nblocks] = s->arena_cur;
		s->block_sizes[s->nblocks] = block;
		s->nblocks++;
		s->next_block = s->nblocks;
	}
	p = s->arena_cur;
	s->arena_cur += size;
	return p;
}

/*
 * Free every row in memory of a large store (rows_cxt).  After a spill the
 * store's own blocks are kept for the rows to come (no page to fault in
 * again: on a virtual machine that returns free memory to its host, a fresh
 * page costs more than writing it); the blocks of stores it took over go.
 */
static void
estore_reset_rows(EntityStore *s, bool keep_blocks)
{
	if (keep_blocks)
		MemoryContextDeleteChildren(s->rows_cxt);
	else
	{
		MemoryContextReset(s->rows_cxt);
		s->nblocks = 0;
	}
	s->next_block = 0;
	s->arena_cur = s->arena_end = NULL;
	release_held(s);
}

static StoreSeg *
estore_new_seg(EntityStore *s, StorePart *part)
{
	if (part->nsegs == part->segcap)
	{
		int			newcap = Max(4, part->segcap * 2);

		if (part->segs == NULL)
			part->segs = MemoryContextAlloc(s->cxt, newcap * sizeof(StoreSeg));
		else
			part->segs = repalloc(part->segs, newcap * sizeof(StoreSeg));
		part->segcap = newcap;
	}
	memset(&part->segs[part->nsegs], 0, sizeof(StoreSeg));
	return &part->segs[part->nsegs++];
}

/*
 * Open a new memory segment of partition p with room for need bytes or
 * more; its first row carries its time whole.
 */
static pg_noinline void
estore_open_seg(EntityStore *s, int p, Size need)
{
	StorePart  *part = &s->parts[p];
	Size		cap = Min(Max(part->last_cap * 2, ESTORE_MIN_SEG), ESTORE_MAX_SEG);
	StoreSeg   *seg;

	/* under a small limit, small segments: each spill writes most of it */
	cap = Min(cap, Max(ESTORE_MIN_SEG, estore_row_limit() / (4 * ESTORE_NPARTS)));
	cap = Max(cap, need);
	/* the segment it closes (a spill brings the others up to date) */
	estore_sync_part(s, p);
	estore_reserve(s, cap);
	seg = estore_new_seg(s, part);
	seg->data = estore_seg_alloc(s, cap);
	seg->len = 0;
	part->last_cap = cap;
	s->cursor[p].cur = seg->data;
	s->cursor[p].end = seg->data + cap;
	s->cursor[p].restart = true;
}

/* Room for need bytes at partition p's write position. */
static inline char *
estore_room(EntityStore *s, int p, Size need)
{
	if (unlikely((Size) (s->cursor[p].end - s->cursor[p].cur) < need))
		estore_open_seg(s, p, need);
	return s->cursor[p].cur;
}

/*
 * Append a compact row (bigint or integer key) of partition p.  A funnel's
 * store (steps alone: most rows of most queries) takes a copy of
 * compact_put in which its payload is known.
 */
static pg_attribute_always_inline void
estore_put_compact(EntityStore *s, int p, Datum key, int64 ts, const void *payload)
{
	int64		k = s->kind == ESTORE_KEY_INT8 ? DatumGetInt64(key) : DatumGetInt32(key);
	uint64		steps = 0;
	char	   *row;

	if (s->payload_mask)
		memcpy(&steps, payload, sizeof(uint64));
	if (s->steps_only)
	{
		static const EntityStore steps_only = {.payload = sizeof(uint64), .payload_mask = true};

		row = estore_room(s, p, compact_max_row(&steps_only));
		s->cursor[p].cur = compact_put(&steps_only, s->part_bits, &s->cursor[p], row, k, ts,
									   steps, payload);
	}
	else
	{
		row = estore_room(s, p, compact_max_row(s));
		s->cursor[p].cur = compact_put(s, s->part_bits, &s->cursor[p], row, k, ts, steps,
									   payload);
	}
	s->parts[p].nrows++;
	s->nrows++;
}

/* Append an aligned row of partition p: the key's keylen bytes at keyp. */
static void
estore_put_aligned(EntityStore *s, int p, uint32 hash, const char *keyp,
				   Size keylen, int64 ts, const void *payload)
{
	Size		size = 16 + s->payload + MAXALIGN(keylen);
	char	   *row = estore_room(s, p, size);

	s->cursor[p].cur += size;
	*(uint32 *) row = hash;
	*(uint32 *) (row + 4) = (uint32) keylen;
	*(int64 *) (row + 8) = ts;
	memcpy(row + 16, payload, s->payload);
	memcpy(row + 16 + s->payload, keyp, keylen);
	if (MAXALIGN(keylen) > keylen)
		memset(row + 16 + s->payload + keylen, 0, MAXALIGN(keylen) - keylen);
	s->parts[p].nrows++;
	s->nrows++;
}

/*
 * estore_add for keys of other types: an aligned row, a by-reference key
 * copied into it (a toasted or expanded value flattened once).
 */
static pg_noinline void
estore_add_aligned(EntityStore *s, Datum key, int64 ts, const void *payload)
{
	struct varlena *flat = NULL;
	Pointer		orig;
	Size		keylen;
	uint32		hash;
	const char *keyp;

	orig = DatumGetPointer(key);
	if (s->kind == ESTORE_KEY_BYVAL)
	{
		keylen = sizeof(Datum);
		keyp = (const char *) &key;
	}
	else if (s->typlen == -1)
	{
		flat = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(key));
		key = PointerGetDatum(flat);
		keylen = VARSIZE_ANY(flat);
		keyp = (const char *) flat;
	}
	else
	{
		keylen = datumGetSize(key, false, s->typlen);
		keyp = DatumGetPointer(key);
	}
	if (keylen > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("funnel entity key of %zu bytes is too long", keylen)));
	hash = estore_hash(s, key);
	estore_put_aligned(s, estore_part_of(s, hash), hash, keyp, keylen, ts, payload);
	if (flat != NULL && (Pointer) flat != orig)
		pfree(flat);
}

/*
 * Add one row of an entity; payload is s->payload bytes (a funnel's
 * transition calls estore_try_add_steps, which takes most rows inline).
 */
void
estore_add(EntityStore *s, Datum key, int64 ts, const void *payload)
{
	if (unlikely(s->nparts == 1) && s->nrows >= ESTORE_SMALL_ROWS)
		estore_split(s);
	if (likely(estore_fast(s)))
		estore_put_compact(s, estore_part_of(s, estore_fast_hash(s, key)), key, ts, payload);
	else
		estore_add_aligned(s, key, ts, payload);
}

/*
 * The rows of a store of steps alone that estore_try_add_steps does not
 * take.  Its steps come by value: the caller keeps them in a register.
 */
void
estore_add_steps_long(EntityStore *s, Datum key, int64 ts, uint64 steps)
{
	estore_add(s, key, ts, &steps);
}

/* ---------- reading a partition's rows back ---------- */

typedef struct RowReader
{
	const EntityStore *s;
	const StorePart *part;
	int			part_bits;		/* rows of partition partno of 2^part_bits */
	int			partno;
	int			seg;			/* next segment to open */
	const char *pos;			/* window of readable bytes */
	const char *end;
	Size		file_left;		/* bytes of the open file segment not read */
	int			file_fileno;	/* where they start: the file may be written */
	off_t		file_offset;	/* between two reads (a split that spills) */
	char	   *buf;			/* read buffer for file segments */
	Size		bufcap;
	bool		in_file;		/* the current segment is in the file */
	int64		prev_ts;		/* compact rows: time of the row before */
} RowReader;

static void
reader_start(RowReader *r, const EntityStore *s, const StorePart *part,
			 int part_bits, int partno)
{
	r->s = s;
	r->part = part;
	r->part_bits = part_bits;
	r->partno = partno;
	r->seg = 0;
	r->pos = r->end = NULL;
	r->file_left = 0;
	r->prev_ts = 0;
}

/* Read more of the open file segment: at least need bytes in the window. */
static void
reader_fill(RowReader *r, Size need)
{
	Size		have = r->end - r->pos;
	Size		n;

	if (need > r->bufcap)
	{
		Size		newcap = Max(need, Max(r->bufcap * 2, ESTORE_READ_BUF));
		char	   *nb = palloc_extended(newcap, MCXT_ALLOC_HUGE);

		if (have > 0)
			memcpy(nb, r->pos, have);
		if (r->buf)
			pfree(r->buf);
		r->buf = nb;
		r->bufcap = newcap;
	}
	else
		memmove(r->buf, r->pos, have);
	n = Min(r->bufcap - have, r->file_left);
	estore_seek(r->s->file, r->file_fileno, r->file_offset, SEEK_SET);
	estore_read(r->s->file, r->buf + have, n);
	BufFileTell(r->s->file, &r->file_fileno, &r->file_offset);
	r->file_left -= n;
	r->pos = r->buf;
	r->end = r->buf + have + n;
	if ((Size) (r->end - r->pos) < need)
		elog(ERROR, "funnel entity store: truncated row in temporary file");
}

/*
 * Make the window hold need bytes, or all that is left of the segment;
 * false at the end of the partition.
 */
static inline bool
reader_more(RowReader *r, Size need)
{
	while (r->pos == r->end && r->file_left == 0)
	{
		const StoreSeg *seg;

		if (r->seg >= r->part->nsegs)
			return false;
		seg = &r->part->segs[r->seg++];
		r->in_file = (seg->data == NULL);
		if (seg->data != NULL)
		{
			r->pos = seg->data;
			r->end = seg->data + seg->len;
		}
		else if (seg->len > 0)
		{
			r->file_fileno = seg->fileno;
			r->file_offset = seg->offset;
			r->file_left = seg->len;
			r->pos = r->end = r->buf;
		}
	}
	if ((Size) (r->end - r->pos) < need && r->file_left > 0)
		reader_fill(r, Min(need, (Size) (r->end - r->pos) + r->file_left));
	return true;
}

/*
 * The next row of the partition: its key (a by-reference key points into
 * the window: valid until the next call), hash, and time and payload
 * copied to dst (8 + payload bytes; NULL: not wanted).  False at the end of
 * the partition.
 */
static inline bool
reader_next(RowReader *r, Datum *key, uint32 *hash, char *dst)
{
	const EntityStore *s = r->s;
	const char *row;
	Size		size;

	if (estore_fast(s))
	{
		if (!reader_more(r, compact_max_row(s)))
			return false;
		r->pos = compact_get(s, r->part_bits, r->partno, r->pos, r->end, &r->prev_ts,
							 key, hash, dst);
		return true;
	}
	if (!reader_more(r, 16))
		return false;
	if ((Size) (r->end - r->pos) < 16)
		elog(ERROR, "funnel entity store: truncated row");
	size = estore_row_size(s, r->pos);
	if ((Size) (r->end - r->pos) < size)
		reader_more(r, size);
	if ((Size) (r->end - r->pos) < size)
		elog(ERROR, "funnel entity store: truncated row");
	row = r->pos;
	r->pos += size;
	*hash = *(const uint32 *) row;
	if (s->kind == ESTORE_KEY_BYVAL)
		*key = *(const Datum *) (row + 16 + s->payload);
	else
		*key = PointerGetDatum(row + 16 + s->payload);
	if (dst != NULL)
		memcpy(dst, row + 8, 8 + s->payload);
	return true;
}

/* ---------- splitting and appending another store's rows ---------- */

/* A store of ESTORE_NPARTS partitions, whose rows have a context of their own. */
static void
estore_make_large(EntityStore *s)
{
	s->rows_cxt = AllocSetContextCreate(s->cxt, "funnel entity rows",
										ALLOCSET_DEFAULT_SIZES);
	s->part_bits = ESTORE_PART_BITS;
	s->nparts = ESTORE_NPARTS;
	s->cursor = MemoryContextAllocZero(s->cxt, sizeof(StoreCursor) * ESTORE_NPARTS);
	s->parts = MemoryContextAllocZero(s->cxt, sizeof(StorePart) * ESTORE_NPARTS);
}

/*
 * Append the rows of partitions parts[0 .. nparts) (of 2^part_bits, of store
 * src, which may be dst itself) to dst, each row's payload passed through
 * map (unless NULL): one pass that decodes every row.
 */
static void
append_rows(EntityStore *dst, const EntityStore *src, const StorePart *parts,
			int part_bits, int nparts, EntityPayloadFn map, void *arg)
{
	RowReader	r;
	char	   *row = palloc(8 + src->payload);
	int			p;

	memset(&r, 0, sizeof(r));
	for (p = 0; p < nparts; p++)
	{
		Datum		key;
		uint32		hash;
		uint64		i;

		if (parts[p].nrows == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		reader_start(&r, src, &parts[p], part_bits, p);
		for (i = 0; reader_next(&r, &key, &hash, row); i++)
		{
			int64		ts;
			int			dp;

			if ((i & 0xFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (i >= parts[p].nrows)
				funnel_invalid_state("The row count of an entity partition does not match its rows.");
			if (unlikely(dst->nparts == 1) && dst->nrows >= ESTORE_SMALL_ROWS)
				estore_split(dst);
			memcpy(&ts, row, sizeof(int64));
			if (map != NULL)
				map(ts, row + 8, arg);
			dp = estore_part_of(dst, hash);
			if (estore_fast(dst))
				estore_put_compact(dst, dp, key, ts, row + 8);
			else if (dst->kind == ESTORE_KEY_BYVAL)
				estore_put_aligned(dst, dp, hash, (const char *) &key, sizeof(Datum), ts, row + 8);
			else
				estore_put_aligned(dst, dp, hash, DatumGetPointer(key),
								   datumGetSize(key, false, dst->typlen), ts, row + 8);
		}
		if (i != parts[p].nrows)
			funnel_invalid_state("The row count of an entity partition does not match its rows.");
	}
	pfree(row);
	if (r.buf)
		pfree(r.buf);
}

/*
 * A store of one partition grows past ESTORE_SMALL_ROWS (or is about to be
 * serialised or merged with a larger one): its rows are spread over
 * ESTORE_NPARTS partitions, read back in one pass (from the file too, if a
 * tiny limit spilled them).
 */
static void
estore_split(EntityStore *s)
{
	StorePart  *old_parts = s->parts;
	StoreCursor *old_cursor = s->cursor;
	uint64		nrows = s->nrows;
	int			i;

	Assert(s->nparts == 1);
	estore_sync(s);
	estore_make_large(s);
	/* the old rows are freed below: counted no more */
	s->mem = 0;
	s->nrows = 0;
	append_rows(s, s, old_parts, 0, 1, NULL, NULL);
	if (s->nrows != nrows)
		funnel_invalid_state("The row count of an entity partition does not match its rows.");
	for (i = 0; i < old_parts[0].nsegs; i++)
		if (old_parts[0].segs[i].data != NULL)
			pfree(old_parts[0].segs[i].data);
	if (old_parts[0].segs)
		pfree(old_parts[0].segs);
	pfree(old_parts);
	pfree(old_cursor);
}

/* ---------- processing: every entity's rows, one partition at a time ---------- */

/*
 * The work of processing partitions.  The per-row buffers are sized for the
 * largest partition and the per-entity arrays and hash table only grow, so
 * every partition reuses the memory of the one before (fresh memory for
 * each would cost page faults and returning it to the system each time).
 */
typedef struct PartWork
{
	Datum	   *keys;			/* per entity */
	int64	   *start;			/* per entity: first row in out */
	int64	   *next;			/* per entity: count, then fill position */
	uint32	   *hashes;			/* per entity, when walked in hash order */
	int64	   *order;			/* per entity, when walked in hash order */
	int64		nent;
	int64		entcap;
	uint32	   *row_ent;		/* per row: its entity */
	char	   *in;				/* rows decoded, in arrival order */
	char	   *out;			/* the rows grouped by entity */
	/*
	 * a large partition's rows in the rooms of their sub-partitions
	 * (process_large_part): each row, then its key, then (unless an
	 * integer's, whose hash is a product of its bits) its hash
	 */
	char	   *sub;
	Size		sub_stride;
	MemoryContext cxt;			/* the above */
	MemoryContext part_cxt;		/* what one partition allocates: keys copied
								 * from the file, the callbacks' memory */
	Size		key_bytes;		/* bytes of the keys copied */
	Size		held;			/* the store and all of the above */
} PartWork;

static void
work_account(PartWork *w, Size bytes)
{
	w->held += bytes;
	funnel_check_memory(w->held);
}

static int64
work_new_entity(const EntityStore *s, PartWork *w, Datum key, uint32 hash,
				bool from_file)
{
	if (w->nent == w->entcap)
	{
		int64		newcap = Max(256, w->entcap * 2);

		work_account(w, (newcap - w->entcap) * (sizeof(Datum) + 4 * sizeof(int64) + sizeof(uint32)));
		if (w->keys == NULL)
		{
			w->keys = MemoryContextAllocHuge(w->cxt, newcap * sizeof(Datum));
			w->next = MemoryContextAllocHuge(w->cxt, newcap * sizeof(int64));
			w->start = MemoryContextAllocHuge(w->cxt, newcap * sizeof(int64));
			w->order = MemoryContextAllocHuge(w->cxt, newcap * sizeof(int64));
			w->hashes = MemoryContextAllocHuge(w->cxt, newcap * sizeof(uint32));
		}
		else
		{
			w->keys = repalloc_huge(w->keys, newcap * sizeof(Datum));
			w->next = repalloc_huge(w->next, newcap * sizeof(int64));
			w->start = repalloc_huge(w->start, newcap * sizeof(int64));
			w->order = repalloc_huge(w->order, newcap * sizeof(int64));
			w->hashes = repalloc_huge(w->hashes, newcap * sizeof(uint32));
		}
		w->entcap = newcap;
	}
	/* a key read from the file lives in the read buffer: keep a copy */
	if (s->kind == ESTORE_KEY_BYREF && from_file)
	{
		Size		len = datumGetSize(key, false, s->typlen);
		char	   *copy = MemoryContextAlloc(w->part_cxt, len);

		memcpy(copy, DatumGetPointer(key), len);
		work_account(w, len);
		w->key_bytes += len;
		key = PointerGetDatum(copy);
	}
	w->keys[w->nent] = key;
	w->hashes[w->nent] = hash;
	w->next[w->nent] = 0;
	return w->nent++;
}

/* Entities by hash, then by the bytes of the key (arg: the store and walk). */
typedef struct EntityOrderArg
{
	const EntityStore *s;
	const PartWork *w;
} EntityOrderArg;

static int
entity_order_cmp(const void *pa, const void *pb, void *arg)
{
	const EntityOrderArg *o = arg;
	int64		a = *(const int64 *) pa,
				b = *(const int64 *) pb;
	Datum		ka = o->w->keys[a],
				kb = o->w->keys[b];

	if (o->w->hashes[a] != o->w->hashes[b])
		return o->w->hashes[a] < o->w->hashes[b] ? -1 : 1;
	if (estore_fast(o->s))
	{
		int64		x = o->s->kind == ESTORE_KEY_INT8 ? DatumGetInt64(ka) : DatumGetInt32(ka);
		int64		y = o->s->kind == ESTORE_KEY_INT8 ? DatumGetInt64(kb) : DatumGetInt32(kb);

		return (x > y) - (x < y);
	}
	return funnel_datum_bytes_cmp(ka, kb, o->s->typlen, o->s->typbyval);
}

/*
 * Copy a decoded row (8-byte aligned, stride a multiple of 8) word by word:
 * a libc call per row would cost more than the copy (16 bytes for most
 * funnels).
 */
static pg_attribute_always_inline void
copy_row(char *to, const char *from, Size stride)
{
	uint64	   *x = (uint64 *) to;
	const uint64 *y = (const uint64 *) from;
	Size		k;

	for (k = 0; k < stride / 8; k++)
		x[k] = y[k];
}

static EntitySlot *
numbers_alloc(EntityNumbers *ht, uint64 nslots)
{
	return (EntitySlot *) MemoryContextAllocExtended(ht->cxt, nslots * sizeof(EntitySlot),
													 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/* A table for about nent entities (it grows as needed). */
static void
numbers_init(EntityNumbers *ht, MemoryContext cxt, PartWork *w, uint64 nent)
{
	ht->cxt = cxt;
	ht->mask = pg_nextpower2_64(Max(nent, 8) * 2) - 1;
	ht->used = 0;
	work_account(w, (ht->mask + 1) * sizeof(EntitySlot));
	ht->slots = numbers_alloc(ht, ht->mask + 1);
}

static void
numbers_reset(EntityNumbers *ht)
{
	memset(ht->slots, 0, (ht->mask + 1) * sizeof(EntitySlot));
	ht->used = 0;
}

/* Twice the slots, the entities placed again. */
static pg_noinline void
numbers_grow(EntityNumbers *ht, PartWork *w)
{
	EntitySlot *old = ht->slots;
	uint64		oldn = ht->mask + 1;
	uint64		i;

	work_account(w, oldn * sizeof(EntitySlot));
	ht->slots = numbers_alloc(ht, oldn * 2);
	ht->mask = oldn * 2 - 1;
	for (i = 0; i < oldn; i++)
	{
		uint64		j;

		if (old[i].idx1 == 0)
			continue;
		for (j = old[i].hash & ht->mask; ht->slots[j].idx1 != 0; j = (j + 1) & ht->mask)
			;
		ht->slots[j] = old[i];
	}
	pfree(old);
	w->held -= oldn * sizeof(EntitySlot);
}

/* Number a row's entity: the same index for every row of one entity. */
static pg_attribute_always_inline uint32
number_entity(const EntityStore *s, EntityNumbers *ht, PartWork *w, Datum key,
			  uint32 hash, bool from_file)
{
	uint64		j = hash & ht->mask;
	EntitySlot *e;
	uint32		idx;

	for (;;)
	{
		e = &ht->slots[j];
		if (e->idx1 == 0)
			break;
		if (e->hash == hash && estore_equal(s, e->key, key))
		{
			idx = e->idx1 - 1;
			w->next[idx]++;
			return idx;
		}
		j = (j + 1) & ht->mask;
	}
	idx = (uint32) work_new_entity(s, w, key, hash, from_file);
	e->key = w->keys[idx];
	e->hash = hash;
	e->idx1 = idx + 1;
	w->next[idx]++;
	if (++ht->used * 2 > ht->mask + 1)
		numbers_grow(ht, w);
	return idx;
}

/*
 * The rows src[0..n) (src_stride bytes apart) are numbered (w->row_ent,
 * w->nent, counts in w->next): group them by entity into dst (arrival order
 * kept within an entity) and hand each entity its rows.
 */
static void
group_and_call(const EntityStore *s, PartWork *w, const char *src, Size src_stride,
			   char *dst, uint64 n, bool ordered, EntityStoreFn fn, void *arg)
{
	Size		stride = 8 + s->payload;
	int64	   *order = NULL;
	int64		e,
				acc;
	uint64		i;

	/* counting sort: each entity's rows together, in arrival order */
	if (ordered)
	{
		EntityOrderArg oa;

		order = w->order;
		for (e = 0; e < w->nent; e++)
			order[e] = e;
		oa.s = s;
		oa.w = w;
		qsort_arg(order, w->nent, sizeof(int64), entity_order_cmp, &oa);
	}
	acc = 0;
	for (i = 0; i < (uint64) w->nent; i++)
	{
		e = order ? order[i] : (int64) i;
		w->start[e] = acc;
		acc += w->next[e];
		w->next[e] = w->start[e];
	}
	/*
	 * every row to its entity's place.  The writes go to random places but
	 * do not wait on each other, where moving the rows in place would follow
	 * a chain of dependent cache misses
	 */
	if (stride == 16)
	{
		/* a funnel's rows (time and steps): the copy with a known length */
		for (i = 0; i < n; i++)
		{
			if ((i & 0xFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			copy_row(dst + (Size) (w->next[w->row_ent[i]]++) * 16, src + (Size) i * src_stride, 16);
		}
	}
	else
		for (i = 0; i < n; i++)
		{
			if ((i & 0xFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			copy_row(dst + (Size) (w->next[w->row_ent[i]]++) * stride, src + (Size) i * src_stride, stride);
		}

	for (i = 0; i < (uint64) w->nent; i++)
	{
		e = order ? order[i] : (int64) i;
		if ((i & 0x3FF) == 0)
			CHECK_FOR_INTERRUPTS();
		fn(w->keys[e], dst + (Size) w->start[e] * stride, w->next[e] - w->start[e],
		   w->held, arg);
	}
}

/*
 * Where the rows of a large partition go (process_large_part): the row of
 * sub-partition b to w->sub at next[b]++, below end[b]; with count_only, the
 * rows are only counted (next[b]++).
 */
typedef struct SubPlace
{
	int			shift;
	int			nsub;
	bool		count_only;
	bool		full;			/* a sub-partition had no room left */
	uint64		next[1 << ESTORE_MAX_SUB_BITS];
	uint64		end[1 << ESTORE_MAX_SUB_BITS];
} SubPlace;

/*
 * The place in w->sub of a large partition's row (stride bytes), its key
 * (and hash) put after it; NULL when it is only counted, or when its
 * sub-partition has no room left (sp->full).
 */
static pg_attribute_always_inline char *
sub_place_row(const EntityStore *s, SubPlace *sp, PartWork *w, Size stride,
			  Datum key, uint32 hash)
{
	char	   *rec;

	int			b = (hash >> sp->shift) & (sp->nsub - 1);
	uint64		to = sp->next[b];

	if (sp->count_only)
	{
		sp->next[b] = to + 1;
		return NULL;
	}
	if (unlikely(to == sp->end[b]))
	{
		sp->full = true;
		return NULL;
	}
	sp->next[b] = to + 1;
	rec = w->sub + (Size) to * w->sub_stride;
	memcpy(rec + stride, &key, sizeof(Datum));
	if (!estore_fast(s))
		memcpy(rec + stride + sizeof(Datum), &hash, sizeof(uint32));
	return rec;
}

/*
 * The short rows of a funnel's store (steps only) from the reader's window,
 * up to the first long row, the last ROW_SHORT_READ bytes or row n: the
 * same checks as compact_get, with no call or test a row does not need
 * (the rows of a partition are most of a final function's work).  Without
 * sp each row goes to w->in and its entity is numbered; with sp, to its
 * sub-partition.  Returns the index of the next row; reader_next takes the
 * rest.
 */
static pg_attribute_always_inline uint64
decode_short_steps(const EntityStore *s, RowReader *r, EntityNumbers *ht,
				   PartWork *w, uint64 i, uint64 n, SubPlace *sp, bool int8_key)
{
	const char *p = r->pos;
	const char *stop;
	int64		prev_ts = r->prev_ts;

	if (r->end - r->pos < ROW_SHORT_READ)
		return i;
	stop = r->end - ROW_SHORT_READ;
	while (p <= stop && i < n)
	{
		uint8		control = (uint8) *p;
		int64		k;
		int64		ts;
		uint64		steps;
		Datum		key;
		uint32		hash;
		char	   *dst;

		if ((control & ROW_LONG) == ROW_LONG)
			break;
		if ((i & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		p += compact_get_short(p, control, r->part_bits, r->partno, prev_ts, &k, &hash,
							   &ts, &steps);
		if (int8_key)
			key = Int64GetDatum(k);
		else
		{
			if (k > PG_INT32_MAX)
				compact_corrupt("An integer entity of the state is out of range.");
			key = Int32GetDatum((int32) k);
		}
		prev_ts = ts;
		if (sp == NULL)
		{
			dst = w->in + (Size) i * 16;
			w->row_ent[i] = number_entity(s, ht, w, key, hash, r->in_file);
		}
		else
		{
			dst = sub_place_row(s, sp, w, 16, key, hash);
			if (dst == NULL && sp->full)
				break;
		}
		if (dst != NULL)
		{
			memcpy(dst, &ts, sizeof(int64));
			memcpy(dst + 8, &steps, sizeof(uint64));
		}
		i++;
	}
	r->pos = p;
	r->prev_ts = prev_ts;
	return i;
}

/*
 * Decode every row of a partition.  Without sp: into w->in, numbering the
 * entities (w->row_ent, w->nent, counts in w->next).  With sp (a large
 * partition): each row to its sub-partition, or only counted.  False when
 * a sub-partition had no room left (sp->full), the rest not read.
 */
static bool
decode_part(const EntityStore *s, const StorePart *part, EntityNumbers *ht,
			PartWork *w, SubPlace *sp)
{
	RowReader	r;
	Size		stride = 8 + s->payload;
	uint64		n = part->nrows;
	uint64		i;
	Datum		key;
	uint32		hash;
	bool		steps_only = s->steps_only;
	/* a row of a large partition is read here, then copied to its place */
	char	   *scratch = sp ? palloc(stride) : NULL;

	w->nent = 0;
	memset(&r, 0, sizeof(r));
	reader_start(&r, s, part, s->part_bits, (int) (part - s->parts));
	for (i = 0;; i++)
	{
		char	   *dst;

		if (steps_only)
		{
			i = s->kind == ESTORE_KEY_INT8 ?
				decode_short_steps(s, &r, ht, w, i, n, sp, true) :
				decode_short_steps(s, &r, ht, w, i, n, sp, false);
			if (sp && sp->full)
				return false;
		}
		if ((i & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!reader_next(&r, &key, &hash, i >= n ? NULL : sp ? scratch : w->in + (Size) i * stride))
			break;
		if (i >= n)
			funnel_invalid_state("The row count of an entity partition does not match its rows.");
		if (sp == NULL)
			w->row_ent[i] = number_entity(s, ht, w, key, hash, r.in_file);
		else if ((dst = sub_place_row(s, sp, w, stride, key, hash)) != NULL)
			copy_row(dst, scratch, stride);
		else if (sp->full)
			return false;
	}
	if (i != n)
		funnel_invalid_state("The row count of an entity partition does not match its rows.");
	if (scratch)
		pfree(scratch);
	return true;
}

/* Hand every entity of one partition its rows. */
static void
process_part(const EntityStore *s, const StorePart *part, EntityNumbers *ht,
			 PartWork *w, bool ordered, EntityStoreFn fn, void *arg)
{
	decode_part(s, part, ht, w, NULL);
	group_and_call(s, w, w->in, 8 + s->payload, w->out, part->nrows, ordered, fn, arg);
}

/* 2^bits sub-partitions for a partition of n rows (0: processed whole) */
static int
sub_partition_bits(uint64 n)
{
	int			bits = 0;

	while (bits < ESTORE_MAX_SUB_BITS && (n >> bits) > (uint64) funnel_sub_partition_rows)
		bits++;
	return bits;
}

/* room for a sub-partition's rows: a quarter more than its share, and a few */
#define ESTORE_SUB_SLACK	8

static inline uint64
sub_room_rows(uint64 n, int nsub)
{
	return n / nsub + n / (4 * (uint64) nsub) + ESTORE_SUB_SLACK;
}

/*
 * The rooms of all sub-partitions of a partition of up to n rows in 2^bits
 * or fewer sub-partitions, together
 */
static inline uint64
sub_rows_total(uint64 n, int bits)
{
	return n + n / 4 + ((uint64) ESTORE_SUB_SLACK << bits);
}

/*
 * A large partition (100M rows: 390,000 rows of 39,000 entities each) in
 * sub-partitions by the next bits of the hash, each about
 * funnel.debug_sub_partition_rows rows: numbering and grouping all of its
 * entities at once would miss the CPU's cache on most rows.  Each row is
 * decoded straight into its sub-partition's room in w->sub, its key after
 * it (sequential writes to a few places, one each); then each sub-partition
 * is numbered and grouped as a small partition.  A
 * sub-partition that outgrows its room (one entity with much of the
 * partition's rows, or keys whose hashes share their bits) makes the
 * partition be read twice more: once to count each sub-partition's rows,
 * once to put them in place.  Sub-partitions follow the order of the hash,
 * so an ordered walk hands the entities over in the same order.  By-value
 * keys only: a key read from the file lives in the read buffer, which a
 * later row overwrites.  Returns whether the rows were counted first.
 */
static bool
process_large_part(const EntityStore *s, const StorePart *part, EntityNumbers *ht,
				   PartWork *w, int sub_bits, bool ordered, EntityStoreFn fn, void *arg)
{
	Size		stride = 8 + s->payload;
	uint64		n = part->nrows;
	int			nsub = 1 << sub_bits;
	uint64		room = sub_room_rows(n, nsub);
	uint64		first[1 << ESTORE_MAX_SUB_BITS];
	SubPlace	sp;
	const char *rows;
	uint64		i,
				from;
	bool		counted = false;
	int			b;

	Assert(s->typbyval && sub_bits <= ESTORE_MAX_SUB_BITS);
	sp.shift = 32 - s->part_bits - sub_bits;
	sp.nsub = nsub;
	sp.count_only = false;
	sp.full = false;
	Assert(sp.shift >= 0);
	for (b = 0; b < nsub; b++)
	{
		first[b] = sp.next[b] = (uint64) b * room;
		sp.end[b] = (uint64) (b + 1) * room;
	}
	if (!decode_part(s, part, ht, w, &sp))
	{
		counted = true;
		memset(sp.next, 0, sizeof(sp.next));
		sp.count_only = true;
		sp.full = false;
		decode_part(s, part, ht, w, &sp);
		from = 0;
		for (b = 0; b < nsub; b++)
		{
			first[b] = from;
			from += sp.next[b];
			sp.next[b] = first[b];
			sp.end[b] = from;
		}
		sp.count_only = false;
		if (!decode_part(s, part, ht, w, &sp))
			elog(ERROR, "funnel entity store: a partition's rows differ between two readings");
	}

	/* each sub-partition: number its entities, group its rows into in */
	for (b = 0; b < nsub; b++)
	{
		uint64		m = sp.next[b] - first[b];

		if (m == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		numbers_reset(ht);
		w->nent = 0;
		rows = w->sub + (Size) first[b] * w->sub_stride;
		for (i = 0; i < m; i++)
		{
			const char *rec = rows + (Size) i * w->sub_stride;
			Datum		key;
			uint32		hash;

			if ((i & 0xFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			memcpy(&key, rec + stride, sizeof(Datum));
			if (estore_fast(s))
				hash = estore_fast_hash(s, key);
			else
				memcpy(&hash, rec + stride + sizeof(Datum), sizeof(uint32));
			w->row_ent[i] = number_entity(s, ht, w, key, hash, false);
		}
		group_and_call(s, w, rows, w->sub_stride, w->in, m, ordered, fn, arg);
	}
	return counted;
}

/*
 * Call fn for every entity with its rows, one partition at a time.  Reads
 * the store only (final functions may run as window functions); what it
 * allocates is freed at the end.  ordered: the entities in the order of
 * their hash, then of their key's bytes, which does not depend on the order
 * the rows arrived in (so sums of floating-point numbers over the entities
 * are the same in every plan); otherwise in no particular order.
 */
static void
foreach_entity(EntityStore *s, bool ordered, EntityStoreFn fn, void *arg)
{
	MemoryContext walk_cxt = AllocSetContextCreate(CurrentMemoryContext,
												   "funnel entity partition",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(walk_cxt);
	Size		stride = 8 + s->payload;
	uint64		maxn = 0;
	EntityNumbers numbers;
	EntityNumbers *ht = NULL;
	PartWork	w;
	int			p;
	int			sub_bits;
	int			nsubbed = 0;
	int			ncounted = 0;
	bool		sub_room;
	uint64		sub_rows;
	Size		sub_bytes;

	estore_sync(s);
	for (p = 0; p < s->nparts; p++)
		maxn = Max(maxn, s->parts[p].nrows);
	if (maxn == 0)
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(walk_cxt);
		return;
	}
	memset(&w, 0, sizeof(w));
	w.held = s->mem + s->extra;
	if (maxn > (uint64) PG_INT32_MAX * 2 || maxn > MaxAllocHugeSize / (2 * stride + sizeof(uint32)))
		funnel_check_memory(MaxAllocHugeSize);
	work_account(&w, maxn * (sizeof(uint32) + 2 * stride));

	/*
	 * Large partitions in sub-partitions (by-value keys only: see
	 * process_large_part) if the rooms of their sub-partitions in out and
	 * their keys and hashes fit with room to spare (ESTORE_SUB_RESERVE
	 * bytes a row of the largest partition) for what numbering and the
	 * walks allocate: under a tight limit the keys would take the room of a
	 * walk, and the partitions are processed whole
	 */
	sub_bits = s->typbyval ? sub_partition_bits(maxn) : 0;
	w.sub_stride = stride + (estore_fast(s) ? sizeof(Datum) : sizeof(Datum) + 8);
	sub_rows = sub_rows_total(maxn, sub_bits);
	sub_bytes = sub_rows * w.sub_stride;
	sub_room = sub_bits > 0 &&
		(w.held + sub_bytes + maxn * ESTORE_SUB_RESERVE) / 1024 <= (Size) funnel_max_state_memory_kb;
	w.row_ent = (uint32 *) funnel_alloc_huge_pages(walk_cxt, maxn * sizeof(uint32));
	w.in = funnel_alloc_huge_pages(walk_cxt, maxn * stride);
	w.out = funnel_alloc_huge_pages(walk_cxt, maxn * stride);
	if (sub_room)
	{
		work_account(&w, sub_bytes);
		w.sub = funnel_alloc_huge_pages(walk_cxt, sub_rows * w.sub_stride);
	}
	w.cxt = walk_cxt;
	w.part_cxt = AllocSetContextCreate(walk_cxt, "funnel entity partition work",
									   ALLOCSET_DEFAULT_SIZES);

	for (p = 0; p < s->nparts; p++)
	{
		if (s->parts[p].nrows == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (ht == NULL)
		{
			/* partitions hold about as many entities each: one table for all */
			ht = &numbers;
			numbers_init(ht, walk_cxt, &w, Min(s->parts[p].nrows, 1024));
		}
		else
			numbers_reset(ht);
		MemoryContextReset(w.part_cxt);
		w.held -= w.key_bytes;
		w.key_bytes = 0;
		sub_bits = sub_room ? sub_partition_bits(s->parts[p].nrows) : 0;
		MemoryContextSwitchTo(w.part_cxt);
		if (sub_bits > 0)
		{
			nsubbed++;
			if (process_large_part(s, &s->parts[p], ht, &w, sub_bits, ordered, fn, arg))
				ncounted++;
		}
		else
			process_part(s, &s->parts[p], ht, &w, ordered, fn, arg);
		MemoryContextSwitchTo(walk_cxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(walk_cxt);
	if (nsubbed > 0)
		ereport(DEBUG1,
				(errmsg_internal("funnel entity store: %d partitions of up to %llu rows processed in sub-partitions, %d of them counted first",
								 nsubbed, (unsigned long long) maxn, ncounted)));
	if (s->nspills > 0)
		ereport(DEBUG1,
				(errmsg_internal("funnel entity store: %llu rows in %d partitions, %llu kB read back from a temporary file written %llu times",
								 (unsigned long long) s->nrows, s->nparts,
								 (unsigned long long) (s->spilled_bytes / 1024),
								 (unsigned long long) s->nspills)));
}

void
estore_foreach(EntityStore *s, EntityStoreFn fn, void *arg)
{
	foreach_entity(s, false, fn, arg);
}

void
estore_foreach_ordered(EntityStore *s, EntityStoreFn fn, void *arg)
{
	foreach_entity(s, true, fn, arg);
}
/* ---------- combining ---------- */

/* Copy a segment of b's file to the end of a's file (a can spill). */
static void
copy_file_seg(EntityStore *a, const EntityStore *b, const StoreSeg *src,
			  StoreSeg *dst)
{
	char	   *buf = palloc(ESTORE_READ_BUF);
	Size		left = src->len;
	int			fileno = src->fileno;
	off_t		offset = src->offset;

	estore_open_file(a);
	BufFileTell(a->file, &dst->fileno, &dst->offset);
	dst->data = NULL;
	dst->len = src->len;
	while (left > 0)
	{
		Size		n = Min(left, ESTORE_READ_BUF);

		CHECK_FOR_INTERRUPTS();
		estore_seek(b->file, fileno, offset, SEEK_SET);
		estore_read(b->file, buf, n);
		BufFileTell(b->file, &fileno, &offset);
		estore_open_file(a);
		BufFileWrite(a->file, buf, n);
		estore_file_written(a);
		left -= n;
	}
	a->spilled_bytes += src->len;
	pfree(buf);
}

/*
 * A deserialised store whose rows a parallel worker left in shared memory,
 * after a merge that copied them (estore_merge_map): they are freed.
 */
static void
release_borrowed(EntityStore *b)
{
	if (b->borrowed_area != NULL)
	{
		dsa_free(b->borrowed_area, (dsa_pointer) b->borrowed);
		b->borrowed_area = NULL;
		memset(b->parts, 0, sizeof(StorePart) * b->nparts);
		b->nrows = 0;
		b->mem = 0;
	}
}

static void merge_rows(EntityStore *a, EntityStore *b);

/*
 * Append b's rows to a's, partition by partition: no entity is looked at.
 * The rows of a deserialised b (transient, nobody else's) are taken over,
 * and so are those a parallel worker left in shared memory: a holds them
 * until its rows are freed (estore_reset_rows, its Agg node's shutdown
 * callback), which frees them too if their Gather still runs (no page of
 * its own to fault in for them).  Other states' rows are copied, since
 * their memory belongs to another aggregation.
 */
void
estore_merge(EntityStore *a, EntityStore *b)
{
	merge_rows(a, b);
	release_borrowed(b);
}

static void
merge_rows(EntityStore *a, EntityStore *b)
{
	int			p,
				i;

	if (a->typid != b->typid || a->payload != b->payload || a->payload_mask != b->payload_mask)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot merge funnel states of entity types %s and %s",
						format_type_be(a->typid), format_type_be(b->typid))));
	estore_sync(b);
	if (b->nparts == 1)
	{
		/* a few rows (a deserialised store has every partition): appended */
		append_rows(a, b, b->parts, b->part_bits, b->nparts, NULL, NULL);
		return;
	}
	if (a->nparts == 1)
		estore_split(a);
	estore_sync(a);
	for (p = 0; p < ESTORE_NPARTS; p++)
	{
		StorePart  *pa = &a->parts[p];
		StorePart  *pb = &b->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < pb->nsegs; i++)
		{
			StoreSeg	src = pb->segs[i];
			StoreSeg   *dst;

			if (src.len == 0)
				continue;
			if (src.data == NULL)
			{
				StoreSeg	copy;

				if (a->can_spill)
					copy_file_seg(a, b, &src, &copy);
				else
				{
					/* no file of our own: read the rows into memory */
					estore_reserve(a, src.len);
					copy.data = estore_seg_alloc(a, src.len);
					copy.len = src.len;
					estore_seek(b->file, src.fileno, src.offset, SEEK_SET);
					estore_read(b->file, copy.data, src.len);
				}
				*estore_new_seg(a, pa) = copy;
			}
			else if (b->transient || b->borrowed_area != NULL)
			{
				estore_reserve(a, src.len);
				dst = estore_new_seg(a, pa);
				*dst = src;
			}
			else
			{
				char	   *data;

				estore_reserve(a, src.len);
				data = estore_seg_alloc(a, src.len);
				memcpy(data, src.data, src.len);
				dst = estore_new_seg(a, pa);
				dst->data = data;
				dst->len = src.len;
			}
			estore_close(a, p);	/* new rows go to a segment of a's own */
		}
		pa->nrows += pb->nrows;
	}
	a->nrows += b->nrows;
	if (b->borrowed_area != NULL)
	{
		if (a->nheld == a->heldcap)
		{
			a->heldcap = Max(8, a->heldcap * 2);
			if (a->held == NULL)
				a->held = MemoryContextAlloc(a->cxt, a->heldcap * sizeof(HeldRows));
			else
				a->held = repalloc(a->held, a->heldcap * sizeof(HeldRows));
		}
		a->held[a->nheld].area = b->borrowed_area;
		a->held[a->nheld].handle = dsa_get_handle(b->borrowed_area);
		a->held[a->nheld].rows = (dsa_pointer) b->borrowed;
		a->nheld++;
		b->borrowed_area = NULL;
		memset(b->parts, 0, sizeof(StorePart) * b->nparts);
		b->nrows = 0;
		b->mem = 0;
	}
	if (b->transient)
	{
		/* b's rows in memory now belong to a: free them with a's */
		MemoryContextSetParent(b->rows_cxt, a->rows_cxt);
		b->rows_cxt = NULL;
		b->arena_cur = b->arena_end = NULL;
		b->nblocks = b->next_block = 0;
		memset(b->parts, 0, sizeof(StorePart) * b->nparts);
		memset(b->cursor, 0, sizeof(StoreCursor) * b->nparts);
		b->nrows = 0;
		b->mem = 0;
		/* its spilled rows are in a's file now */
		if (b->file != NULL)
		{
			BufFileClose(b->file);
			b->file = NULL;
		}
	}
	if (a->mem + a->extra > estore_row_limit() && a->can_spill)
		estore_spill(a);
}

/*
 * Append b's rows to a's like estore_merge, each row's payload passed
 * through map on the way (e.g. ids renumbered into a's): no entity looked
 * at.  A deserialised b's aligned rows in memory are mapped in place and
 * taken over; otherwise each row is decoded, mapped and appended to a (one
 * linear pass), and a deserialised b's rows freed afterwards.
 */
void
estore_merge_map(EntityStore *a, EntityStore *b, EntityPayloadFn map, void *arg)
{
	int			p;

	if (map == NULL)
	{
		estore_merge(a, b);
		return;
	}
	if (a->typid != b->typid || a->payload != b->payload || a->payload_mask != b->payload_mask)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot merge funnel states of entity types %s and %s",
						format_type_be(a->typid), format_type_be(b->typid))));
	estore_sync(b);
	if (!estore_fast(b) && b->transient && b->file == NULL)
	{
		/* a worker's aligned rows, in memory and nobody else's: map them in place */
		for (p = 0; p < b->nparts; p++)
		{
			int			i;

			CHECK_FOR_INTERRUPTS();
			for (i = 0; i < b->parts[p].nsegs; i++)
			{
				StoreSeg   *seg = &b->parts[p].segs[i];
				Size		pos = 0;

				while (pos < seg->len)
				{
					char	   *arow = seg->data + pos;

					map(*(const int64 *) (arow + 8), arow + 16, arg);
					pos += estore_row_size(b, arow);
				}
			}
		}
		estore_merge(a, b);
		return;
	}
	append_rows(a, b, b->parts, b->part_bits, b->nparts, map, arg);
	release_borrowed(b);
	if (b->transient && b->rows_cxt != NULL)
	{
		/* nobody else reads a deserialised state: free its rows now */
		estore_reset_rows(b, false);
		memset(b->parts, 0, sizeof(StorePart) * b->nparts);
		memset(b->cursor, 0, sizeof(StoreCursor) * b->nparts);
		b->nrows = 0;
		b->mem = 0;
	}
}

/* ---------- serialisation ---------- */

/*
 * A store whose rows are no longer needed: a parallel worker's once they
 * are in shared memory (its partial aggregate serialises it once, at the
 * end of its group, and never reads it again), or one walked where it was
 * made.  Freeing the rows at once lets the process's next partial
 * aggregate (a partitionwise plan runs one per partition) reuse the memory
 * instead of faulting in fresh pages.  (Elsewhere a state may be
 * serialised and read again, as the fuzz module's checks do.)
 */
void
estore_spent(EntityStore *s)
{
	int			p;

	if (s->rows_cxt == NULL)
		return;
	estore_reset_rows(s, false);
	for (p = 0; p < s->nparts; p++)
	{
		s->parts[p].nsegs = 0;
		s->parts[p].nrows = 0;
		estore_close(s, p);
	}
	s->nrows = 0;
	s->mem = 0;
}

/*
 * Header (magic, entity type, collation, payload size, rows), every
 * partition's row and byte counts, then the partitions' rows as stored, one
 * after another: a deserialise copies them in one piece.
 */
void
estore_serialize(EntityStore *s, StringInfo buf)
{
	Size		total = 0;
	dsa_pointer shared = InvalidDsaPointer;
	char	   *to;
	int			p,
				i;

	/* the serialised form always has ESTORE_NPARTS partitions */
	if (s->nparts == 1)
		estore_split(s);
	estore_sync(s);
	for (p = 0; p < ESTORE_NPARTS; p++)
		for (i = 0; i < s->parts[p].nsegs; i++)
			total += s->parts[p].segs[i].len;
	if (total > MaxAllocSize - buf->len - ESTORE_NPARTS * 16 - 64)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("funnel entity rows of a parallel worker exceed 1 GB"),
				 errhint("Hash-partition the table by the entity and use partitionwise aggregation, "
						 "or disable parallel query for this aggregate.")));

	/* a parallel worker's rows go through shared memory (see the top) */
	if (s->query_area != NULL && total >= ESTORE_SHARED_MIN)
		shared = dsa_allocate_extended(s->query_area, total, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM);
	enlargeStringInfo(buf, (DsaPointerIsValid(shared) ? 0 : total) + ESTORE_NPARTS * 16 + 64);
	pq_sendint32(buf, ESTORE_MAGIC);
	pq_sendint32(buf, s->typid);
	pq_sendint32(buf, s->collation);
	pq_sendint32(buf, (int32) (s->payload | (s->payload_mask ? ESTORE_PAYLOAD_MASK : 0)));
	pq_sendint64(buf, (int64) s->nrows);
	if (DsaPointerIsValid(shared))
	{
		pq_sendbyte(buf, 1);
		pq_sendint32(buf, (int32) dsa_get_handle(s->query_area));
		pq_sendint64(buf, (int64) shared);
		pq_sendint64(buf, (int64) total);
	}
	else
		pq_sendbyte(buf, 0);
	for (p = 0; p < ESTORE_NPARTS; p++)
	{
		StorePart  *part = &s->parts[p];
		Size		bytes = 0;

		for (i = 0; i < part->nsegs; i++)
			bytes += part->segs[i].len;
		pq_sendint64(buf, (int64) part->nrows);
		pq_sendint64(buf, (int64) bytes);
	}
	if (DsaPointerIsValid(shared))
	{
		to = dsa_get_address(s->query_area, shared);
		funnel_prefault(to, total, true);
	}
	else
	{
		to = buf->data + buf->len;
		/* the rows are copied into memory not touched yet */
		funnel_advise_huge_pages(to, buf->maxlen - buf->len);
		buf->len += total;
	}
	for (p = 0; p < ESTORE_NPARTS; p++)
	{
		StorePart  *part = &s->parts[p];

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < part->nsegs; i++)
		{
			StoreSeg   *seg = &part->segs[i];

			if (seg->data != NULL)
				memcpy(to, seg->data, seg->len);
			else if (seg->len > 0)
			{
				estore_seek(s->file, seg->fileno, seg->offset, SEEK_SET);
				estore_read(s->file, to, seg->len);
			}
			to += seg->len;
		}
	}
	buf->data[buf->len] = '\0';
	if (DsaPointerIsValid(shared))
		estore_spent(s);
}

/* Every aligned row of a partition read from outside: lengths, keys and partition. */
static void
check_part_rows(const EntityStore *s, int p, char *data, Size len, uint64 nrows,
				EntityPayloadFn check, void *arg)
{
	Size		pos = 0;
	uint64		n = 0;

	while (pos < len)
	{
		const char *row = data + pos;
		Size		size;
		uint32		hash;
		Datum		key;
		uint32		keylen;
		const char *k = row + 16 + s->payload;

		if ((n & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (len - pos < 16)
			funnel_invalid_state("An entity row of the state is cut short.");
		keylen = *(const uint32 *) (row + 4);
		size = estore_row_size(s, row);
		if (size > len - pos)
			funnel_invalid_state("An entity row of the state is longer than the data.");
		if (s->kind == ESTORE_KEY_BYVAL ? keylen != sizeof(Datum) :
			s->typlen > 0 ? keylen != (uint32) s->typlen :
			s->typlen == -1 ? (keylen < 1 || keylen != VARSIZE_ANY(k) ||
							   VARATT_IS_EXTERNAL(k) || VARATT_IS_COMPRESSED(k)) :
			(keylen < 1 || memchr(k, '\0', keylen) != k + keylen - 1))
			funnel_invalid_state("An entity key of the state has a wrong length.");
		key = s->kind == ESTORE_KEY_BYVAL ? *(const Datum *) k : PointerGetDatum(k);
		hash = estore_hash(s, key);
		if (estore_part_of(s, hash) != p || hash != *(const uint32 *) row)
			funnel_invalid_state("An entity row of the state is in the wrong partition.");
		if (check != NULL)
			check(*(const int64 *) (row + 8), (char *) row + 16, arg);
		pos += size;
		n++;
	}
	if (n != nrows)
		funnel_invalid_state("The row count of an entity partition does not match its rows.");
}

/*
 * Compact rows read from outside, when their payload needs checking (their
 * structure and partition are checked whenever they are read).
 */
static void
check_compact_rows(const EntityStore *s, int p, const char *data, Size len,
				   uint64 nrows, EntityPayloadFn check, void *arg)
{
	const char *pos = data;
	const char *end = data + len;
	char	   *row = palloc(8 + s->payload);
	int64		prev_ts = 0;
	uint64		n = 0;

	while (pos < end)
	{
		Datum		key;
		uint32		hash;
		int64		ts;

		if ((n & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		pos = compact_get(s, s->part_bits, p, pos, end, &prev_ts, &key, &hash, row);
		memcpy(&ts, row, sizeof(int64));
		check(ts, row + 8, arg);
		n++;
	}
	if (n != nrows)
		funnel_invalid_state("The row count of an entity partition does not match its rows.");
	pfree(row);
}

/*
 * Whether the bytes this deserialise reads came from its own serialise: the
 * aggregate it serves must pair it with the serialise function of the same
 * name in the same library (X_serialize with X_deserialize).  Only then is
 * a pointer into shared memory in them one a worker of this query wrote;
 * an aggregate a user declared with another serialise could hand it bytes
 * that only look like one.
 */
static bool
from_own_serialize(FunctionCallInfo fcinfo)
{
	AggState   *aggstate = (AggState *) fcinfo->context;
	Aggref	   *aggref = NULL;
	HeapTuple	tup;
	Oid			serialfn;
	char	   *mine,
			   *theirs,
			   *at;
	int			i;

	for (i = 0; i < aggstate->numtrans; i++)
		if (fcinfo->flinfo == &aggstate->pertrans[i].deserialfn)
			aggref = aggstate->pertrans[i].aggref;
	if (aggref == NULL)
		return false;
	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tup))
		return false;
	serialfn = ((Form_pg_aggregate) GETSTRUCT(tup))->aggserialfn;
	ReleaseSysCache(tup);
	mine = funnel_c_symbol(fcinfo->flinfo->fn_oid);
	theirs = funnel_c_symbol(serialfn);
	if (mine == NULL || theirs == NULL || (at = strstr(mine, "_deserialize ")) == NULL)
		return false;
	/* "X_deserialize lib" -> "X_serialize lib" */
	memmove(at + 1, at + 3, strlen(at + 3) + 1);
	return strcmp(mine, theirs) == 0;
}

/*
 * A store read back from estore_serialize's bytes: the rows copied in one
 * piece, owned by the store, which a combine may take over.  Aligned rows
 * are checked here (their type's functions read their keys in place), and
 * compact rows here if check is given; compact rows are otherwise checked
 * as they are read (bounds, key range, partition, count), so a combine does
 * no per-row work.
 */
EntityStore *
estore_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, StringInfo buf,
				   Size payload, EntityPayloadFn check, void *arg)
{
	EntityStore *s;
	Oid			typid,
				collation;
	uint64		nrows,
				total_rows = 0;
	uint64		pn[ESTORE_NPARTS];
	uint64		bytes[ESTORE_NPARTS];
	uint64		total = 0;
	Size		min_row;
	char	   *block = NULL;
	dsa_area   *area = NULL;
	dsa_pointer shared = InvalidDsaPointer;
	uint64		avail = 0;
	int			where;
	const char *rows;
	int			p;

	if ((uint32) pq_getmsgint(buf, 4) != ESTORE_MAGIC)
		funnel_invalid_state("The state does not hold entity rows.");
	typid = pq_getmsgint(buf, 4);
	collation = pq_getmsgint(buf, 4);
	if ((Size) pq_getmsgint(buf, 4) != payload)
		funnel_invalid_state("The entity rows of the state have the wrong size.");
	nrows = (uint64) pq_getmsgint64(buf);
	where = pq_getmsgbyte(buf);
	if (where != 0 && where != 1)
		funnel_invalid_state("The state does not say where its entity rows are.");
	if (where == 1)
	{
		/* a parallel worker's rows in the query's shared memory */
		AreaSearch	search;

		search.handle = (dsa_handle) pq_getmsgint(buf, 4);
		search.area = NULL;
		shared = (dsa_pointer) pq_getmsgint64(buf);
		avail = (uint64) pq_getmsgint64(buf);
		if (fcinfo == NULL || fcinfo->context == NULL || !IsA(fcinfo->context, AggState) ||
			!from_own_serialize(fcinfo) ||
			!find_query_area((PlanState *) fcinfo->context, &search) ||
			!DsaPointerIsValid(shared) || avail == 0)
			funnel_invalid_state("The state refers to shared memory of a parallel query that is not running.");
		area = search.area;
		rows = dsa_get_address(area, shared);
		funnel_prefault((void *) rows, avail, false);
		ereport(DEBUG1,
				(errmsg_internal("funnel entity store: reading %llu kB of rows a parallel worker left in shared memory",
								 (unsigned long long) (avail / 1024))));
	}
	else
		rows = NULL;			/* after the partitions */
	if (!OidIsValid(typid) || get_typtype(typid) == '\0')
		funnel_invalid_state("The state names an entity type that does not exist.");
	if (OidIsValid(collation) && !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		funnel_invalid_state("The state names a collation that does not exist.");
	s = estore_create(fcinfo, cxt, typid, collation, payload);
	estore_make_large(s);
	s->transient = true;
	min_row = estore_fast(s) ? compact_min_row(s) : 16 + s->payload + 8;
	for (p = 0; p < ESTORE_NPARTS; p++)
	{
		pn[p] = (uint64) pq_getmsgint64(buf);
		bytes[p] = (uint64) pq_getmsgint64(buf);
		if (bytes[p] > (rows != NULL ? avail : (uint64) (buf->len - buf->cursor)) ||
			pn[p] > bytes[p] / min_row ||
			(!estore_fast(s) && bytes[p] % 8 != 0))
			funnel_invalid_state("An entity partition of the state is longer than the data.");
		if (bytes[p] > 0 && pn[p] == 0)
			funnel_invalid_state("The row count of an entity partition does not match its rows.");
		total += bytes[p];
		total_rows += pn[p];
	}
	if (rows == NULL)
	{
		rows = buf->data + buf->cursor;
		if (total > (uint64) (buf->len - buf->cursor))
			funnel_invalid_state("The entity partitions of the state are longer than the data.");
		buf->cursor += total;
	}
	else if (total != avail)
		funnel_invalid_state("The entity partitions of the state are longer than the data.");
	if (total_rows != nrows)
		funnel_invalid_state("The row count of the state does not match its partitions.");
	if (total > 0 && s->can_spill && total + s->extra > estore_row_limit())
	{
		/*
		 * More rows than the limit lets a store hold in memory (a parallel
		 * worker's rows, which it could spill but not send in pieces): they
		 * go straight to the store's file, partition by partition.
		 */
		const char *from = rows;
		uint64		written = 0;

		estore_open_file(s);
		for (p = 0; p < ESTORE_NPARTS; p++)
		{
			StoreSeg   *seg;

			CHECK_FOR_INTERRUPTS();
			if (bytes[p] == 0)
				continue;
			if (!estore_fast(s) || check != NULL)
			{
				/* checked in an aligned copy: keys are read in place */
				char	   *copy = MemoryContextAllocHuge(s->cxt, bytes[p]);

				memcpy(copy, from, bytes[p]);
				if (!estore_fast(s))
					check_part_rows(s, p, copy, bytes[p], pn[p], check, arg);
				else
					check_compact_rows(s, p, copy, bytes[p], pn[p], check, arg);
				pfree(copy);
			}
			seg = estore_new_seg(s, &s->parts[p]);
			seg->data = NULL;
			seg->len = bytes[p];
			BufFileTell(s->file, &seg->fileno, &seg->offset);
			BufFileWrite(s->file, (void *) from, bytes[p]);
			from += bytes[p];
			written += bytes[p];
			s->parts[p].nrows = pn[p];
		}
		estore_file_written(s);
		if (area != NULL)
			dsa_free(area, shared);
		s->nrows = nrows;
		s->nspills++;
		s->spilled_bytes += written;
		ereport(DEBUG1,
				(errmsg_internal("funnel entity store: wrote %llu kB of rows received from a parallel worker to a temporary file (%llu rows)",
								 (unsigned long long) (written / 1024),
								 (unsigned long long) nrows)));
		return s;
	}
	if (total > 0 && area != NULL)
	{
		/*
		 * read in place, and copied once by the combine that merges them
		 * (into its large blocks: no page fault per 4 kB of a small state)
		 */
		estore_reserve(s, total);
		block = (char *) rows;
		s->transient = false;
		s->borrowed_area = area;
		s->borrowed = (uint64) shared;
	}
	else if (total > 0)
	{
		/* one copy (aligned: keys are read in place) */
		estore_reserve(s, total);
		block = estore_seg_alloc(s, total);
		memcpy(block, rows, total);
	}
	for (p = 0; p < ESTORE_NPARTS; p++)
	{
		StorePart  *part = &s->parts[p];

		if (bytes[p] > 0)
		{
			StoreSeg   *seg = estore_new_seg(s, part);

			seg->data = block;
			seg->len = bytes[p];
			if (!estore_fast(s))
				check_part_rows(s, p, block, bytes[p], pn[p], check, arg);
			else if (check != NULL)
				check_compact_rows(s, p, block, bytes[p], pn[p], check, arg);
			block += bytes[p];
		}
		part->nrows = pn[p];
	}
	s->nrows = nrows;
	return s;
}
