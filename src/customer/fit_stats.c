/*
 * src/customer/fit_stats.c
 *    The sufficient statistics of the BG/NBD and Gamma-Gamma fits as a
 *    value that merges: the fit_stats type, the state of bgnbd_fit and
 *    gamma_gamma_fit since 1.1.
 *
 * The likelihood of either model is a sum over customers of a term that
 * depends only on the customer's summary, (x, t_x, T) for BG/NBD, (x, m)
 * for Gamma-Gamma; customers with the same summary add the same term.  So
 * the fits need the distinct summaries and how many customers have each,
 * and these add up over disjoint sets of customers: on the shards of a
 * Citus table, in parallel workers.  What a worker sends grows with the
 * distinct summaries, not with the customers (with whole days or weeks as
 * the time unit, many customers share one; with continuous times, few do).
 * The fit groups its customers into the same sorted distinct summaries
 * however they were counted (customer/models.c), so a fit from merged
 * statistics is the fit of the customers, to the last bit.
 *
 * Stored form (version 1): the width (3: x, t_x, T; 2: x, m), the number
 * of distinct rows, and the rows in ascending order of their values, each
 * with its customers.  Text form: {"model": "bgnbd", "rows": [[x, t_x, T,
 * customers], ...]} or {"model": "gamma_gamma", "rows": [[x, m,
 * customers], ...]}, numbers that read back to the same bits.
 */
#include "postgres.h"

#include <math.h>

#include "common/expanded_acc.h"
#include "common/int.h"
#include "common/json_fields.h"
#include "customer/customer_value.h"
#include "engine/funnel.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#define FS_VERSION		1
#define FS_BGNBD		3		/* widths: x, t_x, T */
#define FS_GAMMA_GAMMA	2		/* x, m */

static const char *const FS_TYPE = "fit_stats";

typedef struct FsRow
{
	double		v[3];			/* the summary (unused values 0) */
	int64		w;				/* customers with it */
} FsRow;

typedef struct FitStats
{
	int			width;
	int64		customers;
	int64		k;
	FsRow	   *rows;			/* ascending */
} FitStats;

static const char *
fs_model_name(int width)
{
	return width == FS_BGNBD ? "bgnbd" : "gamma_gamma";
}

static void
fs_bad(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid fit_stats: %s", what)));
}

static int
fs_row_cmp(const void *pa, const void *pb)
{
	const FsRow *a = pa,
			   *b = pb;
	int			i;

	for (i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

/* A summary the transition functions accept (and no -0: they write none). */
static bool
fs_row_valid(int width, const double *v)
{
	int			i;

	for (i = 0; i < width; i++)
		if (!isfinite(v[i]) || (v[i] == 0 && signbit(v[i])))
			return false;
	if (v[0] < 0 || v[0] != floor(v[0]) || v[0] > 1e9)
		return false;
	if (width == FS_BGNBD)
		return v[1] >= 0 && v[1] <= v[2];
	return v[0] > 0 && v[1] > 0 && v[2] == 0;
}

static bytea *
fs_encode(const FitStats *f)
{
	StringInfoData buf;
	int64		i;
	int			j;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, FS_VERSION);
	pq_sendbyte(&buf, f->width);
	pq_sendint64(&buf, f->k);
	for (i = 0; i < f->k; i++)
	{
		for (j = 0; j < f->width; j++)
			pq_sendfloat8(&buf, f->rows[i].v[j]);
		pq_sendint64(&buf, f->rows[i].w);
	}
	return pq_endtypsend(&buf);
}

/* Read and check every field. */
static FitStats *
fs_decode(const char *d, int len)
{
	StringInfoData buf;
	FitStats   *f = palloc0(sizeof(FitStats));
	int64		i;
	int			j;

	buf.data = (char *) d;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (len < 2 || pq_getmsgbyte(&buf) != FS_VERSION)
		fs_bad("unknown version");
	f->width = pq_getmsgbyte(&buf);
	if (f->width != FS_BGNBD && f->width != FS_GAMMA_GAMMA)
		fs_bad("unknown model");
	f->k = pq_getmsgint64(&buf);
	if (f->k < 0 || (uint64) f->k > (uint64) (len - buf.cursor) / (8 * f->width + 8))
		fs_bad("bad row count");
	f->rows = palloc_extended(sizeof(FsRow) * (f->k + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < f->k; i++)
	{
		FsRow	   *r = &f->rows[i];

		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < f->width; j++)
			r->v[j] = pq_getmsgfloat8(&buf);
		r->w = pq_getmsgint64(&buf);
		if (!fs_row_valid(f->width, r->v))
			fs_bad("bad customer summary");
		if (r->w < 1 || pg_add_s64_overflow(f->customers, r->w, &f->customers) ||
			f->customers > FUNNEL_JSON_MAX_COUNT)
			fs_bad("bad customer count");
		if (i > 0 && fs_row_cmp(&f->rows[i - 1], r) >= 0)
			fs_bad("rows not in order or repeated");
	}
	if (buf.cursor != len)
		fs_bad("trailing bytes");
	return f;
}

static FitStats *
fs_from_datum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return fs_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/* ---------- the accumulator: distinct summaries and their customers ---------- */

typedef struct FsAcc
{
	MemoryContext cxt;
	int			width;
	HTAB	   *rows;			/* FsRow by v */
	int64		customers;
	Size		mem;
} FsAcc;

static FsAcc *
fs_acc_create(MemoryContext cxt, int width)
{
	FsAcc	   *acc = MemoryContextAllocZero(cxt, sizeof(FsAcc));
	HASHCTL		ctl;

	acc->cxt = cxt;
	acc->width = width;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(double) * 3;
	ctl.entrysize = sizeof(FsRow);
	ctl.hcxt = cxt;
	acc->rows = hash_create("fit_stats rows", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return acc;
}

static void
fs_acc_add(FsAcc *acc, const double *v, int64 w)
{
	double		key[3] = {0, 0, 0};
	FsRow	   *r;
	bool		found;
	int			j;

	for (j = 0; j < acc->width; j++)
		key[j] = v[j] == 0 ? 0.0 : v[j];	/* one zero: -0 and 0 are one summary */
	r = hash_search(acc->rows, key, HASH_ENTER, &found);
	if (!found)
	{
		r->w = 0;
		acc->mem += sizeof(FsRow) + 32;
		funnel_check_memory(acc->mem);
	}
	if (pg_add_s64_overflow(r->w, w, &r->w) ||
		pg_add_s64_overflow(acc->customers, w, &acc->customers) ||
		acc->customers > FUNNEL_JSON_MAX_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("customer count of a model fit is out of range")));
}

static void
fs_acc_merge(FsAcc *acc, const FitStats *f)
{
	int64		i;

	if (f->width != acc->width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge fit statistics of different models (%s and %s)",
						fs_model_name(acc->width), fs_model_name(f->width))));
	for (i = 0; i < f->k; i++)
	{
		CHECK_FOR_INTERRUPTS();
		fs_acc_add(acc, f->rows[i].v, f->rows[i].w);
	}
}

static bytea *
fs_acc_flat(const FsAcc *acc)
{
	FitStats	f;
	HASH_SEQ_STATUS seq;
	FsRow	   *r;
	int64		i = 0;

	f.width = acc->width;
	f.customers = acc->customers;
	f.k = hash_get_num_entries(acc->rows);
	f.rows = palloc_extended(sizeof(FsRow) * (f.k + 1), MCXT_ALLOC_HUGE);
	hash_seq_init(&seq, acc->rows);
	while ((r = hash_seq_search(&seq)) != NULL)
		f.rows[i++] = *r;
	qsort(f.rows, f.k, sizeof(FsRow), fs_row_cmp);
	return fs_encode(&f);
}

/*
 * The aggregate state is a fit_stats (Citus merges the partial states of
 * its workers only for a state type that is not a pseudo-type); while rows
 * are added it is an expanded object holding the accumulator
 * (common/expanded_acc.c).
 */
static bytea *
fs_acc_flat_any(void *acc)
{
	return fs_acc_flat((const FsAcc *) acc);
}

/* the accumulator is made by fs_state (it needs the width): no create/add */
static const ExpandedAccType fs_state_type = {"fit_stats", NULL, NULL, fs_acc_flat_any};

#define FS_ACC(ef) ((FsAcc *) (ef)->acc)

/*
 * The expanded state of argument 0 to add to: the state itself when it is
 * one of ours, else a new one (from a flat state: a copy of a partial
 * result; from nothing: the first row, of the given width).
 */
static ExpandedAcc *
fs_state(FunctionCallInfo fcinfo, int width)
{
	MemoryContext aggcxt;
	ExpandedAcc *ef = NULL;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "fit_stats transition called in non-aggregate context");
	if (!PG_ARGISNULL(0))
		ef = expanded_acc_of(PG_GETARG_DATUM(0), &fs_state_type);
	if (ef == NULL)
	{
		FitStats   *f = PG_ARGISNULL(0) ? NULL : fs_from_datum(PG_GETARG_DATUM(0));

		ef = expanded_acc_create(aggcxt, &fs_state_type, ALLOCSET_DEFAULT_INITSIZE);
		ef->acc = fs_acc_create(ef->hdr.eoh_context, f ? f->width : width);
		if (f)
			fs_acc_merge(FS_ACC(ef), f);
	}
	expanded_acc_changed(ef);
	return ef;
}

/*
 * bgnbd_fit transition (since 1.1): counts one customer's (frequency,
 * recency, t); rows with a NULL are skipped.
 */
PG_FUNCTION_INFO_V1(fit_stats_bgnbd_sfunc);
Datum
fit_stats_bgnbd_sfunc(PG_FUNCTION_ARGS)
{
	ExpandedAcc *ef = fs_state(fcinfo, FS_BGNBD);
	double		v[3];

	if (FS_ACC(ef)->width != FS_BGNBD)
		fs_acc_merge(FS_ACC(ef), &(FitStats) {.width = FS_BGNBD});	/* the error */
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !PG_ARGISNULL(3))
	{
		v[0] = PG_GETARG_FLOAT8(1);
		v[1] = PG_GETARG_FLOAT8(2);
		v[2] = PG_GETARG_FLOAT8(3);
		bgnbd_check_obs(v[0], v[1], v[2]);
		fs_acc_add(FS_ACC(ef), v, 1);
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&ef->hdr));
}

/*
 * gamma_gamma_fit transition (since 1.1): counts one customer's (frequency,
 * monetary_value); customers without repeat purchases are skipped.
 */
PG_FUNCTION_INFO_V1(fit_stats_gamma_gamma_sfunc);
Datum
fit_stats_gamma_gamma_sfunc(PG_FUNCTION_ARGS)
{
	ExpandedAcc *ef = fs_state(fcinfo, FS_GAMMA_GAMMA);
	double		v[2];

	if (FS_ACC(ef)->width != FS_GAMMA_GAMMA)
		fs_acc_merge(FS_ACC(ef), &(FitStats) {.width = FS_GAMMA_GAMMA});	/* the error */
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		v[0] = PG_GETARG_FLOAT8(1);
		v[1] = PG_GETARG_FLOAT8(2);
		gg_check_row(v[0], v[1]);
		if (v[0] > 0)			/* only repeat customers enter the model */
			fs_acc_add(FS_ACC(ef), v, 1);
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&ef->hdr));
}

/*
 * fit_stats_merge(a, b): the statistics of the customers of a and b
 * (disjoint sets of customers, one model); a NULL one is left out.  The
 * combine function of bgnbd_fit and gamma_gamma_fit.
 */
PG_FUNCTION_INFO_V1(fit_stats_merge);
Datum
fit_stats_merge(PG_FUNCTION_ARGS)
{
	FitStats   *b;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	b = fs_from_datum(PG_GETARG_DATUM(1));
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		FsAcc	   *acc = fs_acc_create(CurrentMemoryContext, b->width);

		if (!PG_ARGISNULL(0))
		{
			FitStats   *a = fs_from_datum(PG_GETARG_DATUM(0));

			acc->width = a->width;
			fs_acc_merge(acc, a);
		}
		fs_acc_merge(acc, b);
		PG_RETURN_BYTEA_P(fs_acc_flat(acc));
	}
	{
		ExpandedAcc *ef = fs_state(fcinfo, b->width);

		fs_acc_merge(FS_ACC(ef), b);
		PG_RETURN_DATUM(EOHPGetRWDatum(&ef->hdr));
	}
}

/* The distinct summaries and their customers, for the fits. */
static void
fs_columns(const FitStats *f, void *obs, Size obs_size, int64 *w)
{
	int64		i;
	int			j;

	for (i = 0; i < f->k; i++)
	{
		double	   *o = (double *) ((char *) obs + i * obs_size);

		for (j = 0; j < f->width; j++)
			o[j] = f->rows[i].v[j];
		w[i] = f->rows[i].w;
	}
}

static FitStats *
fs_final_arg(FunctionCallInfo fcinfo, int width)
{
	FitStats   *f = fs_from_datum(PG_GETARG_DATUM(0));

	if (f->width != width)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fit statistics of the %s model cannot fit the %s model",
						fs_model_name(f->width), fs_model_name(width))));
	return f;
}

/*
 * bgnbd_fit final function (since 1.1): the maximum-likelihood BG/NBD model
 * of the counted customers; NULL when none was counted.  Reads the state
 * only.
 */
PG_FUNCTION_INFO_V1(fit_stats_bgnbd_final);
Datum
fit_stats_bgnbd_final(PG_FUNCTION_ARGS)
{
	FitStats   *f;
	BgnbdObs   *obs;
	int64	   *w;
	BgnbdParams m;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	f = fs_final_arg(fcinfo, FS_BGNBD);
	if (f->customers == 0)
		PG_RETURN_NULL();
	obs = palloc_extended(sizeof(BgnbdObs) * (f->k + 1), MCXT_ALLOC_HUGE);
	w = palloc_extended(sizeof(int64) * (f->k + 1), MCXT_ALLOC_HUGE);
	StaticAssertStmt(offsetof(BgnbdObs, x) == 0 && offsetof(BgnbdObs, tx) == sizeof(double) &&
					 offsetof(BgnbdObs, T) == 2 * sizeof(double), "BgnbdObs is x, t_x, T");
	fs_columns(f, obs, sizeof(BgnbdObs), w);
	(void) bgnbd_fit_weighted(obs, w, f->k, &m, ERROR);
	values[0] = Float8GetDatum(m.r);
	values[1] = Float8GetDatum(m.alpha);
	values[2] = Float8GetDatum(m.a);
	values[3] = Float8GetDatum(m.b);
	values[4] = Float8GetDatum(m.ll);
	values[5] = Int64GetDatum(m.n);
	PG_RETURN_DATUM(customer_model_tuple(fcinfo, values, nulls));
}

/*
 * gamma_gamma_fit final function (since 1.1): the maximum-likelihood
 * Gamma-Gamma model of the counted repeat customers.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(fit_stats_gamma_gamma_final);
Datum
fit_stats_gamma_gamma_final(PG_FUNCTION_ARGS)
{
	FitStats   *f;
	GammaGammaObs *obs;
	int64	   *w;
	GammaGammaParams g;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	f = fs_final_arg(fcinfo, FS_GAMMA_GAMMA);
	obs = palloc_extended(sizeof(GammaGammaObs) * (f->k + 1), MCXT_ALLOC_HUGE);
	w = palloc_extended(sizeof(int64) * (f->k + 1), MCXT_ALLOC_HUGE);
	StaticAssertStmt(offsetof(GammaGammaObs, x) == 0 && offsetof(GammaGammaObs, m) == sizeof(double),
					 "GammaGammaObs is x, m");
	fs_columns(f, obs, sizeof(GammaGammaObs), w);
	(void) gamma_gamma_fit_weighted(obs, w, f->k, &g, ERROR);
	values[0] = Float8GetDatum(g.p);
	values[1] = Float8GetDatum(g.q);
	values[2] = Float8GetDatum(g.gamma);
	values[3] = Float8GetDatum(g.ll);
	values[4] = Int64GetDatum(g.n);
	PG_RETURN_DATUM(customer_model_tuple(fcinfo, values, nulls));
}

/* ---------- fit_stats I/O ---------- */

/* fit_stats text output: the model and the distinct rows with their customers. */
PG_FUNCTION_INFO_V1(fit_stats_out);
Datum
fit_stats_out(PG_FUNCTION_ARGS)
{
	FitStats   *f = fs_from_datum(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int64		i;
	int			j;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"model\": \"%s\", \"rows\": [", fs_model_name(f->width));
	for (i = 0; i < f->k; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", [" : "[");
		for (j = 0; j < f->width; j++)
		{
			funnel_json_double(&buf, f->rows[i].v[j]);
			appendStringInfoString(&buf, ", ");
		}
		appendStringInfo(&buf, INT64_FORMAT "]", f->rows[i].w);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* fit_stats text input: the JSON form fit_stats_out writes, validated. */
PG_FUNCTION_INFO_V1(fit_stats_in);
Datum
fit_stats_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	JsonbContainer *root = funnel_json_object(str, FS_TYPE);
	JsonbValue *v;
	JsonbContainer *arr;
	FitStats	f;
	char	   *model;
	int64		i;
	bytea	   *result;

	memset(&f, 0, sizeof(f));
	model = funnel_json_string(funnel_json_get(root, "model", jbvString, false, FS_TYPE));
	if (strcmp(model, "bgnbd") == 0)
		f.width = FS_BGNBD;
	else if (strcmp(model, "gamma_gamma") == 0)
		f.width = FS_GAMMA_GAMMA;
	else
		funnel_bad_text_input(FS_TYPE, "Key \"model\" must be \"bgnbd\" or \"gamma_gamma\".");
	v = funnel_json_get(root, "rows", jbvBinary, false, FS_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(FS_TYPE, "Key \"rows\" must be an array.");
	f.k = JsonContainerSize(arr);
	f.rows = palloc_extended(sizeof(FsRow) * (f.k + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < f.k; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *row;
		int			j;
		double		w = 0;

		CHECK_FOR_INTERRUPTS();
		if (e->type != jbvBinary || !JsonContainerIsArray(e->val.binary.data) ||
			JsonContainerSize(e->val.binary.data) != (uint32) f.width + 1)
			funnel_bad_text_input(FS_TYPE, psprintf("Each row must be an array of %d numbers.", f.width + 1));
		row = e->val.binary.data;
		for (j = 0; j <= f.width; j++)
		{
			JsonbValue *x = getIthJsonbValueFromContainer(row, j);
			double		d = funnel_json_number(x, "rows", FS_TYPE);

			if (j < f.width)
				f.rows[i].v[j] = d == 0 ? 0.0 : d;
			else
				w = d;
		}
		if (w < 1 || w > (double) FUNNEL_JSON_MAX_COUNT || w != floor(w))
			funnel_bad_text_input(FS_TYPE, "The customers of a row must be a whole number, 1 or more.");
		f.rows[i].w = (int64) w;
	}
	qsort(f.rows, f.k, sizeof(FsRow), fs_row_cmp);
	for (i = 1; i < f.k; i++)
		if (fs_row_cmp(&f.rows[i - 1], &f.rows[i]) == 0)
			funnel_bad_text_input(FS_TYPE, "A row appears twice.");
	result = fs_encode(&f);
	(void) fs_from_datum(PointerGetDatum(result));	/* check it */
	PG_RETURN_BYTEA_P(result);
}

/* fit_stats binary input: the stored form, validated before it is kept. */
PG_FUNCTION_INFO_V1(fit_stats_recv);
Datum
fit_stats_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	(void) fs_decode(buf->data + buf->cursor, buf->len - buf->cursor);
	PG_RETURN_BYTEA_P(funnel_recv_rest(buf));
}

/* fit_stats binary output: the stored form as is. */
PG_FUNCTION_INFO_V1(fit_stats_send);
Datum
fit_stats_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}
