/*
 * src/engine/entity_store.h
 *    The one per-entity store behind the whole-table aggregates (see
 *    engine/entity_store.c): rows appended by the hash of their entity into
 *    partitions, spilled to a temporary file past a memory limit, and
 *    handed back one entity at a time, one partition at a time.
 */
#ifndef FUNNEL_ENTITY_STORE_H
#define FUNNEL_ENTITY_STORE_H

#include "postgres.h"

#include "common/hashfn.h"
#include "common/varint.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "port/pg_bitutils.h"
#include "port/pg_bswap.h"
#include "storage/buffile.h"

/*
 * partitions of a store: a power of two, the top bits of the entity hash.
 * A store starts with one partition and splits into ESTORE_NPARTS when it
 * holds ESTORE_SMALL_ROWS rows, so that a store per group (GROUP BY
 * user_id) costs a few hundred bytes, not one buffer per partition.
 */
#define ESTORE_PART_BITS	8
#define ESTORE_NPARTS		(1 << ESTORE_PART_BITS)
#define ESTORE_SMALL_ROWS	256
/* the most payload bytes a row may carry */
#define ESTORE_MAX_PAYLOAD	64
/*
 * Or'd into a payload size: the payload's first 8 bytes are one uint64 of
 * bits (a funnel row's steps), stored as one varint (a byte for up to 7
 * steps) instead of two int32 words.
 */
#define ESTORE_PAYLOAD_MASK	((Size) 1 << 16)

typedef enum EntityKeyKind
{
	ESTORE_KEY_INT8,			/* bigint: compared as Datums */
	ESTORE_KEY_INT4,			/* integer: compared as Datums */
	ESTORE_KEY_BYVAL,			/* other by-value types: the type's hash opclass */
	ESTORE_KEY_BYREF			/* by-reference types: the type's hash opclass */
} EntityKeyKind;

/* A run of rows of one partition: in memory, or in the store's file. */
typedef struct StoreSeg
{
	char	   *data;			/* rows in memory; NULL: in the file */
	Size		len;			/* bytes of rows */
	int			fileno;			/* file position, when in the file */
	off_t		offset;
} StoreSeg;

typedef struct StorePart
{
	StoreSeg   *segs;
	int			nsegs;
	int			segcap;
	Size		last_cap;		/* size of the last memory segment allocated */
	uint64		nrows;
} StorePart;

/*
 * The open segment of one partition: where its next row goes.  Kept apart
 * from the partitions, one per half cache line, so that an append touches
 * this and the row itself.
 */
typedef struct StoreCursor
{
	char	   *cur;			/* where the next row goes; NULL: none open */
	char	   *end;			/* end of the open segment */
	int64		prev_ts;		/* compact rows: the time of the row before */
	bool		restart;		/* compact rows: the next row opens its
								 * segment and carries its time whole */
} StoreCursor;

typedef struct EntityStore
{
	MemoryContext cxt;			/* the store and its partition arrays */
	MemoryContext rows_cxt;		/* rows in memory; reset when they spill.
								 * NULL while the store has one partition:
								 * its few rows are in cxt (no context per
								 * group, which hash aggregation would walk
								 * to count its memory) */
	/* the entity type */
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	EntityKeyKind kind;
	FmgrInfo   *hash_fn;
	FmgrInfo   *eq_fn;
	/* rows: entity, time, payload (layouts in the .c) */
	Size		payload;		/* bytes of payload per row, a multiple of 8 */
	bool		payload_mask;	/* its first 8 bytes are bits (ESTORE_PAYLOAD_MASK) */
	bool		steps_only;		/* a bigint or integer key and 8 bytes of bits
								 * alone: a funnel's rows (estore_add_steps) */
	uint64		nrows;
	Size		mem;			/* bytes of rows held in memory */
	Size		extra;			/* bytes the store's owner holds beside it */
	bool		can_spill;		/* a shutdown callback closes the file */
	bool		transient;		/* deserialised: a combine may take its rows */
	struct dsa_area *query_area;	/* a parallel worker's: rows it serialises
									 * go through the query's shared memory */
	struct dsa_area *borrowed_area; /* a leader's deserialised store: its rows */
	uint64		borrowed;		/* are this dsa_pointer's, which a merge
								 * takes over */
	struct PlanState *agg;		/* the Agg node of the store, if any */
	struct HeldRows *held;		/* workers' rows in shared memory that merges */
	int			nheld;			/* took over: freed with the store's rows */
	int			heldcap;
	BufFile    *file;			/* spilled rows, created on the first spill */
	int			end_fileno;		/* where the file ends (BufFileSeek's SEEK_END */
	off_t		end_offset;		/* does not count its unflushed buffer) */
	uint64		nspills;
	uint64		spilled_bytes;
	/* partitions: 1 (part_bits 0) until the store splits, then ESTORE_NPARTS */
	int			part_bits;
	int			nparts;
	/* the open segment of each partition (its len: see estore_sync) */
	StoreCursor *cursor;
	StorePart  *parts;
	/* where memory segments of rows_cxt are cut from (estore_seg_alloc) */
	char	   *arena_cur;
	char	   *arena_end;
	Size		arena_next;		/* size of the next block */
	/* the blocks, kept for the rows that come after a spill */
	char	  **blocks;
	Size	   *block_sizes;
	int			nblocks;
	int			blockcap;
	int			next_block;		/* the next kept block to cut from */
} EntityStore;

/*
 * One entity's rows, in the order they were added: nrows rows of
 * 8 + payload bytes each, an int64 time then the payload, in a scratch copy
 * the callback may reorder (valid until it returns).  held is what the
 * store and its walk hold, for the caller to add what it allocates and check
 * it against funnel.max_state_memory.
 */
typedef void (*EntityStoreFn) (Datum key, char *rows, int64 nrows,
							   Size held, void *arg);

/*
 * Called with the time and payload of one stored row: to check a row read
 * from outside (it reports a corrupt state itself) or to rewrite the
 * payload of a row copied by estore_merge_map.
 */
typedef void (*EntityPayloadFn) (int64 ts, char *payload, void *arg);

/* ---------- the short form of compact rows (see entity_store.c) ---------- */

/* an integer key as the partitions see it: a bigint, or an integer's 32 bits */
static inline uint64
estore_key_bits(const EntityStore *s, Datum key)
{
	if (s->kind == ESTORE_KEY_INT8)
		return (uint64) DatumGetInt64(key);
	return (uint64) (uint32) DatumGetInt32(key);
}

/*
 * An integer key v in the store: its partition (of ESTORE_NPARTS) is its low
 * byte plus the top byte of the product of its other bits, v >> 8, with a
 * 64-bit odd constant (Fibonacci hashing), so that v >> 8 and the partition
 * give v back: a short row stores only v >> 8, a byte less for most keys.
 * Consecutive ids spread evenly; ids that share their low byte (multiples
 * of 256) spread by the product.  Within a partition v >> 8 tells keys apart,
 * so the hash's other bits (sub-partitions, numbering) are the product's
 * next 24 bits: one multiplication a row, when a row is written and read.
 */
static inline uint64
estore_key_product(uint64 high)
{
	/*
	 * a product mixes bits upward only: the high half folded in first, so
	 * that keys that are all multiples of a large power of two (2^41 and
	 * up) still differ in the numbering's low bits
	 */
	return (high ^ (high >> 32)) * UINT64CONST(0x9E3779B97F4A7C15);
}

/* what the product adds to the low byte: its top ESTORE_PART_BITS bits */
static inline uint32
estore_key_product_part(uint64 product)
{
	return (uint32) (product >> (64 - ESTORE_PART_BITS));
}

static inline uint32
estore_key_part(uint64 v)
{
	return ((uint32) v + estore_key_product_part(estore_key_product(v >> ESTORE_PART_BITS))) &
		(ESTORE_NPARTS - 1);
}

/* the hash of the key whose bits above its low byte give product, in partition part */
static inline uint32
estore_key_hash(uint64 product, uint32 part)
{
	return part << (32 - ESTORE_PART_BITS) |
		((uint32) (product >> 32) & (PG_UINT32_MAX >> ESTORE_PART_BITS));
}

/*
 * The key of a short row of partition part of ESTORE_NPARTS whose stored
 * bits are stored (v >> 8), and its hash.
 */
static inline uint64
estore_key_in_part(uint64 stored, int part, uint32 *hash)
{
	uint64		product = estore_key_product(stored);

	*hash = estore_key_hash(product, (uint32) part);
	return stored << ESTORE_PART_BITS |
		(((uint32) part - estore_key_product_part(product)) & (ESTORE_NPARTS - 1));
}

/* The hash of an integer key's bits v: its partition in the top ESTORE_PART_BITS bits. */
static inline uint32
estore_key_bits_hash(uint64 v)
{
	uint64		product = estore_key_product(v >> ESTORE_PART_BITS);

	return estore_key_hash(product,
						   ((uint32) v + estore_key_product_part(product)) & (ESTORE_NPARTS - 1));
}

static inline uint32
estore_fast_hash(const EntityStore *s, Datum key)
{
	return estore_key_bits_hash(estore_key_bits(s, key));
}

/* bytes of v's little-endian form without its leading zero bytes (1-4) */
static inline int
field_bytes(uint32 v)
{
	return (pg_leftmost_one_pos32(v | 1) >> 3) + 1;
}

/* 4 bytes little-endian at p (a field of fewer bytes: the rest are the next field's) */
static inline void
put_le32(char *p, uint32 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap32(v);
#endif
	memcpy(p, &v, sizeof(uint32));
}

/*
 * The difference d between two times in the coarsest unit that holds it
 * exactly (*unit: 0 microseconds, 1 milliseconds, 2 seconds), zigzagged.
 */
static pg_attribute_always_inline uint64
compact_time_diff(int64 d, int *unit)
{
	if (d % USECS_PER_SEC == 0)
	{
		*unit = 2;
		return funnel_zigzag(d / USECS_PER_SEC);
	}
	if (d % 1000 == 0)
	{
		*unit = 1;
		return funnel_zigzag(d / 1000);
	}
	*unit = 0;
	return funnel_zigzag(d);
}

/*
 * Ask for a line of a partition's open segment ahead of its rows: appends
 * go to 256 places in turn, and a row that starts a line would otherwise
 * wait for it to come from memory (a prefetch past the segment's end is
 * harmless).
 */
#if defined(__GNUC__) || defined(__clang__)
#define estore_prefetch_write(p) __builtin_prefetch((p), 1, 3)
#else
#define estore_prefetch_write(p) ((void) 0)
#endif

/* whether a row's key, zigzagged time difference and steps fit the short form */
static inline bool
compact_fits_short(int64 k, uint64 dz, uint64 steps)
{
	return ((((uint64) k | dz) >> 32) | (steps >> 24)) == 0;
}

/*
 * A short row's steps 0-15 when its time is in seconds: the control byte's
 * bits 4-7 (unit 3 and the step's number for one of the first four steps,
 * else unit 2 and the steps' bytes), and in bits 4-7 of the table the steps'
 * bytes the row carries.
 */
static const uint8 compact_seconds_steps[16] = {
	0x02, 0x03, 0x07, 0x16, 0x0B, 0x16, 0x16, 0x16,
	0x0F, 0x16, 0x16, 0x16, 0x16, 0x16, 0x16, 0x16
};

/*
 * A short row's control byte and fields at p; returns its end.  ks: the key
 * as stored (see estore_key_part); whole_key: the whole key (a store of one
 * partition), which may take 4 bytes.  One of the first four steps, with a
 * time in seconds and a key of up to 3 bytes, is said by the control byte
 * alone: an event-name funnel's rows.
 */
static pg_attribute_always_inline char *
compact_put_short(char *p, uint32 ks, uint32 dz, int unit, uint32 steps, bool whole_key)
{
	int			kb = field_bytes(ks);
	int			tb = field_bytes(dz);
	int			high;
	int			steps_bytes;

	if (likely(unit == 2 && steps < 16 && (!whole_key || kb < 4)))
	{
		high = compact_seconds_steps[steps] & 0x0F;
		steps_bytes = compact_seconds_steps[steps] >> 4;
	}
	else
	{
		steps_bytes = field_bytes(steps) - (steps == 0);
		high = unit | steps_bytes << 2;
	}
	/* each field written as 4 bytes, the next one over its spare bytes */
	*p = (char) ((kb - 1) | (tb - 1) << 2 | high << 4);
	put_le32(p + 1, ks);
	put_le32(p + 1 + kb, dz);
	put_le32(p + 1 + kb + tb, steps);
	return p + 1 + kb + tb + steps_bytes;
}

/* a short row takes at most 13 bytes; its fields are written 4 bytes at a time */
#define ESTORE_SHORT_ROOM	16

extern EntityStore *estore_create(FunctionCallInfo fcinfo, MemoryContext cxt,
								  Oid typid, Oid collation, Size payload);
extern void estore_add(EntityStore *s, Datum key, int64 ts, const void *payload);
extern void estore_merge(EntityStore *a, EntityStore *b);
extern void estore_merge_map(EntityStore *a, EntityStore *b, EntityPayloadFn map,
							 void *arg);
extern void estore_foreach(EntityStore *s, EntityStoreFn fn, void *arg);
extern void estore_foreach_ordered(EntityStore *s, EntityStoreFn fn, void *arg);
extern void estore_serialize(EntityStore *s, StringInfo buf);
extern void estore_spent(EntityStore *s);
extern void estore_add_steps_long(EntityStore *s, Datum key, int64 ts, uint64 steps);
/*
 * estore_add for a store of steps alone (s->steps_only), the common case
 * inline with no call: the row in the short form in its partition's open
 * segment.  False for a row it does not take (a store not yet split, a
 * segment to open, a row in the long form), which estore_add_steps_long
 * adds.  The transition of every funnel aggregate pays this per row; a
 * call into the store and back cost about as much as the append.
 */
static pg_attribute_always_inline bool
estore_try_add_steps(EntityStore *s, Datum key, int64 ts, uint64 steps)
{
	if (likely(s->steps_only && s->nparts == ESTORE_NPARTS))
	{
		int64		k = s->kind == ESTORE_KEY_INT8 ? DatumGetInt64(key) : DatumGetInt32(key);
		int			p = (int) estore_key_part(estore_key_bits(s, key));
		StoreCursor *c = &s->cursor[p];
		int			unit;
		/* wraps around as in the long form */
		uint64		dz = compact_time_diff((int64) ((uint64) ts - (uint64) c->prev_ts), &unit);

		if (likely(c->end - c->cur >= ESTORE_SHORT_ROOM && !c->restart &&
				   compact_fits_short(k, dz, steps)))
		{
			estore_prefetch_write(c->cur + 128);
			c->cur = compact_put_short(c->cur, (uint32) ((uint64) k >> ESTORE_PART_BITS),
									   (uint32) dz, unit, (uint32) steps, false);
			c->prev_ts = ts;
			s->parts[p].nrows++;
			s->nrows++;
			return true;
		}
	}
	return false;
}

extern EntityStore *estore_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt,
									   StringInfo buf, Size payload,
									   EntityPayloadFn check, void *arg);

#endif							/* FUNNEL_ENTITY_STORE_H */
