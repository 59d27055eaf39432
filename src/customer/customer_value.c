/*
 * src/customer/customer_value.c
 *    SQL face of the customer-value models: the customer_rfm aggregate
 *    (per-customer frequency, recency, age and mean repeat spend from an
 *    orders table), the bgnbd_fit and gamma_gamma_fit aggregates, sbg_fit,
 *    and the prediction functions over the fitted models (composite values
 *    bgnbd_model, gamma_gamma_model, sbg_model).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/interval_usecs.h"
#include "customer/customer_value.h"
#include "engine/funnel.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* ---------------------------------------------------------------------
 * Calendar days and time units
 * ---------------------------------------------------------------------
 */

/* The calendar day of ts in the session time zone (days since 2000-01-01). */
int32
cv_local_day(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("purchase times and the observation end must be finite timestamps")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
}

/* An interval as days (a month counts 30 days), which must be positive. */
double
cv_interval_days(const Interval *iv, const char *what)
{
	int64		usecs;
	double		days;

	if (!funnel_interval_to_usecs(iv, &usecs))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("An interval here is at most 2^63 microseconds, about 292,000 years.")));
	days = (double) usecs / USECS_PER_DAY;
	if (!(days > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a positive interval", what),
				 errhint("For example '1 day' or '7 days'; a month counts as 30 days.")));
	return days;
}

/*
 * Money is summed exactly (common/money.c): an amount is an int128 count of
 * billionths, and a sum becomes a double only once, at the end.  So a sum
 * does not depend on the order of its terms, nor a report on the plan.
 */

/*
 * A non-negative, finite numeric purchase amount in billionths (rounded half
 * up after the ninth decimal), at most CV_AMOUNT_MAX_DIGITS digits before
 * the point.
 */
int128
cv_amount(Numeric n)
{
	char	   *str,
			   *p;
	int128		v = 0;
	int			digits = 0,
				frac = 0;

	if (numeric_is_nan(n) || numeric_is_inf(n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purchase amount must be a finite number")));
	/* numeric_out never uses an exponent: [-]digits[.digits] */
	str = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
	if (str[0] == '-')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("purchase amount must not be negative, got %s", str),
				 errhint("Refunds and returns are not purchases: net them out per order or filter them out.")));
	for (p = str; *p >= '0' && *p <= '9'; p++)
	{
		v = v * 10 + (*p - '0');
		if (v != 0 && ++digits > CV_AMOUNT_MAX_DIGITS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("purchase amount is too large"),
					 errdetail("Amounts are summed exactly up to %d digits before the decimal point.",
							   CV_AMOUNT_MAX_DIGITS)));
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && frac < MONEY_NANO_DIGITS; p++, frac++)
			v = v * 10 + (*p - '0');
	for (; frac < MONEY_NANO_DIGITS; frac++)
		v *= 10;
	if (*p >= '5' && *p <= '9')
		v++;
	pfree(str);
	return v;
}

/* ---------------------------------------------------------------------
 * customer_rfm aggregate
 * ---------------------------------------------------------------------
 */
typedef struct RfmDay
{
	int32		day;
	int128		amount;			/* billionths (cv_amount) */
} RfmDay;

typedef struct RfmState
{
	TimestampTz obs_end;
	Interval	unit;
	int32		end_day;
	bool		sorted;			/* days[] is non-decreasing */
	int64		ignored;		/* rows after the observation end */
	int64		n;
	int64		cap;
	RfmDay	   *days;
	Size		mem;			/* bytes of days[], for funnel.max_state_memory */
} RfmState;

static RfmState *
rfm_create(MemoryContext cxt, TimestampTz obs_end, const Interval *unit)
{
	RfmState   *st = MemoryContextAllocZero(cxt, sizeof(RfmState));

	st->obs_end = obs_end;
	st->unit = *unit;
	st->end_day = cv_local_day(obs_end);
	st->sorted = true;
	return st;
}

static void
rfm_add_day(MemoryContext cxt, RfmState *st, int32 day, int128 amount)
{
	if (st->n > 0 && st->days[st->n - 1].day == day)
	{
		money_add(&st->days[st->n - 1].amount, amount, "purchase amounts");
		return;
	}
	if (st->n > 0 && st->days[st->n - 1].day > day)
		st->sorted = false;
	st->days = funnel_state_grow(cxt, st->days, &st->cap, st->n + 1, sizeof(RfmDay), &st->mem);
	st->days[st->n].day = day;
	st->days[st->n].amount = amount;
	st->n++;
}

static void
rfm_check_same(const RfmState *st, TimestampTz obs_end, const Interval *unit)
{
	if (st->obs_end != obs_end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("observation_end must be the same for every row of a group")));
	if (memcmp(&st->unit, unit, sizeof(Interval)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_unit must be the same for every row of a group")));
}

/*
 * customer_rfm transition: records one order's calendar day and amount, with
 * the observation end and optional time unit (default one day).
 */
PG_FUNCTION_INFO_V1(customer_rfm_sfunc);
Datum
customer_rfm_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "customer_rfm");
	RfmState   *st = FUNNEL_STATE_ARG(RfmState, 0);
	Interval	day_unit = {0, 1, 0};
	Interval   *unit = &day_unit;
	TimestampTz ts,
				obs_end;
	int128		amount;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("observation_end must not be NULL")));
	obs_end = PG_GETARG_TIMESTAMPTZ(3);
	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("time_unit must not be NULL")));
		unit = PG_GETARG_INTERVAL_P(4);
	}
	if (st == NULL)
	{
		(void) cv_interval_days(unit, "time_unit");
		st = rfm_create(cxt, obs_end, unit);
	}
	else
		rfm_check_same(st, obs_end, unit);

	/* rows with a NULL time or amount are not purchases */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	amount = cv_amount(PG_GETARG_NUMERIC(2));
	if (ts > obs_end)
	{
		st->ignored++;
		PG_RETURN_POINTER(st);
	}
	rfm_add_day(cxt, st, cv_local_day(ts), amount);
	PG_RETURN_POINTER(st);
}

static int
cmp_rfm_day(const void *a, const void *b)
{
	int32		x = ((const RfmDay *) a)->day;
	int32		y = ((const RfmDay *) b)->day;

	return (x > y) - (x < y);
}

/*
 * customer_rfm final function: the rfm_summary of the orders up to the
 * observation end.  Never modifies the state (works as a window function).
 */
PG_FUNCTION_INFO_V1(customer_rfm_final);
Datum
customer_rfm_final(PG_FUNCTION_ARGS)
{
	RfmState   *st;
	RfmDay	   *d;
	int64		i,
				k = 0;
	double		unit_days;
	int128		repeat_sum = 0;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (RfmState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
	{
		if (st->ignored > 0)
		{
			char	   *end = DatumGetCString(DirectFunctionCall1(timestamptz_out,
																  TimestampTzGetDatum(st->obs_end)));

			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("observation end %s is before the customer's first purchase", end),
					 errhint("Leave out customers who first bought after the observation end, e.g. WHERE ts <= observation_end.")));
		}
		PG_RETURN_NULL();
	}
	d = palloc(sizeof(RfmDay) * st->n);
	memcpy(d, st->days, sizeof(RfmDay) * st->n);
	if (!st->sorted)
		qsort(d, st->n, sizeof(RfmDay), cmp_rfm_day);
	for (i = 0; i < st->n; i++)
	{
		if (k > 0 && d[k - 1].day == d[i].day)
			money_add(&d[k - 1].amount, d[i].amount, "purchase amounts");
		else
			d[k++] = d[i];
	}
	for (i = 1; i < k; i++)
		money_add(&repeat_sum, d[i].amount, "purchase amounts");
	/* the timestamp range has far fewer days */
	if (k - 1 > PG_INT32_MAX)
		elog(ERROR, "too many purchase days for one customer");
	unit_days = cv_interval_days(&st->unit, "time_unit");

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "customer_rfm must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int32GetDatum((int32) (k - 1));
	values[1] = Float8GetDatum((d[k - 1].day - d[0].day) / unit_days);
	values[2] = Float8GetDatum((st->end_day - d[0].day) / unit_days);
	values[3] = Float8GetDatum(k > 1 ? money_to_double(repeat_sum) / (k - 1) : 0.0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * customer_rfm combine function: appends the second state's orders to the
 * first (the observation end and time unit must agree).
 */
PG_FUNCTION_INFO_V1(customer_rfm_combine);
Datum
customer_rfm_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "customer_rfm_combine");
	RfmState   *a = FUNNEL_STATE_ARG(RfmState, 0);
	RfmState   *b = FUNNEL_STATE_ARG(RfmState, 1);
	int64		i;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = rfm_create(cxt, b->obs_end, &b->unit);
	else
		rfm_check_same(a, b->obs_end, &b->unit);
	/* only states deserialised from hostile bytes can hold counts this large */
	if (pg_add_s64_overflow(a->ignored, b->ignored, &a->ignored))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("count of rows after the observation end is out of range")));
	for (i = 0; i < b->n; i++)
		rfm_add_day(cxt, a, b->days[i].day, b->days[i].amount);
	PG_RETURN_POINTER(a);
}

/* customer_rfm state serialisation: observation end, time unit and orders. */
PG_FUNCTION_INFO_V1(customer_rfm_serialize);
Datum
customer_rfm_serialize(PG_FUNCTION_ARGS)
{
	RfmState   *st = (RfmState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	funnel_agg_context(fcinfo, "customer_rfm_serialize");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, st->obs_end);
	pq_sendint32(&buf, st->unit.month);
	pq_sendint32(&buf, st->unit.day);
	pq_sendint64(&buf, st->unit.time);
	pq_sendint64(&buf, st->ignored);
	pq_sendint64(&buf, st->n);
	for (i = 0; i < st->n; i++)
	{
		pq_sendint32(&buf, st->days[i].day);
		money_send(&buf, st->days[i].amount);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* customer_rfm state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(customer_rfm_deserialize);
Datum
customer_rfm_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "customer_rfm_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	TimestampTz obs_end;
	Interval	unit;
	RfmState   *st;
	int64		ignored,
				n,
				i;

	funnel_state_reader(b, &buf);
	if (buf.len < 8 + 4 + 4 + 8 + 8 + 8)
		funnel_invalid_state("The customer_rfm state is corrupt.");
	obs_end = pq_getmsgint64(&buf);
	unit.month = pq_getmsgint(&buf, 4);
	unit.day = pq_getmsgint(&buf, 4);
	unit.time = pq_getmsgint64(&buf);
	ignored = pq_getmsgint64(&buf);
	n = pq_getmsgint64(&buf);
	if (ignored < 0 || n < 0 || n > (buf.len - buf.cursor) / 20 ||
		n * 20 != buf.len - buf.cursor || TIMESTAMP_NOT_FINITE(obs_end))
		funnel_invalid_state("The customer_rfm state is corrupt.");
	(void) cv_interval_days(&unit, "time_unit");
	st = rfm_create(cxt, obs_end, &unit);
	st->ignored = ignored;
	for (i = 0; i < n; i++)
	{
		int32		day = pq_getmsgint(&buf, 4);
		int128		amount = money_recv(&buf);

		/* days of finite timestamps fit in +-2e8: day differences fit an int */
		if (amount < 0 || day > st->end_day || day < -200000000)
			funnel_invalid_state("The customer_rfm state is corrupt.");
		rfm_add_day(cxt, st, day, amount);
	}
	PG_RETURN_POINTER(st);
}

/* ---------------------------------------------------------------------
 * Fit aggregates: the state is a growing array of rows of `width` doubles
 * ---------------------------------------------------------------------
 */
typedef struct FitState
{
	int32		width;
	int64		n;
	int64		cap;
	double	   *v;
	Size		mem;			/* bytes of v[], for funnel.max_state_memory */
} FitState;

static FitState *
fit_create(MemoryContext cxt, int width)
{
	FitState   *st = MemoryContextAllocZero(cxt, sizeof(FitState));

	st->width = width;
	return st;
}

static void
fit_append(MemoryContext cxt, FitState *st, const double *row)
{
	if (st->n >= st->cap)
	{
		int64		cap = st->cap * st->width;

		st->v = funnel_state_grow(cxt, st->v, &cap, (st->n + 1) * st->width, sizeof(double),
							  &st->mem);
		st->cap = cap / st->width;
	}
	memcpy(st->v + st->n * st->width, row, sizeof(double) * st->width);
	st->n++;
}

void
gg_check_row(double x, double m)
{
	if (!isfinite(x) || x < 0 || x != floor(x) || x > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a whole number of repeat purchases between 0 and 1e9, not %g", x)));
	if (x > 0 && (!isfinite(m) || m <= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary_value must be positive and finite for a customer with repeat purchases, not %g", m),
				 errhint("The Gamma-Gamma model describes positive spend; leave out customers whose repeat purchases are worth 0.")));
}

/* A customer's summary for a spend prediction: zero spend is allowed. */
static void
spend_check_row(double x, double m)
{
	if (!isfinite(x) || x < 0 || x != floor(x) || x > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a whole number of repeat purchases between 0 and 1e9, not %g", x)));
	if (!isfinite(m) || m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("monetary_value must be finite and not negative, not %g", m)));
}

/*
 * bgnbd_fit transition: appends one customer's (frequency, recency, t);
 * rows with a NULL are skipped.
 */
PG_FUNCTION_INFO_V1(bgnbd_fit_sfunc);
Datum
bgnbd_fit_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "bgnbd_fit");
	FitState   *st = FUNNEL_STATE_ARG(FitState, 0);
	double		row[3];

	if (st == NULL)
		st = fit_create(cxt, 3);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	row[0] = PG_GETARG_FLOAT8(1);
	row[1] = PG_GETARG_FLOAT8(2);
	row[2] = PG_GETARG_FLOAT8(3);
	bgnbd_check_obs(row[0], row[1], row[2]);
	fit_append(cxt, st, row);
	PG_RETURN_POINTER(st);
}

/*
 * gamma_gamma_fit transition: appends one customer's (frequency,
 * monetary_value); customers without repeat purchases are skipped.
 */
PG_FUNCTION_INFO_V1(gamma_gamma_fit_sfunc);
Datum
gamma_gamma_fit_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "gamma_gamma_fit");
	FitState   *st = FUNNEL_STATE_ARG(FitState, 0);
	double		row[2];

	if (st == NULL)
		st = fit_create(cxt, 2);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	row[0] = PG_GETARG_FLOAT8(1);
	row[1] = PG_GETARG_FLOAT8(2);
	gg_check_row(row[0], row[1]);
	if (row[0] > 0)				/* only repeat customers enter the model */
		fit_append(cxt, st, row);
	PG_RETURN_POINTER(st);
}

/*
 * bgnbd_fit / gamma_gamma_fit combine function: appends the second state's
 * observations to the first.
 */
PG_FUNCTION_INFO_V1(fit_state_combine);
Datum
fit_state_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "fit_state_combine");
	FitState   *a = FUNNEL_STATE_ARG(FitState, 0);
	FitState   *b = FUNNEL_STATE_ARG(FitState, 1);
	int64		i;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = fit_create(cxt, b->width);
	if (a->width != b->width)
		funnel_invalid_state("The model fit state is corrupt.");
	for (i = 0; i < b->n; i++)
		fit_append(cxt, a, b->v + i * b->width);
	PG_RETURN_POINTER(a);
}

/* bgnbd_fit / gamma_gamma_fit state serialisation: row width and rows. */
PG_FUNCTION_INFO_V1(fit_state_serialize);
Datum
fit_state_serialize(PG_FUNCTION_ARGS)
{
	FitState   *st = (FitState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	funnel_agg_context(fcinfo, "fit_state_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->width);
	pq_sendint64(&buf, st->n);
	for (i = 0; i < st->n * st->width; i++)
		pq_sendfloat8(&buf, st->v[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * bgnbd_fit / gamma_gamma_fit state deserialisation; every field read is
 * checked.
 */
PG_FUNCTION_INFO_V1(fit_state_deserialize);
Datum
fit_state_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "fit_state_deserialize");
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	FitState   *st;
	int32		width;
	int64		n,
				i;

	funnel_state_reader(b, &buf);
	if (buf.len < 12)
		funnel_invalid_state("The model fit state is corrupt.");
	width = pq_getmsgint(&buf, 4);
	n = pq_getmsgint64(&buf);
	if ((width != 2 && width != 3) || n < 0 ||
		n > (buf.len - buf.cursor) / (8 * width) ||
		n * 8 * width != buf.len - buf.cursor)
		funnel_invalid_state("The model fit state is corrupt.");
	st = fit_create(cxt, width);
	for (i = 0; i < n; i++)
	{
		double		row[3];
		int			j;

		for (j = 0; j < width; j++)
			row[j] = pq_getmsgfloat8(&buf);
		/* the same checks as the transition functions */
		if (width == 3)
			bgnbd_check_obs(row[0], row[1], row[2]);
		else
		{
			gg_check_row(row[0], row[1]);
			if (row[0] <= 0)
				funnel_invalid_state("The gamma_gamma_fit state is corrupt.");
		}
		fit_append(cxt, st, row);
	}
	PG_RETURN_POINTER(st);
}

Datum
customer_model_tuple(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "function returning a model must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/*
 * bgnbd_fit final function: the maximum-likelihood BG/NBD model (r, alpha,
 * a, b) of the observations, as a bgnbd_model.
 */
PG_FUNCTION_INFO_V1(bgnbd_fit_final);
Datum
bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	FitState   *st;
	BgnbdParams m;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (FitState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	(void) bgnbd_fit_obs((const BgnbdObs *) st->v, st->n, &m, ERROR);
	values[0] = Float8GetDatum(m.r);
	values[1] = Float8GetDatum(m.alpha);
	values[2] = Float8GetDatum(m.a);
	values[3] = Float8GetDatum(m.b);
	values[4] = Float8GetDatum(m.ll);
	values[5] = Int64GetDatum(m.n);
	PG_RETURN_DATUM(customer_model_tuple(fcinfo, values, nulls));
}

/*
 * gamma_gamma_fit final function: the maximum-likelihood Gamma-Gamma model
 * (p, q, gamma) of the observations, as a gamma_gamma_model.
 */
PG_FUNCTION_INFO_V1(gamma_gamma_fit_final);
Datum
gamma_gamma_fit_final(PG_FUNCTION_ARGS)
{
	FitState   *st;
	GammaGammaParams g;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (FitState *) PG_GETARG_POINTER(0);
	(void) gamma_gamma_fit_obs((const GammaGammaObs *) st->v, st->n, &g, ERROR);
	values[0] = Float8GetDatum(g.p);
	values[1] = Float8GetDatum(g.q);
	values[2] = Float8GetDatum(g.gamma);
	values[3] = Float8GetDatum(g.ll);
	values[4] = Int64GetDatum(g.n);
	PG_RETURN_DATUM(customer_model_tuple(fcinfo, values, nulls));
}

/* ---------------------------------------------------------------------
 * Reading models passed back from SQL
 * ---------------------------------------------------------------------
 */
static double
model_field(HeapTupleHeader t, int attno, const char *model, const char *field)
{
	bool		isnull;
	Datum		d = GetAttributeByNum(t, attno, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s parameter %s must not be NULL", model, field)));
	return DatumGetFloat8(d);
}

static void
read_bgnbd(HeapTupleHeader t, BgnbdParams *m)
{
	m->r = model_field(t, 1, "BG/NBD model", "r");
	m->alpha = model_field(t, 2, "BG/NBD model", "alpha");
	m->a = model_field(t, 3, "BG/NBD model", "a");
	m->b = model_field(t, 4, "BG/NBD model", "b");
	bgnbd_check_params(m);
}

static void
read_gamma_gamma(HeapTupleHeader t, GammaGammaParams *g)
{
	g->p = model_field(t, 1, "Gamma-Gamma model", "p");
	g->q = model_field(t, 2, "Gamma-Gamma model", "q");
	g->gamma = model_field(t, 3, "Gamma-Gamma model", "gamma");
	gamma_gamma_check_params(g);
}

static void
read_sbg(HeapTupleHeader t, double *alpha, double *beta)
{
	*alpha = model_field(t, 1, "sBG model", "alpha");
	*beta = model_field(t, 2, "sBG model", "beta");
	if (!(isfinite(*alpha) && *alpha > 0 && isfinite(*beta) && *beta > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sBG model: alpha and beta must be positive and finite (alpha %g, beta %g)",
						*alpha, *beta)));
}

/* ---------------------------------------------------------------------
 * Predictions
 * ---------------------------------------------------------------------
 */

/*
 * expected_purchases(model, horizon, frequency, recency, t): BG/NBD expected
 * purchases in the next horizon time units of a customer with this summary;
 * without the summary, the repeat purchases of a new customer.
 */
PG_FUNCTION_INFO_V1(bgnbd_expected_purchases);
Datum
bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	BgnbdParams m;
	double		horizon = PG_GETARG_FLOAT8(1);
	double		x = 0.0,
				tx = 0.0,
				T = 0.0;

	read_bgnbd(PG_GETARG_HEAPTUPLEHEADER(0), &m);
	if (PG_NARGS() > 2)
	{
		x = PG_GETARG_FLOAT8(2);
		tx = PG_GETARG_FLOAT8(3);
		T = PG_GETARG_FLOAT8(4);
		bgnbd_check_obs(x, tx, T);
	}
	PG_RETURN_FLOAT8(bgnbd_expected(&m, horizon, x, tx, T));
}

/*
 * probability_alive(model, frequency, recency, t): the BG/NBD probability
 * that a customer with this summary is still active.
 */
PG_FUNCTION_INFO_V1(bgnbd_probability_alive);
Datum
bgnbd_probability_alive(PG_FUNCTION_ARGS)
{
	BgnbdParams m;
	double		x = PG_GETARG_FLOAT8(1),
				tx = PG_GETARG_FLOAT8(2),
				T = PG_GETARG_FLOAT8(3);

	read_bgnbd(PG_GETARG_HEAPTUPLEHEADER(0), &m);
	bgnbd_check_obs(x, tx, T);
	PG_RETURN_FLOAT8(bgnbd_palive(&m, x, tx, T));
}

/*
 * expected_average_spend(model, frequency, monetary_value): the Gamma-Gamma
 * conditional mean value of the customer's future purchases.
 */
PG_FUNCTION_INFO_V1(gamma_gamma_expected_spend);
Datum
gamma_gamma_expected_spend(PG_FUNCTION_ARGS)
{
	GammaGammaParams g;
	double		x = PG_GETARG_FLOAT8(1),
				mx = PG_GETARG_FLOAT8(2);

	read_gamma_gamma(PG_GETARG_HEAPTUPLEHEADER(0), &g);
	spend_check_row(x, mx);
	PG_RETURN_FLOAT8(gamma_gamma_mean(&g, x, mx));
}

void
cv_check_ltv_args(double months, double discount, double units_per_month)
{
	if (!(months >= 0) || months > 12000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be between 0 and 12000 months, not %g", months)));
	if (!isfinite(discount) || discount <= -1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount_rate must be a finite rate above -1, not %g", discount),
				 errhint("0.01 means 1%% per month.")));
	if (!isfinite(units_per_month) || units_per_month <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("units_per_month must be positive and finite, not %g", units_per_month),
				 errhint("30 when the summaries are in days, 4.345 in weeks, 1 in months.")));
}

/*
 * ltv(purchase_model, spend_model, frequency, recency, t, monetary_value,
 *     months, discount_rate, units_per_month)
 */
PG_FUNCTION_INFO_V1(customer_ltv_sql);
Datum
customer_ltv_sql(PG_FUNCTION_ARGS)
{
	BgnbdParams m;
	GammaGammaParams g;
	double		x = PG_GETARG_FLOAT8(2),
				tx = PG_GETARG_FLOAT8(3),
				T = PG_GETARG_FLOAT8(4),
				mx = PG_GETARG_FLOAT8(5);
	int32		months = PG_GETARG_INT32(6);
	double		discount = PG_GETARG_FLOAT8(7),
				upm = PG_GETARG_FLOAT8(8);

	read_bgnbd(PG_GETARG_HEAPTUPLEHEADER(0), &m);
	read_gamma_gamma(PG_GETARG_HEAPTUPLEHEADER(1), &g);
	bgnbd_check_obs(x, tx, T);
	spend_check_row(x, mx);
	cv_check_ltv_args(months, discount, upm);
	PG_RETURN_FLOAT8(customer_ltv(&m, &g, x, tx, T, mx, months, discount, upm));
}

/* ---------------------------------------------------------------------
 * shifted-beta-geometric
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(sbg_fit_sql);
Datum
sbg_fit_sql(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *enulls;
	int			n,
				i;
	int64	   *surv;
	SbgParams	s;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("survivor counts must be a one-dimensional array")));
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &enulls, &n);
	surv = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("survivor count %d must not be NULL", i + 1)));
		surv[i] = DatumGetInt64(elems[i]);
	}
	sbg_fit_survivors(surv, n, &s);
	values[0] = Float8GetDatum(s.alpha);
	values[1] = Float8GetDatum(s.beta);
	values[2] = Float8GetDatum(s.ll);
	values[3] = Int32GetDatum(s.periods);
	values[4] = Int64GetDatum(s.cohort);
	PG_RETURN_DATUM(customer_model_tuple(fcinfo, values, nulls));
}

static int32
sbg_period_arg(FunctionCallInfo fcinfo, int argno, int32 min)
{
	int32		t = PG_GETARG_INT32(argno);

	if (t < min)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period must be at least %d, not %d", min, t)));
	return t;
}

/*
 * sbg_survival(model, period): the sBG share of a cohort still active after
 * period periods, B(alpha, beta + t) / B(alpha, beta).
 */
PG_FUNCTION_INFO_V1(sbg_survival_sql);
Datum
sbg_survival_sql(PG_FUNCTION_ARGS)
{
	double		alpha,
				beta;
	int32		t = sbg_period_arg(fcinfo, 1, 0);

	read_sbg(PG_GETARG_HEAPTUPLEHEADER(0), &alpha, &beta);
	PG_RETURN_FLOAT8(sbg_survival(alpha, beta, t));
}

/* r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1) */
PG_FUNCTION_INFO_V1(sbg_retention_rate_sql);
Datum
sbg_retention_rate_sql(PG_FUNCTION_ARGS)
{
	double		alpha,
				beta;
	int32		t = sbg_period_arg(fcinfo, 1, 1);

	read_sbg(PG_GETARG_HEAPTUPLEHEADER(0), &alpha, &beta);
	PG_RETURN_FLOAT8((beta + t - 1) / (alpha + beta + t - 1));
}

/*
 * sbg_expected_remaining_lifetime(model, periods_survived, discount_rate):
 * expected further (discounted) periods of a customer active after
 * periods_survived periods.
 */
PG_FUNCTION_INFO_V1(sbg_remaining_sql);
Datum
sbg_remaining_sql(PG_FUNCTION_ARGS)
{
	double		alpha,
				beta;
	int32		n = sbg_period_arg(fcinfo, 1, 0);
	double		d = PG_GETARG_FLOAT8(2);

	read_sbg(PG_GETARG_HEAPTUPLEHEADER(0), &alpha, &beta);
	if (!isfinite(d) || d < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("discount_rate must be a finite non-negative rate per period, not %g", d)));
	PG_RETURN_FLOAT8(sbg_remaining(alpha, beta, n, d));
}
