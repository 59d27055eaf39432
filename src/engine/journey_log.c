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
 * The serialised form (pq_*, for parallel aggregation) is checked value by
 * value when read back, and the hash tables are rebuilt by hashing the
 * entities again.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/byte_order.h"
#include "engine/funnel.h"
#include "engine/journey_log.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define JLOG_MAGIC		0x4A4C4F47	/* "JLOG" */
#define JLOG_MAX_ENTS	(PG_UINT32_MAX / 4)
#define JLOG_MAX_NAMES	(1 << 20)

static void
jlog_account(JourneyLog *log, Size bytes)
{
	log->mem += bytes;
	funnel_check_memory(log->mem);
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

/* ---------- serialisation (parallel aggregation) ---------- */

/*
 * Layout, through pq_*: magic, entity type and collation, the entities
 * (integers as int64, other types by funnel_key_write), the names, the
 * values, the rows.
 */
void
jlog_serialize(const JourneyLog *log, StringInfo buf)
{
	uint32		i;
	uint64		k;

	pq_sendint32(buf, JLOG_MAGIC);
	pq_sendint32(buf, log->typid);
	pq_sendint32(buf, log->collation);
	pq_sendint32(buf, log->nent);
	for (i = 0; i < log->nent; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (log->fast == 'l')
			pq_sendint64(buf, DatumGetInt64(log->ents[i]));
		else if (log->fast == 'i')
			pq_sendint32(buf, DatumGetInt32(log->ents[i]));
		else
			funnel_key_write(buf, log->ents[i], log->typlen, log->typbyval);
	}
	pq_sendint32(buf, log->nnames);
	for (i = 0; i < (uint32) log->nnames; i++)
	{
		pq_sendint32(buf, log->namelens[i]);
		pq_sendbytes(buf, log->names[i], log->namelens[i]);
	}
	pq_sendint64(buf, (int64) log->nvals);
	for (k = 0; k < log->nvals; k++)
		pq_sendfloat8(buf, log->vals[k]);
	pq_sendint64(buf, (int64) log->nrows);
	for (k = 0; k < log->nrows; k++)
	{
		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		pq_sendint64(buf, log->rows[k].ts);
		pq_sendint32(buf, log->rows[k].ent);
		pq_sendint32(buf, log->rows[k].code);
	}
}

/* Reads what jlog_serialize wrote, checking every count, index and value. */
JourneyLog *
jlog_deserialize(MemoryContext cxt, StringInfo buf)
{
	uint32		nent,
				i;
	Oid			typid,
				collation;
	int32		nnames;
	int64		nvals,
				nrows,
				k;
	JourneyLog *log;

	if (pq_getmsgint(buf, 4) != JLOG_MAGIC)
		funnel_invalid_state("The journey log has an unrecognized header.");
	typid = pq_getmsgint(buf, 4);
	collation = pq_getmsgint(buf, 4);
	if (!OidIsValid(typid) || !SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		funnel_invalid_state("The state names an entity type that does not exist.");
	if (OidIsValid(collation) && !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		funnel_invalid_state("The state names a collation that does not exist.");
	log = jlog_create(cxt, typid, collation);
	nent = pq_getmsgint(buf, 4);
	if (nent > JLOG_MAX_ENTS)
		funnel_invalid_state("The entity count of the state is out of range.");
	/* every key takes a byte at least ("char", boolean) */
	funnel_state_check_count(buf, nent, 1);
	for (i = 0; i < nent; i++)
	{
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		if (log->fast == 'l')
			d = Int64GetDatum(pq_getmsgint64(buf));
		else if (log->fast == 'i')
			d = Int32GetDatum((int32) pq_getmsgint(buf, 4));
		else if (!funnel_key_read(buf, log->typlen, log->typbyval, &d))
			funnel_invalid_state("An entity of the state is longer than the data.");
		if (jlog_entity(log, d) != i)
			funnel_invalid_state("The state holds an entity twice.");
	}
	nnames = pq_getmsgint(buf, 4);
	if (nnames < 0 || nnames > JLOG_MAX_NAMES)
		funnel_invalid_state("The name count of the state is out of range.");
	funnel_state_check_count(buf, nnames, 4);
	for (i = 0; i < (uint32) nnames; i++)
	{
		int32		len = pq_getmsgint(buf, 4);
		const char *s;

		if (len < 0 || len > buf->len - buf->cursor)
			funnel_invalid_state("A name of the state is longer than the data.");
		s = pq_getmsgbytes(buf, len);
		if (memchr(s, '\0', len) != NULL || !pg_verifymbstr(s, len, true))
			funnel_invalid_state("A name of the state is not valid text.");
		if (jlog_name(log, s, len) != (int32) i)
			funnel_invalid_state("The state holds a name twice.");
	}
	nvals = pq_getmsgint64(buf);
	if (nvals >= PG_INT32_MAX - 1)
		funnel_invalid_state("The value count of the state is out of range.");
	funnel_state_check_count(buf, nvals, sizeof(double));
	for (k = 0; k < nvals; k++)
	{
		double		v = pq_getmsgfloat8(buf);

		if (isnan(v) || isinf(v))
			funnel_invalid_state("A value of the state is not finite.");
		jlog_add_value(log, v);
	}
	nrows = pq_getmsgint64(buf);
	funnel_state_check_count(buf, nrows, 16);
	for (k = 0; k < nrows; k++)
	{
		JourneyRow	r;

		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		r.ts = pq_getmsgint64(buf);
		r.ent = pq_getmsgint(buf, 4);
		r.code = (int32) pq_getmsgint(buf, 4);
		if (r.ent >= log->nent ||
			(r.code >= 0 ? r.code >= log->nnames : (uint64) (-1 - (int64) r.code) >= log->nvals) ||
			TIMESTAMP_NOT_FINITE(r.ts) || !IS_VALID_TIMESTAMP(r.ts))
			funnel_invalid_state("A row of the state names an entity, name or value it does not hold, or has an invalid time.");
		jlog_add(log, r.ent, r.ts, r.code);
	}
	return log;
}

/* ---------- reading at the final function (the log is not changed) ---------- */

/* Name ids in byte order of the names (arg: the log). */
static int
name_cmp(const void *a, const void *b, void *arg)
{
	const JourneyLog *log = arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return funnel_name_cmp(log->names[x], log->namelens[x], log->names[y], log->namelens[y]);
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
	qsort_arg(order, log->nnames, sizeof(int32), name_cmp, (void *) log);
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
