/*
 * src/customer/cohort.c
 *    Customer-value aggregates over whole orders tables, where the group
 *    holds many customers (entities of any type): the one-call ltv and the
 *    ltv_report aggregates (per-customer summaries, BG/NBD and Gamma-Gamma
 *    fits and the mean predicted value, next to the textbook historical
 *    figures), the cohort_retention aggregate (cohort x period activity
 *    matrix).
 *
 *    Every input row goes into the entity store (engine/entity_store.c),
 *    which spills past half of funnel.max_state_memory; the final functions
 *    take each customer's rows from it, one partition at a time, and keep
 *    only per-customer figures (ltv) or cohort counts (cohort_retention).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/byte_order.h"
#include "common/expanded_acc.h"
#include "common/int.h"
#include "common/json_fields.h"
#include "customer/customer_value.h"
#include "engine/entity_store.h"
#include "engine/funnel.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
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
	*dst = funnel_count_add(*dst, n, "count of skipped rows");
}

/* ---------------------------------------------------------------------
 * Order rows: one row per input row in the entity store
 * (engine/entity_store.c), payload {period, amount}: a transition appends
 * without looking the customer up, and past half of funnel.max_state_memory
 * the rows spill to a temporary file.  Customers are told apart with the
 * type's default hash operator class, as GROUP BY would.
 * ---------------------------------------------------------------------
 */
typedef struct CvPayload
{
	int32		period;			/* calendar day or period number */
	int32		pad;			/* zero */
	char		amount[sizeof(int128)]; /* billionths (cv_amount), unaligned */
} CvPayload;

#define CV_ROW_SIZE		(8 + sizeof(CvPayload))

static inline int32
cv_row_period(const char *row)
{
	return ((const CvPayload *) (row + 8))->period;
}

static inline int128
cv_row_amount(const char *row)
{
	int128		v;

	memcpy(&v, ((const CvPayload *) (row + 8))->amount, sizeof(v));
	return v;
}

/* Integer customers are ordered by value (see cv_foreach_customer). */
static bool
cv_int_key(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

static int64
cv_int_value(Oid typid, Datum d)
{
	if (typid == INT2OID)
		return DatumGetInt16(d);
	if (typid == INT4OID)
		return DatumGetInt32(d);
	return DatumGetInt64(d);
}

/* Add a row for the customer in argument argno (not NULL). */
static void
cv_add(FunctionCallInfo fcinfo, MemoryContext cxt, EntityStore **store,
	   int argno, int32 period, int128 amount)
{
	CvPayload	pl;

	if (*store == NULL)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, argno);
		TypeCacheEntry *tce;

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the type of the customer or entity argument")));
		tce = lookup_type_cache(typid, TYPECACHE_HASH_PROC | TYPECACHE_EQ_OPR);
		if (!OidIsValid(tce->hash_proc) || !OidIsValid(tce->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("customer type %s has no default hash operator class",
							format_type_be(typid)),
					 errhint("Use a customer or entity of a hashable type such as bigint, integer, text or uuid, or cast it to one.")));
		*store = estore_create(fcinfo, cxt, typid, PG_GET_COLLATION(), sizeof(CvPayload));
	}
	pl.period = period;
	pl.pad = 0;
	memcpy(pl.amount, &amount, sizeof(amount));
	estore_add(*store, PG_GETARG_DATUM(argno), 0, &pl);
}

/* Append b's rows to *a (combine). */
static void
cv_merge(FunctionCallInfo fcinfo, MemoryContext cxt, EntityStore **a, EntityStore *b)
{
	if (b == NULL)
		return;
	if (*a == NULL)
		*a = estore_create(fcinfo, cxt, b->typid, b->collation, sizeof(CvPayload));
	else if ((*a)->typid != b->typid || (*a)->collation != b->collation)
		funnel_invalid_state("The customer value states to combine have different customer types.");
	estore_merge(*a, b);
}

/* A flag, then the store (estore_serialize) when there is one. */
static void
cv_serialize(EntityStore *store, StringInfo buf)
{
	pq_sendint32(buf, store != NULL);
	if (store != NULL)
		estore_serialize(store, buf);
}

typedef struct CvCheck
{
	const char *what;
	bool		amounts;
} CvCheck;

/* A row read back: calendar days / periods of finite timestamps fit in +-2e8. */
static void
cv_check_row(int64 ts, char *payload, void *arg)
{
	const CvCheck *c = arg;
	const CvPayload *pl = (const CvPayload *) payload;
	int128		amount;

	memcpy(&amount, pl->amount, sizeof(amount));
	if (ts != 0 || pl->pad != 0 ||
		pl->period < -200000000 || pl->period > 200000000 ||
		amount < 0 || (!c->amounts && amount != 0))
		funnel_invalid_state(psprintf("The %s state is corrupt.", c->what));
}

/* Reads what cv_serialize wrote, checking every row. */
static EntityStore *
cv_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt, StringInfo buf,
			   const char *what, bool amounts)
{
	CvCheck		c;
	int32		has;

	if (buf->len - buf->cursor < 4)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	has = pq_getmsgint(buf, 4);
	if (has == 0)
		return NULL;
	if (has != 1)
		funnel_invalid_state(psprintf("The %s state is corrupt.", what));
	c.what = what;
	c.amounts = amounts;
	return estore_deserialize(fcinfo, cxt, buf, sizeof(CvPayload), cv_check_row, &c);
}

static int
cmp_row_period(const void *a, const void *b)
{
	int32		x = cv_row_period(a),
				y = cv_row_period(b);

	return (x > y) - (x < y);
}

/*
 * Sort one customer's rows (the store's scratch copy) by period: the
 * amounts are summed exactly, so their order within a period is no matter.
 */
static void
cv_sort_rows(char *rows, int64 nrows)
{
	StaticAssertStmt(sizeof(CvPayload) == 24, "a stored row is 8 + 24 bytes");
	qsort(rows, nrows, CV_ROW_SIZE, cmp_row_period);
}

/*
 * Grow a final function's array in cxt (not the walk's per-partition
 * context), counted with what the store holds.
 */
static void *
cv_grow(MemoryContext cxt, void *arr, int64 *cap, int64 need, Size elem, Size held)
{
	int64		newcap;

	if (need <= *cap)
		return arr;
	newcap = Max(*cap * 2, Max(need, 1024));
	if ((Size) newcap > MaxAllocHugeSize / elem)
		funnel_check_memory(MaxAllocHugeSize);
	funnel_check_memory(held + (Size) newcap * elem);
	*cap = newcap;
	if (arr == NULL)
		return MemoryContextAllocHuge(cxt, (Size) newcap * elem);
	return repalloc_huge(arr, (Size) newcap * elem);
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
	EntityStore *store;			/* order rows; NULL: none yet */
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
	cv_add(fcinfo, cxt, &st->store, 1,
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
	cv_merge(fcinfo, cxt, &a->store, b->store);
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
	cv_serialize(st->store, &buf);
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
	st->store = cv_deserialize(fcinfo, cxt, &buf, "ltv", true);
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

/* One customer's figures, gathered by ltv_customer. */
typedef struct LtvCustomer
{
	int64		key;			/* integer customers: the value */
	int32		first,
				last,
				ndays;
	double		mx;				/* mean repeat spend */
} LtvCustomer;

typedef struct LtvWalk
{
	MemoryContext cxt;			/* where cust lives */
	bool		int_key;
	Oid			typid;
	LtvCustomer *cust;
	int64		ncust,
				cap;
	int128		revenue;
} LtvWalk;

static void
ltv_customer(Datum key, char *rows, int64 nrows, Size held, void *arg)
{
	LtvWalk    *w = arg;
	LtvCustomer *c;
	int32		first,
				last,
				ndays = 1;
	int128		repeat = 0;
	int64		j;

	w->cust = cv_grow(w->cxt, w->cust, &w->cap, w->ncust + 1, sizeof(LtvCustomer), held);
	cv_sort_rows(rows, nrows);
	first = last = cv_row_period(rows);
	money_add(&w->revenue, cv_row_amount(rows), "purchase amounts");
	for (j = 1; j < nrows; j++)
	{
		const char *row = rows + j * CV_ROW_SIZE;
		int32		period = cv_row_period(row);

		money_add(&w->revenue, cv_row_amount(row), "purchase amounts");
		if (period != last)
		{
			ndays++;
			last = period;
		}
		if (period != first)
			money_add(&repeat, cv_row_amount(row), "purchase amounts");
	}
	c = &w->cust[w->ncust++];
	c->key = w->int_key ? cv_int_value(w->typid, key) : 0;
	c->first = first;
	c->last = last;
	c->ndays = ndays;
	c->mx = ndays > 1 ? money_to_double(repeat) / (ndays - 1) : 0.0;
}

static int
cmp_ltv_customer_key(const void *a, const void *b)
{
	int64		x = ((const LtvCustomer *) a)->key,
				y = ((const LtvCustomer *) b)->key;

	return (x > y) - (x < y);
}

static bool
ltv_compute(const LtvState *st, LtvResult *res)
{
	LtvWalk		w;
	LtvCustomer *cust;
	BgnbdObs   *obs;
	GammaGammaObs *gobs;
	double	   *mx;
	int64		i,
				ncust,
				nrep = 0;
	int32		end_day = PG_INT32_MIN,
				first_day = PG_INT32_MAX;
	double		horizon_days = cv_interval_days(&st->horizon, "horizon");
	double		months = horizon_days / 30.0;

	memset(res, 0, sizeof(*res));
	if (st->store == NULL || st->store->nrows == 0)
		return false;

	/*
	 * The customers in an order that does not depend on the order the rows
	 * arrived in (and so on the plan): integers by value, other types by
	 * hash, then by the bytes of the value.  Customer-level sums and the
	 * model fits run in this order, so that serial, parallel and spilled
	 * runs agree to the bit.
	 */
	memset(&w, 0, sizeof(w));
	w.cxt = CurrentMemoryContext;
	w.typid = st->store->typid;
	w.int_key = cv_int_key(w.typid);
	if (w.int_key)
	{
		estore_foreach(st->store, ltv_customer, &w);
		qsort(w.cust, w.ncust, sizeof(LtvCustomer), cmp_ltv_customer_key);
	}
	else
		estore_foreach_ordered(st->store, ltv_customer, &w);
	cust = w.cust;
	ncust = w.ncust;
	for (i = 0; i < ncust; i++)
	{
		end_day = Max(end_day, cust[i].last);
		first_day = Min(first_day, cust[i].first);
	}
	res->revenue = money_to_double(w.revenue);
	res->orders = (int64) st->store->nrows;
	res->span_days = (double) end_day - first_day;

	/* the model fits need every customer's figures at once */
	funnel_check_memory(st->store->mem + (Size) w.cap * sizeof(LtvCustomer) +
						(Size) ncust * (sizeof(BgnbdObs) + sizeof(GammaGammaObs) + sizeof(double)));
	obs = palloc_extended(sizeof(BgnbdObs) * ncust, MCXT_ALLOC_HUGE);
	gobs = palloc_extended(sizeof(GammaGammaObs) * ncust, MCXT_ALLOC_HUGE);
	mx = palloc_extended(sizeof(double) * ncust, MCXT_ALLOC_HUGE);
	for (i = 0; i < ncust; i++)
	{
		const LtvCustomer *c = &cust[i];

		obs[i].x = c->ndays - 1;
		obs[i].tx = (double) c->last - c->first;
		obs[i].T = (double) end_day - c->first;
		mx[i] = c->mx;
		/* the spend model needs positive spend: free repeat orders stay out */
		if (c->ndays > 1 && mx[i] > 0)
		{
			gobs[nrep].x = c->ndays - 1;
			gobs[nrep].m = mx[i];
			nrep++;
		}
		res->lifespan_days += (double) c->last - c->first;
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
			if (cust[i].first <= cut)
			{
				res->at_risk++;
				if (cust[i].last <= cut)
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
	EntityStore *store;			/* activity rows; NULL: none yet */
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
	cv_add(fcinfo, cxt, &st->store, 1,
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
	cv_merge(fcinfo, cxt, &a->store, b->store);
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
	cv_serialize(st->store, &buf);
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
	st->store = cv_deserialize(fcinfo, cxt, &buf, "cohort_retention", false);
	if (buf.cursor != buf.len)
		funnel_invalid_state("The cohort_retention state is corrupt.");
	PG_RETURN_POINTER(st);
}

/*
 * The activity counts of one cohort: active[k] = its entities active in its
 * k-th period (k = 0: its size).  Held in a hash table by cohort, so the
 * final function needs memory for the cohorts, not for the entities.
 */
typedef struct CohortCounts
{
	int32		cohort;			/* the hash key: the first period */
	int64		active[FLEXIBLE_ARRAY_MEMBER];
} CohortCounts;

typedef struct CohortWalk
{
	int32		periods;
	HTAB	   *cohorts;
	Size		entry_size;
	int64		ncohorts;
	int32		last_period;
} CohortWalk;

static int64 *
cohort_counts(CohortWalk *w, int32 cohort, Size held)
{
	CohortCounts *cc;
	bool		found;

	cc = hash_search(w->cohorts, &cohort, HASH_FIND, NULL);
	if (cc == NULL)
	{
		funnel_check_memory(held + (Size) (w->ncohorts + 1) * (w->entry_size + 16));
		cc = hash_search(w->cohorts, &cohort, HASH_ENTER, &found);
		memset(cc->active, 0, sizeof(int64) * (w->periods + 1));
		w->ncohorts++;
	}
	return cc->active;
}

/* One entity: its cohort (first period) and the later periods it was active in. */
static void
cohort_entity(Datum key, char *rows, int64 nrows, Size held, void *arg)
{
	CohortWalk *w = arg;
	int32		cohort,
				prev;
	int64	   *active;
	int64		j;

	(void) key;
	cv_sort_rows(rows, nrows);
	cohort = prev = cv_row_period(rows);
	w->last_period = Max(w->last_period, cv_row_period(rows + (nrows - 1) * CV_ROW_SIZE));
	active = cohort_counts(w, cohort, held);
	active[0]++;
	for (j = 1; j < nrows; j++)
	{
		int32		period = cv_row_period(rows + j * CV_ROW_SIZE);
		int64		k = (int64) period - cohort;

		if (period == prev)
			continue;
		prev = period;
		if (k <= w->periods)
			active[k]++;
	}
}

static int
cmp_cohort_counts(const void *a, const void *b)
{
	int32		x = (*(CohortCounts *const *) a)->cohort,
				y = (*(CohortCounts *const *) b)->cohort;

	return (x > y) - (x < y);
}

/*
 * Walk the entities of a cohort_retention state into their cohorts' counts;
 * returns the cohorts sorted by their first period (NULL when the state
 * has no rows).
 */
static CohortCounts **
cohort_walk(const CohortState *st, CohortWalk *w)
{
	HASHCTL		hctl;
	HASH_SEQ_STATUS seq;
	CohortCounts *cc,
			  **order;
	int64		i = 0;

	memset(w, 0, sizeof(*w));
	if (st->store == NULL || st->store->nrows == 0)
		return NULL;
	/* counts of entities: the order they are walked in is no matter */
	w->periods = st->periods;
	w->last_period = PG_INT32_MIN;
	w->entry_size = offsetof(CohortCounts, active) + sizeof(int64) * (st->periods + 1);
	hctl.keysize = sizeof(int32);
	hctl.entrysize = w->entry_size;
	hctl.hcxt = CurrentMemoryContext;
	w->cohorts = hash_create("funnel cohorts", 64, &hctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	estore_foreach(st->store, cohort_entity, w);
	if ((Size) w->ncohorts > MaxAllocSize / sizeof(Datum) / (st->periods + 1))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many cohorts (" INT64_FORMAT ") for %d periods",
						w->ncohorts, st->periods)));
	order = palloc(sizeof(CohortCounts *) * Max(w->ncohorts, 1));
	hash_seq_init(&seq, w->cohorts);
	while ((cc = hash_seq_search(&seq)) != NULL)
		order[i++] = cc;
	qsort(order, w->ncohorts, sizeof(CohortCounts *), cmp_cohort_counts);
	return order;
}

/*
 * The cohort_matrix (period text, periods integer, cohort_start date[],
 * cohort_size bigint[], active bigint[][]) of cohorts order[0..ncohorts-1]
 * (by first period): active[c][k+1] = entities of cohort c active in its
 * k-th period, NULL for periods after last_period, the group's last event.
 */
static Datum
cohort_matrix_tuple(FunctionCallInfo fcinfo, int32 unit, int32 periods, int32 last_period,
					int ncohorts, CohortCounts *const *order)
{
	int			width = periods + 1,
				c,
				k;
	Datum	   *starts,
			   *sizes,
			   *active;
	bool	   *active_nulls;
	int			dims[2],
				lbs[2] = {1, 1};
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};

	starts = palloc(sizeof(Datum) * Max(ncohorts, 1));
	sizes = palloc(sizeof(Datum) * Max(ncohorts, 1));
	active = palloc(sizeof(Datum) * ncohorts * width);
	active_nulls = palloc(sizeof(bool) * ncohorts * width);
	for (c = 0; c < ncohorts; c++)
	{
		starts[c] = DateADTGetDatum(period_start(order[c]->cohort, unit));
		sizes[c] = Int64GetDatum(order[c]->active[0]);
		for (k = 0; k < width; k++)
		{
			active[c * width + k] = Int64GetDatum(order[c]->active[k]);
			/* periods after the last event of the group: unknown yet */
			active_nulls[c * width + k] = ((int64) order[c]->cohort + k > last_period);
		}
	}

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "function returning a cohort_matrix must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = CStringGetTextDatum(cohort_period_names[unit]);
	values[1] = Int32GetDatum(periods);
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

/*
 * cohort_retention final function: the cohort_matrix of the group's
 * entities.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(cohort_retention_final);
Datum
cohort_retention_final(PG_FUNCTION_ARGS)
{
	CohortState *st;
	CohortWalk	w;
	CohortCounts **order;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (CohortState *) PG_GETARG_POINTER(0);
	order = cohort_walk(st, &w);
	if (order == NULL)
		PG_RETURN_NULL();
	return cohort_matrix_tuple(fcinfo, st->unit, st->periods, w.last_period,
							   (int) w.ncohorts, order);
}

/* ---------------------------------------------------------------------
 * cohort_counts: the counts of cohort_retention as a value that merges
 * ---------------------------------------------------------------------
 */

/*
 * An entity belongs to one cohort and is counted in the periods it was
 * active in, so the counts of disjoint sets of entities add up; the only
 * number that depends on all of them is the last period of any event (the
 * matrix's NULLs).  cohort_counts keeps the period unit, the number of
 * periods, that last period and every cohort's counts: cohort_counts per
 * entity on the shards of a table distributed by the entity,
 * rollup(cohort_counts) on the coordinator, cohort_matrix(counts) =
 * cohort_retention over the whole table.  The counts are integers: merged
 * in any order they are the same.  What crosses grows with cohorts x
 * periods, not with entities.
 *
 * Stored form (version 1): unit, periods, last period, cohort count, then
 * per cohort (ascending) its first period and periods + 1 counts.  Text
 * form: {"period": "month", "periods": 12, "last_period": "1998-06-01",
 * "cohorts": [{"cohort_start": "1997-01-01", "active": [..]}, ...]}.
 */
#define CA_VERSION		1

static const char *const CA_TYPE = "cohort_counts";

typedef struct CohortActivity
{
	int32		unit;
	int32		periods;
	int32		last_period;
	int32		ncohorts;
	CohortCounts **cohorts;		/* ascending; each active[periods + 1] */
} CohortActivity;

static void
ca_bad(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid cohort_counts: %s", what)));
}

/* The period numbers of the first and the last valid timestamp (any time zone). */
static void
ca_period_bounds(int32 unit, int32 *lo, int32 *hi)
{
	int32		first = date2j(-4713, 11, 23) - POSTGRES_EPOCH_JDATE,	/* a day of slack */
				last = date2j(294277, 1, 2) - POSTGRES_EPOCH_JDATE;

	*lo = *hi = 0;
	switch ((CohortPeriod) unit)
	{
		case CP_DAY:
			*lo = first;
			*hi = last;
			return;
		case CP_WEEK:
			*lo = floor_div(first - 2, 7);
			*hi = floor_div(last - 2, 7);
			return;
		case CP_MONTH:
			*lo = -4713 * 12;
			*hi = 294277 * 12;
			return;
		case CP_QUARTER:
			*lo = -4713 * 4;
			*hi = 294277 * 4;
			return;
		case CP_YEAR:
			*lo = -4713;
			*hi = 294277;
			return;
	}
}

static CohortCounts *
ca_new_counts(int32 periods)
{
	return palloc0(offsetof(CohortCounts, active) + sizeof(int64) * (periods + 1));
}

static bytea *
ca_encode(const CohortActivity *a)
{
	StringInfoData buf;
	int			c,
				k;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CA_VERSION);
	pq_sendbyte(&buf, a->unit);
	pq_sendint32(&buf, a->periods);
	pq_sendint32(&buf, a->last_period);
	pq_sendint32(&buf, a->ncohorts);
	for (c = 0; c < a->ncohorts; c++)
	{
		pq_sendint32(&buf, a->cohorts[c]->cohort);
		for (k = 0; k <= a->periods; k++)
			pq_sendint64(&buf, a->cohorts[c]->active[k]);
	}
	return pq_endtypsend(&buf);
}

/* Read and check every field. */
static CohortActivity *
ca_decode(const char *d, int len)
{
	StringInfoData buf;
	CohortActivity *a = palloc0(sizeof(CohortActivity));
	int32		lo,
				hi;
	int			c,
				k;

	buf.data = (char *) d;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (len < 2 || pq_getmsgbyte(&buf) != CA_VERSION)
		ca_bad("unknown version");
	a->unit = pq_getmsgbyte(&buf);
	if (a->unit < CP_DAY || a->unit > CP_YEAR)
		ca_bad("unknown period");
	a->periods = pq_getmsgint(&buf, 4);
	if (a->periods < 1 || a->periods > 1000)
		ca_bad("bad number of periods");
	a->last_period = pq_getmsgint(&buf, 4);
	a->ncohorts = pq_getmsgint(&buf, 4);
	ca_period_bounds(a->unit, &lo, &hi);
	if (a->ncohorts < 1 || a->last_period < lo || a->last_period > hi ||
		(Size) a->ncohorts > (Size) (len - buf.cursor) / (4 + 8 * ((Size) a->periods + 1)))
		ca_bad("bad cohort count");
	a->cohorts = palloc(sizeof(CohortCounts *) * a->ncohorts);
	for (c = 0; c < a->ncohorts; c++)
	{
		CohortCounts *cc = ca_new_counts(a->periods);

		CHECK_FOR_INTERRUPTS();
		cc->cohort = pq_getmsgint(&buf, 4);
		if (cc->cohort < lo || cc->cohort > a->last_period ||
			(c > 0 && cc->cohort <= a->cohorts[c - 1]->cohort))
			ca_bad("cohorts not in order, repeated or after the last period");
		for (k = 0; k <= a->periods; k++)
		{
			cc->active[k] = pq_getmsgint64(&buf);
			/* a cohort has entities, each active at most once a period, not after the last */
			if (cc->active[k] < 0 || cc->active[k] > FUNNEL_JSON_MAX_COUNT ||
				(k == 0 && cc->active[0] < 1) || cc->active[k] > cc->active[0] ||
				((int64) cc->cohort + k > a->last_period && cc->active[k] != 0))
				ca_bad("bad cohort counts");
		}
		a->cohorts[c] = cc;
	}
	if (buf.cursor != len)
		ca_bad("trailing bytes");
	return a;
}

static CohortActivity *
ca_from_datum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return ca_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/*
 * cohort_counts final function: the cohorts' counts of the group's
 * entities, as cohort_retention counts them.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(cohort_counts_final);
Datum
cohort_counts_final(PG_FUNCTION_ARGS)
{
	CohortState *st;
	CohortWalk	w;
	CohortActivity a;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (CohortState *) PG_GETARG_POINTER(0);
	a.cohorts = cohort_walk(st, &w);
	if (a.cohorts == NULL)
		PG_RETURN_NULL();
	a.unit = st->unit;
	a.periods = st->periods;
	a.last_period = w.last_period;
	a.ncohorts = (int32) w.ncohorts;
	PG_RETURN_BYTEA_P(ca_encode(&a));
}

/* cohort_matrix(counts): the cohort_matrix of cohort_retention. */
PG_FUNCTION_INFO_V1(cohort_counts_matrix);
Datum
cohort_counts_matrix(PG_FUNCTION_ARGS)
{
	CohortActivity *a = ca_from_datum(PG_GETARG_DATUM(0));

	if ((Size) a->ncohorts > MaxAllocSize / sizeof(Datum) / (a->periods + 1))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many cohorts (%d) for %d periods", a->ncohorts, a->periods)));
	return cohort_matrix_tuple(fcinfo, a->unit, a->periods, a->last_period,
							   a->ncohorts, a->cohorts);
}

/* ---------- merging: rollup(cohort_counts) ---------- */

typedef struct CaAcc
{
	bool		empty;
	int32		unit;
	int32		periods;
	int32		last_period;
	CohortWalk	w;				/* the cohorts' counts by first period */
} CaAcc;

static CaAcc *
ca_acc_create(MemoryContext cxt)
{
	CaAcc	   *acc = MemoryContextAllocZero(cxt, sizeof(CaAcc));

	acc->empty = true;
	return acc;
}

static void
ca_acc_add(CaAcc *acc, MemoryContext cxt, const CohortActivity *a)
{
	int			c,
				k;

	if (acc->empty)
	{
		HASHCTL		hctl;

		acc->unit = a->unit;
		acc->periods = a->periods;
		acc->last_period = a->last_period;
		acc->w.periods = a->periods;
		acc->w.entry_size = offsetof(CohortCounts, active) + sizeof(int64) * (a->periods + 1);
		hctl.keysize = sizeof(int32);
		hctl.entrysize = acc->w.entry_size;
		hctl.hcxt = cxt;
		acc->w.cohorts = hash_create("funnel cohort_counts", 64, &hctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		acc->empty = false;
	}
	else if (acc->unit != a->unit || acc->periods != a->periods)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge cohort counts of different periods (%s, %d periods and %s, %d periods)",
						cohort_period_names[acc->unit], acc->periods,
						cohort_period_names[a->unit], a->periods)));
	acc->last_period = Max(acc->last_period, a->last_period);
	for (c = 0; c < a->ncohorts; c++)
	{
		int64	   *active = cohort_counts(&acc->w, a->cohorts[c]->cohort, 0);

		for (k = 0; k <= a->periods; k++)
			if (pg_add_s64_overflow(active[k], a->cohorts[c]->active[k], &active[k]) ||
				active[k] > FUNNEL_JSON_MAX_COUNT)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("cohort count is out of range")));
	}
}

static bytea *
ca_acc_flat(const CaAcc *acc)
{
	CohortActivity a;
	HASH_SEQ_STATUS seq;
	CohortCounts *cc;
	int			i = 0;

	a.unit = acc->unit;
	a.periods = acc->periods;
	a.last_period = acc->last_period;
	a.ncohorts = (int32) acc->w.ncohorts;
	a.cohorts = palloc(sizeof(CohortCounts *) * Max(a.ncohorts, 1));
	hash_seq_init(&seq, acc->w.cohorts);
	while ((cc = hash_seq_search(&seq)) != NULL)
		a.cohorts[i++] = cc;
	qsort(a.cohorts, a.ncohorts, sizeof(CohortCounts *), cmp_cohort_counts);
	return ca_encode(&a);
}

/* rollup(cohort_counts): an expanded state of the accumulator */
static void *
ca_acc_create_any(MemoryContext cxt)
{
	return ca_acc_create(cxt);
}

static void
ca_acc_add_datum(void *acc, MemoryContext cxt, Datum value)
{
	ca_acc_add((CaAcc *) acc, cxt, ca_from_datum(value));
}

static bytea *
ca_acc_flat_any(void *acc)
{
	return ca_acc_flat((CaAcc *) acc);
}

static const ExpandedAccType ca_rollup_type = {
	"cohort_counts rollup", ca_acc_create_any, ca_acc_add_datum, ca_acc_flat_any
};

/*
 * cohort_counts_merge(a, b): the counts of the entities of a and b
 * (disjoint sets of entities, one period unit and number of periods); a
 * NULL one is left out.  The transition and combine function of rollup
 * (common/expanded_acc.c).
 */
PG_FUNCTION_INFO_V1(cohort_counts_merge);
Datum
cohort_counts_merge(PG_FUNCTION_ARGS)
{
	return expanded_acc_merge(fcinfo, &ca_rollup_type);
}

/* ---------- cohort_counts I/O ---------- */

static char *
ca_date_text(DateADT d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

/*
 * cohort_counts text output: a JSON object (period, periods, the start of
 * the last period with an event, each cohort's start and counts).
 */
PG_FUNCTION_INFO_V1(cohort_counts_out);
Datum
cohort_counts_out(PG_FUNCTION_ARGS)
{
	CohortActivity *a = ca_from_datum(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			c,
				k;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"period\": \"%s\", \"periods\": %d, \"last_period\": ",
					 cohort_period_names[a->unit], a->periods);
	escape_json(&buf, ca_date_text(period_start(a->last_period, a->unit)));
	appendStringInfoString(&buf, ", \"cohorts\": [");
	for (c = 0; c < a->ncohorts; c++)
	{
		appendStringInfoString(&buf, c > 0 ? ", {\"cohort_start\": " : "{\"cohort_start\": ");
		escape_json(&buf, ca_date_text(period_start(a->cohorts[c]->cohort, a->unit)));
		appendStringInfoString(&buf, ", \"active\": [");
		for (k = 0; k <= a->periods; k++)
			appendStringInfo(&buf, k > 0 ? ", " INT64_FORMAT : INT64_FORMAT, a->cohorts[c]->active[k]);
		appendStringInfoString(&buf, "]}");
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* The period number of a JSON date string that starts a period. */
static int32
ca_json_period(JsonbValue *v, int32 unit, const char *key)
{
	DateADT		d;
	int			y,
				m,
				day;
	int32		p;

	if (v->type != jbvString)
		funnel_bad_text_input(CA_TYPE, psprintf("Key \"%s\" must be a date.", key));
	d = DatumGetDateADT(DirectFunctionCall1(date_in, CStringGetDatum(funnel_json_string(v))));
	if (DATE_NOT_FINITE(d))
		funnel_bad_text_input(CA_TYPE, psprintf("Key \"%s\" must be a finite date.", key));
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	switch ((CohortPeriod) unit)
	{
		case CP_DAY:
			p = d;
			break;
		case CP_WEEK:
			p = floor_div(d - 2, 7);
			break;
		case CP_MONTH:
			p = y * 12 + (m - 1);
			break;
		case CP_QUARTER:
			p = y * 4 + (m - 1) / 3;
			break;
		default:
			p = y;
			break;
	}
	if (period_start(p, unit) != d)
		funnel_bad_text_input(CA_TYPE, psprintf("Key \"%s\" must be the first day of a %s.", key,
												cohort_period_names[unit]));
	return p;
}

/* cohort_counts text input: the JSON form cohort_counts_out writes, validated. */
PG_FUNCTION_INFO_V1(cohort_counts_in);
Datum
cohort_counts_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	JsonbContainer *root = funnel_json_object(str, CA_TYPE);
	JsonbValue *v;
	JsonbContainer *arr;
	CohortActivity a;
	int64		periods;
	int			c,
				k;
	bytea	   *result;

	memset(&a, 0, sizeof(a));
	v = funnel_json_get(root, "period", jbvString, false, CA_TYPE);
	a.unit = parse_period(cstring_to_text(funnel_json_string(v)));
	periods = funnel_json_count(root, "periods", CA_TYPE);
	if (periods < 1 || periods > 1000)
		funnel_bad_text_input(CA_TYPE, "Key \"periods\" must be between 1 and 1000.");
	a.periods = (int32) periods;
	a.last_period = ca_json_period(funnel_json_get(root, "last_period", jbvString, false, CA_TYPE),
								   a.unit, "last_period");
	v = funnel_json_get(root, "cohorts", jbvBinary, false, CA_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(CA_TYPE, "Key \"cohorts\" must be an array.");
	a.ncohorts = JsonContainerSize(arr);
	a.cohorts = palloc(sizeof(CohortCounts *) * Max(a.ncohorts, 1));
	for (c = 0; c < a.ncohorts; c++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, c);
		JsonbContainer *o,
				   *counts;

		CHECK_FOR_INTERRUPTS();
		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(CA_TYPE, "Each cohort must be a JSON object.");
		o = e->val.binary.data;
		a.cohorts[c] = ca_new_counts(a.periods);
		a.cohorts[c]->cohort = ca_json_period(funnel_json_get(o, "cohort_start", jbvString, false, CA_TYPE),
											  a.unit, "cohort_start");
		v = funnel_json_get(o, "active", jbvBinary, false, CA_TYPE);
		counts = v->val.binary.data;
		if (!JsonContainerIsArray(counts) || JsonContainerSize(counts) != (uint32) a.periods + 1)
			funnel_bad_text_input(CA_TYPE, "Key \"active\" must be an array of periods + 1 counts.");
		for (k = 0; k <= a.periods; k++)
		{
			double		d = funnel_json_number(getIthJsonbValueFromContainer(counts, k), "active", CA_TYPE);

			if (d < 0 || d > (double) FUNNEL_JSON_MAX_COUNT || d != floor(d))
				funnel_bad_text_input(CA_TYPE, "Key \"active\" must hold whole numbers, 0 or more.");
			a.cohorts[c]->active[k] = (int64) d;
		}
	}
	qsort(a.cohorts, a.ncohorts, sizeof(CohortCounts *), cmp_cohort_counts);
	result = ca_encode(&a);
	(void) ca_from_datum(PointerGetDatum(result));	/* check it */
	PG_RETURN_BYTEA_P(result);
}

/* cohort_counts binary input: the stored form, validated before it is kept. */
PG_FUNCTION_INFO_V1(cohort_counts_recv);
Datum
cohort_counts_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	(void) ca_decode(buf->data + buf->cursor, buf->len - buf->cursor);
	PG_RETURN_BYTEA_P(funnel_recv_rest(buf));
}

/* cohort_counts binary output: the stored form as is. */
PG_FUNCTION_INFO_V1(cohort_counts_send);
Datum
cohort_counts_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}
