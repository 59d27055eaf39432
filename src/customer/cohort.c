/*
 * src/customer/cohort.c
 *    Customer-value aggregates over whole orders tables, where the group
 *    holds many customers (entities of any type): the one-call ltv and the
 *    ltv_report aggregates (per-customer summaries, BG/NBD and Gamma-Gamma
 *    fits and the mean predicted value, next to the textbook historical
 *    figures), the cohort_retention aggregate (cohort x period activity
 *    matrix).
 *
 *    Entities (customers) are told apart with the type's default hash
 *    operator class, as GROUP BY would.  The state keeps the distinct
 *    entities and one small row per input row; the final function sorts a
 *    copy of the rows by (entity, time) and walks the entities.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/byte_order.h"
#include "common/int.h"
#include "customer/customer_value.h"
#include "engine/funnel.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* Only states deserialised from hostile bytes can hold counts this large. */
static void
add_skipped_rows(int64 *dst, int64 n)
{
	if (pg_add_s64_overflow(*dst, n, dst))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("count of skipped rows is out of range")));
}

/* ---------------------------------------------------------------------
 * Keyed rows: one row per input row (entity number, period number, amount)
 * and the distinct entities, found through a hash table that uses the
 * type's default hash operator class (so entities are equal exactly when
 * GROUP BY would put them together), with fast paths for integers.
 * ---------------------------------------------------------------------
 */
typedef struct KeyedRow
{
	int64		entity;			/* index into KeyedRows.keys */
	int32		period;			/* calendar day or period number */
	int128		amount;			/* billionths (cv_amount), summed exactly */
} KeyedRow;

typedef enum KeyKind
{
	KEY_INT,					/* smallint, integer, bigint: the value */
	KEY_GENERIC					/* the type's hash and equality functions */
} KeyKind;

typedef struct KeyedRows
{
	bool		typed;			/* the fields below are set */
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	KeyKind		kind;
	FmgrInfo   *hash_fn;		/* in the type cache */
	FmgrInfo   *eq_fn;
	/* entities */
	int64		nent,
				entcap;
	Datum	   *keys;
	uint32	   *hashes;
	/* open addressing: entity number + 1, 0 = free; size a power of 2 */
	int64		nslots;
	int64	   *slots;
	/* rows */
	int64		n,
				cap;
	KeyedRow   *rows;
	Size		mem;			/* bytes allocated, for funnel.max_state_memory */
} KeyedRows;

static void
kr_set_type(KeyedRows *kr, Oid typid, Oid collation)
{
	kr->typid = typid;
	/* entities compare under the call's collation (e.g. for text) */
	if (!OidIsValid(collation) && type_is_collatable(typid))
		collation = DEFAULT_COLLATION_OID;
	kr->collation = collation;
	get_typlenbyval(typid, &kr->typlen, &kr->typbyval);
	if (typid == INT2OID || typid == INT4OID || (typid == INT8OID && kr->typbyval))
		kr->kind = KEY_INT;
	else
	{
		TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_HASH_PROC_FINFO |
												TYPECACHE_EQ_OPR_FINFO);

		if (!OidIsValid(tce->hash_proc) || !OidIsValid(tce->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("customer type %s has no default hash operator class",
							format_type_be(typid)),
					 errhint("Use a customer or entity of a hashable type such as bigint, integer, text or uuid, or cast it to one.")));
		kr->kind = KEY_GENERIC;
		kr->hash_fn = &tce->hash_proc_finfo;
		kr->eq_fn = &tce->eq_opr_finfo;
	}
	kr->typed = true;
}

static int64
kr_int_value(const KeyedRows *kr, Datum d)
{
	if (kr->typid == INT2OID)
		return DatumGetInt16(d);
	if (kr->typid == INT4OID)
		return DatumGetInt32(d);
	return DatumGetInt64(d);
}

static uint32
kr_hash(const KeyedRows *kr, Datum d)
{
	if (kr->kind == KEY_INT)
	{
		uint64		v = (uint64) kr_int_value(kr, d);

		return murmurhash32((uint32) v ^ murmurhash32((uint32) (v >> 32)));
	}
	return DatumGetUInt32(FunctionCall1Coll(kr->hash_fn, kr->collation, d));
}

static bool
kr_equal(const KeyedRows *kr, Datum a, Datum b)
{
	if (kr->kind == KEY_INT)
		return kr_int_value(kr, a) == kr_int_value(kr, b);
	return DatumGetBool(FunctionCall2Coll(kr->eq_fn, kr->collation, a, b));
}

static void
kr_rehash(MemoryContext cxt, KeyedRows *kr, int64 nslots)
{
	int64		i;

	if ((Size) nslots > MaxAllocHugeSize / sizeof(int64))
		funnel_check_memory(MaxAllocHugeSize);
	kr->mem += (Size) (nslots - kr->nslots) * sizeof(int64);
	funnel_check_memory(kr->mem);
	if (kr->slots)
		pfree(kr->slots);
	kr->slots = MemoryContextAllocExtended(cxt, nslots * sizeof(int64),
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	kr->nslots = nslots;
	for (i = 0; i < kr->nent; i++)
	{
		int64		j = kr->hashes[i] & (nslots - 1);

		while (kr->slots[j] != 0)
			j = (j + 1) & (nslots - 1);
		kr->slots[j] = i + 1;
	}
}

/*
 * The number of entity d, added (a copy in cxt) when new; *isnew, if not
 * NULL, tells which.
 */
static int64
kr_entity(MemoryContext cxt, KeyedRows *kr, Datum d, bool *isnew)
{
	uint32		h;
	int64		j;

	if (kr->kind == KEY_GENERIC && kr->typlen == -1)
	{
		/* compare and keep the flat, detoasted form (not a toast pointer) */
		d = PointerGetDatum(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d)));
	}
	h = kr_hash(kr, d);
	if (kr->nslots == 0 || (kr->nent + 1) * 2 > kr->nslots)
		kr_rehash(cxt, kr, Max(kr->nslots * 2, 64));
	for (j = h & (kr->nslots - 1); kr->slots[j] != 0; j = (j + 1) & (kr->nslots - 1))
	{
		int64		e = kr->slots[j] - 1;

		if (kr->hashes[e] == h && kr_equal(kr, kr->keys[e], d))
		{
			if (isnew)
				*isnew = false;
			return e;
		}
	}
	if (kr->nent >= kr->entcap)
	{
		int64		oldcap = kr->entcap;

		kr->keys = funnel_state_grow(cxt, kr->keys, &kr->entcap, kr->nent + 1, sizeof(Datum),
									 &kr->mem);
		kr->mem += (Size) (kr->entcap - oldcap) * sizeof(uint32);
		if (kr->hashes == NULL)
			kr->hashes = MemoryContextAllocHuge(cxt, kr->entcap * sizeof(uint32));
		else
			kr->hashes = repalloc_huge(kr->hashes, kr->entcap * sizeof(uint32));
	}
	if (kr->kind == KEY_INT || kr->typbyval)
		kr->keys[kr->nent] = d;
	else
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		kr->keys[kr->nent] = datumCopy(d, false, kr->typlen);
		MemoryContextSwitchTo(old);
		kr->mem += datumGetSize(kr->keys[kr->nent], false, kr->typlen);
		funnel_check_memory(kr->mem);
	}
	kr->hashes[kr->nent] = h;
	kr->slots[j] = kr->nent + 1;
	if (isnew)
		*isnew = true;
	return kr->nent++;
}

static void
kr_add_row(MemoryContext cxt, KeyedRows *kr, int64 entity, int32 period, int128 amount)
{
	KeyedRow   *row;

	kr->rows = funnel_state_grow(cxt, kr->rows, &kr->cap, kr->n + 1, sizeof(KeyedRow), &kr->mem);
	row = &kr->rows[kr->n++];
	row->entity = entity;
	row->period = period;
	row->amount = amount;
}

/* Add a row for the entity in argument argno (not NULL). */
static void
kr_add_entity(FunctionCallInfo fcinfo, MemoryContext cxt, KeyedRows *kr,
			  int argno, int32 period, int128 amount)
{
	if (!kr->typed)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the type of the customer or entity argument")));
		kr_set_type(kr, typid, PG_GET_COLLATION());
	}
	kr_add_row(cxt, kr, kr_entity(cxt, kr, PG_GETARG_DATUM(argno), NULL), period, amount);
}

static void
kr_merge(MemoryContext cxt, KeyedRows *dst, const KeyedRows *src)
{
	int64	   *map;
	int64		i;

	if (!src->typed)
		return;
	if (!dst->typed)
		kr_set_type(dst, src->typid, src->collation);
	else if (dst->typid != src->typid || dst->collation != src->collation)
		funnel_invalid_state("The customer value states to combine have different customer types.");
	map = palloc_extended(sizeof(int64) * Max(src->nent, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < src->nent; i++)
		map[i] = kr_entity(cxt, dst, src->keys[i], NULL);
	for (i = 0; i < src->n; i++)
		kr_add_row(cxt, dst, map[src->rows[i].entity], src->rows[i].period,
				   src->rows[i].amount);
	pfree(map);
}

/*
 * Format: type, collation, number of entities, each key (integers as
 * int64, other types by funnel_key_write), number of rows, each row (entity
 * number, period, amount).
 */
static void
kr_serialize(const KeyedRows *kr, StringInfo buf)
{
	int64		i;

	pq_sendint32(buf, kr->typed ? kr->typid : InvalidOid);
	pq_sendint32(buf, kr->typed ? kr->collation : InvalidOid);
	pq_sendint64(buf, kr->nent);
	for (i = 0; i < kr->nent; i++)
	{
		if (kr->kind == KEY_INT)
			pq_sendint64(buf, kr_int_value(kr, kr->keys[i]));
		else
			funnel_key_write(buf, kr->keys[i], kr->typlen, kr->typbyval);
	}
	pq_sendint64(buf, kr->n);
	for (i = 0; i < kr->n; i++)
	{
		pq_sendint64(buf, kr->rows[i].entity);
		pq_sendint32(buf, kr->rows[i].period);
		money_send(buf, kr->rows[i].amount);
	}
}

/* Reads what kr_serialize wrote, checking every length and value. */
static void
kr_deserialize(MemoryContext cxt, KeyedRows *kr, StringInfo buf,
			   const char *what, bool amounts)
{
	Oid			typid,
				collation;
	int64		nent,
				n,
				i;

	if (buf->len - buf->cursor < 16)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	typid = pq_getmsgint(buf, 4);
	collation = pq_getmsgint(buf, 4);
	nent = pq_getmsgint64(buf);
	if (!OidIsValid(typid))
	{
		if (nent != 0)
			funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	}
	else
	{
		if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)) ||
			(OidIsValid(collation) &&
			 !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation))))
			funnel_invalid_state(psprintf("The %s state is corrupt.", what));
		kr_set_type(kr, typid, collation);
	}
	/* every key takes a byte at least ("char", boolean) */
	if (nent < 0 || nent > buf->len - buf->cursor)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	for (i = 0; i < nent; i++)
	{
		Datum		key;
		bool		isnew;

		CHECK_FOR_INTERRUPTS();
		if (kr->kind == KEY_INT)
		{
			int64		v;

			if (buf->len - buf->cursor < 8)
				funnel_invalid_state(psprintf("The %s state is corrupt.", what));
			v = pq_getmsgint64(buf);
			if ((typid == INT2OID && (v < PG_INT16_MIN || v > PG_INT16_MAX)) ||
				(typid == INT4OID && (v < PG_INT32_MIN || v > PG_INT32_MAX)))
				funnel_invalid_state(psprintf("The %s state is corrupt.", what));
			key = (typid == INT2OID) ? Int16GetDatum((int16) v) :
				(typid == INT4OID) ? Int32GetDatum((int32) v) : Int64GetDatum(v);
		}
		else if (!funnel_key_read(buf, kr->typlen, kr->typbyval, &key))
			funnel_invalid_state(psprintf("A customer key of the %s state is longer than the data.", what));
		if (kr_entity(cxt, kr, key, &isnew) != i || !isnew)
			funnel_invalid_state(psprintf("The %s state holds a customer twice.", what));
	}
	if (buf->len - buf->cursor < 8)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	n = pq_getmsgint64(buf);
	if (n < 0 || n > (buf->len - buf->cursor) / 28)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	for (i = 0; i < n; i++)
	{
		int64		entity = pq_getmsgint64(buf);
		int32		period = pq_getmsgint(buf, 4);
		int128		amount = money_recv(buf);

		/* calendar days / periods of finite timestamps fit in +-2e8 */
		if (entity < 0 || entity >= nent ||
			amount < 0 || (!amounts && amount != 0) ||
			period < -200000000 || period > 200000000)
			funnel_invalid_state(psprintf("The %s state is corrupt.", what));
		kr_add_row(cxt, kr, entity, period, amount);
	}
}

/*
 * The entities in an order that does not depend on the order the rows
 * arrived in (and so on the plan): integers by value, other types by hash,
 * then by the bytes of the value.  Customer-level sums and the model fits
 * run in this order, so that serial and parallel plans agree to the bit.
 */
static int
cmp_canonical_entity(const void *pa, const void *pb, void *arg)
{
	const KeyedRows *kr = arg;
	int64		a = *(const int64 *) pa,
				b = *(const int64 *) pb;
	Datum		da = kr->keys[a],
				db = kr->keys[b];

	if (kr->kind == KEY_INT)
	{
		int64		va = kr_int_value(kr, da),
					vb = kr_int_value(kr, db);

		return (va > vb) - (va < vb);
	}
	if (kr->hashes[a] != kr->hashes[b])
		return kr->hashes[a] < kr->hashes[b] ? -1 : 1;
	return funnel_datum_bytes_cmp(da, db, kr->typlen, kr->typbyval);
}

/* Rows by entity (arg: the entities' ranks in the order above), period, amount. */
static int
cmp_keyed_row(const void *a, const void *b, void *arg)
{
	const KeyedRow *x = (const KeyedRow *) a;
	const KeyedRow *y = (const KeyedRow *) b;
	const int64 *entity_rank = arg;

	if (x->entity != y->entity)
	{
		int64		rx = entity_rank[x->entity],
					ry = entity_rank[y->entity];

		return (rx > ry) - (rx < ry);
	}
	if (x->period != y->period)
		return (x->period > y->period) - (x->period < y->period);
	return (x->amount > y->amount) - (x->amount < y->amount);
}

/*
 * A copy of the rows sorted by entity (in the order above), then period
 * (the state is untouched).
 */
static KeyedRow *
kr_sorted(const KeyedRows *kr)
{
	KeyedRow   *rows = palloc_extended(sizeof(KeyedRow) * Max(kr->n, 1),
									   MCXT_ALLOC_HUGE);
	int64	   *order = palloc_extended(sizeof(int64) * Max(kr->nent, 1), MCXT_ALLOC_HUGE);
	int64	   *rank = palloc_extended(sizeof(int64) * Max(kr->nent, 1), MCXT_ALLOC_HUGE);
	int64		i;

	for (i = 0; i < kr->nent; i++)
		order[i] = i;
	qsort_arg(order, kr->nent, sizeof(int64), cmp_canonical_entity, (void *) kr);
	for (i = 0; i < kr->nent; i++)
		rank[order[i]] = i;
	memcpy(rows, kr->rows, sizeof(KeyedRow) * kr->n);
	qsort_arg(rows, kr->n, sizeof(KeyedRow), cmp_keyed_row, rank);
	pfree(order);
	pfree(rank);
	return rows;
}

static inline bool
same_key(const KeyedRows *kr, const KeyedRow *a, const KeyedRow *b)
{
	(void) kr;
	return a->entity == b->entity;
}

/* ---------------------------------------------------------------------
 * ltv and ltv_report aggregates
 * ---------------------------------------------------------------------
 */
typedef struct LtvState
{
	Interval	horizon;
	double		discount;
	int64		nulls;			/* rows skipped for a NULL */
	KeyedRows	kr;				/* period = calendar day */
} LtvState;

static LtvState *
ltv_create(MemoryContext cxt, const Interval *horizon, double discount)
{
	LtvState   *st = MemoryContextAllocZero(cxt, sizeof(LtvState));

	st->horizon = *horizon;
	st->discount = discount;
	return st;
}

static void
ltv_check_args(const Interval *horizon, double discount)
{
	double		months = cv_interval_days(horizon, "horizon") / 30.0;

	cv_check_ltv_args(months, discount, 30.0);
}

/*
 * ltv / ltv_report transition: records (customer, calendar day, amount);
 * optional horizon (default one year) and monthly discount rate (default 1%).
 */
PG_FUNCTION_INFO_V1(ltv_agg_sfunc);
Datum
ltv_agg_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "ltv");
	LtvState   *st = FUNNEL_STATE_ARG(LtvState, 0);
	Interval	year = {0, 0, 12};
	Interval   *horizon = &year;
	double		discount = 0.01;

	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("horizon must not be NULL")));
		horizon = PG_GETARG_INTERVAL_P(4);
	}
	if (PG_NARGS() > 5)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("discount_rate must not be NULL")));
		discount = PG_GETARG_FLOAT8(5);
	}
	if (st == NULL)
	{
		ltv_check_args(horizon, discount);
		st = ltv_create(cxt, horizon, discount);
	}
	else if (memcmp(&st->horizon, horizon, sizeof(Interval)) != 0 ||
			 st->discount != discount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon and discount_rate must be the same for every row of a group")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		st->nulls++;
		PG_RETURN_POINTER(st);
	}
	kr_add_entity(fcinfo, cxt, &st->kr, 1,
				  cv_local_day(PG_GETARG_TIMESTAMPTZ(2)),
				  cv_amount(PG_GETARG_NUMERIC(3)));
	PG_RETURN_POINTER(st);
}

/*
 * ltv / ltv_report combine function: merges the second state's customers and
 * order rows into the first.
 */
PG_FUNCTION_INFO_V1(ltv_agg_combine);
Datum
ltv_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "ltv_agg_combine");
	LtvState   *a = FUNNEL_STATE_ARG(LtvState, 0);
	LtvState   *b = FUNNEL_STATE_ARG(LtvState, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = ltv_create(cxt, &b->horizon, b->discount);
	else if (memcmp(&a->horizon, &b->horizon, sizeof(Interval)) != 0 ||
			 a->discount != b->discount)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon and discount_rate must be the same for every row of a group")));
	add_skipped_rows(&a->nulls, b->nulls);
	kr_merge(cxt, &a->kr, &b->kr);
	PG_RETURN_POINTER(a);
}

/*
 * ltv / ltv_report state serialisation: horizon, discount rate, customers
 * and order rows.
 */
PG_FUNCTION_INFO_V1(ltv_agg_serialize);
Datum
ltv_agg_serialize(PG_FUNCTION_ARGS)
{
	LtvState   *st = (LtvState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "ltv_agg_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->horizon.month);
	pq_sendint32(&buf, st->horizon.day);
	pq_sendint64(&buf, st->horizon.time);
	pq_sendfloat8(&buf, st->discount);
	pq_sendint64(&buf, st->nulls);
	kr_serialize(&st->kr, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ltv / ltv_report state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(ltv_agg_deserialize);
Datum
ltv_agg_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "ltv_agg_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	Interval	horizon;
	double		discount;
	LtvState   *st;

	funnel_state_reader(b, &buf);
	if (buf.len < 32)
		funnel_invalid_state("The ltv state is corrupt.");
	horizon.month = pq_getmsgint(&buf, 4);
	horizon.day = pq_getmsgint(&buf, 4);
	horizon.time = pq_getmsgint64(&buf);
	discount = pq_getmsgfloat8(&buf);
	ltv_check_args(&horizon, discount);
	st = ltv_create(cxt, &horizon, discount);
	st->nulls = pq_getmsgint64(&buf);
	if (st->nulls < 0)
		funnel_invalid_state("The ltv state is corrupt.");
	kr_deserialize(cxt, &st->kr, &buf, "ltv", true);
	if (buf.cursor != buf.len)
		funnel_invalid_state("The ltv state is corrupt.");
	PG_RETURN_POINTER(st);
}

/* What the ltv aggregates compute from a group. */
typedef struct LtvResult
{
	int64		customers;
	int64		orders;
	double		revenue;		/* the exact sum, rounded once */
	double		span_days;		/* first to last order of the group */
	double		lifespan_days;	/* mean first to last order per customer */
	double		churn_days;		/* churn period: the last L days of the data */
	int64		at_risk;		/* customers who first bought before it */
	int64		churned;		/* ... and did not buy in it */
	bool		fitted;
	BgnbdParams m;
	GammaGammaParams g;
	double		predicted;		/* mean predicted value per customer */
} LtvResult;

static bool
ltv_compute(const LtvState *st, LtvResult *res)
{
	const KeyedRows *kr = &st->kr;
	KeyedRow   *rows;
	BgnbdObs   *obs;
	GammaGammaObs *gobs;
	double	   *mx;
	int32	   *firsts,
			   *lasts;
	int64		i,
				ncust = 0,
				nrep = 0;
	int32		end_day = PG_INT32_MIN,
				first_day = PG_INT32_MAX;
	double		horizon_days = cv_interval_days(&st->horizon, "horizon");
	double		months = horizon_days / 30.0;
	int128		revenue = 0;

	memset(res, 0, sizeof(*res));
	if (kr->n == 0)
		return false;
	for (i = 0; i < kr->n; i++)
	{
		end_day = Max(end_day, kr->rows[i].period);
		first_day = Min(first_day, kr->rows[i].period);
		money_add(&revenue, kr->rows[i].amount, "purchase amounts");
	}
	res->revenue = money_to_double(revenue);
	res->orders = kr->n;
	res->span_days = (double) end_day - first_day;

	rows = kr_sorted(kr);
	obs = palloc_extended(sizeof(BgnbdObs) * kr->n, MCXT_ALLOC_HUGE);
	gobs = palloc_extended(sizeof(GammaGammaObs) * kr->n, MCXT_ALLOC_HUGE);
	mx = palloc_extended(sizeof(double) * kr->n, MCXT_ALLOC_HUGE);
	firsts = palloc_extended(sizeof(int32) * kr->n, MCXT_ALLOC_HUGE);
	lasts = palloc_extended(sizeof(int32) * kr->n, MCXT_ALLOC_HUGE);
	for (i = 0; i < kr->n;)
	{
		int64		j = i;
		int32		first = rows[i].period,
					last = first,
					ndays = 1;
		int128		repeat = 0;

		CHECK_FOR_INTERRUPTS();
		for (j = i + 1; j < kr->n && same_key(kr, &rows[i], &rows[j]); j++)
		{
			if (rows[j].period != last)
			{
				ndays++;
				last = rows[j].period;
			}
			if (rows[j].period != first)
				money_add(&repeat, rows[j].amount, "purchase amounts");
		}
		obs[ncust].x = ndays - 1;
		obs[ncust].tx = (double) last - first;
		obs[ncust].T = (double) end_day - first;
		mx[ncust] = ndays > 1 ? money_to_double(repeat) / (ndays - 1) : 0.0;
		/* the spend model needs positive spend: free repeat orders stay out */
		if (ndays > 1 && mx[ncust] > 0)
		{
			gobs[nrep].x = ndays - 1;
			gobs[nrep].m = mx[ncust];
			nrep++;
		}
		res->lifespan_days += (double) last - first;
		firsts[ncust] = first;
		lasts[ncust] = last;
		ncust++;
		i = j;
	}
	res->customers = ncust;
	res->lifespan_days /= ncust;

	/*
	 * Churn over the last L days, L = the horizon or half the data's span
	 * if shorter: of the customers who first bought before those days, the
	 * share who did not buy in them.
	 */
	res->churn_days = floor(Min(horizon_days, res->span_days / 2.0));
	if (res->churn_days >= 1)
	{
		double		cut = (double) end_day - res->churn_days;

		for (i = 0; i < ncust; i++)
			if (firsts[i] <= cut)
			{
				res->at_risk++;
				if (lasts[i] <= cut)
					res->churned++;
			}
	}

	/* fits that cannot be made give a NOTICE and a NULL prediction */
	res->fitted = bgnbd_fit_obs(obs, ncust, &res->m, NOTICE);
	if (res->fitted)
	{
		/* every repeat customer spending the same is not a usable fit */
		bool		varied = false;

		for (i = 1; i < nrep && !varied; i++)
			varied = (gobs[i].m != gobs[0].m);
		if (nrep < 2 || !varied)
		{
			ereport(NOTICE,
					(errmsg("no spend model for this group"),
					 nrep < 2 ?
					 errdetail("Fewer than 2 customers made paid repeat purchases.") :
					 errdetail("All repeat customers have the same average spend.")));
			res->fitted = false;
		}
		else
			res->fitted = gamma_gamma_fit_obs(gobs, nrep, &res->g, NOTICE);
	}
	if (res->fitted && res->g.q <= 1.0)
	{
		ereport(NOTICE,
				(errmsg("the fitted spend model has no finite mean spend"),
				 errdetail("The fitted q is %g; the mean spend exists only for q > 1.", res->g.q)));
		res->fitted = false;
	}
	if (res->fitted)
	{
		double		total = 0.0;

		for (i = 0; i < ncust; i++)
		{
			CHECK_FOR_INTERRUPTS();
			total += customer_ltv(&res->m, &res->g, obs[i].x, obs[i].tx, obs[i].T,
								  mx[i], months, st->discount, 30.0);
		}
		res->predicted = total / ncust;
	}
	return true;
}

/*
 * ltv final function: mean predicted value per customer from BG/NBD and
 * Gamma-Gamma models fitted on the group's orders; NULL when they cannot be
 * fitted.
 */
PG_FUNCTION_INFO_V1(ltv_agg_final);
Datum
ltv_agg_final(PG_FUNCTION_ARGS)
{
	LtvResult	res;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!ltv_compute((LtvState *) PG_GETARG_POINTER(0), &res) || !res.fitted)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(res.predicted);
}

/* A composite value of the type of attribute attno of tupdesc. */
static Datum
nested_tuple(TupleDesc outer, int attno, Datum *values, bool *nulls)
{
	TupleDesc	td = lookup_rowtype_tupdesc_copy(TupleDescAttr(outer, attno)->atttypid, -1);

	td = BlessTupleDesc(td);
	return HeapTupleGetDatum(heap_form_tuple(td, values, nulls));
}

/*
 * ltv_report final function: the customer_value_report of the group
 * (historical figures, churn, and the fitted models with the predicted value).
 */
PG_FUNCTION_INFO_V1(ltv_report_final);
Datum
ltv_report_final(PG_FUNCTION_ARGS)
{
	LtvResult	res;
	TupleDesc	tupdesc;
	Datum		values[13];
	bool		nulls[13] = {0};
	double		aov,
				per_year = 0,
				lifespan_years;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!ltv_compute((LtvState *) PG_GETARG_POINTER(0), &res))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ltv_report must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	aov = res.revenue / res.orders;
	lifespan_years = res.lifespan_days / 365.25;
	values[0] = Int64GetDatum(res.customers);
	values[1] = Int64GetDatum(res.orders);
	values[2] = Float8GetDatum(res.revenue);
	values[3] = Float8GetDatum(aov);
	if (res.span_days > 0)
	{
		per_year = (double) res.orders / res.customers / (res.span_days / 365.25);
		values[4] = Float8GetDatum(per_year);
		values[9] = Float8GetDatum(aov * per_year * lifespan_years);
	}
	else
		nulls[4] = nulls[9] = true;
	values[5] = Float8GetDatum(lifespan_years);
	if (res.at_risk > 0)
		values[6] = Float8GetDatum((double) res.churned / res.at_risk);
	else
		nulls[6] = true;
	if (res.churn_days >= 1)
		values[7] = Int32GetDatum((int32) res.churn_days);
	else
		nulls[7] = true;
	values[8] = Int64GetDatum(res.at_risk);
	if (res.fitted)
	{
		Datum		mv[6];
		bool		mn[6] = {0};

		values[10] = Float8GetDatum(res.predicted);
		mv[0] = Float8GetDatum(res.m.r);
		mv[1] = Float8GetDatum(res.m.alpha);
		mv[2] = Float8GetDatum(res.m.a);
		mv[3] = Float8GetDatum(res.m.b);
		mv[4] = Float8GetDatum(res.m.ll);
		mv[5] = Int64GetDatum(res.m.n);
		values[11] = nested_tuple(tupdesc, 11, mv, mn);
		mv[0] = Float8GetDatum(res.g.p);
		mv[1] = Float8GetDatum(res.g.q);
		mv[2] = Float8GetDatum(res.g.gamma);
		mv[3] = Float8GetDatum(res.g.ll);
		mv[4] = Int64GetDatum(res.g.n);
		values[12] = nested_tuple(tupdesc, 12, mv, mn);
	}
	else
		nulls[10] = nulls[11] = nulls[12] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * cohort_retention aggregate
 * ---------------------------------------------------------------------
 */
typedef enum CohortPeriod
{
	CP_DAY,
	CP_WEEK,
	CP_MONTH,
	CP_QUARTER,
	CP_YEAR
} CohortPeriod;

static const char *const cohort_period_names[] = {"day", "week", "month", "quarter", "year"};

typedef struct CohortState
{
	int32		unit;			/* CohortPeriod */
	int32		periods;
	int64		nulls;
	KeyedRows	kr;				/* period = calendar period number */
} CohortState;

static int32
floor_div(int32 a, int32 b)
{
	return (a >= 0) ? a / b : -((-a + b - 1) / b);
}

/* The calendar period number of ts (session time zone). */
static int32
period_number(TimestampTz ts, CohortPeriod unit)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("event time must be a finite timestamp")));
	switch (unit)
	{
		case CP_DAY:
			return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
		case CP_WEEK:
			/* weeks start on Monday; 2000-01-03 (day 2) was a Monday */
			return floor_div(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) -
							 POSTGRES_EPOCH_JDATE - 2, 7);
		case CP_MONTH:
			return tm.tm_year * 12 + (tm.tm_mon - 1);
		case CP_QUARTER:
			return tm.tm_year * 4 + (tm.tm_mon - 1) / 3;
		case CP_YEAR:
			return tm.tm_year;
	}
	return 0;					/* keep the compiler quiet */
}

/* The first day (a date) of period number p. */
static DateADT
period_start(int32 p, CohortPeriod unit)
{
	int32		y,
				m;

	switch (unit)
	{
		case CP_DAY:
			return p;
		case CP_WEEK:
			return p * 7 + 2;
		case CP_MONTH:
			y = floor_div(p, 12);
			m = p - y * 12 + 1;
			return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
		case CP_QUARTER:
			y = floor_div(p, 4);
			m = (p - y * 4) * 3 + 1;
			return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
		case CP_YEAR:
			return date2j(p, 1, 1) - POSTGRES_EPOCH_JDATE;
	}
	return 0;
}

static CohortPeriod
parse_period(text *t)
{
	char	   *s = text_to_cstring(t);
	int			i;

	for (i = 0; i < (int) lengthof(cohort_period_names); i++)
		if (pg_strcasecmp(s, cohort_period_names[i]) == 0)
			return (CohortPeriod) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized cohort period \"%s\"", s),
			 errhint("Use day, week, month, quarter or year.")));
	return CP_MONTH;
}

static void
check_periods(int32 periods)
{
	if (periods < 1 || periods > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort periods must be between 1 and 1000, not %d", periods)));
}

/* Parsed period argument, cached per call site. */
typedef struct CohortCallCache
{
	text	   *period_arg;
	CohortPeriod unit;
} CohortCallCache;

/*
 * cohort_retention transition: records (entity, calendar period of ts);
 * optional period unit (default month) and number of periods (default 12).
 */
PG_FUNCTION_INFO_V1(cohort_retention_sfunc);
Datum
cohort_retention_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "cohort_retention");
	CohortState *st = FUNNEL_STATE_ARG(CohortState, 0);
	CohortCallCache *cc;
	CohortPeriod unit = CP_MONTH;
	int32		periods = 12;

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(CohortCallCache));
	cc = (CohortCallCache *) fcinfo->flinfo->fn_extra;
	if (PG_NARGS() > 3)
	{
		text	   *p;

		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cohort period must not be NULL")));
		p = PG_GETARG_TEXT_PP(3);
		if (cc->period_arg == NULL ||
			VARSIZE_ANY_EXHDR(p) != VARSIZE_ANY_EXHDR(cc->period_arg) ||
			memcmp(VARDATA_ANY(p), VARDATA_ANY(cc->period_arg), VARSIZE_ANY_EXHDR(p)) != 0)
		{
			cc->unit = parse_period(p);
			if (cc->period_arg)
				pfree(cc->period_arg);
			cc->period_arg = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(p));
			memcpy(cc->period_arg, p, VARSIZE_ANY(p));
		}
		unit = cc->unit;
	}
	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cohort periods must not be NULL")));
		periods = PG_GETARG_INT32(4);
	}
	if (st == NULL)
	{
		check_periods(periods);
		st = MemoryContextAllocZero(cxt, sizeof(CohortState));
		st->unit = unit;
		st->periods = periods;
	}
	else if (st->unit != (int32) unit || st->periods != periods)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort period and periods must be the same for every row of a group")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		st->nulls++;
		PG_RETURN_POINTER(st);
	}
	kr_add_entity(fcinfo, cxt, &st->kr, 1,
				  period_number(PG_GETARG_TIMESTAMPTZ(2), unit), 0);
	PG_RETURN_POINTER(st);
}

/*
 * cohort_retention combine function: merges the second state's entities and
 * rows into the first (the period settings must agree).
 */
PG_FUNCTION_INFO_V1(cohort_retention_combine);
Datum
cohort_retention_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "cohort_retention_combine");
	CohortState *a = FUNNEL_STATE_ARG(CohortState, 0);
	CohortState *b = FUNNEL_STATE_ARG(CohortState, 1);

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
	{
		a = MemoryContextAllocZero(cxt, sizeof(CohortState));
		a->unit = b->unit;
		a->periods = b->periods;
	}
	else if (a->unit != b->unit || a->periods != b->periods)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort period and periods must be the same for every row of a group")));
	add_skipped_rows(&a->nulls, b->nulls);
	kr_merge(cxt, &a->kr, &b->kr);
	PG_RETURN_POINTER(a);
}

/* cohort_retention state serialisation: period settings, entities and rows. */
PG_FUNCTION_INFO_V1(cohort_retention_serialize);
Datum
cohort_retention_serialize(PG_FUNCTION_ARGS)
{
	CohortState *st = (CohortState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "cohort_retention_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->unit);
	pq_sendint32(&buf, st->periods);
	pq_sendint64(&buf, st->nulls);
	kr_serialize(&st->kr, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* cohort_retention state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(cohort_retention_deserialize);
Datum
cohort_retention_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "cohort_retention_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	CohortState *st;

	funnel_state_reader(b, &buf);
	if (buf.len < 16)
		funnel_invalid_state("The cohort_retention state is corrupt.");
	st = MemoryContextAllocZero(cxt, sizeof(CohortState));
	st->unit = pq_getmsgint(&buf, 4);
	st->periods = pq_getmsgint(&buf, 4);
	st->nulls = pq_getmsgint64(&buf);
	if (st->unit < 0 || st->unit > CP_YEAR || st->nulls < 0)
		funnel_invalid_state("The cohort_retention state is corrupt.");
	check_periods(st->periods);
	kr_deserialize(cxt, &st->kr, &buf, "cohort_retention", false);
	if (buf.cursor != buf.len)
		funnel_invalid_state("The cohort_retention state is corrupt.");
	PG_RETURN_POINTER(st);
}

typedef struct CohortHit
{
	int32		cohort;
	int32		k;
} CohortHit;

static int
cmp_cohort_hit(const void *a, const void *b)
{
	const CohortHit *x = (const CohortHit *) a;
	const CohortHit *y = (const CohortHit *) b;

	if (x->cohort != y->cohort)
		return (x->cohort > y->cohort) - (x->cohort < y->cohort);
	return (x->k > y->k) - (x->k < y->k);
}

/*
 * Result: (period text, periods integer, cohort_start date[], cohort_size
 * bigint[], active bigint[][]): active[c][k+1] = entities of cohort c active
 * in its k-th period, NULL for periods after the group's last event.
 */
PG_FUNCTION_INFO_V1(cohort_retention_final);
Datum
cohort_retention_final(PG_FUNCTION_ARGS)
{
	CohortState *st;
	KeyedRow   *rows;
	CohortHit  *hits;
	int64		nhits = 0,
				i;
	int32		last_period = PG_INT32_MIN;
	int			ncohorts = 0,
				width,
				c;
	Datum	   *starts,
			   *sizes,
			   *active;
	bool	   *active_nulls;
	int			dims[2],
				lbs[2] = {1, 1};
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (CohortState *) PG_GETARG_POINTER(0);
	if (st->kr.n == 0)
		PG_RETURN_NULL();
	width = st->periods + 1;
	rows = kr_sorted(&st->kr);
	hits = palloc_extended(sizeof(CohortHit) * st->kr.n, MCXT_ALLOC_HUGE);
	for (i = 0; i < st->kr.n; i++)
		last_period = Max(last_period, rows[i].period);
	for (i = 0; i < st->kr.n;)
	{
		int64		j;
		int32		cohort = rows[i].period,
					prev = cohort;

		CHECK_FOR_INTERRUPTS();
		hits[nhits].cohort = cohort;
		hits[nhits++].k = 0;
		for (j = i + 1; j < st->kr.n && same_key(&st->kr, &rows[i], &rows[j]); j++)
		{
			int64		k = (int64) rows[j].period - cohort;

			if (rows[j].period == prev)
				continue;
			prev = rows[j].period;
			if (k <= st->periods)
			{
				hits[nhits].cohort = cohort;
				hits[nhits++].k = (int32) k;
			}
		}
		i = j;
	}
	qsort(hits, nhits, sizeof(CohortHit), cmp_cohort_hit);
	for (i = 0; i < nhits; i++)
		if (i == 0 || hits[i].cohort != hits[i - 1].cohort)
			ncohorts++;
	if ((Size) ncohorts * width > MaxAllocSize / sizeof(Datum))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many cohorts (%d) for %d periods", ncohorts, st->periods)));
	starts = palloc(sizeof(Datum) * ncohorts);
	sizes = palloc(sizeof(Datum) * ncohorts);
	active = palloc0(sizeof(Datum) * ncohorts * width);
	active_nulls = palloc(sizeof(bool) * ncohorts * width);
	c = -1;
	for (i = 0; i < nhits; i++)
	{
		if (i == 0 || hits[i].cohort != hits[i - 1].cohort)
		{
			int			k;

			c++;
			starts[c] = DateADTGetDatum(period_start(hits[i].cohort, st->unit));
			for (k = 0; k < width; k++)
			{
				active[c * width + k] = Int64GetDatum(0);
				/* periods after the last event of the group: unknown yet */
				active_nulls[c * width + k] = ((int64) hits[i].cohort + k > last_period);
			}
		}
		active[c * width + hits[i].k] =
			Int64GetDatum(DatumGetInt64(active[c * width + hits[i].k]) + 1);
	}
	for (c = 0; c < ncohorts; c++)
		sizes[c] = active[c * width];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "cohort_retention must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = CStringGetTextDatum(cohort_period_names[st->unit]);
	values[1] = Int32GetDatum(st->periods);
	values[2] = PointerGetDatum(construct_array(starts, ncohorts, DATEOID, 4, true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(sizes, ncohorts, INT8OID, 8,
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	dims[0] = ncohorts;
	dims[1] = width;
	values[4] = PointerGetDatum(construct_md_array(active, active_nulls, 2, dims, lbs,
												   INT8OID, 8, FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
