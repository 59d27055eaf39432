/*
 * src/funnel/breakdown.c
 *    funnel_breakdown: the funnel broken down by a value of the rows
 *    (a channel, a browser), each entity's value taken from one place
 *    (PostHog's breakdown attribution: first_touch, last_touch, step K,
 *    all_events; doc/product_funnels.md).
 *
 * The rows go into the entity store like those of funnel_stage_counts,
 * each with its steps and the id of its value: values are interned in a
 * dictionary of the state (id 0 is NULL, "no value"), so a row carries 8
 * bytes more, and a combine renumbers the other state's ids into its own.
 * The final function walks every entity with the one walk: once for
 * first_touch and last_touch, once per value of its step-K rows for step K,
 * once per value of its rows for all_events.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "engine/entity_store.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* A stored row's payload: after the store's int64 time. */
typedef struct BreakdownRow
{
	uint64		steps;
	int64		value;			/* dictionary id, 0 = NULL */
} BreakdownRow;

/* The values seen, interned: ids 1..n. */
typedef struct ValueDict
{
	int32		n;
	int32		cap;
	char	  **val;			/* val[id - 1], len[id - 1], hash[id - 1] */
	int32	   *len;
	uint32	   *hash;
	int32	   *slots;			/* open addressing: id, 0 = free */
	uint32		nslots;			/* a power of two, > 2 n */
	int32		last;			/* the id looked up last (rows of one value
								 * often come in runs), 0 = none */
} ValueDict;

typedef struct BreakdownState
{
	FunnelConfig cfg;
	uint64		seen_steps;		/* union of all steps seen (funnel_event form) */
	MemoryContext cxt;
	ValueDict	dict;
	EntityStore *store;			/* rows: int64 ts, BreakdownRow; NULL over
								 * stored journeys */
	/* over stored journeys: the rows' levels counted per value */
	int64	   *given;			/* (id) x (BREAKDOWN_LEVELS): entities of value
								 * id (0 = NULL) at each level */
	int32		given_cap;		/* values given has room for, NULL's included */
	Size		mem;			/* bytes of the state (no store) */
	char	   *mode;			/* the mode and window cfg was made from */
	int			mode_len;
	Interval	window;
} BreakdownState;

#define BREAKDOWN_LEVELS (FUNNEL_MAX_STEPS + 1)

/* a + b (funnel_count_add) */
#define breakdown_count_add(a, b) funnel_count_add((a), (b), "funnel breakdown count")

/* ---------- the dictionary of values ---------- */

/* The dictionary's bytes beside the store, counted with its rows. */
static void
dict_account(BreakdownState *st, Size bytes)
{
	if (st->store == NULL)
	{
		st->mem += bytes;
		funnel_check_memory(st->mem);
		return;
	}
	st->store->extra += bytes;
	funnel_check_memory(st->store->mem + st->store->extra);
}

static void
dict_rehash(BreakdownState *st, uint32 nslots)
{
	ValueDict  *d = &st->dict;
	int32		id;

	if (d->slots)
		pfree(d->slots);
	d->slots = MemoryContextAllocZero(st->cxt, sizeof(int32) * nslots);
	d->nslots = nslots;
	for (id = 1; id <= d->n; id++)
	{
		uint32		i = d->hash[id - 1] & (nslots - 1);

		while (d->slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		d->slots[i] = id;
	}
}

/* The id of a value (len bytes at p), added when new. */
static int32
dict_intern(BreakdownState *st, const char *p, int32 len)
{
	ValueDict  *d = &st->dict;
	uint32		h;
	uint32		i;
	int32		id;

	if (d->last != 0 && d->len[d->last - 1] == len &&
		memcmp(d->val[d->last - 1], p, len) == 0)
		return d->last;
	h = hash_bytes((const unsigned char *) p, len);
	if (d->nslots == 0)
	{
		dict_account(st, sizeof(int32) * 64);
		dict_rehash(st, 64);
	}
	for (i = h & (d->nslots - 1); (id = d->slots[i]) != 0; i = (i + 1) & (d->nslots - 1))
		if (d->hash[id - 1] == h && d->len[id - 1] == len &&
			memcmp(d->val[id - 1], p, len) == 0)
			return d->last = id;
	if (d->n == d->cap)
	{
		int32		newcap;

		if (d->cap >= PG_INT32_MAX / 4)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many distinct breakdown values")));
		newcap = d->cap ? d->cap * 2 : 16;
		dict_account(st, (Size) (newcap - d->cap) * (sizeof(char *) + sizeof(int32) + sizeof(uint32)));
		if (d->cap == 0)
		{
			d->val = MemoryContextAlloc(st->cxt, sizeof(char *) * newcap);
			d->len = MemoryContextAlloc(st->cxt, sizeof(int32) * newcap);
			d->hash = MemoryContextAlloc(st->cxt, sizeof(uint32) * newcap);
		}
		else
		{
			d->val = repalloc(d->val, sizeof(char *) * newcap);
			d->len = repalloc(d->len, sizeof(int32) * newcap);
			d->hash = repalloc(d->hash, sizeof(uint32) * newcap);
		}
		d->cap = newcap;
	}
	dict_account(st, MAXALIGN(len + 1));
	d->val[d->n] = MemoryContextAlloc(st->cxt, len + 1);
	memcpy(d->val[d->n], p, len);
	d->val[d->n][len] = '\0';
	d->len[d->n] = len;
	d->hash[d->n] = h;
	id = ++d->n;
	d->slots[i] = id;
	d->last = id;
	if ((uint32) d->n * 2 > d->nslots)
	{
		dict_account(st, sizeof(int32) * d->nslots);
		dict_rehash(st, d->nslots * 2);
	}
	return id;
}

/* ---------- state ---------- */

static BreakdownState *
breakdown_create(FunctionCallInfo fcinfo, MemoryContext cxt, const FunnelConfig *cfg,
				 Oid typid, Oid collation)
{
	BreakdownState *st = MemoryContextAllocZero(cxt, sizeof(BreakdownState));

	st->cfg = *cfg;
	st->cxt = cxt;
	st->store = estore_create(fcinfo, cxt, typid, collation,
							  sizeof(BreakdownRow) | ESTORE_PAYLOAD_MASK);
	return st;
}

/* The attribution in effect: PostHog's default, first_touch, when none is given. */
static int
attribution(const FunnelConfig *cfg)
{
	return cfg->breakdown ? cfg->breakdown : FUNNEL_BREAKDOWN_FIRST_TOUCH;
}

static Datum
breakdown_add(FunctionCallInfo fcinfo, FunnelInputKind kind)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown");
	BreakdownState *st = PG_ARGISNULL(0) ? NULL : (BreakdownState *) PG_GETARG_POINTER(0);
	FunnelInput *in = funnel_input_get(fcinfo, kind,
									   FUNNEL_ARG_MODE | FUNNEL_ARG_ENTITY | FUNNEL_ARG_BREAKDOWN);
	BreakdownRow row;
	int64		ts;
	bool		use = funnel_input_read(fcinfo, in, &ts, &row.steps);

	funnel_check_used_options(&in->cfg, 0);
	if (st == NULL)
	{
		Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, in->arg_entity);

		if (!OidIsValid(typid))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_DATATYPE),
					 errmsg("could not determine the data type of the entity argument")));
		st = breakdown_create(fcinfo, cxt, &in->cfg, typid, PG_GET_COLLATION());
	}
	else
		funnel_config_check_same(&st->cfg, &in->cfg);

	/* NULL entities are ignored; so are rows no step can use */
	if (use && !PG_ARGISNULL(in->arg_entity) &&
		(row.steps != 0 || (st->cfg.mode & FUNNEL_STRICT_ORDER)))
	{
		row.value = 0;
		if (!PG_ARGISNULL(in->arg_breakdown))
		{
			text	   *v = PG_GETARG_TEXT_PP(in->arg_breakdown);
			MemoryContext old = MemoryContextSwitchTo(cxt);

			row.value = dict_intern(st, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
			MemoryContextSwitchTo(old);
		}
		st->seen_steps |= row.steps;
		estore_add(st->store, PG_GETARG_DATUM(in->arg_entity), ts, &row);
	}
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(funnel_breakdown_bools_sfunc);
Datum
funnel_breakdown_bools_sfunc(PG_FUNCTION_ARGS)
{
	return breakdown_add(fcinfo, FUNNEL_INPUT_BOOLS);
}

PG_FUNCTION_INFO_V1(funnel_breakdown_names_sfunc);
Datum
funnel_breakdown_names_sfunc(PG_FUNCTION_ARGS)
{
	return breakdown_add(fcinfo, FUNNEL_INPUT_NAMES);
}

PG_FUNCTION_INFO_V1(funnel_breakdown_event_sfunc);
Datum
funnel_breakdown_event_sfunc(PG_FUNCTION_ARGS)
{
	return breakdown_add(fcinfo, FUNNEL_INPUT_EVENT);
}

/* ---------- combine ---------- */

typedef struct IdMap
{
	const int32 *map;			/* b's id -> a's id */
	int32		n;
} IdMap;

static void
remap_row(int64 ts, char *payload, void *arg)
{
	IdMap	   *m = (IdMap *) arg;
	BreakdownRow *r = (BreakdownRow *) payload;

	(void) ts;
	if (r->value < 0 || r->value > m->n)
		elog(ERROR, "funnel breakdown value id " INT64_FORMAT " out of range", r->value);
	r->value = m->map[r->value];
}

/*
 * Combine: b's values interned into a's dictionary, then b's rows appended
 * to a's with their ids renumbered.
 */
PG_FUNCTION_INFO_V1(funnel_breakdown_combine);
Datum
funnel_breakdown_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown_combine");
	BreakdownState *a = PG_ARGISNULL(0) ? NULL : (BreakdownState *) PG_GETARG_POINTER(0);
	BreakdownState *b = PG_ARGISNULL(1) ? NULL : (BreakdownState *) PG_GETARG_POINTER(1);
	int32	   *map;
	IdMap		m;
	int32		id;
	bool		same = true;
	MemoryContext old;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = breakdown_create(fcinfo, cxt, &b->cfg, b->store->typid, b->store->collation);
	funnel_config_check_same(&a->cfg, &b->cfg);
	a->seen_steps |= b->seen_steps;
	old = MemoryContextSwitchTo(cxt);
	map = palloc(sizeof(int32) * ((Size) b->dict.n + 1));
	map[0] = 0;
	for (id = 1; id <= b->dict.n; id++)
	{
		map[id] = dict_intern(a, b->dict.val[id - 1], b->dict.len[id - 1]);
		same &= (map[id] == id);
	}
	MemoryContextSwitchTo(old);
	m.map = map;
	m.n = b->dict.n;
	/* a state whose ids are a's own (the first one merged, often) is taken as it is */
	estore_merge_map(a->store, b->store, same ? NULL : remap_row, &m);
	pfree(map);
	PG_RETURN_POINTER(a);
}

/* ---------- serialisation ---------- */

#define BREAKDOWN_SERIAL_VERSION 1

/*
 * Layout: version, the funnel configuration, the attribution, the seen
 * steps, the values (count, then length and bytes of each), then the
 * store's rows.
 */
PG_FUNCTION_INFO_V1(funnel_breakdown_serialize);
Datum
funnel_breakdown_serialize(PG_FUNCTION_ARGS)
{
	BreakdownState *st = (BreakdownState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int32		id;

	funnel_agg_context(fcinfo, "funnel_breakdown_serialize");
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, BREAKDOWN_SERIAL_VERSION);
	funnel_config_serialize(&st->cfg, &buf);
	pq_sendbyte(&buf, st->cfg.breakdown);
	pq_sendbyte(&buf, st->cfg.breakdown_step);
	pq_sendint64(&buf, (int64) st->seen_steps);
	pq_sendint32(&buf, st->dict.n);
	for (id = 1; id <= st->dict.n; id++)
	{
		pq_sendint32(&buf, st->dict.len[id - 1]);
		pq_sendbytes(&buf, st->dict.val[id - 1], st->dict.len[id - 1]);
	}
	estore_serialize(st->store, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

typedef struct RowCheck
{
	const FunnelConfig *cfg;
	uint64		allowed;
	int32		nvalues;
} RowCheck;

static void
check_row(int64 ts, char *payload, void *arg)
{
	RowCheck   *c = (RowCheck *) arg;
	const BreakdownRow *r = (const BreakdownRow *) payload;

	if (!IS_VALID_TIMESTAMP(ts) || TIMESTAMP_NOT_FINITE(ts))
		funnel_invalid_state("A timestamp of the state is out of range.");
	if (r->steps & ~c->allowed)
		funnel_invalid_state("An event of the state matches a step outside the funnel.");
	if (r->steps == 0 && !(c->cfg->mode & FUNNEL_STRICT_ORDER))
		funnel_invalid_state("An event of the state matches no step.");
	if (r->value < 0 || r->value > c->nvalues)
		funnel_invalid_state("A breakdown value of the state is out of range.");
}

/* Deserialisation: every field read is checked (the bytes come from outside). */
PG_FUNCTION_INFO_V1(funnel_breakdown_deserialize);
Datum
funnel_breakdown_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown_deserialize");
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	BreakdownState *st;
	FunnelConfig cfg;
	RowCheck	check;
	int32		n,
				i;
	char	  **vals;
	int32	   *lens;
	MemoryContext old;

	funnel_state_reader(data, &buf);
	if (pq_getmsgbyte(&buf) != BREAKDOWN_SERIAL_VERSION)
		funnel_invalid_state("The state has an unrecognized format version.");
	funnel_config_deserialize(&cfg, &buf);
	cfg.breakdown = pq_getmsgbyte(&buf);
	cfg.breakdown_step = pq_getmsgbyte(&buf);
	cfg.with_breakdown = true;
	if (cfg.breakdown > FUNNEL_BREAKDOWN_ALL_EVENTS ||
		(cfg.breakdown == FUNNEL_BREAKDOWN_STEP) != (cfg.breakdown_step != 0) ||
		cfg.breakdown_step > cfg.nsteps ||
		(cfg.breakdown == FUNNEL_BREAKDOWN_STEP &&
		 ((cfg.optional & ((uint64) 1 << (cfg.breakdown_step - 1))) || cfg.mode != 0 ||
		  FUNNEL_ANY_ORDER(&cfg))) ||
		cfg.bucket != 0 || (cfg.options & FUNNEL_OPT_STEP_TIMES) || cfg.want_elapsed)
		funnel_invalid_state("The state has an invalid breakdown attribution.");
	/* the store's rows come after the values: read those first */
	{
		uint64		seen = (uint64) pq_getmsgint64(&buf);

		n = pq_getmsgint(&buf, 4);
		funnel_state_check_count(&buf, n, 4);
		vals = palloc(sizeof(char *) * Max(n, 1));
		lens = palloc(sizeof(int32) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			lens[i] = pq_getmsgint(&buf, 4);
			if (lens[i] < 0 || lens[i] > buf.len - buf.cursor)
				funnel_invalid_state("A breakdown value of the state is longer than the data.");
			vals[i] = (char *) pq_getmsgbytes(&buf, lens[i]);
			/* a value is text: no NUL byte, valid in the database encoding */
			if (memchr(vals[i], '\0', lens[i]) != NULL ||
				!pg_verifymbstr(vals[i], lens[i], true))
				funnel_invalid_state("A breakdown value of the state is not valid text.");
		}
		old = MemoryContextSwitchTo(cxt);
		st = MemoryContextAllocZero(cxt, sizeof(BreakdownState));
		st->cfg = cfg;
		st->cxt = cxt;
		st->seen_steps = seen;
		check.cfg = &st->cfg;
		check.allowed = ((cfg.nsteps == 64) ? PG_UINT64_MAX : ((uint64) 1 << cfg.nsteps) - 1) | cfg.excl_mask;
		check.nvalues = n;
		st->store = estore_deserialize(fcinfo, cxt, &buf, sizeof(BreakdownRow) | ESTORE_PAYLOAD_MASK,
									   check_row, &check);
		for (i = 0; i < n; i++)
			if (dict_intern(st, vals[i], lens[i]) != i + 1)
				funnel_invalid_state("The state's breakdown values repeat.");
		MemoryContextSwitchTo(old);
	}
	funnel_state_check_end(&buf);
	pfree(vals);
	pfree(lens);
	PG_RETURN_POINTER(st);
}

/* ---------- the final function ---------- */

typedef struct BreakdownWalk
{
	const BreakdownState *st;
	int			kind;			/* attribution() */
	int			nsteps;			/* steps reported */
	int64	   *at_level;		/* (nvalues + 1) x (nsteps + 1): entities of
								 * each value at each level */
	FunnelEvent *ev;			/* scratch for one entity */
	FunnelEvent *sub;
	int32	   *ids;
	int64	   *keys;			/* value ids to sort */
	int64		cap;
	MemoryContext cxt;			/* the final function's: the scratch outlives
								 * the store's per-partition context */
	Size		scratch;		/* bytes of the scratch arrays */
} BreakdownWalk;

static inline void
count_entity(BreakdownWalk *bw, int32 id, int level)
{
	if (level > bw->nsteps)
		level = bw->nsteps;
	bw->at_level[(Size) id * (bw->nsteps + 1) + level]++;
}

/* a before b in the values' order: byte order, the shorter first on a tie */
static int
value_cmp(const ValueDict *d, int32 a, int32 b)
{
	int			c;

	if (a == b)
		return 0;
	if (a == 0 || b == 0)
		return a == 0 ? 1 : -1;	/* NULL last */
	c = memcmp(d->val[a - 1], d->val[b - 1], Min(d->len[a - 1], d->len[b - 1]));
	if (c != 0)
		return c;
	return (d->len[a - 1] > d->len[b - 1]) - (d->len[a - 1] < d->len[b - 1]);
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static void
breakdown_entity(Datum key, char *rows, int64 nrows, Size held, void *arg)
{
	BreakdownWalk *bw = (BreakdownWalk *) arg;
	const BreakdownState *st = bw->st;
	const FunnelConfig *cfg = &st->cfg;
	const Size	stride = 8 + sizeof(BreakdownRow);
	int			n = (int) nrows;
	int			i;
	int32		best = -1;

	(void) key;
	if (nrows > PG_INT32_MAX / 2)
		funnel_check_memory(MaxAllocHugeSize);
	if (nrows > bw->cap)
	{
		int64		newcap = Max(nrows, bw->cap * 2);

		if (bw->ev)
		{
			pfree(bw->ev);
			pfree(bw->sub);
			pfree(bw->ids);
			pfree(bw->keys);
		}
		bw->scratch = (Size) newcap * (2 * sizeof(FunnelEvent) + sizeof(int32) + sizeof(int64));
		funnel_check_memory(held + bw->scratch);
		bw->ev = MemoryContextAllocHuge(bw->cxt, sizeof(FunnelEvent) * newcap);
		bw->sub = MemoryContextAllocHuge(bw->cxt, sizeof(FunnelEvent) * newcap);
		bw->ids = MemoryContextAllocHuge(bw->cxt, sizeof(int32) * newcap);
		bw->keys = MemoryContextAllocHuge(bw->cxt, sizeof(int64) * newcap);
		bw->cap = newcap;
	}
	held += bw->scratch;
	for (i = 0; i < n; i++)
	{
		const char *r = rows + (Size) i * stride;
		const BreakdownRow *p = (const BreakdownRow *) (r + 8);

		bw->ev[i].ts = *(const int64 *) r;
		bw->ev[i].steps = p->steps;
		bw->ids[i] = (int32) p->value;
	}

	switch (bw->kind)
	{
		case FUNNEL_BREAKDOWN_FIRST_TOUCH:
		case FUNNEL_BREAKDOWN_LAST_TOUCH:
			{
				bool		first = (bw->kind == FUNNEL_BREAKDOWN_FIRST_TOUCH);
				int64		best_ts = 0;
				int			level = funnel_events_level(cfg, bw->ev, n, held, NULL);

				if (level == 0)
					return;
				/* the earliest (latest) row of a step or an exclusion with a value */
				for (i = 0; i < n; i++)
				{
					if (bw->ids[i] == 0 || bw->ev[i].steps == 0)
						continue;
					if (best < 0 || (first ? bw->ev[i].ts < best_ts : bw->ev[i].ts > best_ts) ||
						(bw->ev[i].ts == best_ts && value_cmp(&st->dict, bw->ids[i], best) < 0))
					{
						best = bw->ids[i];
						best_ts = bw->ev[i].ts;
					}
				}
				count_entity(bw, best < 0 ? 0 : best, level);
				return;
			}
		case FUNNEL_BREAKDOWN_STEP:
			{
				uint64		bit = (uint64) 1 << (cfg->breakdown_step - 1);
				int			nk = 0;
				int			a;

				/* the distinct values of the step-K rows, in id order */
				for (i = 0; i < n; i++)
					if (bw->ev[i].steps & bit)
						bw->keys[nk++] = bw->ids[i];
				if (nk == 0)
				{
					/* no step-K row: the entity has no value */
					int			level = funnel_events_level(cfg, bw->ev, n, held, NULL);

					if (level > 0)
						count_entity(bw, 0, level);
					return;
				}
				if (nk > 1)
					qsort(bw->keys, nk, sizeof(int64), int64_cmp);
				for (a = 0; a < nk; a++)
				{
					int32		v = (int32) bw->keys[a];
					int			j,
								level;

					if (a > 0 && bw->keys[a - 1] == bw->keys[a])
						continue;
					/* the walk with only this value's rows as step K */
					for (j = 0; j < n; j++)
					{
						bw->sub[j] = bw->ev[j];
						if (bw->ids[j] != v)
							bw->sub[j].steps &= ~bit;
					}
					level = funnel_events_level(cfg, bw->sub, n, held, NULL);
					if (level > 0)
						count_entity(bw, v, level);
					CHECK_FOR_INTERRUPTS();
				}
				return;
			}
		case FUNNEL_BREAKDOWN_ALL_EVENTS:
			{
				bool		one = true;
				int			a,
							b;

				for (i = 1; i < n && one; i++)
					one = (bw->ids[i] == bw->ids[0]);
				if (one)
				{
					int			level = funnel_events_level(cfg, bw->ev, n, held, NULL);

					if (level > 0)
						count_entity(bw, bw->ids[0], level);
					return;
				}
				/* one walk per value, over that value's rows only (in arrival order) */
				for (i = 0; i < n; i++)
					bw->keys[i] = ((int64) bw->ids[i] << 32) | (int64) i;
				qsort(bw->keys, n, sizeof(int64), int64_cmp);
				for (a = 0; a < n; a = b)
				{
					int32		v = (int32) (bw->keys[a] >> 32);
					int			m = 0,
								level;

					for (b = a; b < n && (int32) (bw->keys[b] >> 32) == v; b++)
						bw->sub[m++] = bw->ev[(int32) (bw->keys[b] & PG_INT32_MAX)];
					level = funnel_events_level(cfg, bw->sub, m, held, NULL);
					if (level > 0)
						count_entity(bw, v, level);
					CHECK_FOR_INTERRUPTS();
				}
				return;
			}
		default:
			elog(ERROR, "unrecognized breakdown attribution %d", bw->kind);
	}
}

typedef struct ValueOrder
{
	const BreakdownWalk *bw;
	const int64 *counts;		/* cumulative: (nvalues + 1) x nsteps */
} ValueOrder;

/* By the last step's count, then the step before, ... (descending), then the value. */
static int
value_order_cmp(const void *a, const void *b, void *arg)
{
	const ValueOrder *o = (const ValueOrder *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;
	int			m = o->bw->nsteps;
	int			k;

	for (k = m - 1; k >= 0; k--)
	{
		int64		cx = o->counts[(Size) x * m + k];
		int64		cy = o->counts[(Size) y * m + k];

		if (cx != cy)
			return cx > cy ? -1 : 1;
	}
	return value_cmp(&o->bw->st->dict, x, y);
}

/*
 * funnel_breakdown final function: walks every entity and returns, per
 * value, the entities that reached each step (jsonb, read by
 * funnel_breakdown_report), values ordered by the last step's count.
 * Reads the state only.
 */
PG_FUNCTION_INFO_V1(funnel_breakdown_final);
Datum
funnel_breakdown_final(PG_FUNCTION_ARGS)
{
	BreakdownState *st;
	BreakdownWalk bw;
	int			m;
	int32		nv,
				id;
	int64	   *counts;
	int32	   *order;
	int32		norder = 0;
	ValueOrder	vo;
	StringInfoData buf;
	Size		bytes;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (BreakdownState *) PG_GETARG_POINTER(0);
	memset(&bw, 0, sizeof(bw));
	bw.st = st;
	bw.cxt = CurrentMemoryContext;
	bw.kind = attribution(&st->cfg);
	m = bw.nsteps = funnel_reported_steps(&st->cfg, st->seen_steps);
	nv = st->dict.n;
	bytes = (Size) (nv + 1) * ((Size) (m + 1) * 2 * sizeof(int64) + sizeof(int32));
	funnel_check_memory((st->store ? st->store->mem + st->store->extra : st->mem) + bytes);
	bw.at_level = palloc_extended(sizeof(int64) * (Size) (nv + 1) * (m + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	if (st->store == NULL)
	{
		/* stored journeys: the levels were counted row by row */
		for (id = 0; id <= nv && id < st->given_cap; id++)
		{
			int			k;

			for (k = 1; k < BREAKDOWN_LEVELS; k++)
			{
				int64	   *at = &bw.at_level[(Size) id * (m + 1) + Min(k, m)];

				*at = breakdown_count_add(*at, st->given[(Size) id * BREAKDOWN_LEVELS + k]);
			}
		}
	}
	else if (m > 0)
		estore_foreach(st->store, breakdown_entity, &bw);

	/* cumulative counts, and the values any entity reached step 1 under */
	counts = palloc_extended(sizeof(int64) * (Size) (nv + 1) * Max(m, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	order = palloc_extended(sizeof(int32) * (Size) (nv + 1), MCXT_ALLOC_HUGE);
	for (id = 0; id <= nv; id++)
	{
		int64		acc = 0;
		int			k;

		for (k = m; k >= 1; k--)
		{
			acc = breakdown_count_add(acc, bw.at_level[(Size) id * (m + 1) + k]);
			counts[(Size) id * m + k - 1] = acc;
		}
		if (acc > 0)
			order[norder++] = id;
	}
	vo.bw = &bw;
	vo.counts = counts;
	qsort_arg(order, norder, sizeof(int32), value_order_cmp, &vo);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"attribution\": \"%s\"",
					 st->store == NULL ? "given" : funnel_breakdown_name(bw.kind));
	if (bw.kind == FUNNEL_BREAKDOWN_STEP)
		appendStringInfo(&buf, ", \"attribution_step\": %d", st->cfg.breakdown_step);
	appendStringInfo(&buf, ", \"steps\": %d, \"values\": [", m);
	for (id = 0; id < norder; id++)
	{
		int32		v = order[id];
		int			k;

		CHECK_FOR_INTERRUPTS();
		appendStringInfoString(&buf, id ? ", {\"value\": " : "{\"value\": ");
		if (v == 0)
			appendStringInfoString(&buf, "null");
		else
		{
			/* the value as a JSON string: text, so it has no NUL byte */
			escape_json(&buf, st->dict.val[v - 1]);
		}
		appendStringInfoString(&buf, ", \"entities\": [");
		for (k = 0; k < m; k++)
			appendStringInfo(&buf, "%s" INT64_FORMAT, k ? ", " : "", counts[(Size) v * m + k]);
		appendStringInfoString(&buf, "]}");
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/* ---------- funnel_breakdown over stored journeys ---------- */

/*
 * funnel_breakdown(window, mode, breakdown, journey): a row is a journey
 * (one entity's, or one entity's rows of one value) with the value it
 * counts under, given by the caller: a journey keeps no value per row, so
 * no attribution can be taken from it (doc/journeys.md, "Breakdowns").
 * Each row is walked in the transition and its level counted under its
 * value; the result is funnel_breakdown's, for funnel_breakdown_report.
 */

/* The configuration of a journey row's window and mode. */
static void
journey_breakdown_parse(FunnelConfig *cfg, Interval *window, text *mode)
{
	memset(cfg, 0, sizeof(FunnelConfig));
	cfg->window = funnel_window_usecs(window);
	cfg->open_steps = true;
	cfg->with_breakdown = true;
	funnel_parse_options(mode, cfg);
	if (cfg->breakdown != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("breakdown attribution cannot be taken from stored journeys"),
				 errdetail("A journey keeps no value per row: each journey counts under the value given beside it."),
				 errhint("Keep the attribution's value beside each journey (its first touch, say), or store one journey per entity and value for all_events; see the journeys documentation.")));
	funnel_apply_options(cfg, FUNNEL_MAX_STEPS);
	funnel_check_used_options(cfg, 0);
}

/* Remembers the mode and window the state's configuration was checked against. */
static void
journey_breakdown_remember(BreakdownState *st, Interval *window, text *mode)
{
	int			len = VARSIZE_ANY_EXHDR(mode);

	if (st->mode_len < len || st->mode == NULL)
	{
		if (st->mode)
			pfree(st->mode);
		st->mode = MemoryContextAlloc(st->cxt, Max(len, 1));
	}
	memcpy(st->mode, VARDATA_ANY(mode), len);
	st->mode_len = len;
	st->window = *window;
}

static BreakdownState *
journey_breakdown_create(MemoryContext cxt, const FunnelConfig *cfg)
{
	BreakdownState *st = MemoryContextAllocZero(cxt, sizeof(BreakdownState));

	st->cfg = *cfg;
	st->cxt = cxt;
	st->mem = sizeof(BreakdownState);
	return st;
}

/* Room in given for the values up to id. */
static void
given_reserve(BreakdownState *st, int32 id)
{
	int32		cap;

	if (id < st->given_cap)
		return;
	cap = Max(16, st->given_cap);
	while (cap <= id)
		cap *= 2;
	st->mem += sizeof(int64) * BREAKDOWN_LEVELS * (Size) (cap - st->given_cap);
	funnel_check_memory(st->mem);
	if (st->given == NULL)
		st->given = MemoryContextAllocZero(st->cxt, sizeof(int64) * BREAKDOWN_LEVELS * (Size) cap);
	else
	{
		st->given = repalloc_huge(st->given, sizeof(int64) * BREAKDOWN_LEVELS * (Size) cap);
		memset(st->given + (Size) st->given_cap * BREAKDOWN_LEVELS, 0,
			   sizeof(int64) * BREAKDOWN_LEVELS * (Size) (cap - st->given_cap));
	}
	st->given_cap = cap;
}

static Datum
journey_breakdown_add(FunctionCallInfo fcinfo, bool compact)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown");
	BreakdownState *st = PG_ARGISNULL(0) ? NULL : (BreakdownState *) PG_GETARG_POINTER(0);
	FunnelEvent buf[FUNNEL_JOURNEY_STACK_EVENTS];
	FunnelEvent *events;
	uint64		seen = 0;
	int32		id = 0;
	int			n,
				i,
				level;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel mode must not be NULL"),
				 errhint("Use '' for the default mode.")));
	if (st == NULL)
	{
		FunnelConfig cfg;

		journey_breakdown_parse(&cfg, PG_GETARG_INTERVAL_P(1), PG_GETARG_TEXT_PP(2));
		st = journey_breakdown_create(cxt, &cfg);
		journey_breakdown_remember(st, PG_GETARG_INTERVAL_P(1), PG_GETARG_TEXT_PP(2));
	}
	else
	{
		Interval   *window = PG_GETARG_INTERVAL_P(1);
		text	   *mode = PG_GETARG_TEXT_PP(2);

		/* rows of one group usually repeat the same window and mode */
		if (st->mode_len != (int) VARSIZE_ANY_EXHDR(mode) ||
			memcmp(&st->window, window, sizeof(Interval)) != 0 ||
			memcmp(st->mode, VARDATA_ANY(mode), st->mode_len) != 0)
		{
			FunnelConfig cfg;

			journey_breakdown_parse(&cfg, window, mode);
			funnel_config_check_same(&st->cfg, &cfg);
			journey_breakdown_remember(st, window, mode);
		}
	}
	if (PG_ARGISNULL(4))
		PG_RETURN_POINTER(st);
	if (compact)
		events = funnel_journey_decode_into(PG_GETARG_JOURNEY_P(4), &n,
											buf, FUNNEL_JOURNEY_STACK_EVENTS);
	else
		events = funnel_journey_events(PG_GETARG_ARRAYTYPE_P(4), &n);
	for (i = 0; i < n; i++)
		seen |= events[i].steps;
	if (st->cfg.nexcl > 0)
		funnel_check_row_steps(&st->cfg, seen);
	st->seen_steps |= seen;
	level = funnel_events_level(&st->cfg, events, n, st->mem, NULL);
	if (level == 0)
		PG_RETURN_POINTER(st);	/* in no value, as over rows */
	if (!PG_ARGISNULL(3))
	{
		text	   *v = PG_GETARG_TEXT_PP(3);
		MemoryContext old = MemoryContextSwitchTo(cxt);

		id = dict_intern(st, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
		MemoryContextSwitchTo(old);
	}
	given_reserve(st, id);
	st->given[(Size) id * BREAKDOWN_LEVELS + level]++;
	PG_RETURN_POINTER(st);
}

/* funnel_breakdown(window, mode, breakdown, journey funnel_event[]) transition */
PG_FUNCTION_INFO_V1(funnel_breakdown_journey_sfunc);
Datum
funnel_breakdown_journey_sfunc(PG_FUNCTION_ARGS)
{
	return journey_breakdown_add(fcinfo, false);
}

/* funnel_breakdown(window, mode, breakdown, journey journey) transition */
PG_FUNCTION_INFO_V1(funnel_breakdown_compact_sfunc);
Datum
funnel_breakdown_compact_sfunc(PG_FUNCTION_ARGS)
{
	return journey_breakdown_add(fcinfo, true);
}

/* funnel_breakdown over journeys: combine function (parallel plans) */
PG_FUNCTION_INFO_V1(funnel_breakdown_journey_combine);
Datum
funnel_breakdown_journey_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown_journey_combine");
	BreakdownState *a = PG_ARGISNULL(0) ? NULL : (BreakdownState *) PG_GETARG_POINTER(0);
	BreakdownState *b = PG_ARGISNULL(1) ? NULL : (BreakdownState *) PG_GETARG_POINTER(1);
	int32		id;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	if (a == NULL)
		a = journey_breakdown_create(cxt, &b->cfg);
	else
		funnel_config_check_same(&a->cfg, &b->cfg);
	a->seen_steps |= b->seen_steps;
	for (id = 0; id < b->given_cap && id <= b->dict.n; id++)
	{
		int32		to = 0;
		int			k;

		CHECK_FOR_INTERRUPTS();
		if (id > 0)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			to = dict_intern(a, b->dict.val[id - 1], b->dict.len[id - 1]);
			MemoryContextSwitchTo(old);
		}
		given_reserve(a, to);
		for (k = 0; k < BREAKDOWN_LEVELS; k++)
			a->given[(Size) to * BREAKDOWN_LEVELS + k] =
				breakdown_count_add(a->given[(Size) to * BREAKDOWN_LEVELS + k],
									b->given[(Size) id * BREAKDOWN_LEVELS + k]);
	}
	PG_RETURN_POINTER(a);
}

/*
 * funnel_breakdown over journeys: serialisation.  Layout: version, the
 * funnel configuration, the seen steps, the values (count, then length and
 * bytes of each), then for NULL and each value the entities at each level
 * 0..64.
 */
PG_FUNCTION_INFO_V1(funnel_breakdown_journey_serialize);
Datum
funnel_breakdown_journey_serialize(PG_FUNCTION_ARGS)
{
	BreakdownState *st = (BreakdownState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int32		id;
	int			k;

	funnel_agg_context(fcinfo, "funnel_breakdown_journey_serialize");
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, BREAKDOWN_SERIAL_VERSION);
	funnel_config_serialize(&st->cfg, &buf);
	pq_sendint64(&buf, (int64) st->seen_steps);
	pq_sendint32(&buf, st->dict.n);
	for (id = 1; id <= st->dict.n; id++)
	{
		pq_sendint32(&buf, st->dict.len[id - 1]);
		pq_sendbytes(&buf, st->dict.val[id - 1], st->dict.len[id - 1]);
	}
	for (id = 0; id <= st->dict.n; id++)
		for (k = 0; k < BREAKDOWN_LEVELS; k++)
			pq_sendint64(&buf, id < st->given_cap ? st->given[(Size) id * BREAKDOWN_LEVELS + k] : 0);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* funnel_breakdown over journeys: deserialisation; every field read is checked. */
PG_FUNCTION_INFO_V1(funnel_breakdown_journey_deserialize);
Datum
funnel_breakdown_journey_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "funnel_breakdown_journey_deserialize");
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	BreakdownState *st;
	FunnelConfig cfg;
	int32		n,
				i;
	int			k,
				top;
	MemoryContext old;

	funnel_state_reader(data, &buf);
	if (pq_getmsgbyte(&buf) != BREAKDOWN_SERIAL_VERSION)
		funnel_invalid_state("The state has an unrecognized format version.");
	funnel_config_deserialize(&cfg, &buf);
	cfg.with_breakdown = true;
	if (!cfg.open_steps || cfg.bucket != 0 || (cfg.options & FUNNEL_OPT_STEP_TIMES) || cfg.want_elapsed)
		funnel_invalid_state("The state has invalid funnel options.");
	st = journey_breakdown_create(cxt, &cfg);
	st->seen_steps = (uint64) pq_getmsgint64(&buf);
	top = funnel_reported_steps(&st->cfg, st->seen_steps);
	n = pq_getmsgint(&buf, 4);
	funnel_state_check_count(&buf, n, 4 + BREAKDOWN_LEVELS * sizeof(int64));
	old = MemoryContextSwitchTo(cxt);
	for (i = 0; i < n; i++)
	{
		int32		len = pq_getmsgint(&buf, 4);
		const char *val;

		if (len < 0 || len > buf.len - buf.cursor)
			funnel_invalid_state("A breakdown value of the state is longer than the data.");
		val = pq_getmsgbytes(&buf, len);
		/* a value is text: no NUL byte, valid in the database encoding */
		if (memchr(val, '\0', len) != NULL || !pg_verifymbstr(val, len, true))
			funnel_invalid_state("A breakdown value of the state is not valid text.");
		if (dict_intern(st, val, len) != i + 1)
			funnel_invalid_state("The state's breakdown values repeat.");
	}
	MemoryContextSwitchTo(old);
	given_reserve(st, n);
	for (i = 0; i <= n; i++)
		for (k = 0; k < BREAKDOWN_LEVELS; k++)
		{
			int64		c = pq_getmsgint64(&buf);

			/* levels 1 up to the highest step seen only */
			if (c < 0 || (c != 0 && (k == 0 || k > top)))
				funnel_invalid_state("An entity count of the state is out of range.");
			st->given[(Size) i * BREAKDOWN_LEVELS + k] = c;
		}
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}
