/*
 * src/channels/pipeline.c
 *    Pipeline forecast from a CRM stage history: the pipeline_model
 *    aggregate estimates stage-to-stage transition probabilities and the
 *    mean time in each stage (the pipeline_summary type stores them), and
 *    pipeline_forecast() treats the stages as an absorbing Markov chain:
 *    N = (I - Q)^-1 (expected visits of each open stage), B = N R (the
 *    probability of ending in each terminal stage), expected time to close
 *    = N tau restricted to the deals that end in a given terminal stage.
 *
 * A deal's rows, in time order, are its stage changes: a row with the
 * deal's current stage continues the stay; a row with another stage ends
 * the stay (its length counts towards the time in the stage) and counts as
 * one transition.  The first terminal stage a deal reaches ends its history
 * (later rows are ignored).  A deal whose last stage is not terminal is
 * open; its current stay counts up to the model's last row.  The summary
 * keeps per move both its transitions (the chain's probabilities) and the
 * distinct deals that made it (a deal that goes back and makes a move
 * again counts once there).
 *
 * Rows of one deal at one time (a CRM export by day, a bulk update) are
 * taken in an order that does not depend on the stage names: a row that
 * repeats the stage the deal was in before that time first (it continues
 * the stay), then the open stages in the caller's pipeline order (the
 * optional last argument; without it, in byte order of the names), then
 * the terminal stages in the order of the terminal array.  So a deal whose
 * qualified and lost rows share a time went lead -> qualified -> lost, with
 * 0 days in qualified.
 *
 * Time in a stage is taken as exponential: its mean is estimated, with the
 * open stays as censored observations, by the whole time deals spent in the
 * stage (completed and open stays) over the stays that ended.  Counting
 * only the completed stays would bias slow stages low.
 *
 * An open stage that no deal ever left, or from which no terminal stage
 * can be reached, gives no forecast: its deals are reported under a NULL
 * outcome, so that the expected deals always add up to the open deals.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "engine/funnel.h"
#include "common/expanded_acc.h"
#include "common/interval_usecs.h"
#include "common/json_fields.h"
#include "common/linear_algebra.h"
#include "common/byte_order.h"
#include "engine/journey_log.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#ifndef HAVE_INT128
#error "funnel needs a compiler with a 128-bit integer type (exact sums of times and amounts)"
#endif

/*
 * Stored form: version 1 (1.0) kept only the transition counts; version 2
 * also keeps, per transition, the distinct deals that made it.  Summaries
 * from 1.0 (and their text or binary forms) stay version 1: the distinct
 * deals were never recorded (see pipeline_report).
 */
#define PIPE_VERSION_1_0	1
#define PIPE_VERSION		2
#define PIPE_MAX_STAGES		1000

/*
 * Names 0..nterm-1 of the log are the terminal stages (in the caller's
 * order); names nterm..nterm+norder-1 the open stages in the caller's
 * pipeline order (norder = 0: no order given).
 */
typedef struct PipeState
{
	int32		nterm;
	int32		norder;
	JourneyLog *log;
} PipeState;

/* A text[] argument of the aggregate, parsed once per call site. */
typedef struct PipeNames
{
	ArrayType  *raw;
	int32		n;
	char	  **names;
	int		   *lens;
} PipeNames;

typedef struct PipeCache
{
	PipeNames	term;
	PipeNames	order;
} PipeCache;

typedef struct PipeStage
{
	char	   *name;
	int			len;
	bool		terminal;
	int64		entries;		/* deals whose first stage this is */
	int64		open;			/* deals in this stage at the end (open stages) */
	int64		ended;			/* deals that ended here (terminal stages) */
	int64		stays;			/* completed stays (= transitions out) */
	double		stay_usecs;		/* their total length */
} PipeStage;

typedef struct PipeTrans
{
	int32		from;
	int32		to;
	int64		count;			/* transitions (a deal may make one twice) */
	int64		deals;			/* distinct deals that made it (version 2) */
} PipeTrans;

typedef struct PipeSummary
{
	bool		has_deals;		/* per-transition deals known (not from 1.0) */
	int32		nstages;
	PipeStage  *stages;			/* by name */
	int32		ntrans;
	PipeTrans  *trans;			/* by (from, to) */
	int64		deals;
	int64		first_entry;	/* earliest first row of a deal */
	int64		last_entry;		/* latest first row of a deal */
	int64		as_of;			/* latest row */
} PipeSummary;

static const char *const PIPE_TYPE = "pipeline_summary";

static void
pipe_bad(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid pipeline_summary: %s", what)));
}

static int
stage_name_cmp(const PipeStage *a, const PipeStage *b)
{
	return funnel_name_cmp(a->name, a->len, b->name, b->len);
}

/* ---------- encoding ---------- */

static bytea *
pipe_encode(const PipeSummary *s)
{
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, s->has_deals ? PIPE_VERSION : PIPE_VERSION_1_0);
	pq_sendint64(&buf, s->deals);
	pq_sendint64(&buf, s->first_entry);
	pq_sendint64(&buf, s->last_entry);
	pq_sendint64(&buf, s->as_of);
	pq_sendint32(&buf, s->nstages);
	for (i = 0; i < s->nstages; i++)
	{
		const PipeStage *g = &s->stages[i];

		pq_sendint32(&buf, g->len);
		pq_sendbytes(&buf, g->name, g->len);
		pq_sendbyte(&buf, g->terminal ? 1 : 0);
		pq_sendint64(&buf, g->entries);
		pq_sendint64(&buf, g->open);
		pq_sendint64(&buf, g->ended);
		pq_sendint64(&buf, g->stays);
		pq_sendfloat8(&buf, g->stay_usecs == 0 ? 0.0 : g->stay_usecs);	/* no -0 */
	}
	pq_sendint32(&buf, s->ntrans);
	for (i = 0; i < s->ntrans; i++)
	{
		pq_sendint32(&buf, s->trans[i].from);
		pq_sendint32(&buf, s->trans[i].to);
		pq_sendint64(&buf, s->trans[i].count);
		if (s->has_deals)
			pq_sendint64(&buf, s->trans[i].deals);
	}
	return pq_endtypsend(&buf);
}

static inline bool
valid_ts(int64 t)
{
	return !TIMESTAMP_NOT_FINITE(t) && IS_VALID_TIMESTAMP(t);
}

/* Read and check every field. */
static PipeSummary *
pipe_decode(const char *data, int len)
{
	StringInfoData buf;
	PipeSummary *s = palloc0(sizeof(PipeSummary));
	int64		entries = 0,
			   *outsum;
	int			i,
				version;

	buf.data = (char *) data;
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	version = len < 1 ? -1 : pq_getmsgbyte(&buf);
	if (version != PIPE_VERSION && version != PIPE_VERSION_1_0)
		pipe_bad("unknown version");
	s->has_deals = version == PIPE_VERSION;
	s->deals = pq_getmsgint64(&buf);
	s->first_entry = pq_getmsgint64(&buf);
	s->last_entry = pq_getmsgint64(&buf);
	s->as_of = pq_getmsgint64(&buf);
	if (s->deals < 0 || s->deals > FUNNEL_JSON_MAX_COUNT ||
		(s->deals > 0 && (!valid_ts(s->first_entry) || !valid_ts(s->last_entry) ||
						  !valid_ts(s->as_of) || s->first_entry > s->last_entry ||
						  s->last_entry > s->as_of)))
		pipe_bad("bad totals");
	s->nstages = pq_getmsgint(&buf, 4);
	if (s->nstages < 1 || s->nstages > PIPE_MAX_STAGES || s->nstages > (len - buf.cursor) / 45)
		pipe_bad("bad stage count");
	s->stages = palloc0(sizeof(PipeStage) * s->nstages);
	for (i = 0; i < s->nstages; i++)
	{
		PipeStage  *g = &s->stages[i];
		int			b;

		g->len = pq_getmsgint(&buf, 4);
		if (g->len < 0 || g->len > len - buf.cursor)
			pipe_bad("bad stage name");
		g->name = pnstrdup(pq_getmsgbytes(&buf, g->len), g->len);
		if ((int) strlen(g->name) != g->len || !pg_verifymbstr(g->name, g->len, true))
			pipe_bad("bad stage name");
		b = pq_getmsgbyte(&buf);
		if (b != 0 && b != 1)
			pipe_bad("bad terminal flag");
		g->terminal = b;
		g->entries = pq_getmsgint64(&buf);
		g->open = pq_getmsgint64(&buf);
		g->ended = pq_getmsgint64(&buf);
		g->stays = pq_getmsgint64(&buf);
		g->stay_usecs = pq_getmsgfloat8(&buf);
		if (g->entries < 0 || g->open < 0 || g->ended < 0 || g->stays < 0 ||
			g->open > FUNNEL_JSON_MAX_COUNT || g->ended > FUNNEL_JSON_MAX_COUNT || g->stays > FUNNEL_JSON_MAX_COUNT ||
			isnan(g->stay_usecs) || isinf(g->stay_usecs) || signbit(g->stay_usecs) ||
			g->stay_usecs != floor(g->stay_usecs) ||	/* whole microseconds */
			(g->terminal && (g->open != 0 || g->stays != 0 || g->stay_usecs != 0)) ||
			(!g->terminal && g->ended != 0) || g->entries > s->deals)
			pipe_bad("bad stage counts");
		entries += g->entries;
		if (i > 0 && stage_name_cmp(&s->stages[i - 1], g) >= 0)
			pipe_bad("stages not in order or repeated");
	}
	if (entries != s->deals)
		pipe_bad("entries do not add up to the deals");
	s->ntrans = pq_getmsgint(&buf, 4);
	if (s->ntrans < 0 || s->ntrans > (len - buf.cursor) / (s->has_deals ? 24 : 16))
		pipe_bad("bad transition count");
	s->trans = palloc0(sizeof(PipeTrans) * (s->ntrans + 1));
	outsum = palloc0(sizeof(int64) * s->nstages);
	for (i = 0; i < s->ntrans; i++)
	{
		PipeTrans  *t = &s->trans[i];

		t->from = pq_getmsgint(&buf, 4);
		t->to = pq_getmsgint(&buf, 4);
		t->count = pq_getmsgint64(&buf);
		t->deals = s->has_deals ? pq_getmsgint64(&buf) : 0;
		if ((s->has_deals && (t->deals <= 0 || t->deals > t->count || t->deals > s->deals)) ||
			t->from < 0 || t->from >= s->nstages || t->to < 0 || t->to >= s->nstages ||
			t->from == t->to || s->stages[t->from].terminal || t->count <= 0 ||
			t->count > FUNNEL_JSON_MAX_COUNT ||
			(i > 0 && (t->from < t[-1].from || (t->from == t[-1].from && t->to <= t[-1].to))))
			pipe_bad("bad transition");
		if (pg_add_s64_overflow(outsum[t->from], t->count, &outsum[t->from]))
			pipe_bad("bad transition");
	}
	for (i = 0; i < s->nstages; i++)
		if (outsum[i] != s->stages[i].stays)
			pipe_bad("stays do not match the transitions");
	if (buf.cursor != len)
		pipe_bad("trailing bytes");
	return s;
}

static PipeSummary *
pipe_from_datum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return pipe_decode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/* ---------- the aggregate ---------- */

/*
 * The names of a text[] argument, without repeats, kept in fn_mcxt while
 * the argument does not change.
 */
static void
read_names(FunctionCallInfo fcinfo, PipeNames *c, ArrayType *arr, const char *what)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i,
				j;
	MemoryContext old;

	if (c->raw != NULL && VARSIZE(arr) == VARSIZE(c->raw) &&
		memcmp(arr, c->raw, VARSIZE(arr)) == 0)
		return;
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > PIPE_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a pipeline model cannot have more than %d stages", PIPE_MAX_STAGES)));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c->names = palloc(sizeof(char *) * (n + 1));
	c->lens = palloc(sizeof(int) * (n + 1));
	c->n = 0;
	for (i = 0; i < n; i++)
	{
		text	   *t;
		bool		dup = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", what)));
		t = DatumGetTextPP(elems[i]);
		for (j = 0; j < c->n; j++)
			if (c->lens[j] == (int) VARSIZE_ANY_EXHDR(t) &&
				memcmp(c->names[j], VARDATA_ANY(t), c->lens[j]) == 0)
				dup = true;
		if (dup)
			continue;
		c->lens[c->n] = VARSIZE_ANY_EXHDR(t);
		c->names[c->n] = pnstrdup(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		c->n++;
	}
	if (c->raw)
		pfree(c->raw);
	c->raw = palloc(VARSIZE(arr));
	memcpy(c->raw, arr, VARSIZE(arr));
	MemoryContextSwitchTo(old);
}

/* The terminal stages (argument 4) and the pipeline order (argument 5). */
static PipeCache *
read_terminal(FunctionCallInfo fcinfo)
{
	PipeCache  *c = (PipeCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PipeCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("terminal stages must not be NULL"),
				 errhint("Name the stages that end a deal, e.g. terminal => ARRAY['won', 'lost'].")));
	read_names(fcinfo, &c->term, PG_GETARG_ARRAYTYPE_P(4), "terminal stages");
	if (c->term.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one terminal stage is required"),
				 errhint("Name the stages that end a deal, e.g. terminal => ARRAY['won', 'lost'].")));
	if (PG_NARGS() > 5)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pipeline order must not be NULL"),
					 errhint("List the open stages in the order deals go through them, e.g. ARRAY['lead', 'qualified', 'proposal'].")));
		read_names(fcinfo, &c->order, PG_GETARG_ARRAYTYPE_P(5), "pipeline order");
	}
	return c;
}

static bool
same_names(const JourneyLog *log, int32 first, const PipeNames *c)
{
	int			i;

	for (i = 0; i < c->n; i++)
		if (log->namelens[first + i] != c->lens[i] ||
			memcmp(log->names[first + i], c->names[i], c->lens[i]) != 0)
			return false;
	return true;
}

static void
check_same_terminal(const PipeState *st, const PipeCache *c)
{
	if (st->nterm != c->term.n || !same_names(st->log, 0, &c->term) ||
		st->norder != c->order.n || !same_names(st->log, st->nterm, &c->order))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("terminal stages and pipeline order must be the same for every row of a group")));
}

/*
 * Intern the terminal stages, then the pipeline order; the order must not
 * repeat a stage or name a terminal one.
 */
static void
pipe_intern_names(PipeState *st, char **terms, const int *termlens, int32 nterm,
				  char **order, const int *orderlens, int32 norder)
{
	int			i;

	for (i = 0; i < nterm; i++)
		(void) jlog_name(st->log, terms[i], termlens[i]);
	for (i = 0; i < norder; i++)
		if (jlog_name(st->log, order[i], orderlens[i]) != nterm + i)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pipeline order must list each open stage once and no terminal stage"),
					 errdetail("Stage \"%s\" is a terminal stage.", order[i])));
	st->nterm = nterm;
	st->norder = norder;
}

/*
 * pipeline_model(entity, ts, stage, terminal text[] [, pipeline_order
 * text[]]) transition: logs the deal's stage row; terminal names the stages
 * that end a deal, pipeline_order the open stages in the order deals go
 * through them (the same arrays on every row of a group).
 */
PG_FUNCTION_INFO_V1(pipeline_model_sfunc);
Datum
pipeline_model_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "pipeline_model");
	PipeState  *st = FUNNEL_STATE_ARG(PipeState, 0);
	PipeCache  *c = read_terminal(fcinfo);
	text	   *stage;
	int64		ts;
	int32		code;

	if (st == NULL)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 1);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the data type of the entity argument")));
		st = MemoryContextAllocZero(cxt, sizeof(PipeState));
		st->log = jlog_create(fcinfo, cxt, typid, PG_GET_COLLATION());
		pipe_intern_names(st, c->term.names, c->term.lens, c->term.n,
						  c->order.names, c->order.lens, c->order.n);
	}
	else
		check_same_terminal(st, c);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(2);
	funnel_check_timestamp(ts);
	stage = PG_GETARG_TEXT_PP(3);
	code = jlog_name(st->log, VARDATA_ANY(stage), VARSIZE_ANY_EXHDR(stage));
	if (st->norder > 0 && code >= st->nterm + st->norder)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stage \"%s\" is neither in the pipeline order nor a terminal stage",
						text_to_cstring(stage)),
				 errhint("List every open stage in the pipeline order.")));
	if (st->log->nnames > PIPE_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a pipeline model cannot have more than %d stages", PIPE_MAX_STAGES)));
	jlog_add(st->log, PG_GETARG_DATUM(1), ts, code);
	PG_RETURN_POINTER(st);
}

/*
 * pipeline_model combine function: appends the second state's stage rows to
 * the first (the terminal stages and pipeline orders must agree).
 */
PG_FUNCTION_INFO_V1(pipeline_model_combine);
Datum
pipeline_model_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "pipeline_model_combine");
	PipeState  *a = FUNNEL_STATE_ARG(PipeState, 0);
	PipeState  *b = FUNNEL_STATE_ARG(PipeState, 1);
	int			i;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
	{
		a = MemoryContextAllocZero(cxt, sizeof(PipeState));
		a->log = jlog_create(fcinfo, cxt, b->log->typid, b->log->collation);
		pipe_intern_names(a, b->log->names, b->log->namelens, b->nterm,
						  b->log->names + b->nterm, b->log->namelens + b->nterm, b->norder);
	}
	else
	{
		bool		same = a->nterm == b->nterm && a->norder == b->norder;

		for (i = 0; same && i < a->nterm + a->norder; i++)
			same = a->log->namelens[i] == b->log->namelens[i] &&
				memcmp(a->log->names[i], b->log->names[i], a->log->namelens[i]) == 0;
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("terminal stages and pipeline order must be the same for every row of a group")));
	}
	jlog_merge(a->log, b->log);
	PG_RETURN_POINTER(a);
}

/*
 * pipeline_model state serialisation: the terminal stage and pipeline order
 * counts and the stage-row log.
 */
PG_FUNCTION_INFO_V1(pipeline_model_serialize);
Datum
pipeline_model_serialize(PG_FUNCTION_ARGS)
{
	PipeState  *st = (PipeState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "pipeline_model_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->nterm);
	pq_sendint32(&buf, st->norder);
	jlog_serialize(st->log, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* pipeline_model state deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(pipeline_model_deserialize);
Datum
pipeline_model_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "pipeline_model_deserialize");
	StringInfoData buf;
	PipeState  *st;

	funnel_state_reader(PG_GETARG_BYTEA_PP(0), &buf);
	st = MemoryContextAllocZero(cxt, sizeof(PipeState));
	st->nterm = pq_getmsgint(&buf, 4);
	st->norder = pq_getmsgint(&buf, 4);
	st->log = jlog_deserialize(fcinfo, cxt, &buf);
	funnel_state_check_end(&buf);
	/* with a pipeline order, every stage is either listed or terminal */
	if (st->nterm < 1 || st->norder < 0 ||
		st->nterm > st->log->nnames - st->norder ||
		(st->norder > 0 && st->nterm + st->norder != st->log->nnames) ||
		st->log->nnames > PIPE_MAX_STAGES)
		funnel_invalid_state("The pipeline_model state has invalid stage counts.");
	/* so every row has a stage: the log checked each code against them */
	if (st->log->nvals != 0)
		funnel_invalid_state("The pipeline_model state holds values.");
	PG_RETURN_POINTER(st);
}

/* Rows of a deal: by time, then by the position of the stage (arg: tie keys). */
static int
pipe_row_cmp(const void *pa, const void *pb, void *arg)
{
	const JourneyRow *a = pa,
			   *b = pb;
	const int32 *tie_key = arg;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return tie_key[a->code] - tie_key[b->code];
}

/* What the walk of each deal reads and counts. */
typedef struct PipeWalk
{
	PipeSummary *s;
	const int32 *rank;
	const int32 *tie_key;
	int			m;
	int64	   *counts;
	int64	   *deal_counts;
	uint32	   *last_deal;		/* 1 + the last deal counted for a move */
	int128	   *stay_usecs;		/* exact, whatever the order of the deals */
	int64	   *open_deals;		/* per stage: deals open in it at the end */
	int128	   *open_since;		/* per stage: sum of the times they entered it */
	uint32		deal;			/* deals walked */
} PipeWalk;

/* One deal: its rows in time order (ties as at the top of the file). */
static void
pipe_deal(Datum key, JourneyRow *g, int64 n, Size held, void *arg)
{
	PipeWalk   *w = arg;
	PipeSummary *s = w->s;
	const int32 *rank = w->rank;
	int			m = w->m;
	int64		k;
	int			cur,
				group_cur = -1;
	int64		cur_ts;
	uint32		e = w->deal++;

	(void) key;
	(void) held;
	if (n == 0)
		return;
	for (k = 1; k < n; k++)
		if (pipe_row_cmp(&g[k - 1], &g[k], (void *) w->tie_key) > 0)
			break;
	if (k < n)
		qsort_arg(g, n, sizeof(JourneyRow), pipe_row_cmp, (void *) w->tie_key);
	/* as_of: the latest row of all (the end of the open stays) */
	if (s->deals == 0 || g[n - 1].ts > s->as_of)
		s->as_of = g[n - 1].ts;
	cur = rank[g[0].code];
	cur_ts = g[0].ts;
	s->stages[cur].entries++;
	if (s->deals == 0 || cur_ts < s->first_entry)
		s->first_entry = cur_ts;
	if (s->deals == 0 || cur_ts > s->last_entry)
		s->last_entry = cur_ts;
	s->deals++;
	for (k = 1; k < n && !s->stages[cur].terminal; k++)
	{
		int			next = rank[g[k].code];

		/*
		 * Among the rows of one time, one that repeats the stage the deal
		 * was in before that time continues its stay, wherever the pipeline
		 * order puts it.
		 */
		if (g[k].ts != g[k - 1].ts)
		{
			int64		j2;

			group_cur = -1;
			for (j2 = k; j2 < n && g[j2].ts == g[k].ts; j2++)
				if (rank[g[j2].code] == cur)
					group_cur = cur;
		}
		if (next == cur || next == group_cur)
			continue;
		w->counts[cur * m + next]++;
		/* a deal that makes the same move again counts once in deals */
		if (w->last_deal[cur * m + next] != e + 1)
		{
			w->last_deal[cur * m + next] = e + 1;
			w->deal_counts[cur * m + next]++;
		}
		s->stages[cur].stays++;
		w->stay_usecs[cur] += (int128) g[k].ts - cur_ts;
		cur = next;
		cur_ts = g[k].ts;
	}
	if (s->stages[cur].terminal)
		s->stages[cur].ended++;
	else
	{
		/* an open stay counts up to the end of the data (censored): below */
		s->stages[cur].open++;
		w->open_deals[cur]++;
		w->open_since[cur] += cur_ts;
	}
}

/*
 * pipeline_model final function: walks each deal's stage rows in time order
 * (ties as described at the top of the file) into stays and transitions;
 * returns the pipeline_summary.  Reads the state only.
 */
PG_FUNCTION_INFO_V1(pipeline_model_final);
Datum
pipeline_model_final(PG_FUNCTION_ARGS)
{
	PipeState  *st;
	const JourneyLog *log;
	PipeSummary s;
	PipeWalk	w;
	int32	   *rank,
			   *tie_key;
	uint64		k;
	int			m,
				i,
				j;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (PipeState *) PG_GETARG_POINTER(0);
	log = st->log;
	m = log->nnames;
	rank = jlog_name_ranks(log);
	memset(&s, 0, sizeof(s));
	s.has_deals = true;
	s.nstages = m;
	s.stages = palloc0(sizeof(PipeStage) * m);
	for (i = 0; i < m; i++)
	{
		PipeStage  *g = &s.stages[rank[i]];

		g->name = log->names[i];
		g->len = log->namelens[i];
		g->terminal = i < st->nterm;
	}

	/*
	 * Stages entered at one time are taken in the caller's pipeline order
	 * (without one, in byte order of the names), the terminal stages last in
	 * the order of the terminal array.
	 */
	tie_key = palloc(sizeof(int32) * (m + 1));
	for (i = 0; i < m; i++)
		tie_key[i] = i < st->nterm ? m + i : st->norder > 0 ? i - st->nterm : rank[i];
	memset(&w, 0, sizeof(w));
	w.s = &s;
	w.rank = rank;
	w.tie_key = tie_key;
	w.m = m;
	w.counts = palloc0(sizeof(int64) * m * m);
	w.deal_counts = palloc0(sizeof(int64) * m * m);
	w.last_deal = palloc0(sizeof(uint32) * m * m);
	w.stay_usecs = palloc0(sizeof(int128) * (m + 1));
	w.open_deals = palloc0(sizeof(int64) * (m + 1));
	w.open_since = palloc0(sizeof(int128) * (m + 1));
	jlog_foreach(log, pipe_deal, &w);
	for (i = 0; i < m; i++)
	{
		w.stay_usecs[i] += (int128) w.open_deals[i] * s.as_of - w.open_since[i];
		s.stages[i].stay_usecs = (double) w.stay_usecs[i];
	}
	/* only the moves seen (m * m of them would be 24 MB at 1000 stages) */
	k = 0;
	for (i = 0; i < m * m; i++)
		k += w.counts[i] > 0;
	s.trans = palloc0(sizeof(PipeTrans) * (k + 1));
	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++)
			if (w.counts[i * m + j] > 0)
			{
				s.trans[s.ntrans].from = i;
				s.trans[s.ntrans].to = j;
				s.trans[s.ntrans].count = w.counts[i * m + j];
				s.trans[s.ntrans].deals = w.deal_counts[i * m + j];
				s.ntrans++;
			}
	PG_RETURN_BYTEA_P(pipe_encode(&s));
}

/* ---------- pipeline_summary I/O ---------- */

static void
ts_json(StringInfo buf, int64 ts)
{
	escape_json(buf, DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ts))));
}

/*
 * pipeline_summary text output: a JSON object (deals, dates, stages with
 * their counts and stays, transitions with their count and distinct deals).
 */
PG_FUNCTION_INFO_V1(pipeline_summary_out);
Datum
pipeline_summary_out(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"deals\": " INT64_FORMAT, s->deals);
	if (s->deals > 0)
	{
		appendStringInfoString(&buf, ", \"first_entry\": ");
		ts_json(&buf, s->first_entry);
		appendStringInfoString(&buf, ", \"last_entry\": ");
		ts_json(&buf, s->last_entry);
		appendStringInfoString(&buf, ", \"as_of\": ");
		ts_json(&buf, s->as_of);
	}
	appendStringInfoString(&buf, ", \"stages\": [");
	for (i = 0; i < s->nstages; i++)
	{
		PipeStage  *g = &s->stages[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"stage\": ");
		escape_json(&buf, g->name);
		appendStringInfo(&buf, ", \"terminal\": %s, \"entries\": " INT64_FORMAT
						 ", \"open\": " INT64_FORMAT ", \"ended\": " INT64_FORMAT
						 ", \"stays\": " INT64_FORMAT ", \"stay_days\": ",
						 g->terminal ? "true" : "false", g->entries, g->open, g->ended, g->stays);
		funnel_json_double(&buf, g->stay_usecs / USECS_PER_DAY);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "], \"transitions\": [");
	for (i = 0; i < s->ntrans; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"from\": ");
		escape_json(&buf, s->stages[s->trans[i].from].name);
		appendStringInfoString(&buf, ", \"to\": ");
		escape_json(&buf, s->stages[s->trans[i].to].name);
		/* a summary from 1.0 keeps the 1.0 form: "deals" are its transitions */
		if (s->has_deals)
			appendStringInfo(&buf, ", \"transitions\": " INT64_FORMAT ", \"deals\": " INT64_FORMAT "}",
							 s->trans[i].count, s->trans[i].deals);
		else
			appendStringInfo(&buf, ", \"deals\": " INT64_FORMAT "}", s->trans[i].count);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

static int64
pj_ts(JsonbContainer *o, const char *key)
{
	JsonbValue *v = funnel_json_get(o, key, jbvString, false, PIPE_TYPE);
	int64		t = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															CStringGetDatum(funnel_json_string(v)),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));

	if (!valid_ts(t))
		funnel_bad_text_input(PIPE_TYPE, psprintf("Key \"%s\" must be a finite timestamp.", key));
	return t;
}

static int
stage_qsort_cmp(const void *a, const void *b)
{
	return stage_name_cmp(a, b);
}

static int
find_stage(const PipeSummary *s, const char *name, int len)
{
	int			lo = 0,
				hi = s->nstages - 1;
	PipeStage	key;

	key.name = (char *) name;
	key.len = len;
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = stage_name_cmp(&key, &s->stages[mid]);

		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

static int
trans_cmp(const void *pa, const void *pb)
{
	const PipeTrans *a = pa,
			   *b = pb;

	if (a->from != b->from)
		return a->from - b->from;
	return a->to - b->to;
}

/*
 * pipeline_summary text input: the JSON form pipeline_summary_out writes
 * (or the 1.0 form, transitions without distinct deals), every field
 * validated.
 */
PG_FUNCTION_INFO_V1(pipeline_summary_in);
Datum
pipeline_summary_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	JsonbContainer *root = funnel_json_object(str, PIPE_TYPE);
	JsonbValue *v;
	JsonbContainer *arr;
	PipeSummary s;
	int			n,
				i;
	bytea	   *result;

	memset(&s, 0, sizeof(s));
	s.deals = funnel_json_count(root, "deals", PIPE_TYPE);
	if (s.deals > 0)
	{
		s.first_entry = pj_ts(root, "first_entry");
		s.last_entry = pj_ts(root, "last_entry");
		s.as_of = pj_ts(root, "as_of");
	}
	v = funnel_json_get(root, "stages", jbvBinary, false, PIPE_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(PIPE_TYPE, "Key \"stages\" must be an array.");
	n = JsonContainerSize(arr);
	if (n < 1 || n > PIPE_MAX_STAGES)
		funnel_bad_text_input(PIPE_TYPE, "Key \"stages\" must have 1 to 1000 stages.");
	s.nstages = n;
	s.stages = palloc0(sizeof(PipeStage) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *o;
		PipeStage  *g = &s.stages[i];
		double		days;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(PIPE_TYPE, "Each stage must be a JSON object.");
		o = e->val.binary.data;
		g->name = funnel_json_string(funnel_json_get(o, "stage", jbvString, false, PIPE_TYPE));
		g->len = strlen(g->name);
		g->terminal = funnel_json_get(o, "terminal", jbvBool, false, PIPE_TYPE)->val.boolean;
		g->entries = funnel_json_count(o, "entries", PIPE_TYPE);
		g->open = funnel_json_count(o, "open", PIPE_TYPE);
		g->ended = funnel_json_count(o, "ended", PIPE_TYPE);
		g->stays = funnel_json_count(o, "stays", PIPE_TYPE);
		days = funnel_json_number(funnel_json_get(o, "stay_days", jbvNumeric, false, PIPE_TYPE),
								"stay_days", PIPE_TYPE);
		g->stay_usecs = rint(days * USECS_PER_DAY);	/* whole microseconds */
	}
	qsort(s.stages, n, sizeof(PipeStage), stage_qsort_cmp);
	v = funnel_json_get(root, "transitions", jbvBinary, false, PIPE_TYPE);
	arr = v->val.binary.data;
	if (!JsonContainerIsArray(arr))
		funnel_bad_text_input(PIPE_TYPE, "Key \"transitions\" must be an array.");
	n = JsonContainerSize(arr);
	s.trans = palloc0(sizeof(PipeTrans) * (n + 1));
	s.ntrans = n;
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *o;
		char	   *from,
				   *to;

		if (e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			funnel_bad_text_input(PIPE_TYPE, "Each transition must be a JSON object.");
		o = e->val.binary.data;
		from = funnel_json_string(funnel_json_get(o, "from", jbvString, false, PIPE_TYPE));
		to = funnel_json_string(funnel_json_get(o, "to", jbvString, false, PIPE_TYPE));
		s.trans[i].from = find_stage(&s, from, strlen(from));
		s.trans[i].to = find_stage(&s, to, strlen(to));
		if (s.trans[i].from < 0 || s.trans[i].to < 0)
			funnel_bad_text_input(PIPE_TYPE, "A transition names a stage not in \"stages\".");
		/*
		 * The 1.0 form has no "transitions": its "deals" are the transition
		 * count, and the distinct deals are unknown.  One form for all.
		 */
		if (getKeyJsonValueFromContainer(o, "transitions", strlen("transitions"), NULL) != NULL)
		{
			if (i > 0 && !s.has_deals)
				funnel_bad_text_input(PIPE_TYPE, "Every transition must have key \"transitions\", or none.");
			s.has_deals = true;
			s.trans[i].count = funnel_json_count(o, "transitions", PIPE_TYPE);
			s.trans[i].deals = funnel_json_count(o, "deals", PIPE_TYPE);
		}
		else
		{
			if (s.has_deals)
				funnel_bad_text_input(PIPE_TYPE, "Every transition must have key \"transitions\", or none.");
			s.trans[i].count = funnel_json_count(o, "deals", PIPE_TYPE);
		}
	}
	if (n == 0)
		s.has_deals = true;
	qsort(s.trans, n, sizeof(PipeTrans), trans_cmp);
	result = pipe_encode(&s);
	(void) pipe_from_datum(PointerGetDatum(result));	/* check it */
	PG_RETURN_BYTEA_P(result);
}

/*
 * pipeline_summary binary input: the bytes of the stored form, validated
 * before they are kept.
 */
PG_FUNCTION_INFO_V1(pipeline_summary_recv);
Datum
pipeline_summary_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);

	(void) pipe_decode(buf->data + buf->cursor, buf->len - buf->cursor);
	PG_RETURN_BYTEA_P(funnel_recv_rest(buf));
}

/* pipeline_summary binary output: the stored form as is. */
PG_FUNCTION_INFO_V1(pipeline_summary_send);
Datum
pipeline_summary_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}

/* ---------- reports and forecasts ---------- */

/*
 * pipeline_report(model): one row per observed transition: stage,
 * next_stage, deals (distinct deals that made the move), probability (the
 * move's share of the stage's transitions: the chain needs transition
 * counts), mean days in the stage (open stays included, see the top of the
 * file).  A summary stored by 1.0 never recorded distinct deals: its deals
 * stay what 1.0 reported, the transitions (the same unless a deal made a
 * move twice), so that stored values and views over them read the same
 * after the update; pipeline_model over the history gives the new count.
 */
PG_FUNCTION_INFO_V1(pipeline_report);
Datum
pipeline_report(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < s->ntrans; i++)
	{
		PipeTrans  *t = &s->trans[i];
		PipeStage  *g = &s->stages[t->from];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = PointerGetDatum(cstring_to_text(g->name));
		values[1] = PointerGetDatum(cstring_to_text(s->stages[t->to].name));
		values[2] = Int64GetDatum(s->has_deals ? t->deals : t->count);
		values[3] = Float8GetDatum((double) t->count / g->stays);
		values[4] = Float8GetDatum(g->stay_usecs / g->stays / USECS_PER_DAY);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The absorbing chain applied to a vector of deals by stage (n[stage]):
 * for every terminal stage the expected deals ending there and their
 * expected days to close; the rest (deals in stages with no way out seen)
 * under a NULL outcome.
 */
static void
forecast_rows(FunctionCallInfo fcinfo, const PipeSummary *s, const double *n)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			m = s->nstages;
	int		   *tidx = palloc(sizeof(int) * m);	/* stage -> transient index or -1 */
	int			t = 0,
				i,
				j,
				k;
	double	   *A,
			   *visits,
			   *Nmat,
			   *tau,
			   *B,
			   *col;
	int		   *piv;
	bool	   *reach;
	double		total = 0,
				absorbed = 0;
	bool		changed;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < m; i++)
	{
		tidx[i] = s->stages[i].terminal ? -1 : t++;
		total += n[i];
	}
	/* which open stages can reach a terminal stage */
	reach = palloc0(sizeof(bool) * m);
	for (i = 0; i < m; i++)
		reach[i] = s->stages[i].terminal;
	do
	{
		changed = false;
		for (i = 0; i < s->ntrans; i++)
			if (reach[s->trans[i].to] && !reach[s->trans[i].from])
				reach[s->trans[i].from] = changed = true;
	} while (changed);

	A = palloc0(sizeof(double) * (t * t + 1));
	Nmat = palloc0(sizeof(double) * (t * t + 1));
	tau = palloc0(sizeof(double) * (t + 1));
	B = palloc0(sizeof(double) * (t * m + 1));	/* B[transient][stage] */
	col = palloc0(sizeof(double) * (t + 1));
	piv = palloc0(sizeof(int) * (t + 1));
	for (i = 0; i < t; i++)
		A[i * t + i] = 1;
	for (i = 0; i < m; i++)
		if (tidx[i] >= 0 && s->stages[i].stays > 0)
			tau[tidx[i]] = s->stages[i].stay_usecs / s->stages[i].stays / USECS_PER_DAY;
	for (i = 0; i < s->ntrans; i++)
	{
		const PipeTrans *tr = &s->trans[i];
		double		p;

		if (!reach[tr->from])
			continue;			/* a stuck stage: its row stays e_i, no exit */
		p = (double) tr->count / s->stages[tr->from].stays;
		if (tidx[tr->to] >= 0)
			A[tidx[tr->from] * t + tidx[tr->to]] -= p;
	}
	if (t > 0)
		funnel_lu_factor(A, t, piv);
	/* N column by column */
	for (j = 0; j < t; j++)
	{
		CHECK_FOR_INTERRUPTS();
		memset(col, 0, sizeof(double) * t);
		col[j] = 1;
		funnel_lu_solve(A, t, piv, col);
		for (i = 0; i < t; i++)
			Nmat[i * t + j] = col[i];
	}
	/* B = N R */
	for (i = 0; i < s->ntrans; i++)
	{
		const PipeTrans *tr = &s->trans[i];
		double		p;
		int			r;

		if (!reach[tr->from] || tidx[tr->to] >= 0)
			continue;
		p = (double) tr->count / s->stages[tr->from].stays;
		for (r = 0; r < t; r++)
			B[r * m + tr->to] += Nmat[r * t + tidx[tr->from]] * p;
	}
	/* visits[j] = sum_i n_i N_ij: expected stays in open stage j */
	visits = palloc0(sizeof(double) * (t + 1));
	for (i = 0; i < m; i++)
		if (tidx[i] >= 0 && n[i] != 0)
			for (j = 0; j < t; j++)
				visits[j] += n[i] * Nmat[tidx[i] * t + j];
	for (k = 0; k < m; k++)
	{
		double		deals = 0,
					timed = 0;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (!s->stages[k].terminal)
			continue;
		deals = n[k];			/* already there */
		for (i = 0; i < m; i++)
			if (tidx[i] >= 0)
				deals += n[i] * B[tidx[i] * m + k];
		/* E[time 1{end in k}] = sum_i n_i sum_j N_ij tau_j B_jk */
		for (j = 0; j < t; j++)
			timed += visits[j] * tau[j] * B[j * m + k];
		absorbed += deals;
		values[0] = PointerGetDatum(cstring_to_text(s->stages[k].name));
		values[1] = Float8GetDatum(deals);
		if (deals > 0)
			values[2] = Float8GetDatum(timed / deals);
		else
			nulls[2] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (total - absorbed > 1e-9 * Max(total, 1))
	{
		Datum		values[3];
		bool		nulls[3] = {true, false, true};

		values[1] = Float8GetDatum(total - absorbed);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

static int
stage_or_error(const PipeSummary *s, text *name)
{
	int			i = find_stage(s, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));

	if (i < 0)
	{
		StringInfoData buf;
		int			j;

		initStringInfo(&buf);
		for (j = 0; j < s->nstages; j++)
			appendStringInfo(&buf, "%s%s", j ? ", " : "", s->stages[j].name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized pipeline stage \"%s\"", text_to_cstring(name)),
				 errhint("The model's stages are: %s.", buf.data)));
	}
	return i;
}

static void
check_count(int64 c)
{
	if (c < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("open deal count must not be negative")));
}

/*
 * pipeline_forecast(model, stage, open_count): where open_count deals now in
 * stage are expected to end, and after how many days.
 */
PG_FUNCTION_INFO_V1(pipeline_forecast_stage);
Datum
pipeline_forecast_stage(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	double	   *n = palloc0(sizeof(double) * s->nstages);
	int64		c = PG_GETARG_INT64(2);

	check_count(c);
	n[stage_or_error(s, PG_GETARG_TEXT_PP(1))] = (double) c;
	forecast_rows(fcinfo, s, n);
	return (Datum) 0;
}

/*
 * pipeline_forecast(model, stages text[], open_counts bigint[]): the same for
 * open deals in several stages (parallel arrays), summed by outcome.
 */
PG_FUNCTION_INFO_V1(pipeline_forecast_stages);
Datum
pipeline_forecast_stages(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	double	   *n = palloc0(sizeof(double) * s->nstages);
	ArrayType  *sa = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *ca = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *se,
			   *ce;
	bool	   *sn,
			   *cn;
	int			ns,
				nc,
				i;

	if (ARR_NDIM(sa) > 1 || ARR_NDIM(ca) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("stages and open counts must be one-dimensional arrays")));
	deconstruct_array(sa, TEXTOID, -1, false, TYPALIGN_INT, &se, &sn, &ns);
	deconstruct_array(ca, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &ce, &cn, &nc);
	if (ns != nc)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("stages and open counts must have the same length (%d and %d)", ns, nc)));
	for (i = 0; i < ns; i++)
	{
		if (sn[i] || cn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("stages and open counts must not contain NULL")));
		check_count(DatumGetInt64(ce[i]));
		n[stage_or_error(s, DatumGetTextPP(se[i]))] += (double) DatumGetInt64(ce[i]);
	}
	forecast_rows(fcinfo, s, n);
	return (Datum) 0;
}

/* pipeline_forecast(model): the deals open at the end of the model's data */
PG_FUNCTION_INFO_V1(pipeline_forecast_open);
Datum
pipeline_forecast_open(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	double	   *n = palloc0(sizeof(double) * s->nstages);
	int			i;

	for (i = 0; i < s->nstages; i++)
		n[i] = (double) s->stages[i].open;
	forecast_rows(fcinfo, s, n);
	return (Datum) 0;
}

static double
lead_rate(const PipeSummary *s)
{
	if (s->deals == 0 || s->as_of <= s->first_entry)
		return 0;
	return (double) s->deals / (((double) s->as_of - (double) s->first_entry) / USECS_PER_DAY);
}

/* pipeline_lead_rate(model): new deals per day over the model's data */
PG_FUNCTION_INFO_V1(pipeline_lead_rate);
Datum
pipeline_lead_rate(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));

	if (s->deals == 0 || s->as_of <= s->first_entry)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(lead_rate(s));
}

/*
 * pipeline_lead_forecast(model, period): the deals expected to enter during
 * the next period at the model's lead rate (spread over the entry stages as
 * observed), and where they are expected to end.
 */
PG_FUNCTION_INFO_V1(pipeline_lead_forecast);
Datum
pipeline_lead_forecast(PG_FUNCTION_ARGS)
{
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	Interval   *period = PG_GETARG_INTERVAL_P(1);
	double		days = (double) funnel_interval_usecs(period, "forecast period", false) / USECS_PER_DAY;
	double	   *n = palloc0(sizeof(double) * s->nstages);
	double		leads = lead_rate(s) * days;
	int			i;

	for (i = 0; i < s->nstages; i++)
		if (s->deals > 0)
			n[i] = leads * s->stages[i].entries / s->deals;
	forecast_rows(fcinfo, s, n);
	return (Datum) 0;
}

/*
 * pipeline_period_forecast(model, period): the deals expected to close in
 * each terminal stage within the next period, from the deals open at the
 * end of the model's data and from the leads expected to enter during the
 * period (at the model's lead rate, spread evenly over the period).  Time
 * is continuous: a deal leaves stage i at rate 1 / (mean days in i), to the
 * next stages in the observed proportions (a continuous-time Markov chain;
 * the time a deal has already spent in its stage is not used).  The chain's
 * transition probabilities over t days, exp(G t), are computed by
 * uniformisation: exp(G t) = sum_n Poisson(n; L t) P^n with P = I + G / L,
 * L the largest rate.  For leads arriving at rate r, the expected closings
 * by T are r * integral_0^T exp(G u) du = (r / L) sum_n P(Poisson(L T) > n) P^n.
 * A stage whose stays all lasted 0 days (entered and left at one time)
 * passes its deals on at once, in its observed proportions (instant_exits()).
 * Other stays shorter than period / 500 are taken as period / 500 long,
 * which bounds the number of terms.
 */
/*
 * Where a deal that enters a stage passed in 0 days (instant[z]) goes on to:
 * D[z * m + j], the probability of arriving in stage j (not instant) after
 * passing only through such stages, from the observed transitions.  With
 * J the transition probabilities among the instant stages and K those from
 * them to the others, D = (I - J)^-1 K.  I - J is regular: every instant
 * stage reaches a terminal stage, so deals do not circle among them forever.
 */
static double *
instant_exits(const PipeSummary *s, const bool *instant)
{
	int			m = s->nstages,
				nz = 0,
				i,
				j;
	int		   *zidx = palloc(sizeof(int) * m);
	int		   *zstage;
	int		   *piv;
	double	   *A,
			   *col,
			   *D = palloc0(sizeof(double) * m * m);

	for (i = 0; i < m; i++)
		zidx[i] = instant[i] ? nz++ : -1;
	if (nz == 0)
		return D;
	zstage = palloc(sizeof(int) * nz);
	for (i = 0; i < m; i++)
		if (instant[i])
			zstage[zidx[i]] = i;
	A = palloc0(sizeof(double) * nz * nz);
	piv = palloc(sizeof(int) * nz);
	col = palloc(sizeof(double) * nz);
	for (i = 0; i < nz; i++)
		A[i * nz + i] = 1;
	for (i = 0; i < s->ntrans; i++)
	{
		const PipeTrans *t = &s->trans[i];

		if (instant[t->from] && instant[t->to])
			A[zidx[t->from] * nz + zidx[t->to]] -= (double) t->count / s->stages[t->from].stays;
	}
	funnel_lu_factor(A, nz, piv);
	for (j = 0; j < m; j++)
	{
		bool		any = false;

		if (instant[j])
			continue;
		memset(col, 0, sizeof(double) * nz);
		for (i = 0; i < s->ntrans; i++)
		{
			const PipeTrans *t = &s->trans[i];

			if (t->to == j && instant[t->from])
			{
				col[zidx[t->from]] += (double) t->count / s->stages[t->from].stays;
				any = true;
			}
		}
		if (!any)
			continue;
		CHECK_FOR_INTERRUPTS();
		funnel_lu_solve(A, nz, piv, col);
		for (i = 0; i < nz; i++)
			D[zstage[i] * m + j] = col[i];
	}
	return D;
}

/* Pass the deals in instant stages on at once (D from instant_exits). */
static void
settle(int m, const bool *instant, const double *D, double *x)
{
	int			z,
				j;

	for (z = 0; z < m; z++)
		if (instant[z] && x[z] != 0)
		{
			for (j = 0; j < m; j++)
				x[j] += x[z] * D[z * m + j];
			x[z] = 0;
		}
}

PG_FUNCTION_INFO_V1(pipeline_period_forecast);
Datum
pipeline_period_forecast(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PipeSummary *s = pipe_from_datum(PG_GETARG_DATUM(0));
	Interval   *period = PG_GETARG_INTERVAL_P(1);
	double		T = (double) funnel_interval_usecs(period, "forecast period", false) / USECS_PER_DAY;
	int			m = s->nstages,
				i,
				k;
	bool	   *reach = palloc0(sizeof(bool) * m);
	double	   *rate = palloc0(sizeof(double) * m);
	double	   *P = palloc0(sizeof(double) * m * m);
	double	   *xo = palloc0(sizeof(double) * m);	/* open deals, pushed n steps */
	double	   *xl = palloc0(sizeof(double) * m);	/* one new lead, pushed n steps */
	double	   *tmp = palloc0(sizeof(double) * m);
	double	   *open_out = palloc0(sizeof(double) * m);
	double	   *lead_out = palloc0(sizeof(double) * m);
	bool	   *instant = palloc0(sizeof(bool) * m);
	double	   *D;
	double		L = 0,
				LT,
				w,
				F,
				r = lead_rate(s);
	bool		changed;
	int64		n;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < m; i++)
		reach[i] = s->stages[i].terminal;
	do
	{
		changed = false;
		for (i = 0; i < s->ntrans; i++)
			if (reach[s->trans[i].to] && !reach[s->trans[i].from])
				reach[s->trans[i].from] = changed = true;
	} while (changed);
	for (i = 0; i < m; i++)
		if (!s->stages[i].terminal && reach[i] && s->stages[i].stays > 0)
		{
			double		tau = s->stages[i].stay_usecs / s->stages[i].stays / USECS_PER_DAY;

			if (s->stages[i].stay_usecs == 0)
			{
				instant[i] = true;
				continue;
			}
			if (T > 0)
				tau = Max(tau, T / 500);
			rate[i] = tau > 0 ? 1 / tau : 0;
			L = Max(L, rate[i]);
		}
	for (i = 0; i < m; i++)
	{
		xo[i] = (double) s->stages[i].open;
		xl[i] = s->deals > 0 ? (double) s->stages[i].entries / s->deals : 0;
		P[i * m + i] = 1;
	}
	D = instant_exits(s, instant);
	settle(m, instant, D, xo);
	settle(m, instant, D, xl);
	if (L > 0)
	{
		for (i = 0; i < s->ntrans; i++)
		{
			const PipeTrans *t = &s->trans[i];
			double		q;

			if (rate[t->from] == 0)
				continue;
			q = rate[t->from] * t->count / s->stages[t->from].stays / L;

			P[t->from * m + t->to] += q;
			P[t->from * m + t->from] -= q;
		}
	}
	LT = L * T;
	w = exp(-LT);				/* Poisson(0; LT); LT <= 500 */
	F = 0;
	for (n = 0;; n++)
	{
		CHECK_FOR_INTERRUPTS();
		F += w;
		for (k = 0; k < m; k++)
			if (s->stages[k].terminal)
			{
				open_out[k] += w * xo[k];
				lead_out[k] += (L > 0 ? (1 - F) / L : T) * xl[k];
			}
		if (L == 0 || (n > LT && 1 - F < 1e-13) || n > 100000)
			break;
		/* x <- x P */
		memset(tmp, 0, sizeof(double) * m);
		for (i = 0; i < m; i++)
			if (xo[i] != 0)
				for (k = 0; k < m; k++)
					tmp[k] += xo[i] * P[i * m + k];
		memcpy(xo, tmp, sizeof(double) * m);
		settle(m, instant, D, xo);
		memset(tmp, 0, sizeof(double) * m);
		for (i = 0; i < m; i++)
			if (xl[i] != 0)
				for (k = 0; k < m; k++)
					tmp[k] += xl[i] * P[i * m + k];
		memcpy(xl, tmp, sizeof(double) * m);
		settle(m, instant, D, xl);
		w *= LT / (n + 1);
	}
	for (k = 0; k < m; k++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		if (!s->stages[k].terminal)
			continue;
		values[0] = PointerGetDatum(cstring_to_text(s->stages[k].name));
		values[1] = Float8GetDatum(open_out[k]);
		values[2] = Float8GetDatum(r * lead_out[k]);
		values[3] = Float8GetDatum(open_out[k] + r * lead_out[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- merging: rollup(pipeline_summary) ---------- */

/*
 * Summaries of disjoint sets of deals merge into the summary of all of
 * them: a deal's stays, transitions and entry lie in its own summary, and
 * the only number that depends on the other deals is where the open stays
 * end, the latest row (as_of).  A summary counted its open stays up to its
 * own as_of, so the merge adds, for each open deal, the time from that
 * as_of to the merged one (open deals x the difference).  Sums of stay
 * times are exact (int128) in the accumulator and become a double once, as
 * in pipeline_model; so pipeline_model per deal on the shards of a table
 * distributed by the deal, rolled up on the coordinator, is the summary of
 * pipeline_model over the whole table.  (A partial rollup that travels as
 * text carries its stay times in days as a double: exact to the microsecond
 * while a stage's stays on one worker add up to less than 2^51
 * microseconds, 26,000 days.)
 */
typedef struct PipeAcc
{
	MemoryContext cxt;
	bool		has_deals;		/* every summary merged knew its distinct deals */
	int64		deals;
	int64		first_entry;
	int64		last_entry;
	int64		as_of;
	int32		n;				/* stages, in the order they came */
	int32		cap;
	char	  **names;
	int		   *lens;
	int32	   *sorted;			/* stage ids in name order */
	bool	   *terminal;
	int64	   *entries,
			   *open,
			   *ended,
			   *stays;
	int128	   *stay;			/* all stays, the open ones up to as_of */
	int64	   *tcount;			/* [from * cap + to] */
	int64	   *tdeals;
	Size		mem;
} PipeAcc;

static PipeAcc *
pipe_acc_create(MemoryContext cxt)
{
	PipeAcc    *acc = MemoryContextAllocZero(cxt, sizeof(PipeAcc));

	acc->cxt = cxt;
	acc->has_deals = true;
	return acc;
}

static void *
pipe_acc_resize(PipeAcc *acc, void *p, Size elem, int32 cap)
{
	void	   *q = MemoryContextAllocZero(acc->cxt, elem * cap);

	if (p != NULL)
	{
		memcpy(q, p, elem * acc->n);
		pfree(p);
	}
	return q;
}

static void
pipe_acc_grow(PipeAcc *acc)
{
	int32		cap = Min(Max(8, acc->cap * 2), PIPE_MAX_STAGES);
	int64	   *tcount,
			   *tdeals;
	int32		i;

	acc->mem += (Size) cap * cap * 2 * sizeof(int64) + (Size) cap * 80;
	funnel_check_memory(acc->mem);
	tcount = MemoryContextAllocZero(acc->cxt, sizeof(int64) * (Size) cap * cap);
	tdeals = MemoryContextAllocZero(acc->cxt, sizeof(int64) * (Size) cap * cap);
	for (i = 0; i < acc->n; i++)
	{
		memcpy(tcount + (Size) i * cap, acc->tcount + (Size) i * acc->cap, sizeof(int64) * acc->n);
		memcpy(tdeals + (Size) i * cap, acc->tdeals + (Size) i * acc->cap, sizeof(int64) * acc->n);
	}
	if (acc->tcount)
	{
		pfree(acc->tcount);
		pfree(acc->tdeals);
	}
	acc->tcount = tcount;
	acc->tdeals = tdeals;
	acc->names = pipe_acc_resize(acc, acc->names, sizeof(char *), cap);
	acc->lens = pipe_acc_resize(acc, acc->lens, sizeof(int), cap);
	acc->sorted = pipe_acc_resize(acc, acc->sorted, sizeof(int32), cap);
	acc->terminal = pipe_acc_resize(acc, acc->terminal, sizeof(bool), cap);
	acc->entries = pipe_acc_resize(acc, acc->entries, sizeof(int64), cap);
	acc->open = pipe_acc_resize(acc, acc->open, sizeof(int64), cap);
	acc->ended = pipe_acc_resize(acc, acc->ended, sizeof(int64), cap);
	acc->stays = pipe_acc_resize(acc, acc->stays, sizeof(int64), cap);
	acc->stay = pipe_acc_resize(acc, acc->stay, sizeof(int128), cap);
	acc->cap = cap;
}

/* The accumulator's id of a stage, added when new; its terminal flag must agree. */
static int32
pipe_acc_stage(PipeAcc *acc, const PipeStage *g)
{
	int			lo = 0,
				hi = acc->n;
	int32		id;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		int32		k = acc->sorted[mid];
		int			cmp = funnel_name_cmp(acc->names[k], acc->lens[k], g->name, g->len);

		if (cmp == 0)
		{
			if (acc->terminal[k] != g->terminal)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("cannot merge pipeline summaries that disagree on whether stage \"%s\" is terminal",
								g->name)));
			return k;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (acc->n == PIPE_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a pipeline model cannot have more than %d stages", PIPE_MAX_STAGES)));
	if (acc->n == acc->cap)
		pipe_acc_grow(acc);
	id = acc->n++;
	acc->names[id] = MemoryContextStrdup(acc->cxt, g->name);
	acc->lens[id] = g->len;
	acc->terminal[id] = g->terminal;
	acc->mem += g->len + 1;
	memmove(acc->sorted + lo + 1, acc->sorted + lo, sizeof(int32) * (acc->n - 1 - lo));
	acc->sorted[lo] = id;
	return id;
}

static void
pipe_add_count(int64 *sum, int64 x)
{
	if (pg_add_s64_overflow(*sum, x, sum) || *sum > FUNNEL_JSON_MAX_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("pipeline deal count is out of range")));
}

/* Add the deals of s (none of them in acc) to acc. */
static void
pipe_acc_add(PipeAcc *acc, const PipeSummary *s)
{
	int32	   *id = palloc(sizeof(int32) * (s->nstages + 1));
	int32		i;

	if (s->deals > 0)
	{
		if (acc->deals == 0)
		{
			acc->first_entry = s->first_entry;
			acc->last_entry = s->last_entry;
			acc->as_of = s->as_of;
		}
		else
		{
			acc->first_entry = Min(acc->first_entry, s->first_entry);
			acc->last_entry = Max(acc->last_entry, s->last_entry);
			if (s->as_of > acc->as_of)
			{
				/* the open stays so far now end later */
				for (i = 0; i < acc->n; i++)
					acc->stay[i] += (int128) acc->open[i] * ((int128) s->as_of - acc->as_of);
				acc->as_of = s->as_of;
			}
		}
		pipe_add_count(&acc->deals, s->deals);
	}
	acc->has_deals = acc->has_deals && s->has_deals;
	for (i = 0; i < s->nstages; i++)
	{
		const PipeStage *g = &s->stages[i];
		int32		k = pipe_acc_stage(acc, g);

		id[i] = k;
		pipe_add_count(&acc->entries[k], g->entries);
		pipe_add_count(&acc->open[k], g->open);
		pipe_add_count(&acc->ended[k], g->ended);
		pipe_add_count(&acc->stays[k], g->stays);
		/* whole microseconds (checked by pipe_decode), exact as int128 */
		acc->stay[k] += (int128) g->stay_usecs;
		if (g->open > 0)
			acc->stay[k] += (int128) g->open * ((int128) acc->as_of - s->as_of);
	}
	for (i = 0; i < s->ntrans; i++)
	{
		Size		cell = (Size) id[s->trans[i].from] * acc->cap + id[s->trans[i].to];

		pipe_add_count(&acc->tcount[cell], s->trans[i].count);
		pipe_add_count(&acc->tdeals[cell], s->trans[i].deals);
	}
	pfree(id);
}

/* The accumulated deals as a pipeline_summary (stages by name). */
static bytea *
pipe_acc_flat(const PipeAcc *acc)
{
	PipeSummary s;
	int32		i,
				j;

	memset(&s, 0, sizeof(s));
	s.has_deals = acc->has_deals;
	s.deals = acc->deals;
	s.first_entry = acc->first_entry;
	s.last_entry = acc->last_entry;
	s.as_of = acc->as_of;
	s.nstages = acc->n;
	s.stages = palloc0(sizeof(PipeStage) * (acc->n + 1));
	for (i = 0; i < acc->n; i++)
	{
		int32		k = acc->sorted[i];
		PipeStage  *g = &s.stages[i];

		g->name = acc->names[k];
		g->len = acc->lens[k];
		g->terminal = acc->terminal[k];
		g->entries = acc->entries[k];
		g->open = acc->open[k];
		g->ended = acc->ended[k];
		g->stays = acc->stays[k];
		g->stay_usecs = (double) acc->stay[k];
		for (j = 0; j < acc->n; j++)
			s.ntrans += acc->tcount[(Size) k * acc->cap + acc->sorted[j]] > 0;
	}
	s.trans = palloc0(sizeof(PipeTrans) * (s.ntrans + 1));
	s.ntrans = 0;
	for (i = 0; i < acc->n; i++)
		for (j = 0; j < acc->n; j++)
		{
			Size		cell = (Size) acc->sorted[i] * acc->cap + acc->sorted[j];

			if (acc->tcount[cell] > 0)
			{
				s.trans[s.ntrans].from = i;
				s.trans[s.ntrans].to = j;
				s.trans[s.ntrans].count = acc->tcount[cell];
				s.trans[s.ntrans].deals = acc->tdeals[cell];
				s.ntrans++;
			}
		}
	return pipe_encode(&s);
}

/* rollup(pipeline_summary): an expanded state of the accumulator */
static void *
pipe_acc_create_any(MemoryContext cxt)
{
	return pipe_acc_create(cxt);
}

static void
pipe_acc_add_datum(void *acc, MemoryContext cxt, Datum value)
{
	(void) cxt;				/* the accumulator knows its context */
	pipe_acc_add((PipeAcc *) acc, pipe_from_datum(value));
}

static bytea *
pipe_acc_flat_any(void *acc)
{
	return pipe_acc_flat((PipeAcc *) acc);
}

static const ExpandedAccType pipe_rollup_type = {
	"pipeline_summary rollup", pipe_acc_create_any, pipe_acc_add_datum, pipe_acc_flat_any
};

/*
 * pipeline_summary_merge(a, b): the summary of the deals of a and b
 * (disjoint sets of deals; a stage terminal in one is terminal in the
 * other); a NULL one is left out.  The transition and combine function of
 * rollup (common/expanded_acc.c).
 */
PG_FUNCTION_INFO_V1(pipeline_summary_merge);
Datum
pipeline_summary_merge(PG_FUNCTION_ARGS)
{
	return expanded_acc_merge(fcinfo, &pipe_rollup_type);
}
