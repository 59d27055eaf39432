/*
 * src/engine/journey_log.c
 *    The rows shared by the attribution and pipeline aggregates.
 *
 * Every row goes into the entity store (engine/entity_store.c) with an
 * 8-byte payload {ent = 0, code}, so a stored row is a JourneyRow: a
 * transition appends it to a partition of the store without looking the
 * entity up, and past half of funnel.max_state_memory the rows spill to a
 * temporary file.  Names (channels, stages) are interned into small integer
 * ids and conversion values kept in an array (8 bytes each, in memory).
 * The final functions get each entity's rows from jlog_foreach, entities in
 * the order of their hash, then of their bytes, whatever the plan: sums of
 * floating-point numbers over them are the same in serial, parallel and
 * spilled runs.
 *
 * The serialised form (pq_*, for parallel aggregation) is checked value by
 * value when read back: names, values, then the store, whose every row's
 * code and time are checked.
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
#include "port/pg_bswap.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#define JLOG_MAGIC		0x4A4C4F47	/* "JLOG" */
#define JLOG_MAX_NAMES	(1 << 20)

static void
jlog_account(JourneyLog *log, Size bytes)
{
	log->mem += bytes;
	funnel_check_memory(log->mem);
	/* the store counts the names and values when it decides to spill */
	if (log->store != NULL)
		log->store->extra = log->mem;
}

/*
 * A log of entities of type typid (compared under collation).  fcinfo is
 * the aggregate support function's: inside an Agg node the rows may spill.
 */
JourneyLog *
jlog_create(FunctionCallInfo fcinfo, MemoryContext cxt, Oid typid, Oid collation)
{
	TypeCacheEntry *tc;
	JourneyLog *log;

	StaticAssertStmt(sizeof(JourneyRow) == 16, "a stored row is a JourneyRow");
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
	log->typlen = tc->typlen;
	log->typbyval = tc->typbyval;
	log->store = estore_create(fcinfo, cxt, typid, collation, 8);
	log->store->extra = sizeof(JourneyLog);
	log->collation = log->store->collation;
	log->last_name = -1;
	log->mem = sizeof(JourneyLog);
	return log;
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

/* Add one row of the entity key. */
void
jlog_add(JourneyLog *log, Datum key, int64 ts, int32 code)
{
	JourneyRow	r;

	r.ent = 0;
	r.code = code;
	estore_add(log->store, key, ts, &r.ent);
	log->nrows++;
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

/* How b's codes become a's in a merge. */
typedef struct CodeMap
{
	const int32 *names;
	int64		valbase;
} CodeMap;

static void
map_code(int64 ts, char *payload, void *arg)
{
	const CodeMap *m = arg;
	JourneyRow *r = (JourneyRow *) (payload - offsetof(JourneyRow, ent));

	(void) ts;
	r->code = r->code >= 0 ? m->names[r->code] :
		-1 - (int32) (m->valbase + (-1 - (int64) r->code));
}

/*
 * Append b's rows to a (entities of both types must match): b's names and
 * values are added to a's, and its rows copied with their codes renumbered,
 * linearly, without an entity lookup.  When the codes stay the same (a had
 * no names but b's, in b's order, and no values) b's rows are appended as
 * they are.
 */
void
jlog_merge(JourneyLog *a, const JourneyLog *b)
{
	int32	   *namemap;
	CodeMap		m;
	bool		same;
	uint64		i;

	if (a->typid != b->typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine aggregate states over different entity types")));
	namemap = palloc(sizeof(int32) * (b->nnames + 1));
	same = a->nvals == 0;
	for (i = 0; i < (uint64) b->nnames; i++)
	{
		namemap[i] = jlog_name(a, b->names[i], b->namelens[i]);
		same &= namemap[i] == (int32) i;
	}
	m.names = namemap;
	m.valbase = (int64) a->nvals;
	for (i = 0; i < b->nvals; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		jlog_add_value(a, b->vals[i]);
	}
	estore_merge_map(a->store, b->store, same ? NULL : map_code, &m);
	a->nrows += b->nrows;
	pfree(namemap);
}

/* ---------- serialisation (parallel aggregation) ---------- */

/*
 * Layout, through pq_*: magic, the entity type (first, so that a caller can
 * vet it before anything is read), the names, the values, then the store
 * (estore_serialize: entity type again, collation, rows).
 */
void
jlog_serialize(const JourneyLog *log, StringInfo buf)
{
	uint32		i;
	uint64		k;

	pq_sendint32(buf, JLOG_MAGIC);
	pq_sendint32(buf, log->typid);
	pq_sendint32(buf, log->nnames);
	for (i = 0; i < (uint32) log->nnames; i++)
	{
		pq_sendint32(buf, log->namelens[i]);
		pq_sendbytes(buf, log->names[i], log->namelens[i]);
	}
	pq_sendint64(buf, (int64) log->nvals);
	for (k = 0; k < log->nvals; k++)
		pq_sendfloat8(buf, log->vals[k]);
	estore_serialize(log->store, buf);
}

/* A row read back names a name or value the log holds, at a valid time. */
static void
check_row(int64 ts, char *payload, void *arg)
{
	const JourneyLog *log = arg;
	const JourneyRow *r = (const JourneyRow *) (payload - offsetof(JourneyRow, ent));

	if (r->ent != 0 ||
		(r->code >= 0 ? r->code >= log->nnames : (uint64) (-1 - (int64) r->code) >= log->nvals) ||
		TIMESTAMP_NOT_FINITE(ts) || !IS_VALID_TIMESTAMP(ts))
		funnel_invalid_state("A row of the state names a name or value it does not hold, or has an invalid time.");
}

/* Reads what jlog_serialize wrote, checking every count, name, value and row. */
JourneyLog *
jlog_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, StringInfo buf)
{
	JourneyLog *log;
	int32		nnames;
	int64		nvals,
				k;
	uint32		i,
				net;
	Oid			typid;

	log = MemoryContextAllocZero(cxt, sizeof(JourneyLog));
	log->cxt = cxt;
	log->last_name = -1;
	log->mem = sizeof(JourneyLog);
	if (pq_getmsgint(buf, 4) != JLOG_MAGIC)
		funnel_invalid_state("The journey log has an unrecognized header.");
	/* an entity type a journey log takes, before any row is hashed */
	typid = pq_getmsgint(buf, 4);
	if (!OidIsValid(typid) || !SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		funnel_invalid_state("The state names an entity type that does not exist.");
	{
		TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_HASH_PROC | TYPECACHE_EQ_OPR);

		if (!OidIsValid(tc->hash_proc) || !OidIsValid(tc->eq_opr) || tc->typlen == -2)
			funnel_invalid_state("The state names an entity type a journey log cannot hold.");
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
	if (nvals < 0 || nvals >= PG_INT32_MAX - 1)
		funnel_invalid_state("The value count of the state is out of range.");
	funnel_state_check_count(buf, nvals, sizeof(double));
	for (k = 0; k < nvals; k++)
	{
		double		v = pq_getmsgfloat8(buf);

		if (isnan(v) || isinf(v))
			funnel_invalid_state("A value of the state is not finite.");
		jlog_add_value(log, v);
	}
	/* the store's header names its type again: it must be the same */
	if (buf->len - buf->cursor < 8)
		funnel_invalid_state("The journey log is cut short.");
	memcpy(&net, buf->data + buf->cursor + 4, sizeof(net));
	if (pg_ntoh32(net) != typid)
		funnel_invalid_state("The entity rows of the state are of another type.");
	log->store = estore_deserialize(fcinfo, cxt, buf, 8, check_row, log);
	log->store->extra = log->mem;
	log->typid = log->store->typid;
	log->collation = log->store->collation;
	log->typlen = log->store->typlen;
	log->typbyval = log->store->typbyval;
	log->nrows = log->store->nrows;
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

/* ---------- each entity's rows ---------- */

typedef struct ForeachCall
{
	JourneyEntityFn fn;
	void	   *arg;
} ForeachCall;

static void
journey_entity(Datum key, char *rows, int64 nrows, Size held, void *arg)
{
	ForeachCall *c = arg;

	c->fn(key, (JourneyRow *) rows, nrows, held, c->arg);
}

/*
 * Call fn for every entity with its rows (a scratch copy, in arrival order),
 * the entities in the order of their hash, then of their bytes: the same
 * order in every plan.  Reads the log only (final functions may run as
 * window functions).
 */
void
jlog_foreach(const JourneyLog *log, JourneyEntityFn fn, void *arg)
{
	ForeachCall c;

	c.fn = fn;
	c.arg = arg;
	estore_foreach_ordered(log->store, journey_entity, &c);
}

/* the same in no particular order, for results the order cannot change */
static void
jlog_foreach_any_order(const JourneyLog *log, JourneyEntityFn fn, void *arg)
{
	ForeachCall c;

	c.fn = fn;
	c.arg = arg;
	estore_foreach(log->store, journey_entity, &c);
}

typedef struct GroupCall
{
	JourneyRow *out;
	uint64	   *starts;
	uint64		pos;
	uint64		total;
	uint32		nent;
	uint64		entcap;
} GroupCall;

static void
group_entity(Datum key, JourneyRow *rows, int64 nrows, Size held, void *arg)
{
	GroupCall  *g = arg;
	int64		i;

	(void) key;
	if ((uint64) nrows > g->total - g->pos)
		elog(ERROR, "journey log holds more rows than counted");
	if (g->nent + 1 >= g->entcap)
	{
		g->entcap *= 2;
		funnel_check_memory(sizeof(JourneyRow) * (Size) g->pos + sizeof(uint64) * (Size) g->entcap + held);
		g->starts = repalloc_huge(g->starts, sizeof(uint64) * (Size) g->entcap);
	}
	for (i = 0; i < nrows; i++)
	{
		g->out[g->pos] = rows[i];
		g->out[g->pos].ent = g->nent;
		g->pos++;
	}
	g->nent++;
	g->starts[g->nent] = g->pos;
}

/*
 * A copy of all rows grouped by entity (entities in jlog_foreach's order,
 * rows of one entity in arrival order, ent their entity's index):
 * (*starts)[e] .. (*starts)[e + 1] are the rows of entity e of *nent.  It
 * holds every row in memory at once (16 bytes each, checked against
 * funnel.max_state_memory); jlog_foreach holds one partition's.
 */
JourneyRow *
jlog_group(const JourneyLog *log, bool ordered, uint64 **starts_out, uint32 *nent)
{
	GroupCall	g;

	if (log->nrows >= PG_UINT32_MAX)
		funnel_check_memory(MaxAllocHugeSize);
	funnel_check_memory(log->mem + sizeof(JourneyRow) * (Size) (log->nrows + 1));
	g.out = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(JourneyRow) * (Size) (log->nrows + 1));
	g.entcap = 1024;
	g.starts = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint64) * g.entcap);
	g.starts[0] = 0;
	g.pos = 0;
	g.total = log->nrows;
	g.nent = 0;
	if (ordered)
		jlog_foreach(log, group_entity, &g);
	else
		jlog_foreach_any_order(log, group_entity, &g);
	if (g.pos != log->nrows)
		elog(ERROR, "journey log holds a different number of rows than counted");
	*starts_out = g.starts;
	*nent = g.nent;
	return g.out;
}
