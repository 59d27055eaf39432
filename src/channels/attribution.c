/*
 * src/channels/attribution.c
 *    The attribution aggregate: which channels deserve the credit for the
 *    conversions of a table of touchpoints and conversions, under one of the
 *    models first_touch, last_touch, linear, position_based, time_decay and
 *    markov; its storable result, the attribution_summary type; and
 *    attribution_report(summary).
 *
 * Journeys.  The rows of one entity, in time order (at equal times
 * touchpoints come before conversions, conversions by value), are cut into
 * journeys: a conversion closes a
 * converting journey made of the entity's touchpoints since its previous
 * conversion that lie within the lookback before it (ts >= conversion ts -
 * lookback).  The touchpoints since the previous conversion that lie before
 * the lookback form one non-converting journey, and so do the touchpoints
 * after the entity's last conversion.  So every touchpoint belongs to exactly
 * one journey and credits at most one conversion.  A conversion without a
 * touchpoint in its lookback is credited to the NULL channel.
 *
 * Ties.  Touchpoints of one journey at one time have no order (SQL gives
 * none, and the channel names must not decide the credit): they share
 * their position.  first_touch and last_touch split the credit evenly among
 * the touchpoints at the first (last) time; position_based gives its 40%
 * shares to the touchpoints at the first and at the last time, evenly, and
 * its 20% to the touchpoints in between, evenly (one time only: all share
 * the whole; two times: each time 50%); linear and time_decay need no
 * order.  Markov counts every order of the tied touchpoints as equally
 * likely: the transitions between k tied touchpoints count 1/k for every
 * ordered pair, from each of the a touchpoints at one time to each of the b
 * at the next 1/(ab), from start to each first one 1/a, from each last one
 * to the end 1/b; without ties this is the plain count.
 *
 * Plans.  The final function walks the entities in an order of their own
 * (their hash under the type's hash opclass, then their bytes), not in the
 * order the rows arrived in; credited conversions are summed with
 * compensation (Neumaier) and values exactly, in billionths
 * (common/money.c): serial and parallel plans give the same summary, to
 * the last bit.  Conversion values are carried as double precision, so a
 * value below 4.5 million with at most 9 decimals is summed exactly; values
 * must be below 1e20 in absolute value.
 *
 * Markov.  A first-order chain over the states (start), the channels,
 * (conversion) and (null) is estimated from the journeys that have at least
 * one touchpoint: start -> c1 -> ... -> ck -> conversion|null.  A repeated
 * consecutive touch of one channel adds a self-loop c -> c; a self-loop does
 * not change any absorption probability (x_c = p_cc x_c + sum_{d != c} p_cd x_d
 * solves to the chain without it), so the model is the same whether repeats
 * are kept or collapsed, and we skip them.  x = (I - Q)^-1 r gives, for every
 * channel, the probability of ending in conversion; P = sum_c p(start, c) x_c.
 * Removing channel k (its transitions go to null) gives P_k, found from the
 * same LU factorisation with the Sherman-Morrison formula (row k of I - Q
 * becomes e_k).  The removal effect is RE_k = 1 - P_k / P and channel k gets
 * RE_k / sum RE of the conversions (and value) that had a touchpoint.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/expanded_acc.h"
#include "common/money.h"
#include "funcapi.h"
#include "engine/funnel.h"
#include "common/interval_usecs.h"
#include "common/json_fields.h"
#include "common/linear_algebra.h"
#include "common/byte_order.h"
#include "common/svg_escape.h"
#include "engine/journey_log.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#define ATTR_SUMMARY_VERSION	1
#define ATTR_MAX_CHANNELS		(1 << 20)
#define ATTR_MARKOV_MAX_CHANNELS 2000
#define ATTR_DEFAULT_HALF_LIFE	(7 * USECS_PER_DAY)
#define ATTR_DEFAULT_LOOKBACK	(30 * USECS_PER_DAY)
#define ATTR_MAX_VALUE			1e20	/* so that values sum exactly in int128 */
#define VALUE_SUM				"conversion values"	/* in errors */

typedef enum AttrModel
{
	ATTR_FIRST_TOUCH = 1,
	ATTR_LAST_TOUCH,
	ATTR_LINEAR,
	ATTR_POSITION_BASED,
	ATTR_TIME_DECAY,
	ATTR_MARKOV
} AttrModel;

static const char *const model_names[] = {
	NULL, "first_touch", "last_touch", "linear", "position_based", "time_decay", "markov"
};

#define ATTR_ALLOWED_MODELS "first_touch, last_touch, linear, position_based, time_decay, time_decay(<half-life interval>), markov"

typedef struct AttrConfig
{
	int32		model;
	int64		half_life;		/* time_decay only, else 0 */
	int64		lookback;
} AttrConfig;

typedef struct AttrState
{
	AttrConfig	cfg;
	JourneyLog *log;
} AttrState;

/* Per call site: the last raw model and lookback and what they parse to. */
typedef struct AttrCache
{
	text	   *model_raw;
	int32		model;
	int64		half_life;
	bool		have_lookback;
	Interval	lookback_raw;
	int64		lookback;
} AttrCache;

/* ---------- the summary ---------- */

typedef struct AttrChannel
{
	char	   *name;			/* NULL: the NULL channel */
	int			len;
	double		conv;
	double		value;
	int64		journeys;		/* converting journeys with the channel */
	int64		touched;		/* all journeys with the channel */
} AttrChannel;

typedef struct AttrSummary
{
	AttrConfig	cfg;
	double		conversions;
	double		value;
	int64		touchpoints;
	int64		converting_journeys;
	int64		other_journeys;
	AttrChannel none;			/* conversions without a touchpoint */
	int32		nchannels;
	AttrChannel *channels;		/* by name, byte order */
} AttrSummary;

static void
attr_bad_summary(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid attribution_summary: %s", what)));
}

static int32
parse_model_name(const char *s, int len)
{
	int			m;

	for (m = ATTR_FIRST_TOUCH; m <= ATTR_MARKOV; m++)
		if ((int) strlen(model_names[m]) == len && pg_strncasecmp(s, model_names[m], len) == 0)
			return m;
	return 0;
}

/* "linear", " Time_Decay ( 3 days ) ", ... */
static void
parse_model(const char *str, int len, int32 *model, int64 *half_life)
{
	const char *p = str,
			   *end = str + len,
			   *paren;
	int32		m;

	while (p < end && isspace((unsigned char) *p))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	paren = memchr(p, '(', end - p);
	if (paren == NULL)
	{
		m = parse_model_name(p, end - p);
		*half_life = m == ATTR_TIME_DECAY ? ATTR_DEFAULT_HALF_LIFE : 0;
	}
	else
	{
		const char *q = paren;
		Interval   *iv;

		while (q > p && isspace((unsigned char) q[-1]))
			q--;
		m = parse_model_name(p, q - p);
		if (m > 0 && m != ATTR_TIME_DECAY)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("attribution model \"%s\" takes no option", model_names[m]),
					 errhint("Only time_decay takes an option, its half-life: 'time_decay(3 days)'.")));
		if (m == ATTR_TIME_DECAY && end[-1] == ')')
		{
			iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
													   CStringGetDatum(pnstrdup(paren + 1, end - 1 - (paren + 1))),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
			*half_life = funnel_interval_usecs(iv, "time_decay half-life", true);
		}
		else
			m = 0;
	}
	if (m <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized attribution model \"%s\"", pnstrdup(str, len)),
				 errhint("Allowed models are: " ATTR_ALLOWED_MODELS ".")));
	*model = m;
}

static char *
model_text(const AttrConfig *cfg)
{
	if (cfg->model != ATTR_TIME_DECAY)
		return pstrdup(model_names[cfg->model]);
	return psprintf("time_decay(%s)", funnel_usecs_text(cfg->half_life));
}

/* One zero: the text form has no -0, so the binary form has none either. */
static void
send_double(StringInfo buf, double v)
{
	pq_sendfloat8(buf, v == 0 ? 0.0 : v);
}

static bytea *
summary_encode(const AttrSummary *s)
{
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, ATTR_SUMMARY_VERSION);
	pq_sendbyte(&buf, (uint8) s->cfg.model);
	pq_sendint64(&buf, s->cfg.half_life);
	pq_sendint64(&buf, s->cfg.lookback);
	send_double(&buf, s->conversions);
	send_double(&buf, s->value);
	pq_sendint64(&buf, s->touchpoints);
	pq_sendint64(&buf, s->converting_journeys);
	pq_sendint64(&buf, s->other_journeys);
	send_double(&buf, s->none.conv);
	send_double(&buf, s->none.value);
	pq_sendint64(&buf, s->none.journeys);
	pq_sendint32(&buf, s->nchannels);
	for (i = 0; i < s->nchannels; i++)
	{
		const AttrChannel *c = &s->channels[i];

		pq_sendint32(&buf, c->len);
		pq_sendbytes(&buf, c->name, c->len);
		send_double(&buf, c->conv);
		send_double(&buf, c->value);
		pq_sendint64(&buf, c->journeys);
		pq_sendint64(&buf, c->touched);
	}
	return pq_endtypsend(&buf);
}

static int
channel_name_cmp(const AttrChannel *a, const AttrChannel *b)
{
	return funnel_name_cmp(a->name, a->len, b->name, b->len);
}

static inline bool
finite_nonneg(double v)
{
	return !isnan(v) && !isinf(v) && !signbit(v);
}

static inline bool
valid_count(int64 n)
{
	return n >= 0 && n <= FUNNEL_JSON_MAX_COUNT;
}

/* finite, and not -0 (summary_encode never writes it) */
static inline bool
is_finite(double v)
{
	return !isnan(v) && !isinf(v) && !(v == 0 && signbit(v));
}

/* Read and check every field of a summary's bytes. */
static AttrSummary *
summary_decode(const char *d, int len)
{
	AttrSummary *s = palloc0(sizeof(AttrSummary));
	StringInfoData buf;
	int			i;

	buf.data = (char *) d;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (len < 1 || pq_getmsgbyte(&buf) != ATTR_SUMMARY_VERSION)
		attr_bad_summary("unknown version");
	s->cfg.model = pq_getmsgbyte(&buf);
	if (s->cfg.model < ATTR_FIRST_TOUCH || s->cfg.model > ATTR_MARKOV)
		attr_bad_summary("unknown model");
	s->cfg.half_life = pq_getmsgint64(&buf);
	s->cfg.lookback = pq_getmsgint64(&buf);
	if ((s->cfg.model == ATTR_TIME_DECAY) != (s->cfg.half_life > 0) || s->cfg.half_life < 0 ||
		s->cfg.lookback < 0)
		attr_bad_summary("bad half-life or lookback");
	s->conversions = pq_getmsgfloat8(&buf);
	s->value = pq_getmsgfloat8(&buf);
	s->touchpoints = pq_getmsgint64(&buf);
	s->converting_journeys = pq_getmsgint64(&buf);
	s->other_journeys = pq_getmsgint64(&buf);
	s->none.conv = pq_getmsgfloat8(&buf);
	s->none.value = pq_getmsgfloat8(&buf);
	s->none.journeys = pq_getmsgint64(&buf);
	if (!finite_nonneg(s->conversions) || !is_finite(s->value) || !valid_count(s->touchpoints) ||
		!valid_count(s->converting_journeys) || !valid_count(s->other_journeys) ||
		!finite_nonneg(s->none.conv) || !is_finite(s->none.value) || !valid_count(s->none.journeys))
		attr_bad_summary("bad totals");
	s->nchannels = pq_getmsgint(&buf, 4);
	if (s->nchannels < 0 || s->nchannels > ATTR_MAX_CHANNELS ||
		(Size) s->nchannels > (Size) (len - buf.cursor) / 36)
		attr_bad_summary("bad channel count");
	s->channels = palloc0(sizeof(AttrChannel) * (s->nchannels + 1));
	for (i = 0; i < s->nchannels; i++)
	{
		AttrChannel *c = &s->channels[i];
		const char *name;

		c->len = pq_getmsgint(&buf, 4);
		if (c->len < 0 || c->len > len - buf.cursor)
			attr_bad_summary("bad channel name");
		name = pq_getmsgbytes(&buf, c->len);
		if (memchr(name, '\0', c->len) != NULL || !pg_verifymbstr(name, c->len, true))
			attr_bad_summary("bad channel name");
		c->name = pnstrdup(name, c->len);
		c->conv = pq_getmsgfloat8(&buf);
		c->value = pq_getmsgfloat8(&buf);
		c->journeys = pq_getmsgint64(&buf);
		c->touched = pq_getmsgint64(&buf);
		if (!finite_nonneg(c->conv) || !is_finite(c->value) || !valid_count(c->journeys) ||
			!valid_count(c->touched) || c->touched < c->journeys)
			attr_bad_summary("bad channel credit");
		if (i > 0 && channel_name_cmp(&s->channels[i - 1], c) >= 0)
			attr_bad_summary("channels not in order or repeated");
	}
	if (buf.cursor != len)
		attr_bad_summary("trailing bytes");
	return s;
}

static AttrSummary *
summary_from_datum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return summary_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/* ---------- the aggregate ---------- */

/*
 * The model (argument 1; with_model false: markov, no model argument) and
 * the lookback (the argument after the conversion value, when there is one).
 */
static void
read_config(FunctionCallInfo fcinfo, bool with_model, AttrConfig *cfg)
{
	int			lb_arg = with_model ? 6 : 5;
	AttrCache  *c = (AttrCache *) fcinfo->flinfo->fn_extra;
	text	   *model;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AttrCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (!with_model)
	{
		cfg->model = ATTR_MARKOV;
		cfg->half_life = 0;
	}
	else if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("attribution model must not be NULL"),
				 errhint("Allowed models are: " ATTR_ALLOWED_MODELS ".")));
	else
	{
		model = PG_GETARG_TEXT_PP(1);
		if (c->model_raw == NULL || VARSIZE_ANY_EXHDR(model) != VARSIZE_ANY_EXHDR(c->model_raw) ||
			memcmp(VARDATA_ANY(model), VARDATA_ANY(c->model_raw), VARSIZE_ANY_EXHDR(model)) != 0)
		{
			int32		m;
			int64		hl;
			text	   *copy;

			parse_model(VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model), &m, &hl);
			copy = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE_ANY(model));
			memcpy(copy, model, VARSIZE_ANY(model));
			if (c->model_raw)
				pfree(c->model_raw);
			c->model_raw = copy;
			c->model = m;
			c->half_life = hl;
		}
		cfg->model = c->model;
		cfg->half_life = c->half_life;
	}
	if (PG_NARGS() > lb_arg)
	{
		Interval   *lb;

		if (PG_ARGISNULL(lb_arg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("attribution lookback must not be NULL"),
					 errhint("Use an interval such as '30 days'.")));
		lb = PG_GETARG_INTERVAL_P(lb_arg);
		if (!c->have_lookback || memcmp(lb, &c->lookback_raw, sizeof(Interval)) != 0)
		{
			c->lookback = funnel_interval_usecs(lb, "attribution lookback", false);
			c->lookback_raw = *lb;
			c->have_lookback = true;
		}
		cfg->lookback = c->lookback;
	}
	else
		cfg->lookback = ATTR_DEFAULT_LOOKBACK;
}

static void
check_same_config(const AttrConfig *a, const AttrConfig *b)
{
	if (a->model != b->model || a->half_life != b->half_life || a->lookback != b->lookback)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attribution model and lookback must be the same for every row of a group")));
}

/*
 * attribution(model, entity, ts, channel, conversion_value [, lookback]):
 * a row with a value is a conversion, a row with a channel and no value a
 * touchpoint; rows with neither, or with a NULL entity or time, are skipped.
 */
static Datum
attr_add_row(FunctionCallInfo fcinfo, bool with_model)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, with_model ? "attribution" : "markov_transitions");
	int			e = with_model ? 2 : 1; /* the entity argument; ts, channel, value follow */
	AttrState  *st = FUNNEL_STATE_ARG(AttrState, 0);
	AttrConfig	cfg;
	int64		ts;
	int32		code;

	read_config(fcinfo, with_model, &cfg);
	if (st == NULL)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, e);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the data type of the entity argument")));
		st = MemoryContextAllocZero(cxt, sizeof(AttrState));
		st->cfg = cfg;
		st->log = jlog_create(fcinfo, cxt, typid, PG_GET_COLLATION());
	}
	else
		check_same_config(&st->cfg, &cfg);
	if (PG_ARGISNULL(e) || PG_ARGISNULL(e + 1) || (PG_ARGISNULL(e + 2) && PG_ARGISNULL(e + 3)))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(e + 1);
	funnel_check_timestamp(ts);
	if (!PG_ARGISNULL(e + 3))
	{
		Numeric		n = PG_GETARG_NUMERIC(e + 3);
		double		v;

		if (numeric_is_nan(n) || numeric_is_inf(n))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("conversion value must be a finite number"),
					 errhint("Use 0 for a conversion without a value, NULL for a touchpoint.")));
		v = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(n)));
		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("conversion value is out of range for double precision")));
		if (fabs(v) >= ATTR_MAX_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("conversion value is out of range"),
					 errdetail("Conversion values are summed exactly and must be below 1e20 in absolute value.")));
		code = -1 - jlog_add_value(st->log, v);
	}
	else
	{
		text	   *ch = PG_GETARG_TEXT_PP(e + 2);

		code = jlog_name(st->log, VARDATA_ANY(ch), VARSIZE_ANY_EXHDR(ch));
	}
	jlog_add(st->log, PG_GETARG_DATUM(e), ts, code);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(attribution_sfunc);
Datum
attribution_sfunc(PG_FUNCTION_ARGS)
{
	return attr_add_row(fcinfo, true);
}

/*
 * markov_transitions(entity, ts, channel, conversion_value [, lookback]):
 * the rows of attribution('markov', ...), in the same state.
 */
PG_FUNCTION_INFO_V1(markov_transitions_sfunc);
Datum
markov_transitions_sfunc(PG_FUNCTION_ARGS)
{
	return attr_add_row(fcinfo, false);
}

/*
 * attribution combine function: appends the second state's journey log to
 * the first (the model and lookback must agree).
 */
PG_FUNCTION_INFO_V1(attribution_combine);
Datum
attribution_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "attribution_combine");
	AttrState  *a = FUNNEL_STATE_ARG(AttrState, 0);
	AttrState  *b = FUNNEL_STATE_ARG(AttrState, 1);
	MemoryContext old;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	old = MemoryContextSwitchTo(cxt);
	if (a == NULL)
	{
		a = palloc0(sizeof(AttrState));
		a->cfg = b->cfg;
		a->log = jlog_create(fcinfo, cxt, b->log->typid, b->log->collation);
	}
	else
		check_same_config(&a->cfg, &b->cfg);
	jlog_merge(a->log, b->log);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/* attribution state serialisation: the model settings and the journey log. */
PG_FUNCTION_INFO_V1(attribution_serialize);
Datum
attribution_serialize(PG_FUNCTION_ARGS)
{
	AttrState  *st = (AttrState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "attribution_serialize");
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (uint8) st->cfg.model);
	pq_sendint64(&buf, st->cfg.half_life);
	pq_sendint64(&buf, st->cfg.lookback);
	jlog_serialize(st->log, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* attribution state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(attribution_deserialize);
Datum
attribution_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "attribution_deserialize");
	StringInfoData buf;
	AttrState  *st;

	funnel_state_reader(PG_GETARG_BYTEA_PP(0), &buf);
	st = MemoryContextAllocZero(cxt, sizeof(AttrState));
	st->cfg.model = pq_getmsgbyte(&buf);
	st->cfg.half_life = pq_getmsgint64(&buf);
	st->cfg.lookback = pq_getmsgint64(&buf);
	if (st->cfg.model < ATTR_FIRST_TOUCH || st->cfg.model > ATTR_MARKOV ||
		(st->cfg.model == ATTR_TIME_DECAY) != (st->cfg.half_life > 0) ||
		st->cfg.half_life < 0 || st->cfg.lookback < 0)
		funnel_invalid_state("The attribution state has an invalid model, half-life or lookback.");
	st->log = jlog_deserialize(fcinfo, cxt, &buf);
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------- the final function: journeys and credit ---------- */

typedef struct Touch
{
	int64		ts;
	int32		ch;
} Touch;

typedef struct Credit
{
	const AttrConfig *cfg;
	int32		m;				/* channels */
	double	   *conv;
	int64	   *journeys;
	int64	   *touched;
	int64	   *stamp;			/* last journey that touched the channel */
	int64		journey_id;
	double	   *w;				/* scratch weights */
	double	   *conv_c;			/* compensation terms of conv */
	int128	   *value_nanos;	/* credited value, exact (value is unused) */
	int32	   *run_ch;			/* scratch: channel runs of two tie groups */
	double	   *run_n;
	AttrChannel none;			/* none.value unused: none_value_nanos */
	int128		none_value_nanos;
	double		conversions;
	int128		total_value_nanos;
	int64		touchpoints;
	int64		converting;
	int64		other;
	/* markov: transition counts */
	double	   *start;			/* [m] */
	double	   *trans;			/* [m * m] */
	double	   *toconv;			/* [m] */
	double	   *tonull;			/* [m] */
	double		mk_conv;		/* conversions with a touchpoint */
	int128		mk_value_nanos;
} Credit;


/*
 * *sum += x with Neumaier's compensation in *comp (the result is *sum +
 * *comp): sums of many terms are near exact, and the same terms in the same
 * order give the same bits.
 */
static inline void
add_comp(double *sum, double *comp, double x)
{
	double		t = *sum + x;

	if (fabs(*sum) >= fabs(x))
		*comp += (*sum - t) + x;
	else
		*comp += (x - t) + *sum;
	*sum = t;
}


/* What the order of an entity's rows depends on: name ranks, conversion values. */
typedef struct RowOrder
{
	const int32 *rank;
	const double *vals;
} RowOrder;

/*
 * Rows in time order; at one time touchpoints first, by channel name, then
 * conversions by value.
 */
static int
row_cmp(const void *pa, const void *pb, void *arg)
{
	const JourneyRow *a = pa,
			   *b = pb;
	const RowOrder *order = arg;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if ((a->code < 0) != (b->code < 0))
		return a->code < 0 ? 1 : -1;	/* touchpoints first */
	if (a->code >= 0)
		return order->rank[a->code] - order->rank[b->code];
	{
		double		va = order->vals[-1 - (int64) a->code],
					vb = order->vals[-1 - (int64) b->code];

		return (va > vb) - (va < vb);
	}
}

/*
 * The channel runs of the tie group t[i..j) (touchpoints at one time, sorted
 * by channel): run_ch[r], run_n[r]; returns the number of runs.
 */
static int
tie_runs(const Touch *t, int64 i, int64 j, int32 *run_ch, double *run_n)
{
	int			r = 0;
	int64		a;

	for (a = i; a < j; a++)
	{
		if (r > 0 && run_ch[r - 1] == t[a].ch)
			run_n[r - 1] += 1;
		else
		{
			run_ch[r] = t[a].ch;
			run_n[r] = 1;
			r++;
		}
	}
	return r;
}

/*
 * Transition counts of one journey (see Ties at the top): a tie group of g
 * touchpoints counts every order as equally likely.  Transitions from a
 * channel to itself are not counted (they change no absorption
 * probability).
 */
static void
markov_journey(Credit *cr, const Touch *t, int64 k, bool converted)
{
	int32	   *prev_ch = cr->run_ch,
			   *cur_ch = cr->run_ch + k + 1;
	double	   *prev_n = cr->run_n,
			   *cur_n = cr->run_n + k + 1;
	int			nprev = 0,
				ncur,
				a,
				b;
	double		gprev = 0;
	int64		i = 0,
				j;

	while (i < k)
	{
		double		g;

		for (j = i + 1; j < k && t[j].ts == t[i].ts; j++)
			;
		g = (double) (j - i);
		ncur = tie_runs(t, i, j, cur_ch, cur_n);
		if (i == 0)
			for (a = 0; a < ncur; a++)
				cr->start[cur_ch[a]] += cur_n[a] / g;
		else
			for (a = 0; a < nprev; a++)
				for (b = 0; b < ncur; b++)
					if (prev_ch[a] != cur_ch[b])
						cr->trans[(Size) prev_ch[a] * cr->m + cur_ch[b]] +=
							prev_n[a] * cur_n[b] / (gprev * g);
		/* within the group: every ordered pair of touchpoints 1/g */
		for (a = 0; a < ncur; a++)
			for (b = 0; b < ncur; b++)
				if (a != b)
					cr->trans[(Size) cur_ch[a] * cr->m + cur_ch[b]] += cur_n[a] * cur_n[b] / g;
		/* the current group becomes the previous one */
		{
			int32	   *tc = prev_ch;
			double	   *tn = prev_n;

			prev_ch = cur_ch;
			prev_n = cur_n;
			cur_ch = tc;
			cur_n = tn;
		}
		nprev = ncur;
		gprev = g;
		i = j;
	}
	for (a = 0; a < nprev; a++)
	{
		if (converted)
			cr->toconv[prev_ch[a]] += prev_n[a] / gprev;
		else
			cr->tonull[prev_ch[a]] += prev_n[a] / gprev;
	}
}

/*
 * Count each channel of a journey once: every journey that touched it, and
 * the converting ones among them.
 */
static void
count_channels(Credit *cr, const Touch *t, int64 k, bool converted)
{
	int64		i;

	cr->journey_id++;
	for (i = 0; i < k; i++)
		if (cr->stamp[t[i].ch] != cr->journey_id)
		{
			cr->stamp[t[i].ch] = cr->journey_id;
			if (converted)
				cr->journeys[t[i].ch]++;
			cr->touched[t[i].ch]++;
		}
}

static void
credit_journey(Credit *cr, const Touch *t, int64 k, int64 conv_ts, double v)
{
	const AttrConfig *cfg = cr->cfg;
	int64		i,
				nfirst,
				nlast;

	cr->conversions += 1;
	money_add(&cr->total_value_nanos, money_from_double(v), VALUE_SUM);
	if (k == 0)
	{
		cr->none.conv += 1;
		money_add(&cr->none_value_nanos, money_from_double(v), VALUE_SUM);
		cr->none.journeys += 1;
		return;
	}
	cr->converting++;
	count_channels(cr, t, k, true);
	/* the touchpoints at the first time (t[0 .. nfirst)) and at the last */
	for (nfirst = 1; nfirst < k && t[nfirst].ts == t[0].ts; nfirst++)
		;
	for (nlast = 1; nlast < k && t[k - 1 - nlast].ts == t[k - 1].ts; nlast++)
		;
	switch (cfg->model)
	{
		case ATTR_FIRST_TOUCH:
			for (i = 0; i < k; i++)
				cr->w[i] = i < nfirst ? 1.0 / nfirst : 0;
			break;
		case ATTR_LAST_TOUCH:
			for (i = 0; i < k; i++)
				cr->w[i] = i >= k - nlast ? 1.0 / nlast : 0;
			break;
		case ATTR_LINEAR:
			for (i = 0; i < k; i++)
				cr->w[i] = 1.0 / k;
			break;
		case ATTR_POSITION_BASED:
			if (nfirst == k)
			{
				/* one time: all share the whole */
				for (i = 0; i < k; i++)
					cr->w[i] = 1.0 / k;
			}
			else
			{
				/* 40/20/40, or 50/50 without a touchpoint in between */
				double		ends = nfirst + nlast == k ? 0.5 : 0.4;

				for (i = 0; i < k; i++)
					cr->w[i] = i < nfirst ? ends / nfirst :
						i >= k - nlast ? ends / nlast : 0.2 / (k - nfirst - nlast);
			}
			break;
		case ATTR_TIME_DECAY:
			{
				double		sum = 0;

				/*
				 * weight 2^(-(conv_ts - ts) / half_life), normalised; taken
				 * relative to the latest touch (a common factor) so that
				 * nothing underflows to 0/0
				 */
				(void) conv_ts;
				for (i = 0; i < k; i++)
				{
					cr->w[i] = exp2(-((double) t[k - 1].ts - (double) t[i].ts) / (double) cfg->half_life);
					sum += cr->w[i];
				}
				for (i = 0; i < k; i++)
					cr->w[i] /= sum;
			}
			break;
		case ATTR_MARKOV:
			markov_journey(cr, t, k, true);
			cr->mk_conv += 1;
			money_add(&cr->mk_value_nanos, money_from_double(v), VALUE_SUM);
			return;
	}
	for (i = 0; i < k; i++)
	{
		add_comp(&cr->conv[t[i].ch], &cr->conv_c[t[i].ch], cr->w[i]);
		money_add(&cr->value_nanos[t[i].ch], money_from_double(cr->w[i] * v), VALUE_SUM);
	}
}

/* a journey that did not convert */
static void
other_journey(Credit *cr, const Touch *t, int64 k)
{
	cr->other++;
	count_channels(cr, t, k, false);
	if (cr->cfg->model == ATTR_MARKOV)
		markov_journey(cr, t, k, false);
}

/* one entity's rows, sorted */
static void
walk_entity(Credit *cr, const JourneyLog *log, const JourneyRow *rows, int64 n,
			const int32 *rank, Touch *path)
{
	int64		i;
	int64		np = 0;

	for (i = 0; i < n; i++)
	{
		const JourneyRow *r = &rows[i];

		if (r->code >= 0)
		{
			path[np].ts = r->ts;
			path[np].ch = rank[r->code];
			np++;
			cr->touchpoints++;
		}
		else
		{
			int64		thr;
			int64		j0 = 0;

			if (pg_sub_s64_overflow(r->ts, cr->cfg->lookback, &thr))
				thr = PG_INT64_MIN;
			while (j0 < np && path[j0].ts < thr)
				j0++;
			if (j0 > 0)
				other_journey(cr, path, j0);
			credit_journey(cr, path + j0, np - j0, r->ts, log->vals[-1 - (int64) r->code]);
			np = 0;
		}
	}
	if (np > 0)
		other_journey(cr, path, np);
}

/* Removal effects -> credit of the conversions that had a touchpoint. */
static void
markov_credit(Credit *cr)
{
	int			m = cr->m;
	double	   *A,
			   *Q,
			   *r,
			   *ps,
			   *x,
			   *w,
			   *re;
	int		   *piv;
	double		starts = 0,
				P = 0,
				sumre = 0;
	int			i,
				j,
				k;

	if (m == 0 || cr->mk_conv == 0)
		return;
	Assert(m <= ATTR_MARKOV_MAX_CHANNELS);	/* checked before the walk */
	A = palloc_extended(sizeof(double) * (Size) m * m, MCXT_ALLOC_HUGE);
	Q = palloc_extended(sizeof(double) * (Size) m * m, MCXT_ALLOC_HUGE);
	r = palloc0(sizeof(double) * m);
	ps = palloc0(sizeof(double) * m);
	x = palloc0(sizeof(double) * m);
	w = palloc0(sizeof(double) * m);
	re = palloc0(sizeof(double) * m);
	piv = palloc0(sizeof(int) * m);
	for (i = 0; i < m; i++)
		starts += cr->start[i];
	for (i = 0; i < m; i++)
	{
		double		out = cr->toconv[i] + cr->tonull[i];

		for (j = 0; j < m; j++)
			out += cr->trans[(Size) i * m + j];
		ps[i] = cr->start[i] / starts;
		for (j = 0; j < m; j++)
			Q[(Size) i * m + j] = out > 0 ? cr->trans[(Size) i * m + j] / out : 0;
		r[i] = out > 0 ? cr->toconv[i] / out : 0;
		for (j = 0; j < m; j++)
			A[(Size) i * m + j] = (i == j ? 1.0 : 0.0) - Q[(Size) i * m + j];
	}
	funnel_lu_factor(A, m, piv);
	memcpy(x, r, sizeof(double) * m);
	funnel_lu_solve(A, m, piv, x);
	for (i = 0; i < m; i++)
		P += ps[i] * x[i];
	for (k = 0; k < m; k++)
	{
		double		qy = 0,
					qw = 0,
					Pk = 0;

		CHECK_FOR_INTERRUPTS();

		/*
		 * Row k of I - Q becomes e_k and r_k becomes 0: with w = (I - Q)^-1
		 * e_k and y = x - r_k w, x' = y - w (q_k . y) / (1 + q_k . w).
		 */
		memset(w, 0, sizeof(double) * m);
		w[k] = 1;
		funnel_lu_solve(A, m, piv, w);
		for (j = 0; j < m; j++)
		{
			double		y = x[j] - r[k] * w[j];

			qy += Q[(Size) k * m + j] * y;
			qw += Q[(Size) k * m + j] * w[j];
		}
		for (j = 0; j < m; j++)
			if (j != k)
				Pk += ps[j] * ((x[j] - r[k] * w[j]) - w[j] * qy / (1 + qw));
		re[k] = P > 0 ? 1 - Pk / P : 0;
		if (re[k] < 0)
			re[k] = 0;			/* rounding */
		sumre += re[k];
	}
	for (k = 0; k < m; k++)
		if (sumre > 0)
		{
			cr->conv[k] = cr->mk_conv * re[k] / sumre;
			cr->value_nanos[k] = money_from_double(money_to_double(cr->mk_value_nanos) * re[k] / sumre);
		}
	if (sumre <= 0)
	{
		/* cannot happen when P > 0; never drop a conversion */
		cr->none.conv += cr->mk_conv;
		money_add(&cr->none_value_nanos, cr->mk_value_nanos, VALUE_SUM);
	}
}

/* What the walk of each entity needs, and its buffers (grown as needed). */
typedef struct AttrWalk
{
	Credit	   *cr;
	const JourneyLog *log;
	RowOrder	row_order;
	const int32 *rank;
	Touch	   *path;
	MemoryContext cxt;			/* of the buffers (not the walk's, reset often) */
	int64		cap;			/* rows the buffers hold */
	Size		bytes;			/* what the buffers and the credit take */
} AttrWalk;

/* One entity: its rows sorted (they mostly arrive sorted), then walked. */
static void
attr_entity(Datum key, JourneyRow *g, int64 n, Size held, void *arg)
{
	AttrWalk   *w = arg;
	Credit	   *cr = w->cr;
	int64		j;

	(void) key;
	if (n > w->cap)
	{
		int64		cap = Max(n, w->cap * 2);
		Size		per = sizeof(Touch) + sizeof(double) + 2 * sizeof(int32) + 2 * sizeof(double);

		funnel_check_memory(held + w->bytes + per * (Size) (cap + 1));
		w->bytes += per * (Size) (cap - w->cap);
		if (w->path)
		{
			pfree(w->path);
			pfree(cr->w);
			pfree(cr->run_ch);
			pfree(cr->run_n);
		}
		w->path = MemoryContextAllocHuge(w->cxt, sizeof(Touch) * (cap + 1));
		cr->w = MemoryContextAllocHuge(w->cxt, sizeof(double) * (cap + 1));
		cr->run_ch = MemoryContextAllocHuge(w->cxt, sizeof(int32) * 2 * (cap + 1));
		cr->run_n = MemoryContextAllocHuge(w->cxt, sizeof(double) * 2 * (cap + 1));
		w->cap = cap;
	}
	for (j = 1; j < n; j++)
		if (row_cmp(&g[j - 1], &g[j], &w->row_order) > 0)
			break;
	if (j < n)
		qsort_arg(g, n, sizeof(JourneyRow), row_cmp, &w->row_order);
	walk_entity(cr, w->log, g, n, w->rank, w->path);
}

/*
 * Walk every entity of the state into cr (its arrays made for the log's
 * channels, in rank order = byte order of the names); byrank[rank] = the
 * log's name id.
 */
static void
credit_walk(const AttrState *st, Credit *cr, int32 **byrank_out)
{
	const JourneyLog *log = st->log;
	AttrWalk	w;
	int32	   *rank,
			   *byrank;
	int32		i,
				m = log->nnames;

	memset(cr, 0, sizeof(*cr));
	cr->cfg = &st->cfg;
	cr->m = m;
	cr->conv = palloc0(sizeof(double) * (m + 1));
	cr->conv_c = palloc0(sizeof(double) * (m + 1));
	cr->value_nanos = palloc0(sizeof(int128) * (m + 1));
	cr->journeys = palloc0(sizeof(int64) * (m + 1));
	cr->touched = palloc0(sizeof(int64) * (m + 1));
	cr->stamp = palloc0(sizeof(int64) * (m + 1));
	if (st->cfg.model == ATTR_MARKOV)
	{
		if (m > ATTR_MARKOV_MAX_CHANNELS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the markov attribution model takes at most %d channels, not %d",
							ATTR_MARKOV_MAX_CHANNELS, m),
					 errhint("Group channels into fewer, coarser ones.")));
		cr->start = palloc0(sizeof(double) * (m + 1));
		cr->toconv = palloc0(sizeof(double) * (m + 1));
		cr->tonull = palloc0(sizeof(double) * (m + 1));
		cr->trans = palloc_extended(sizeof(double) * ((Size) m * m + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}
	rank = jlog_name_ranks(log);
	byrank = palloc(sizeof(int32) * (m + 1));
	for (i = 0; i < m; i++)
		byrank[rank[i]] = i;
	memset(&w, 0, sizeof(w));
	w.cr = cr;
	w.cxt = CurrentMemoryContext;
	w.log = log;
	w.rank = rank;
	w.row_order.rank = rank;
	w.row_order.vals = log->vals;
	w.bytes = sizeof(double) * ((Size) m * m + 8 * (Size) m);
	jlog_foreach(log, attr_entity, &w);
	*byrank_out = byrank;
}

/*
 * The summary of a walk whose credit is done: channel k (in name order) is
 * names[byrank[k]].
 */
static bytea *
credit_summary(const AttrConfig *cfg, const Credit *cr, const int32 *byrank,
			   char *const *names, const int *lens)
{
	AttrSummary s;
	int32		i;

	memset(&s, 0, sizeof(s));
	s.cfg = *cfg;
	s.conversions = cr->conversions;
	s.value = money_to_double(cr->total_value_nanos);
	s.touchpoints = cr->touchpoints;
	s.converting_journeys = cr->converting;
	s.other_journeys = cr->other;
	s.none = cr->none;
	s.none.value = money_to_double(cr->none_value_nanos);
	s.nchannels = cr->m;
	s.channels = palloc0(sizeof(AttrChannel) * (cr->m + 1));
	for (i = 0; i < cr->m; i++)
	{
		int32		id = byrank ? byrank[i] : i;

		s.channels[i].name = names[id];
		s.channels[i].len = lens[id];
		s.channels[i].conv = cr->conv[i] + cr->conv_c[i];
		s.channels[i].value = money_to_double(cr->value_nanos[i]);
		s.channels[i].journeys = cr->journeys[i];
		s.channels[i].touched = cr->touched[i];
	}
	return summary_encode(&s);
}

/*
 * attribution final function: walks each entity's rows (the entities in the
 * order of jlog_foreach, the same in every plan) into journeys and credits
 * their conversions by channel under the state's model; returns the
 * attribution_summary.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(attribution_final);
Datum
attribution_final(PG_FUNCTION_ARGS)
{
	AttrState  *st;
	Credit		cr;
	int32	   *byrank;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (AttrState *) PG_GETARG_POINTER(0);
	credit_walk(st, &cr, &byrank);
	if (st->cfg.model == ATTR_MARKOV)
		markov_credit(&cr);
	PG_RETURN_BYTEA_P(credit_summary(&st->cfg, &cr, byrank, st->log->names, st->log->namelens));
}

/* ---------- attribution_summary I/O ---------- */

static const char *const SUMMARY_TYPE = "attribution_summary";

static void
channel_json(StringInfo buf, const AttrChannel *c)
{
	appendStringInfoString(buf, "{\"channel\": ");
	if (c->name)
		escape_json(buf, c->name);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ", \"conversions\": ");
	funnel_json_double(buf, c->conv);
	appendStringInfoString(buf, ", \"value\": ");
	funnel_json_double(buf, c->value);
	appendStringInfo(buf, ", \"journeys\": " INT64_FORMAT, c->journeys);
	if (c->name)
		appendStringInfo(buf, ", \"touched\": " INT64_FORMAT, c->touched);
	appendStringInfoChar(buf, '}');
}

/*
 * attribution_summary text output: a JSON object (model, lookback, totals and
 * one entry per channel).
 */
PG_FUNCTION_INFO_V1(attribution_summary_out);
Datum
attribution_summary_out(PG_FUNCTION_ARGS)
{
	AttrSummary *s = summary_from_datum(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"model\": ");
	escape_json(&buf, model_text(&s->cfg));
	appendStringInfoString(&buf, ", \"lookback\": ");
	funnel_json_interval(&buf, s->cfg.lookback);
	appendStringInfoString(&buf, ", \"conversions\": ");
	funnel_json_double(&buf, s->conversions);
	appendStringInfoString(&buf, ", \"value\": ");
	funnel_json_double(&buf, s->value);
	appendStringInfo(&buf, ", \"touchpoints\": " INT64_FORMAT
					 ", \"converting_journeys\": " INT64_FORMAT
					 ", \"other_journeys\": " INT64_FORMAT ", \"channels\": [",
					 s->touchpoints, s->converting_journeys, s->other_journeys);
	for (i = 0; i < s->nchannels; i++)
	{
		channel_json(&buf, &s->channels[i]);
		appendStringInfoString(&buf, ", ");
	}
	s->none.name = NULL;
	channel_json(&buf, &s->none);
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

static int
channel_qsort_cmp(const void *a, const void *b)
{
	return channel_name_cmp(a, b);
}

/*
 * attribution_summary text input: the JSON form attribution_summary_out
 * writes, every field validated.
 */
PG_FUNCTION_INFO_V1(attribution_summary_in);
Datum
attribution_summary_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	JsonbContainer *root = funnel_json_object(str, SUMMARY_TYPE);
	JsonbValue *v;
	JsonbContainer *arr;
	AttrSummary s;
	bool		have_none = false;
	int			n,
				i;
	bytea	   *result;
	char	   *model;

	memset(&s, 0, sizeof(s));
	v = funnel_json_get(root, "model", jbvString, false, SUMMARY_TYPE);
	model = funnel_json_string(v);
	parse_model(model, strlen(model), &s.cfg.model, &s.cfg.half_life);
	s.cfg.lookback = funnel_json_interval_usecs(funnel_json_get(root, "lookback", jbvString, false, SUMMARY_TYPE),
											  "lookback", false, SUMMARY_TYPE);
	s.conversions = funnel_json_number(funnel_json_get(root, "conversions", jbvNumeric, false, SUMMARY_TYPE),
									 "conversions", SUMMARY_TYPE);
	s.value = funnel_json_number(funnel_json_get(root, "value", jbvNumeric, false, SUMMARY_TYPE),
							   "value", SUMMARY_TYPE);
	s.touchpoints = funnel_json_count(root, "touchpoints", SUMMARY_TYPE);
	s.converting_journeys = funnel_json_count(root, "converting_journeys", SUMMARY_TYPE);
	s.other_journeys = funnel_json_count(root, "other_journeys", SUMMARY_TYPE);
	v = funnel_json_get(root, "channels", jbvBinary, false, SUMMARY_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(SUMMARY_TYPE, "Key \"channels\" must be an array.");
	n = JsonContainerSize(arr);
	if (n > ATTR_MAX_CHANNELS)
		funnel_bad_text_input(SUMMARY_TYPE, "Too many channels.");
	s.channels = palloc0(sizeof(AttrChannel) * (n + 1));
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *o;
		AttrChannel c;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(SUMMARY_TYPE, "Each channel must be a JSON object.");
		o = e->val.binary.data;
		memset(&c, 0, sizeof(c));
		v = funnel_json_get(o, "channel", jbvString, true, SUMMARY_TYPE);
		if (v->type == jbvString)
		{
			c.name = funnel_json_string(v);
			c.len = strlen(c.name);
		}
		c.conv = funnel_json_number(funnel_json_get(o, "conversions", jbvNumeric, false, SUMMARY_TYPE),
								  "conversions", SUMMARY_TYPE);
		c.value = funnel_json_number(funnel_json_get(o, "value", jbvNumeric, false, SUMMARY_TYPE),
								   "value", SUMMARY_TYPE);
		c.journeys = funnel_json_count(o, "journeys", SUMMARY_TYPE);
		c.touched = c.name ? funnel_json_count(o, "touched", SUMMARY_TYPE) : c.journeys;
		if (c.touched < c.journeys)
			funnel_bad_text_input(SUMMARY_TYPE, "A channel cannot have more converting journeys than journeys.");
		if (c.conv < 0)
			funnel_bad_text_input(SUMMARY_TYPE, "Credited conversions cannot be negative.");
		if (c.name == NULL)
		{
			if (have_none)
				funnel_bad_text_input(SUMMARY_TYPE, "The NULL channel appears twice.");
			have_none = true;
			s.none = c;
		}
		else
			s.channels[s.nchannels++] = c;
	}
	if (s.conversions < 0)
		funnel_bad_text_input(SUMMARY_TYPE, "Conversions cannot be negative.");
	qsort(s.channels, s.nchannels, sizeof(AttrChannel), channel_qsort_cmp);
	for (i = 1; i < s.nchannels; i++)
		if (channel_name_cmp(&s.channels[i - 1], &s.channels[i]) == 0)
			funnel_bad_text_input(SUMMARY_TYPE, psprintf("Channel \"%s\" appears twice.", s.channels[i].name));
	result = summary_encode(&s);
	(void) summary_from_datum(PointerGetDatum(result));	/* check it */
	PG_RETURN_BYTEA_P(result);
}

/*
 * attribution_summary binary input: the bytes of the stored form, validated
 * before they are kept.
 */
PG_FUNCTION_INFO_V1(attribution_summary_recv);
Datum
attribution_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	(void) summary_decode(buf->data + buf->cursor, buf->len - buf->cursor);
	PG_RETURN_BYTEA_P(funnel_recv_rest(buf));
}

/* attribution_summary binary output: the stored form as is. */
PG_FUNCTION_INFO_V1(attribution_summary_send);
Datum
attribution_summary_send(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	PG_RETURN_BYTEA_P(b);
}

/* ---------- reading a summary ---------- */

/*
 * attribution_model(summary): the summary's model as text, e.g. linear or
 * time_decay(7 days).
 */
PG_FUNCTION_INFO_V1(attribution_model);
Datum
attribution_model(PG_FUNCTION_ARGS)
{
	AttrSummary *s = summary_from_datum(PG_GETARG_DATUM(0));

	PG_RETURN_TEXT_P(cstring_to_text(model_text(&s->cfg)));
}

static int
report_cmp(const void *pa, const void *pb)
{
	const AttrChannel *a = pa,
			   *b = pb;

	if (a->conv != b->conv)
		return a->conv > b->conv ? -1 : 1;
	return channel_name_cmp(a, b);
}

/*
 * attribution_report(summary): channel, conversions, value, share,
 * journeys; most credited first, the NULL channel (conversions without a
 * touchpoint in the lookback) last when there are any.
 */
PG_FUNCTION_INFO_V1(attribution_report);
Datum
attribution_report(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AttrSummary *s = summary_from_datum(PG_GETARG_DATUM(0));
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	qsort(s->channels, s->nchannels, sizeof(AttrChannel), report_cmp);
	for (i = 0; i <= s->nchannels; i++)
	{
		AttrChannel *c = i < s->nchannels ? &s->channels[i] : &s->none;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if (i == s->nchannels && c->conv == 0 && c->journeys == 0)
			break;
		if (i < s->nchannels)
			values[0] = PointerGetDatum(cstring_to_text_with_len(c->name, c->len));
		else
			nulls[0] = true;
		values[1] = Float8GetDatum(c->conv);
		values[2] = DirectFunctionCall1(float8_numeric, Float8GetDatum(c->value));
		values[3] = Float8GetDatum(s->conversions > 0 ? c->conv / s->conversions : 0);
		values[4] = Int64GetDatum(c->journeys);
		if (i < s->nchannels && c->touched > 0)
			values[5] = Float8GetDatum((double) c->journeys / c->touched);
		else
			nulls[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * attribution_svg_escape(text): the text for SVG content and attribute
 * values, escaped by the same code as the C charts (so control characters
 * XML forbids do not reach the document).
 */
PG_FUNCTION_INFO_V1(attribution_svg_escape);
Datum
attribution_svg_escape(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	funnel_svg_append_text(&buf, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* ---------- markov_transitions: the chain's counts, mergeable ---------- */

/*
 * What attribution('markov', ...) estimates its chain from, as a value:
 * the transition counts between (start), the channels, (conversion) and
 * (null), with the totals of the summary (journeys, touchpoints, exact
 * values, the channels' journeys).  Each count is a sum over journeys, and a
 * journey lies within one entity, so the counts of disjoint sets of
 * entities add up: markov_transitions per entity (on the shards of a table
 * distributed by the entity), rollup(markov_transitions) to merge them, and
 * markov_attribution(transitions) computes the removal effects with the
 * code attribution('markov', ...) uses.  Channels are kept by name, the
 * transitions by (from, to) in name order, only those seen.  Counts are
 * doubles: without tied touchpoints they are whole numbers and sums in any
 * order are exact (the same removal effects to the last bit); ties add
 * fractions 1/k (see Ties at the top), summed in another order.
 */

#define MK_VERSION		1

static const char *const MK_TYPE = "markov_transitions";

typedef struct MkChannel
{
	char	   *name;
	int			len;
	double		start;			/* (start) -> channel */
	double		toconv;			/* channel -> (conversion) */
	double		tonull;			/* channel -> (null) */
	int64		journeys;		/* converting journeys with the channel */
	int64		touched;		/* all journeys with the channel */
} MkChannel;

typedef struct MkTrans
{
	int32		from;
	int32		to;
	double		count;
} MkTrans;

typedef struct MkCounts
{
	int64		lookback;
	int64		touchpoints;
	int64		converting;		/* converting journeys with a touchpoint */
	int64		other;			/* journeys that did not convert */
	int64		none_conv;		/* conversions without a touchpoint */
	int128		value_nanos;	/* all conversions' value */
	int128		none_value_nanos;	/* of those without a touchpoint */
	int32		nchannels;
	MkChannel  *channels;		/* by name */
	int32		ntrans;
	MkTrans    *trans;			/* by (from, to) */
} MkCounts;

#define MK_CHANNEL_MIN_BYTES	44	/* length, 3 doubles, 2 counts */
#define MK_TRANS_BYTES			16

static void
mk_bad(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid markov_transitions: %s", what)));
}

static bytea *
mk_encode(const MkCounts *c)
{
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, MK_VERSION);
	pq_sendint64(&buf, c->lookback);
	pq_sendint64(&buf, c->touchpoints);
	pq_sendint64(&buf, c->converting);
	pq_sendint64(&buf, c->other);
	pq_sendint64(&buf, c->none_conv);
	money_send(&buf, c->value_nanos);
	money_send(&buf, c->none_value_nanos);
	pq_sendint32(&buf, c->nchannels);
	for (i = 0; i < c->nchannels; i++)
	{
		const MkChannel *ch = &c->channels[i];

		pq_sendint32(&buf, ch->len);
		pq_sendbytes(&buf, ch->name, ch->len);
		send_double(&buf, ch->start);
		send_double(&buf, ch->toconv);
		send_double(&buf, ch->tonull);
		pq_sendint64(&buf, ch->journeys);
		pq_sendint64(&buf, ch->touched);
	}
	pq_sendint32(&buf, c->ntrans);
	for (i = 0; i < c->ntrans; i++)
	{
		pq_sendint32(&buf, c->trans[i].from);
		pq_sendint32(&buf, c->trans[i].to);
		send_double(&buf, c->trans[i].count);
	}
	return pq_endtypsend(&buf);
}

static int
mk_name_cmp(const MkChannel *a, const MkChannel *b)
{
	return funnel_name_cmp(a->name, a->len, b->name, b->len);
}

/* Read and check every field of the bytes of a markov_transitions. */
static MkCounts *
mk_decode(const char *d, int len)
{
	MkCounts   *c = palloc0(sizeof(MkCounts));
	StringInfoData buf;
	int			i;

	buf.data = (char *) d;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (len < 1 || pq_getmsgbyte(&buf) != MK_VERSION)
		mk_bad("unknown version");
	c->lookback = pq_getmsgint64(&buf);
	c->touchpoints = pq_getmsgint64(&buf);
	c->converting = pq_getmsgint64(&buf);
	c->other = pq_getmsgint64(&buf);
	c->none_conv = pq_getmsgint64(&buf);
	c->value_nanos = money_recv(&buf);
	c->none_value_nanos = money_recv(&buf);
	if (c->lookback < 0 || !valid_count(c->touchpoints) || !valid_count(c->converting) ||
		!valid_count(c->other) || !valid_count(c->none_conv) ||
		c->converting + c->other > c->touchpoints)
		mk_bad("bad totals");
	c->nchannels = pq_getmsgint(&buf, 4);
	if (c->nchannels < 0 || c->nchannels > ATTR_MARKOV_MAX_CHANNELS ||
		(Size) c->nchannels > (Size) (len - buf.cursor) / MK_CHANNEL_MIN_BYTES)
		mk_bad("bad channel count");
	c->channels = palloc0(sizeof(MkChannel) * (c->nchannels + 1));
	for (i = 0; i < c->nchannels; i++)
	{
		MkChannel  *ch = &c->channels[i];
		const char *name;

		ch->len = pq_getmsgint(&buf, 4);
		if (ch->len < 0 || ch->len > len - buf.cursor)
			mk_bad("bad channel name");
		name = pq_getmsgbytes(&buf, ch->len);
		if (memchr(name, '\0', ch->len) != NULL || !pg_verifymbstr(name, ch->len, true))
			mk_bad("bad channel name");
		ch->name = pnstrdup(name, ch->len);
		ch->start = pq_getmsgfloat8(&buf);
		ch->toconv = pq_getmsgfloat8(&buf);
		ch->tonull = pq_getmsgfloat8(&buf);
		ch->journeys = pq_getmsgint64(&buf);
		ch->touched = pq_getmsgint64(&buf);
		if (!finite_nonneg(ch->start) || !finite_nonneg(ch->toconv) || !finite_nonneg(ch->tonull) ||
			!valid_count(ch->journeys) || !valid_count(ch->touched) || ch->touched < 1 ||
			ch->touched < ch->journeys)
			mk_bad("bad channel counts");
		if (i > 0 && mk_name_cmp(&c->channels[i - 1], ch) >= 0)
			mk_bad("channels not in order or repeated");
	}
	c->ntrans = pq_getmsgint(&buf, 4);
	if (c->ntrans < 0 || (Size) c->ntrans > (Size) (len - buf.cursor) / MK_TRANS_BYTES)
		mk_bad("bad transition count");
	c->trans = palloc0(sizeof(MkTrans) * (c->ntrans + 1));
	for (i = 0; i < c->ntrans; i++)
	{
		MkTrans    *t = &c->trans[i];

		t->from = pq_getmsgint(&buf, 4);
		t->to = pq_getmsgint(&buf, 4);
		t->count = pq_getmsgfloat8(&buf);
		if (t->from < 0 || t->from >= c->nchannels || t->to < 0 || t->to >= c->nchannels ||
			t->from == t->to || !finite_nonneg(t->count) || t->count == 0 ||
			(i > 0 && (t->from < t[-1].from || (t->from == t[-1].from && t->to <= t[-1].to))))
			mk_bad("bad transition");
	}
	if (buf.cursor != len)
		mk_bad("trailing bytes");
	return c;
}

static MkCounts *
mk_from_datum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return mk_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/*
 * markov_transitions final function: the entities' journeys walked as
 * attribution('markov', ...) walks them, their transition counts and
 * totals as a markov_transitions.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(markov_transitions_final);
Datum
markov_transitions_final(PG_FUNCTION_ARGS)
{
	AttrState  *st;
	Credit		cr;
	int32	   *byrank;
	MkCounts	c;
	int32		i,
				j,
				m;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (AttrState *) PG_GETARG_POINTER(0);
	Assert(st->cfg.model == ATTR_MARKOV);
	credit_walk(st, &cr, &byrank);
	m = cr.m;
	memset(&c, 0, sizeof(c));
	c.lookback = st->cfg.lookback;
	c.touchpoints = cr.touchpoints;
	c.converting = cr.converting;
	c.other = cr.other;
	c.none_conv = cr.none.journeys;
	c.value_nanos = cr.total_value_nanos;
	c.none_value_nanos = cr.none_value_nanos;
	c.nchannels = m;
	c.channels = palloc0(sizeof(MkChannel) * (m + 1));
	for (i = 0; i < m; i++)
	{
		MkChannel  *ch = &c.channels[i];

		ch->name = st->log->names[byrank[i]];
		ch->len = st->log->namelens[byrank[i]];
		ch->start = cr.start[i];
		ch->toconv = cr.toconv[i];
		ch->tonull = cr.tonull[i];
		ch->journeys = cr.journeys[i];
		ch->touched = cr.touched[i];
		for (j = 0; j < m; j++)
			c.ntrans += cr.trans[(Size) i * m + j] > 0;
	}
	c.trans = palloc0(sizeof(MkTrans) * (c.ntrans + 1));
	c.ntrans = 0;
	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++)
			if (cr.trans[(Size) i * m + j] > 0)
			{
				c.trans[c.ntrans].from = i;
				c.trans[c.ntrans].to = j;
				c.trans[c.ntrans].count = cr.trans[(Size) i * m + j];
				c.ntrans++;
			}
	PG_RETURN_BYTEA_P(mk_encode(&c));
}

/*
 * markov_attribution(transitions): the attribution_summary of the markov
 * model estimated from the counts, computed as attribution('markov', ...)
 * computes it from the journeys the counts come from.
 */
PG_FUNCTION_INFO_V1(markov_attribution);
Datum
markov_attribution(PG_FUNCTION_ARGS)
{
	MkCounts   *c = mk_from_datum(PG_GETARG_DATUM(0));
	AttrConfig	cfg;
	Credit		cr;
	char	  **names;
	int		   *lens;
	int32		i,
				m = c->nchannels;

	cfg.model = ATTR_MARKOV;
	cfg.half_life = 0;
	cfg.lookback = c->lookback;
	memset(&cr, 0, sizeof(cr));
	cr.cfg = &cfg;
	cr.m = m;
	cr.conv = palloc0(sizeof(double) * (m + 1));
	cr.conv_c = palloc0(sizeof(double) * (m + 1));
	cr.value_nanos = palloc0(sizeof(int128) * (m + 1));
	cr.journeys = palloc0(sizeof(int64) * (m + 1));
	cr.touched = palloc0(sizeof(int64) * (m + 1));
	cr.start = palloc0(sizeof(double) * (m + 1));
	cr.toconv = palloc0(sizeof(double) * (m + 1));
	cr.tonull = palloc0(sizeof(double) * (m + 1));
	cr.trans = palloc_extended(sizeof(double) * ((Size) m * m + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	cr.conversions = (double) c->converting + (double) c->none_conv;
	cr.total_value_nanos = c->value_nanos;
	cr.touchpoints = c->touchpoints;
	cr.converting = c->converting;
	cr.other = c->other;
	cr.none.conv = (double) c->none_conv;
	cr.none.journeys = c->none_conv;
	cr.none_value_nanos = c->none_value_nanos;
	cr.mk_conv = (double) c->converting;
	if (__builtin_sub_overflow(c->value_nanos, c->none_value_nanos, &cr.mk_value_nanos))
		mk_bad("bad totals");
	names = palloc(sizeof(char *) * (m + 1));
	lens = palloc(sizeof(int) * (m + 1));
	for (i = 0; i < m; i++)
	{
		names[i] = c->channels[i].name;
		lens[i] = c->channels[i].len;
		cr.start[i] = c->channels[i].start;
		cr.toconv[i] = c->channels[i].toconv;
		cr.tonull[i] = c->channels[i].tonull;
		cr.journeys[i] = c->channels[i].journeys;
		cr.touched[i] = c->channels[i].touched;
	}
	for (i = 0; i < c->ntrans; i++)
		cr.trans[(Size) c->trans[i].from * m + c->trans[i].to] = c->trans[i].count;
	markov_credit(&cr);
	PG_RETURN_BYTEA_P(credit_summary(&cfg, &cr, NULL, names, lens));
}

/* ---------- merging: rollup(markov_transitions) ---------- */

/*
 * The counts of any number of markov_transitions added up: channels in the
 * order they came (sorted[] gives them in name order), the transitions in a
 * dense matrix of cap x cap (at most ATTR_MARKOV_MAX_CHANNELS channels, as
 * the model).
 */
typedef struct MkAcc
{
	MemoryContext cxt;
	bool		empty;			/* nothing added yet (lookback unknown) */
	MkCounts	tot;			/* totals; channels and trans unused */
	int32		n;
	int32		cap;
	char	  **names;
	int		   *lens;
	int32	   *sorted;
	double	   *start,
			   *toconv,
			   *tonull;
	int64	   *journeys,
			   *touched;
	double	   *trans;			/* [from * cap + to] */
	Size		mem;
} MkAcc;

static MkAcc *
mk_acc_create(MemoryContext cxt)
{
	MkAcc	   *acc = MemoryContextAllocZero(cxt, sizeof(MkAcc));

	acc->cxt = cxt;
	acc->empty = true;
	return acc;
}

static void
mk_acc_grow(MkAcc *acc)
{
	int32		cap = Max(8, acc->cap * 2);
	double	   *trans;
	int32		i;

	cap = Min(cap, ATTR_MARKOV_MAX_CHANNELS);
	acc->mem += (Size) cap * cap * sizeof(double) + (Size) cap * 64;
	funnel_check_memory(acc->mem);
	trans = MemoryContextAllocExtended(acc->cxt, sizeof(double) * (Size) cap * cap,
									   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < acc->n; i++)
		memcpy(trans + (Size) i * cap, acc->trans + (Size) i * acc->cap, sizeof(double) * acc->n);
	if (acc->cap > 0)
	{
		pfree(acc->trans);
		acc->names = repalloc(acc->names, sizeof(char *) * cap);
		acc->lens = repalloc(acc->lens, sizeof(int) * cap);
		acc->sorted = repalloc(acc->sorted, sizeof(int32) * cap);
		acc->start = repalloc(acc->start, sizeof(double) * cap);
		acc->toconv = repalloc(acc->toconv, sizeof(double) * cap);
		acc->tonull = repalloc(acc->tonull, sizeof(double) * cap);
		acc->journeys = repalloc(acc->journeys, sizeof(int64) * cap);
		acc->touched = repalloc(acc->touched, sizeof(int64) * cap);
	}
	else
	{
		acc->names = MemoryContextAlloc(acc->cxt, sizeof(char *) * cap);
		acc->lens = MemoryContextAlloc(acc->cxt, sizeof(int) * cap);
		acc->sorted = MemoryContextAlloc(acc->cxt, sizeof(int32) * cap);
		acc->start = MemoryContextAlloc(acc->cxt, sizeof(double) * cap);
		acc->toconv = MemoryContextAlloc(acc->cxt, sizeof(double) * cap);
		acc->tonull = MemoryContextAlloc(acc->cxt, sizeof(double) * cap);
		acc->journeys = MemoryContextAlloc(acc->cxt, sizeof(int64) * cap);
		acc->touched = MemoryContextAlloc(acc->cxt, sizeof(int64) * cap);
	}
	acc->trans = trans;
	acc->cap = cap;
}

/* The accumulator's id of a channel, added (with zero counts) when new. */
static int32
mk_acc_channel(MkAcc *acc, const char *name, int len)
{
	int			lo = 0,
				hi = acc->n;
	int32		id;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		int32		k = acc->sorted[mid];
		int			cmp = funnel_name_cmp(acc->names[k], acc->lens[k], name, len);

		if (cmp == 0)
			return k;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (acc->n == ATTR_MARKOV_MAX_CHANNELS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the markov attribution model takes at most %d channels, not %d",
						ATTR_MARKOV_MAX_CHANNELS, acc->n + 1),
				 errhint("Group channels into fewer, coarser ones.")));
	if (acc->n == acc->cap)
		mk_acc_grow(acc);
	id = acc->n++;
	acc->names[id] = MemoryContextStrdup(acc->cxt, name);
	acc->lens[id] = len;
	acc->mem += len + 1;
	acc->start[id] = acc->toconv[id] = acc->tonull[id] = 0;
	acc->journeys[id] = acc->touched[id] = 0;
	memmove(acc->sorted + lo + 1, acc->sorted + lo, sizeof(int32) * (acc->n - 1 - lo));
	acc->sorted[lo] = id;
	return id;
}

static void
mk_add_count(int64 *sum, int64 x)
{
	if (pg_add_s64_overflow(*sum, x, sum) || *sum > FUNNEL_JSON_MAX_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("markov transition count is out of range")));
}

/* Add the counts of c (of disjoint entities) to acc. */
static void
mk_acc_add(MkAcc *acc, const MkCounts *c)
{
	int32	   *id = palloc(sizeof(int32) * (c->nchannels + 1));
	int32		i;

	if (acc->empty)
	{
		acc->tot.lookback = c->lookback;
		acc->empty = false;
	}
	else if (acc->tot.lookback != c->lookback)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge markov transitions of different lookbacks (%s and %s)",
						funnel_usecs_text(acc->tot.lookback), funnel_usecs_text(c->lookback))));
	mk_add_count(&acc->tot.touchpoints, c->touchpoints);
	mk_add_count(&acc->tot.converting, c->converting);
	mk_add_count(&acc->tot.other, c->other);
	mk_add_count(&acc->tot.none_conv, c->none_conv);
	money_add(&acc->tot.value_nanos, c->value_nanos, VALUE_SUM);
	money_add(&acc->tot.none_value_nanos, c->none_value_nanos, VALUE_SUM);
	for (i = 0; i < c->nchannels; i++)
	{
		const MkChannel *ch = &c->channels[i];
		int32		k = mk_acc_channel(acc, ch->name, ch->len);

		id[i] = k;
		acc->start[k] += ch->start;
		acc->toconv[k] += ch->toconv;
		acc->tonull[k] += ch->tonull;
		mk_add_count(&acc->journeys[k], ch->journeys);
		mk_add_count(&acc->touched[k], ch->touched);
	}
	for (i = 0; i < c->ntrans; i++)
		acc->trans[(Size) id[c->trans[i].from] * acc->cap + id[c->trans[i].to]] += c->trans[i].count;
	pfree(id);
}

/* The accumulated counts as a value (channels by name). */
static bytea *
mk_acc_flat(const MkAcc *acc)
{
	MkCounts	c = acc->tot;
	int32		i,
				j;

	c.nchannels = acc->n;
	c.channels = palloc0(sizeof(MkChannel) * (acc->n + 1));
	c.ntrans = 0;
	for (i = 0; i < acc->n; i++)
	{
		int32		k = acc->sorted[i];
		MkChannel  *ch = &c.channels[i];

		ch->name = acc->names[k];
		ch->len = acc->lens[k];
		ch->start = acc->start[k];
		ch->toconv = acc->toconv[k];
		ch->tonull = acc->tonull[k];
		ch->journeys = acc->journeys[k];
		ch->touched = acc->touched[k];
		for (j = 0; j < acc->n; j++)
			c.ntrans += acc->trans[(Size) k * acc->cap + acc->sorted[j]] > 0;
	}
	c.trans = palloc0(sizeof(MkTrans) * (c.ntrans + 1));
	c.ntrans = 0;
	for (i = 0; i < acc->n; i++)
		for (j = 0; j < acc->n; j++)
		{
			double		v = acc->trans[(Size) acc->sorted[i] * acc->cap + acc->sorted[j]];

			if (v > 0)
			{
				c.trans[c.ntrans].from = i;
				c.trans[c.ntrans].to = j;
				c.trans[c.ntrans].count = v;
				c.ntrans++;
			}
		}
	return mk_encode(&c);
}

/* rollup(markov_transitions): an expanded state of the accumulator */
static void *
mk_acc_create_any(MemoryContext cxt)
{
	return mk_acc_create(cxt);
}

static void
mk_acc_add_datum(void *acc, MemoryContext cxt, Datum value)
{
	(void) cxt;				/* the accumulator knows its context */
	mk_acc_add((MkAcc *) acc, mk_from_datum(value));
}

static bytea *
mk_acc_flat_any(void *acc)
{
	return mk_acc_flat((MkAcc *) acc);
}

static const ExpandedAccType mk_rollup_type = {
	"markov_transitions rollup", mk_acc_create_any, mk_acc_add_datum, mk_acc_flat_any
};

/*
 * markov_transitions_merge(a, b): the counts of the entities of a and b
 * (disjoint sets of entities, the same lookback); a NULL one is left out.
 * The transition and combine function of rollup (common/expanded_acc.c).
 */
PG_FUNCTION_INFO_V1(markov_transitions_merge);
Datum
markov_transitions_merge(PG_FUNCTION_ARGS)
{
	return expanded_acc_merge(fcinfo, &mk_rollup_type);
}

/* ---------- markov_transitions I/O ---------- */

/*
 * markov_transitions text output: a JSON object (lookback, totals, the
 * channels with their start, conversion and null counts, the transitions
 * between channels); numbers that read back to the same bits.
 */
PG_FUNCTION_INFO_V1(markov_transitions_out);
Datum
markov_transitions_out(PG_FUNCTION_ARGS)
{
	MkCounts   *c = mk_from_datum(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"lookback\": ");
	funnel_json_interval(&buf, c->lookback);
	appendStringInfo(&buf, ", \"touchpoints\": " INT64_FORMAT ", \"converting_journeys\": " INT64_FORMAT
					 ", \"other_journeys\": " INT64_FORMAT ", \"conversions_without_touchpoint\": " INT64_FORMAT
					 ", \"value\": ", c->touchpoints, c->converting, c->other, c->none_conv);
	money_append_text(&buf, c->value_nanos);
	appendStringInfoString(&buf, ", \"value_without_touchpoint\": ");
	money_append_text(&buf, c->none_value_nanos);
	appendStringInfoString(&buf, ", \"channels\": [");
	for (i = 0; i < c->nchannels; i++)
	{
		const MkChannel *ch = &c->channels[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"channel\": ");
		escape_json(&buf, ch->name);
		appendStringInfoString(&buf, ", \"start\": ");
		funnel_json_double(&buf, ch->start);
		appendStringInfoString(&buf, ", \"conversion\": ");
		funnel_json_double(&buf, ch->toconv);
		appendStringInfoString(&buf, ", \"null\": ");
		funnel_json_double(&buf, ch->tonull);
		appendStringInfo(&buf, ", \"journeys\": " INT64_FORMAT ", \"touched\": " INT64_FORMAT "}",
						 ch->journeys, ch->touched);
	}
	appendStringInfoString(&buf, "], \"transitions\": [");
	for (i = 0; i < c->ntrans; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"from\": ");
		escape_json(&buf, c->channels[c->trans[i].from].name);
		appendStringInfoString(&buf, ", \"to\": ");
		escape_json(&buf, c->channels[c->trans[i].to].name);
		appendStringInfoString(&buf, ", \"count\": ");
		funnel_json_double(&buf, c->trans[i].count);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

static int
mk_channel_qsort_cmp(const void *a, const void *b)
{
	return mk_name_cmp(a, b);
}

static int
mk_trans_qsort_cmp(const void *pa, const void *pb)
{
	const MkTrans *a = pa,
			   *b = pb;

	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	return (a->to > b->to) - (a->to < b->to);
}

static int128
mk_json_money(JsonbContainer *o, const char *key)
{
	JsonbValue *v = funnel_json_get(o, key, jbvNumeric, false, MK_TYPE);
	int128		r;

	if (!money_from_text(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric))), &r))
		funnel_bad_text_input(MK_TYPE, psprintf("Key \"%s\" must be a number with at most 9 decimals.", key));
	return r;
}

/* the channel's index in the sorted channels, or an error */
static int32
mk_find_channel(const MkCounts *c, const char *name)
{
	MkChannel	key;
	MkChannel  *hit;

	key.name = (char *) name;
	key.len = strlen(name);
	hit = bsearch(&key, c->channels, c->nchannels, sizeof(MkChannel), mk_channel_qsort_cmp);
	if (hit == NULL)
		funnel_bad_text_input(MK_TYPE, psprintf("Transition of channel \"%s\", which is not in \"channels\".", name));
	return hit - c->channels;
}

/*
 * markov_transitions text input: the JSON form markov_transitions_out
 * writes, every field validated.
 */
PG_FUNCTION_INFO_V1(markov_transitions_in);
Datum
markov_transitions_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	JsonbContainer *root = funnel_json_object(str, MK_TYPE);
	JsonbValue *v;
	JsonbContainer *arr;
	MkCounts	c;
	int			n,
				i;
	bytea	   *result;

	memset(&c, 0, sizeof(c));
	c.lookback = funnel_json_interval_usecs(funnel_json_get(root, "lookback", jbvString, false, MK_TYPE),
											"lookback", false, MK_TYPE);
	c.touchpoints = funnel_json_count(root, "touchpoints", MK_TYPE);
	c.converting = funnel_json_count(root, "converting_journeys", MK_TYPE);
	c.other = funnel_json_count(root, "other_journeys", MK_TYPE);
	c.none_conv = funnel_json_count(root, "conversions_without_touchpoint", MK_TYPE);
	c.value_nanos = mk_json_money(root, "value");
	c.none_value_nanos = mk_json_money(root, "value_without_touchpoint");
	v = funnel_json_get(root, "channels", jbvBinary, false, MK_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(MK_TYPE, "Key \"channels\" must be an array.");
	n = JsonContainerSize(arr);
	if (n > ATTR_MARKOV_MAX_CHANNELS)
		funnel_bad_text_input(MK_TYPE, "Too many channels.");
	c.channels = palloc0(sizeof(MkChannel) * (n + 1));
	c.nchannels = n;
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *o;
		MkChannel  *ch = &c.channels[i];

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(MK_TYPE, "Each channel must be a JSON object.");
		o = e->val.binary.data;
		ch->name = funnel_json_string(funnel_json_get(o, "channel", jbvString, false, MK_TYPE));
		ch->len = strlen(ch->name);
		ch->start = funnel_json_number(funnel_json_get(o, "start", jbvNumeric, false, MK_TYPE), "start", MK_TYPE);
		ch->toconv = funnel_json_number(funnel_json_get(o, "conversion", jbvNumeric, false, MK_TYPE), "conversion", MK_TYPE);
		ch->tonull = funnel_json_number(funnel_json_get(o, "null", jbvNumeric, false, MK_TYPE), "null", MK_TYPE);
		ch->journeys = funnel_json_count(o, "journeys", MK_TYPE);
		ch->touched = funnel_json_count(o, "touched", MK_TYPE);
	}
	qsort(c.channels, n, sizeof(MkChannel), mk_channel_qsort_cmp);
	for (i = 1; i < n; i++)
		if (mk_name_cmp(&c.channels[i - 1], &c.channels[i]) == 0)
			funnel_bad_text_input(MK_TYPE, psprintf("Channel \"%s\" appears twice.", c.channels[i].name));
	v = funnel_json_get(root, "transitions", jbvBinary, false, MK_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(MK_TYPE, "Key \"transitions\" must be an array.");
	n = JsonContainerSize(arr);
	if (n > ATTR_MARKOV_MAX_CHANNELS * ATTR_MARKOV_MAX_CHANNELS)
		funnel_bad_text_input(MK_TYPE, "Too many transitions.");
	c.trans = palloc0(sizeof(MkTrans) * (n + 1));
	c.ntrans = n;
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *o;
		MkTrans    *t = &c.trans[i];

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(MK_TYPE, "Each transition must be a JSON object.");
		o = e->val.binary.data;
		t->from = mk_find_channel(&c, funnel_json_string(funnel_json_get(o, "from", jbvString, false, MK_TYPE)));
		t->to = mk_find_channel(&c, funnel_json_string(funnel_json_get(o, "to", jbvString, false, MK_TYPE)));
		t->count = funnel_json_number(funnel_json_get(o, "count", jbvNumeric, false, MK_TYPE), "count", MK_TYPE);
	}
	qsort(c.trans, n, sizeof(MkTrans), mk_trans_qsort_cmp);
	result = mk_encode(&c);
	(void) mk_from_datum(PointerGetDatum(result));	/* check it */
	PG_RETURN_BYTEA_P(result);
}

/*
 * markov_transitions binary input: the bytes of the stored form, validated
 * before they are kept.
 */
PG_FUNCTION_INFO_V1(markov_transitions_recv);
Datum
markov_transitions_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	(void) mk_decode(buf->data + buf->cursor, buf->len - buf->cursor);
	PG_RETURN_BYTEA_P(funnel_recv_rest(buf));
}

/* markov_transitions binary output: the stored form as is. */
PG_FUNCTION_INFO_V1(markov_transitions_send);
Datum
markov_transitions_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}
