/*
 * src/engine/journey_log.c
 *    The row log shared by the attribution and pipeline aggregates.
 *
 * A transition appends one 16-byte row (time, entity index, code) and looks
 * the entity up in an open-addressing table keyed by the hash of the entity
 * under its type's default hash opclass (bigint and integer are compared as
 * Datums).  Names (channels, stages) are interned the same way.  The final
 * functions never change the log: jlog_group() returns a copy of the rows
 * grouped by entity (a counting sort, linear in the number of rows).
 *
 * The serialised form is for parallel aggregation only (native byte order);
 * deserialisation checks every length, index and value, and rebuilds the
 * hash tables by hashing the entities again.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "engine/funnel.h"
#include "engine/journey_log.h"
#include "mb/pg_wchar.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#define JLOG_MAGIC		0x4A4C4F47	/* "JLOG" */
#define JLOG_MAX_ENTS	(PG_UINT32_MAX / 4)
#define JLOG_MAX_NAMES	(1 << 20)

static void
jlog_account(JourneyLog *log, Size bytes)
{
	log->mem += bytes;
	if (log->mem / 1024 > (Size) funnel_max_state_memory_kb)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("attribution or pipeline aggregate state exceeds funnel.max_state_memory (%d kB)",
						funnel_max_state_memory_kb),
				 errdetail("The aggregate keeps 16 bytes for every row and a few more for every entity."),
				 errhint("Raise funnel.max_state_memory, or aggregate fewer rows at a time (e.g. one month, or a hash partition of the entities).")));
}

JourneyLog *
jlog_create(MemoryContext cxt, Oid typid, Oid collation)
{
	TypeCacheEntry *tc;
	JourneyLog *log;

	tc = lookup_type_cache(typid, TYPECACHE_HASH_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
	if (!OidIsValid(tc->hash_proc) || !OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("entity type %s has no default hash operator class",
						format_type_be(typid)),
				 errhint("Use an entity of a hashable type such as bigint, integer, text or uuid.")));
	if (tc->typlen == -2)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("entity type %s is not supported", format_type_be(typid)),
				 errhint("Cast the entity to text.")));
	log = MemoryContextAllocZero(cxt, sizeof(JourneyLog));
	log->cxt = cxt;
	log->typid = typid;
	if (!OidIsValid(collation) && type_is_collatable(typid))
		collation = DEFAULT_COLLATION_OID;
	log->collation = collation;
	log->typlen = tc->typlen;
	log->typbyval = tc->typbyval;
	log->fast = typid == INT8OID ? 'l' : typid == INT4OID ? 'i' : 'g';
	log->hash_fn = &tc->hash_proc_finfo;
	log->eq_fn = &tc->eq_opr_finfo;
	log->last_ent = PG_UINT32_MAX;
	log->last_name = -1;
	log->mem = sizeof(JourneyLog);
	return log;
}

static inline uint32
ent_hash(const JourneyLog *log, Datum key)
{
	if (log->fast == 'l')
	{
		uint64		v = (uint64) DatumGetInt64(key);

		return murmurhash32((uint32) v ^ (uint32) (v >> 32));
	}
	if (log->fast == 'i')
		return murmurhash32((uint32) DatumGetInt32(key));
	return DatumGetUInt32(FunctionCall1Coll(log->hash_fn, log->collation, key));
}

static inline bool
ent_equal(const JourneyLog *log, Datum a, Datum b)
{
	if (log->fast != 'g')
		return a == b;
	return DatumGetBool(FunctionCall2Coll(log->eq_fn, log->collation, a, b));
}

static void
ent_rehash(JourneyLog *log, uint32 nslots)
{
	uint32	   *slots = MemoryContextAllocZero(log->cxt, sizeof(uint32) * (Size) nslots);
	uint32		mask = nslots - 1;
	uint32		i;

	for (i = 0; i < log->nent; i++)
	{
		uint32		s = log->enthash[i] & mask;

		while (slots[s] != 0)
			s = (s + 1) & mask;
		slots[s] = i + 1;
	}
	if (log->slots)
		pfree(log->slots);
	jlog_account(log, sizeof(uint32) * ((Size) nslots - log->nslots));
	log->slots = slots;
	log->nslots = nslots;
}

/*
 * The index of an entity, added if new.  For a new by-reference entity the
 * value is copied (detoasted) into the log's context.
 */
uint32
jlog_entity(JourneyLog *log, Datum key)
{
	uint32		h,
				mask,
				s,
				idx;

	if (log->last_ent != PG_UINT32_MAX && log->fast != 'g' &&
		log->ents[log->last_ent] == key)
		return log->last_ent;
	if (log->nslots == 0)
		ent_rehash(log, 1024);
	h = ent_hash(log, key);
	mask = log->nslots - 1;
	s = h & mask;
	while (log->slots[s] != 0)
	{
		idx = log->slots[s] - 1;
		if (log->enthash[idx] == h && ent_equal(log, log->ents[idx], key))
		{
			log->last_ent = idx;
			return idx;
		}
		s = (s + 1) & mask;
	}
	/* new entity */
	if (log->nent >= JLOG_MAX_ENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many entities in one aggregate group (at most %u)", JLOG_MAX_ENTS)));
	if (log->nent == log->entcap)
	{
		uint32		cap = log->entcap ? log->entcap * 2 : 256;

		if (log->ents == NULL)
		{
			log->ents = MemoryContextAllocHuge(log->cxt, sizeof(Datum) * (Size) cap);
			log->enthash = MemoryContextAllocHuge(log->cxt, sizeof(uint32) * (Size) cap);
		}
		else
		{
			log->ents = repalloc_huge(log->ents, sizeof(Datum) * (Size) cap);
			log->enthash = repalloc_huge(log->enthash, sizeof(uint32) * (Size) cap);
		}
		jlog_account(log, (sizeof(Datum) + sizeof(uint32)) * (Size) (cap - log->entcap));
		log->entcap = cap;
	}
	idx = log->nent++;
	if (log->typbyval)
		log->ents[idx] = key;
	else
	{
		MemoryContext old = MemoryContextSwitchTo(log->cxt);

		if (log->typlen == -1)
			log->ents[idx] = PointerGetDatum(PG_DETOAST_DATUM_COPY(key));
		else
			log->ents[idx] = datumCopy(key, false, log->typlen);
		MemoryContextSwitchTo(old);
		jlog_account(log, log->typlen == -1 ? (Size) VARSIZE(DatumGetPointer(log->ents[idx])) : (Size) log->typlen);
	}
	log->enthash[idx] = h;
	log->slots[s] = idx + 1;
	log->last_ent = idx;
	if ((Size) log->nent * 2 > log->nslots)
		ent_rehash(log, log->nslots * 2);
	return idx;
}

static void
name_rehash(JourneyLog *log, int32 nslots)
{
	int32	   *slots = MemoryContextAllocZero(log->cxt, sizeof(int32) * nslots);
	int32		i;

	for (i = 0; i < log->nnames; i++)
	{
		int32		s = log->namehash[i] & (nslots - 1);

		while (slots[s] != 0)
			s = (s + 1) & (nslots - 1);
		slots[s] = i + 1;
	}
	if (log->nslot)
		pfree(log->nslot);
	jlog_account(log, sizeof(int32) * (nslots - log->nnslots));
	log->nslot = slots;
	log->nnslots = nslots;
}

/* The id of a name (channel, stage), added if new. */
int32
jlog_name(JourneyLog *log, const char *name, int len)
{
	uint32		h;
	int32		s,
				id;

	if (log->last_name >= 0 && log->namelens[log->last_name] == len &&
		memcmp(log->names[log->last_name], name, len) == 0)
		return log->last_name;
	if (log->nnslots == 0)
		name_rehash(log, 64);
	h = hash_bytes((const unsigned char *) name, len);
	s = h & (log->nnslots - 1);
	while (log->nslot[s] != 0)
	{
		id = log->nslot[s] - 1;
		if (log->namehash[id] == h && log->namelens[id] == len &&
			memcmp(log->names[id], name, len) == 0)
		{
			log->last_name = id;
			return id;
		}
		s = (s + 1) & (log->nnslots - 1);
	}
	if (log->nnames >= JLOG_MAX_NAMES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct channel or stage names in one aggregate group (at most %d)",
						JLOG_MAX_NAMES)));
	if (log->nnames == log->namecap)
	{
		int32		cap = log->namecap ? log->namecap * 2 : 16;

		if (log->names == NULL)
		{
			log->names = MemoryContextAlloc(log->cxt, sizeof(char *) * cap);
			log->namelens = MemoryContextAlloc(log->cxt, sizeof(int32) * cap);
			log->namehash = MemoryContextAlloc(log->cxt, sizeof(uint32) * cap);
		}
		else
		{
			log->names = repalloc(log->names, sizeof(char *) * cap);
			log->namelens = repalloc(log->namelens, sizeof(int32) * cap);
			log->namehash = repalloc(log->namehash, sizeof(uint32) * cap);
		}
		jlog_account(log, (sizeof(char *) + 8) * (cap - log->namecap));
		log->namecap = cap;
	}
	id = log->nnames++;
	log->names[id] = MemoryContextAlloc(log->cxt, len + 1);
	memcpy(log->names[id], name, len);
	log->names[id][len] = '\0';
	log->namelens[id] = len;
	log->namehash[id] = h;
	jlog_account(log, len + 1);
	log->nslot[s] = id + 1;
	log->last_name = id;
	if (log->nnames * 2 > log->nnslots)
		name_rehash(log, log->nnslots * 2);
	return id;
}

void
jlog_add(JourneyLog *log, uint32 ent, int64 ts, int32 code)
{
	JourneyRow *r;

	if (log->nrows == log->rowcap)
	{
		uint64		cap = log->rowcap == 0 ? 1024 :
			log->rowcap < (1 << 22) ? log->rowcap * 2 : log->rowcap + log->rowcap / 2;

		if ((Size) cap * sizeof(JourneyRow) > MaxAllocHugeSize / 2)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many rows in one aggregate group")));
		jlog_account(log, sizeof(JourneyRow) * (Size) (cap - log->rowcap));
		if (log->rows == NULL)
			log->rows = MemoryContextAllocHuge(log->cxt, sizeof(JourneyRow) * (Size) cap);
		else
			log->rows = repalloc_huge(log->rows, sizeof(JourneyRow) * (Size) cap);
		log->rowcap = cap;
	}
	r = &log->rows[log->nrows++];
	r->ts = ts;
	r->ent = ent;
	r->code = code;
}

/* Store a number; the row code that refers to it is -1 - (returned index). */
int32
jlog_add_value(JourneyLog *log, double v)
{
	if (log->nvals >= PG_INT32_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many conversions in one aggregate group (at most %d)", PG_INT32_MAX - 1)));
	if (log->nvals == log->valcap)
	{
		uint64		cap = log->valcap ? log->valcap * 2 : 256;

		jlog_account(log, sizeof(double) * (Size) (cap - log->valcap));
		if (log->vals == NULL)
			log->vals = MemoryContextAllocHuge(log->cxt, sizeof(double) * (Size) cap);
		else
			log->vals = repalloc_huge(log->vals, sizeof(double) * (Size) cap);
		log->valcap = cap;
	}
	log->vals[log->nvals] = v;
	return (int32) log->nvals++;
}

/* Append b's rows to a (entities of both types must match). */
void
jlog_merge(JourneyLog *a, const JourneyLog *b)
{
	uint32	   *entmap;
	int32	   *namemap;
	uint64		valbase = a->nvals;
	uint64		i;

	if (a->typid != b->typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine aggregate states over different entity types")));
	entmap = palloc(sizeof(uint32) * ((Size) b->nent + 1));
	for (i = 0; i < b->nent; i++)
	{
		CHECK_FOR_INTERRUPTS();
		entmap[i] = jlog_entity(a, b->ents[i]);
	}
	namemap = palloc(sizeof(int32) * (b->nnames + 1));
	for (i = 0; i < (uint64) b->nnames; i++)
		namemap[i] = jlog_name(a, b->names[i], b->namelens[i]);
	for (i = 0; i < b->nvals; i++)
		jlog_add_value(a, b->vals[i]);
	for (i = 0; i < b->nrows; i++)
	{
		const JourneyRow *r = &b->rows[i];
		int32		code;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		code = r->code >= 0 ? namemap[r->code] : -1 - (int32) (valbase + (uint64) (-1 - (int64) r->code));
		jlog_add(a, entmap[r->ent], r->ts, code);
	}
	pfree(entmap);
	pfree(namemap);
}

/* ---------- serialisation (parallel aggregation: native byte order) ---------- */

static inline void
put_bytes(StringInfo buf, const void *p, Size n)
{
	if (n > (Size) (MaxAllocSize - 1 - buf->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aggregate state too large to serialise for a parallel plan"),
				 errhint("Disable parallel aggregation (SET max_parallel_workers_per_gather = 0).")));
	appendBinaryStringInfo(buf, p, (int) n);
}

static void
bad_state(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid journey aggregate state: %s", what)));
}

static inline void
get_bytes(StringInfo buf, void *p, Size n)
{
	if (n > (Size) (buf->len - buf->cursor))
		bad_state("truncated");
	memcpy(p, buf->data + buf->cursor, n);
	buf->cursor += (int) n;
}

void
jlog_serialize(const JourneyLog *log, StringInfo buf)
{
	uint32		magic = JLOG_MAGIC;
	uint32		i;

	put_bytes(buf, &magic, 4);
	put_bytes(buf, &log->typid, sizeof(Oid));
	put_bytes(buf, &log->collation, sizeof(Oid));
	put_bytes(buf, &log->nent, 4);
	for (i = 0; i < log->nent; i++)
	{
		Datum		d = log->ents[i];

		if (log->typbyval)
			put_bytes(buf, &d, sizeof(Datum));
		else if (log->typlen > 0)
			put_bytes(buf, DatumGetPointer(d), log->typlen);
		else
		{
			uint32		len = VARSIZE(DatumGetPointer(d));

			put_bytes(buf, &len, 4);
			put_bytes(buf, DatumGetPointer(d), len);
		}
	}
	put_bytes(buf, &log->nnames, 4);
	for (i = 0; i < (uint32) log->nnames; i++)
	{
		put_bytes(buf, &log->namelens[i], 4);
		put_bytes(buf, log->names[i], log->namelens[i]);
	}
	put_bytes(buf, &log->nvals, 8);
	put_bytes(buf, log->vals, sizeof(double) * log->nvals);
	put_bytes(buf, &log->nrows, 8);
	put_bytes(buf, log->rows, sizeof(JourneyRow) * log->nrows);
}

JourneyLog *
jlog_deserialize(MemoryContext cxt, StringInfo buf)
{
	uint32		magic,
				nent,
				i;
	Oid			typid,
				collation;
	int32		nnames;
	uint64		nvals,
				nrows,
				k;
	JourneyLog *log;
	char	   *tmp;

	get_bytes(buf, &magic, 4);
	if (magic != JLOG_MAGIC)
		bad_state("bad header");
	get_bytes(buf, &typid, sizeof(Oid));
	get_bytes(buf, &collation, sizeof(Oid));
	if (!OidIsValid(typid) || !SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		bad_state("unknown entity type");
	if (OidIsValid(collation) && !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		bad_state("unknown collation");
	log = jlog_create(cxt, typid, collation);
	get_bytes(buf, &nent, 4);
	if (nent > JLOG_MAX_ENTS || nent > (uint32) (buf->len - buf->cursor))
		bad_state("bad entity count");
	tmp = palloc(log->typlen > 0 ? log->typlen : 1);
	for (i = 0; i < nent; i++)
	{
		Datum		d;

		if (log->typbyval)
		{
			Datum		norm;

			get_bytes(buf, &d, sizeof(Datum));
			/* the value must be what the type's width allows */
			switch (log->typlen)
			{
				case 1:
					norm = CharGetDatum(DatumGetChar(d));
					break;
				case 2:
					norm = Int16GetDatum(DatumGetInt16(d));
					break;
				case 4:
					norm = Int32GetDatum(DatumGetInt32(d));
					break;
				default:
					norm = d;
					break;
			}
			if (norm != d)
				bad_state("bad entity value");
		}
		else if (log->typlen > 0)
		{
			get_bytes(buf, tmp, log->typlen);
			d = PointerGetDatum(tmp);
		}
		else
		{
			uint32		len;
			struct varlena *v;

			get_bytes(buf, &len, 4);
			if (len < VARHDRSZ || len > (uint32) (buf->len - buf->cursor))
				bad_state("bad entity length");
			v = palloc(len);
			get_bytes(buf, v, len);
			if (!VARATT_IS_4B_U(v) || VARSIZE(v) != len)
				bad_state("bad entity header");
			d = PointerGetDatum(v);
		}
		if (jlog_entity(log, d) != i)
			bad_state("duplicate entity");
	}
	get_bytes(buf, &nnames, 4);
	if (nnames < 0 || nnames > JLOG_MAX_NAMES)
		bad_state("bad name count");
	for (i = 0; i < (uint32) nnames; i++)
	{
		int32		len;
		char	   *s;

		get_bytes(buf, &len, 4);
		if (len < 0 || len > buf->len - buf->cursor)
			bad_state("bad name length");
		s = buf->data + buf->cursor;
		if (memchr(s, '\0', len) != NULL || !pg_verifymbstr(s, len, true))
			bad_state("bad name");
		buf->cursor += len;
		if (jlog_name(log, s, len) != (int32) i)
			bad_state("duplicate name");
	}
	get_bytes(buf, &nvals, 8);
	if (nvals >= PG_INT32_MAX - 1 || nvals > (uint64) (buf->len - buf->cursor) / sizeof(double))
		bad_state("bad value count");
	for (k = 0; k < nvals; k++)
	{
		double		v;

		get_bytes(buf, &v, sizeof(double));
		if (isnan(v) || isinf(v))
			bad_state("bad value");
		jlog_add_value(log, v);
	}
	get_bytes(buf, &nrows, 8);
	if (nrows > (uint64) (buf->len - buf->cursor) / sizeof(JourneyRow))
		bad_state("bad row count");
	for (k = 0; k < nrows; k++)
	{
		JourneyRow	r;

		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		get_bytes(buf, &r, sizeof(JourneyRow));
		if (r.ent >= log->nent ||
			(r.code >= 0 ? r.code >= log->nnames : (uint64) (-1 - (int64) r.code) >= log->nvals) ||
			TIMESTAMP_NOT_FINITE(r.ts) || !IS_VALID_TIMESTAMP(r.ts))
			bad_state("bad row");
		jlog_add(log, r.ent, r.ts, r.code);
	}
	return log;
}

/* ---------- reading at the final function (the log is not changed) ---------- */

static const JourneyLog *sort_log;

static int
name_cmp(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;
	int			lx = sort_log->namelens[x],
				ly = sort_log->namelens[y];
	int			c = memcmp(sort_log->names[x], sort_log->names[y], Min(lx, ly));

	if (c != 0)
		return c;
	return (lx > ly) - (lx < ly);
}

/* rank[id] = position of name id in byte order of the names. */
int32 *
jlog_name_ranks(const JourneyLog *log)
{
	int32	   *order = palloc(sizeof(int32) * (log->nnames + 1));
	int32	   *rank = palloc(sizeof(int32) * (log->nnames + 1));
	int32		i;

	for (i = 0; i < log->nnames; i++)
		order[i] = i;
	sort_log = log;
	qsort(order, log->nnames, sizeof(int32), name_cmp);
	for (i = 0; i < log->nnames; i++)
		rank[order[i]] = i;
	pfree(order);
	return rank;
}

/*
 * A copy of the rows grouped by entity (in first-seen order of entities,
 * rows of one entity in log order).  (*starts)[e] .. (*starts)[e + 1] are
 * the rows of entity e.
 */
JourneyRow *
jlog_group(const JourneyLog *log, uint64 **starts_out)
{
	uint64	   *starts = MemoryContextAllocHuge(CurrentMemoryContext,
												sizeof(uint64) * ((Size) log->nent + 1));
	uint64	   *pos;
	JourneyRow *out;
	uint64		i;

	memset(starts, 0, sizeof(uint64) * ((Size) log->nent + 1));
	for (i = 0; i < log->nrows; i++)
		starts[log->rows[i].ent + 1]++;
	for (i = 0; i < log->nent; i++)
		starts[i + 1] += starts[i];
	pos = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * ((Size) log->nent + 1));
	memcpy(pos, starts, sizeof(uint64) * ((Size) log->nent + 1));
	out = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(JourneyRow) * (Size) Max(log->nrows, 1));
	for (i = 0; i < log->nrows; i++)
	{
		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		out[pos[log->rows[i].ent]++] = log->rows[i];
	}
	pfree(pos);
	*starts_out = starts;
	return out;
}

/* ---------- helpers for the aggregates and summary types ---------- */

/* The rest of a binary message as a varlena (checked by the caller first). */
bytea *
jlog_recv_rest(StringInfo buf)
{
	int			len = buf->len - buf->cursor;
	bytea	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), buf->data + buf->cursor, len);
	buf->cursor = buf->len;
	return result;
}

/* An interval as microseconds (a month is 30 days), checked for range and sign. */
int64
jlog_interval_usecs(const Interval *iv, const char *what, bool positive)
{
	int64		days,
				result;

	if (pg_mul_s64_overflow((int64) iv->month, DAYS_PER_MONTH, &days) ||
		pg_add_s64_overflow(days, (int64) iv->day, &days) ||
		pg_mul_s64_overflow(days, USECS_PER_DAY, &result) ||
		pg_add_s64_overflow(result, iv->time, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what)));
	if (result < 0 || (positive && result == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s", what, positive ? "positive" : "zero or positive"),
				 errhint("Use an interval such as '7 days'.")));
	return result;
}

void
jlog_json_double(StringInfo buf, double v)
{
	char		s[64];

	if (isnan(v) || isinf(v))
		appendStringInfoString(buf, "null");
	else
	{
		if (v == 0)
			v = 0;				/* no "-0" */
		double_to_shortest_decimal_buf(v, s);
		appendStringInfoString(buf, s);
	}
}

char *
jlog_interval_text(int64 usecs)
{
	Interval	iv;

	iv.month = 0;
	iv.day = (int32) (usecs / USECS_PER_DAY);
	iv.time = usecs % USECS_PER_DAY;
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&iv)));
}

void
jlog_json_interval(StringInfo buf, int64 usecs)
{
	escape_json(buf, jlog_interval_text(usecs));
}

void
jlog_bad_input(const char *tname, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s", tname),
			 errdetail("%s", detail)));
}

JsonbContainer *
jlog_json_parse(const char *str, const char *tname)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));

	if (!JB_ROOT_IS_OBJECT(jb))
		jlog_bad_input(tname, "Expected a JSON object.");
	return &jb->root;
}

JsonbValue *
jlog_json_get(JsonbContainer *obj, const char *key, enum jbvType type, bool null_ok,
			  const char *tname)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL)
		jlog_bad_input(tname, psprintf("Key \"%s\" is missing.", key));
	if (v->type == jbvNull && null_ok)
		return v;
	if (v->type != type)
		jlog_bad_input(tname, psprintf("Key \"%s\" has the wrong JSON type.", key));
	return v;
}

double
jlog_json_number(JsonbValue *v, const char *key, const char *tname)
{
	double		d;

	if (v->type != jbvNumeric)
		jlog_bad_input(tname, psprintf("Key \"%s\" must be a number.", key));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (isnan(d) || isinf(d))
		jlog_bad_input(tname, psprintf("Key \"%s\" must be a finite number.", key));
	return d;
}

char *
jlog_json_string(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

int64
jlog_json_interval_usecs(JsonbValue *v, const char *key, bool positive, const char *tname)
{
	Interval   *iv;

	if (v->type != jbvString)
		jlog_bad_input(tname, psprintf("Key \"%s\" must be an interval string.", key));
	iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(jlog_json_string(v)),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return jlog_interval_usecs(iv, key, positive);
}

/* ---------- dense linear algebra ---------- */

/* LU factorisation with partial pivoting of the n x n matrix a (in place). */
void
jlog_lu_factor(double *a, int n, int *piv)
{
	int			i,
				j,
				k;

	for (k = 0; k < n; k++)
	{
		int			p = k;
		double		best = fabs(a[(Size) k * n + k]);

		CHECK_FOR_INTERRUPTS();
		for (i = k + 1; i < n; i++)
			if (fabs(a[(Size) i * n + k]) > best)
			{
				best = fabs(a[(Size) i * n + k]);
				p = i;
			}
		piv[k] = p;
		/* every transient state reaches an absorbing one: I - Q is regular */
		if (best < 1e-300)
			elog(ERROR, "transition matrix is singular");
		if (p != k)
			for (j = 0; j < n; j++)
			{
				double		tmp = a[(Size) k * n + j];

				a[(Size) k * n + j] = a[(Size) p * n + j];
				a[(Size) p * n + j] = tmp;
			}
		for (i = k + 1; i < n; i++)
		{
			double		f = a[(Size) i * n + k] / a[(Size) k * n + k];

			a[(Size) i * n + k] = f;
			if (f != 0)
				for (j = k + 1; j < n; j++)
					a[(Size) i * n + j] -= f * a[(Size) k * n + j];
		}
	}
}

void
jlog_lu_solve(const double *a, int n, const int *piv, double *b)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
		if (piv[i] != i)
		{
			double		tmp = b[i];

			b[i] = b[piv[i]];
			b[piv[i]] = tmp;
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			b[i] -= a[(Size) i * n + j] * b[j];
	for (i = n - 1; i >= 0; i--)
	{
		for (j = i + 1; j < n; j++)
			b[i] -= a[(Size) i * n + j] * b[j];
		b[i] /= a[(Size) i * n + i];
	}
}

