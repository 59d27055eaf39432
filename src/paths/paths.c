/*
 * src/paths/paths.c
 *    paths(entity, ts, event [, start_event, end_event, depth, top_n]): the
 *    most frequent transitions and paths of the entities' event sequences
 *    (doc/paths.md).
 *
 * Each entity's events, in time order (events at one time in byte order of
 * their names), with repeats of one event in a row collapsed into one node
 * (the time of a node is that of its first event), give one path:
 *   - no anchor: its first depth + 1 nodes, at steps 0 .. depth;
 *   - start_event: from the first node of that event, at step 0, the next
 *     depth nodes at steps 1 .. depth;
 *   - end_event: the first node of that event at step 0 and the depth nodes
 *     before it at steps -depth .. -1.
 * An edge is (step s, node a) -> (step s + 1, node b); as every entity has at
 * most one node per step, an edge's count is a count of entities.
 *
 * Folding: the top_n edges by entities name the nodes that are kept (and
 * the anchor is kept); every other node becomes "other" (JSON null) at its
 * step, the edges are counted again over the folded nodes, and the result
 * holds the top_n of those.  The median time of an edge is over its
 * entities (the mean of the two middle times for an even count).  Ties rank
 * by step, then by the names (byte order, "other" last).
 *
 * The result is jsonb (doc/paths.md), read by paths_report, paths_top,
 * paths_chart and paths_sankey_svg.  The rows are kept in the per-entity
 * event log (paths/event_log.c).
 */
#include "postgres.h"

#include "common/agg_state.h"
#include "engine/funnel.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "paths/event_log.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#define PATHS_MAX_DEPTH		20
#define PATHS_MAX_TOP_N		10000
#define PATHS_DEFAULT_DEPTH 5
#define PATHS_DEFAULT_TOP_N 20
#define PATHS_OTHER			(-1)	/* the folded node of a step */

#define ANCHOR_NONE		'n'
#define ANCHOR_START	's'
#define ANCHOR_END		'e'

typedef struct PathsConfig
{
	char		anchor;			/* ANCHOR_* */
	int32		depth;
	int32		top_n;
	int32		event_len;		/* anchor event (not NUL-terminated) */
	char	   *event;
} PathsConfig;

typedef struct PathsState
{
	PathsConfig cfg;
	JourneyLog *log;
} PathsState;

/* one entity's move from the node at step to the node at step + 1 */
typedef struct Transition
{
	int32		step;
	int32		from;			/* name id or PATHS_OTHER */
	int32		to;
	int64		delta;			/* microseconds, >= 0 */
} Transition;

typedef struct Edge
{
	int32		step;
	int32		from;
	int32		to;
	int64		entities;
	int128		median2;		/* twice the median, microseconds */
} Edge;

static void
check_depth_top_n(int32 depth, int32 top_n)
{
	if (depth < 1 || depth > PATHS_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("path depth %d is out of range", depth),
				 errdetail("The depth must be from 1 to %d steps.", PATHS_MAX_DEPTH)));
	if (top_n < 1 || top_n > PATHS_MAX_TOP_N)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("path top_n %d is out of range", top_n),
				 errdetail("The number of top edges and paths must be from 1 to %d.", PATHS_MAX_TOP_N)));
}

/* The configuration of this row; the anchor event points into the row. */
static void
read_config(FunctionCallInfo fcinfo, PathsConfig *cfg)
{
	memset(cfg, 0, sizeof(PathsConfig));
	cfg->anchor = ANCHOR_NONE;
	cfg->depth = PATHS_DEFAULT_DEPTH;
	cfg->top_n = PATHS_DEFAULT_TOP_N;
	if (PG_NARGS() <= 4)
		return;
	if (!PG_ARGISNULL(4) && !PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_event and end_event cannot both be given"),
				 errhint("Pass NULL as one of them: paths start at start_event or end at end_event.")));
	if (PG_ARGISNULL(6) || PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("path depth and top_n must not be NULL")));
	cfg->depth = PG_GETARG_INT32(6);
	cfg->top_n = PG_GETARG_INT32(7);
	check_depth_top_n(cfg->depth, cfg->top_n);
	if (!PG_ARGISNULL(4) || !PG_ARGISNULL(5))
	{
		text	   *ev = PG_GETARG_TEXT_PP(PG_ARGISNULL(4) ? 5 : 4);

		cfg->anchor = PG_ARGISNULL(4) ? ANCHOR_END : ANCHOR_START;
		cfg->event = VARDATA_ANY(ev);
		cfg->event_len = VARSIZE_ANY_EXHDR(ev);
	}
}

static bool
config_equal(const PathsConfig *a, const PathsConfig *b)
{
	return a->anchor == b->anchor && a->depth == b->depth && a->top_n == b->top_n &&
		a->event_len == b->event_len &&
		(a->event_len == 0 || memcmp(a->event, b->event, a->event_len) == 0);
}

static void
check_same_config(const PathsConfig *a, const PathsConfig *b)
{
	if (!config_equal(a, b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start_event, end_event, depth and top_n must be the same for every row of a group")));
}

/* a copy of cfg whose anchor event lives in cxt */
static void
copy_config(MemoryContext cxt, PathsConfig *dst, const PathsConfig *src)
{
	*dst = *src;
	if (src->event_len > 0 || src->anchor != ANCHOR_NONE)
	{
		dst->event = MemoryContextAlloc(cxt, src->event_len + 1);
		memcpy(dst->event, src->event, src->event_len);
		dst->event[src->event_len] = '\0';
	}
}

/*
 * paths transition: rows with a NULL entity, time or event are skipped.
 * Arguments: state, entity, ts, event [, start_event, end_event, depth, top_n].
 */
PG_FUNCTION_INFO_V1(paths_sfunc);
Datum
paths_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "paths");
	PathsState *st = FUNNEL_STATE_ARG(PathsState, 0);
	PathsConfig cfg;
	int64		ts;

	read_config(fcinfo, &cfg);
	if (st == NULL)
	{
		st = MemoryContextAllocZero(cxt, sizeof(PathsState));
		copy_config(cxt, &st->cfg, &cfg);
		st->log = event_log_create(fcinfo, cxt, 1);
	}
	else
		check_same_config(&st->cfg, &cfg);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	ts = PG_GETARG_TIMESTAMPTZ(2);
	funnel_check_timestamp(ts);
	event_log_add(st->log, PG_GETARG_DATUM(1), ts, PG_GETARG_TEXT_PP(3));
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(paths_combine);
Datum
paths_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "paths_combine");
	PathsState *a = FUNNEL_STATE_ARG(PathsState, 0);
	PathsState *b = FUNNEL_STATE_ARG(PathsState, 1);
	MemoryContext old;

	if (b == NULL)
		return funnel_combine_keep_first(fcinfo);
	old = MemoryContextSwitchTo(cxt);
	if (a == NULL)
	{
		a = palloc0(sizeof(PathsState));
		copy_config(cxt, &a->cfg, &b->cfg);
		a->log = event_log_create_like(fcinfo, cxt, b->log);
	}
	else
		check_same_config(&a->cfg, &b->cfg);
	event_log_merge(a->log, b->log);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/* Layout: anchor byte, depth, top_n, anchor event length and bytes, the log. */
PG_FUNCTION_INFO_V1(paths_serialize);
Datum
paths_serialize(PG_FUNCTION_ARGS)
{
	PathsState *st = (PathsState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	funnel_agg_context(fcinfo, "paths_serialize");
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, (uint8) st->cfg.anchor);
	pq_sendint32(&buf, st->cfg.depth);
	pq_sendint32(&buf, st->cfg.top_n);
	pq_sendint32(&buf, st->cfg.event_len);
	pq_sendbytes(&buf, st->cfg.event, st->cfg.event_len);
	event_log_serialize(st->log, &buf);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(paths_deserialize);
Datum
paths_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = funnel_agg_context(fcinfo, "paths_deserialize");
	StringInfoData buf;
	PathsState *st;
	PathsConfig cfg;

	funnel_state_reader(PG_GETARG_BYTEA_PP(0), &buf);
	memset(&cfg, 0, sizeof(cfg));
	cfg.anchor = (char) pq_getmsgbyte(&buf);
	cfg.depth = (int32) pq_getmsgint(&buf, 4);
	cfg.top_n = (int32) pq_getmsgint(&buf, 4);
	cfg.event_len = (int32) pq_getmsgint(&buf, 4);
	if ((cfg.anchor != ANCHOR_NONE && cfg.anchor != ANCHOR_START && cfg.anchor != ANCHOR_END) ||
		cfg.depth < 1 || cfg.depth > PATHS_MAX_DEPTH ||
		cfg.top_n < 1 || cfg.top_n > PATHS_MAX_TOP_N ||
		cfg.event_len < 0 || cfg.event_len > buf.len - buf.cursor ||
		(cfg.anchor == ANCHOR_NONE && cfg.event_len != 0))
		funnel_invalid_state("The paths state has an invalid anchor, depth or top_n.");
	cfg.event = (char *) pq_getmsgbytes(&buf, cfg.event_len);
	if (memchr(cfg.event, '\0', cfg.event_len) != NULL ||
		!pg_verifymbstr(cfg.event, cfg.event_len, true))
		funnel_invalid_state("The anchor event of the paths state is not valid text.");
	st = MemoryContextAllocZero(cxt, sizeof(PathsState));
	copy_config(cxt, &st->cfg, &cfg);
	st->log = event_log_deserialize(fcinfo, cxt, &buf);
	funnel_state_check_end(&buf);
	PG_RETURN_POINTER(st);
}

/* ---------- the final function ---------- */

static int
transition_cmp(const void *a, const void *b)
{
	const Transition *x = a;
	const Transition *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->delta != y->delta)
		return x->delta < y->delta ? -1 : 1;
	return 0;
}

/* rank of a node name: byte order, "other" after every name */
static inline int32
node_rank(const int32 *ranks, int32 id)
{
	return id == PATHS_OTHER ? PG_INT32_MAX : ranks[id];
}

/* most entities first, then by step and names */
static int
edge_rank_cmp(const void *a, const void *b, void *arg)
{
	const Edge *x = a;
	const Edge *y = b;
	const int32 *ranks = arg;
	int32		rx,
				ry;

	if (x->entities != y->entities)
		return x->entities > y->entities ? -1 : 1;
	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	rx = node_rank(ranks, x->from);
	ry = node_rank(ranks, y->from);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	rx = node_rank(ranks, x->to);
	ry = node_rank(ranks, y->to);
	return (rx > ry) - (rx < ry);
}

/*
 * The edges of the transitions (which are sorted here), ranked; *nedges is
 * their number.
 */
static Edge *
count_edges(Transition *t, uint64 nt, const int32 *ranks, uint64 *nedges)
{
	Edge	   *edges = MemoryContextAllocHuge(CurrentMemoryContext,
											   sizeof(Edge) * (Size) Max(nt, 1));
	uint64		n = 0,
				i = 0;

	qsort(t, nt, sizeof(Transition), transition_cmp);
	while (i < nt)
	{
		uint64		j = i;
		uint64		cnt;

		CHECK_FOR_INTERRUPTS();
		while (j < nt && t[j].step == t[i].step && t[j].from == t[i].from && t[j].to == t[i].to)
			j++;
		cnt = j - i;
		edges[n].step = t[i].step;
		edges[n].from = t[i].from;
		edges[n].to = t[i].to;
		edges[n].entities = (int64) cnt;
		/* deltas are sorted within the edge */
		edges[n].median2 = (int128) t[i + (cnt - 1) / 2].delta + t[i + cnt / 2].delta;
		n++;
		i = j;
	}
	qsort_arg(edges, n, sizeof(Edge), edge_rank_cmp, (void *) ranks);
	*nedges = n;
	return edges;
}

/* a kept node: (step, name id) */
typedef struct NodeKey
{
	int32		step;
	int32		id;
} NodeKey;

static int
node_key_cmp(const void *a, const void *b)
{
	const NodeKey *x = a;
	const NodeKey *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static inline bool
node_kept(const NodeKey *kept, int nkept, int32 step, int32 id)
{
	NodeKey		k = {step, id};

	return bsearch(&k, kept, nkept, sizeof(NodeKey), node_key_cmp) != NULL;
}

/* one path: ids[0 .. len - 1] (name ids), in the flat path array */
typedef struct PathSort
{
	const int32 *ids;
	int32		len;
	const int32 *ranks;
	int64		entities;		/* after grouping */
} PathSort;

static int
path_seq_cmp(const PathSort *x, const PathSort *y)
{
	int			i;

	for (i = 0; i < x->len && i < y->len; i++)
	{
		int32		rx = x->ranks[x->ids[i]];
		int32		ry = y->ranks[y->ids[i]];

		if (rx != ry)
			return rx < ry ? -1 : 1;
	}
	return (x->len > y->len) - (x->len < y->len);
}

static int
path_lex_cmp(const void *a, const void *b)
{
	return path_seq_cmp(a, b);
}

static int
path_rank_cmp(const void *a, const void *b)
{
	const PathSort *x = a;
	const PathSort *y = b;

	if (x->entities != y->entities)
		return x->entities > y->entities ? -1 : 1;
	return path_seq_cmp(x, y);
}

static void
append_name(StringInfo buf, const EventJourneys *j, int32 id)
{
	if (id == PATHS_OTHER)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, j->names[id]);
}

/* twice a median in microseconds, as seconds (exact: at most 7 decimals) */
static void
append_seconds(StringInfo buf, int128 median2)
{
	int128		tenth_us = median2 * 5;	/* units of 1e-7 seconds */
	int64		whole = (int64) (tenth_us / 10000000);
	int64		frac = (int64) (tenth_us % 10000000);
	char		digits[16];
	int			n;

	appendStringInfo(buf, INT64_FORMAT, whole);
	if (frac == 0)
		return;
	snprintf(digits, sizeof(digits), "%07d", (int) frac);
	for (n = 7; digits[n - 1] == '0'; n--)
		;
	digits[n] = '\0';
	appendStringInfo(buf, ".%s", digits);
}

PG_FUNCTION_INFO_V1(paths_final);
Datum
paths_final(PG_FUNCTION_ARGS)
{
	PathsState *st = FUNNEL_STATE_ARG(PathsState, 0);
	const PathsConfig *cfg;
	EventJourneys j;
	int32		anchor = -1;
	int			maxnodes;
	int32	   *ids;
	int64	   *times;
	int32	   *ring_ids;
	int64	   *ring_times;
	Transition *trans;
	uint64		ntrans = 0;
	int32	   *pathids;
	PathSort   *paths;
	uint64		npaths = 0;
	uint64		ngroups = 0;
	uint64		nedges;
	Edge	   *edges;
	NodeKey    *kept;
	int			nkept = 0;
	uint64		i,
				k;
	uint32		e;
	StringInfoData buf;

	if (st == NULL)
		PG_RETURN_NULL();
	cfg = &st->cfg;
	maxnodes = cfg->depth + 1;
	event_log_journeys(st->log, true, &j);
	if (cfg->anchor != ANCHOR_NONE)
		anchor = event_log_find_name(st->log, cfg->event, cfg->event_len);

	funnel_check_memory(j.bytes +
						(sizeof(Transition) + sizeof(Edge)) * Min((Size) j.nent * cfg->depth, (Size) st->log->nrows) +
						(sizeof(int32) * maxnodes + sizeof(PathSort)) * (Size) j.nent);
	ids = palloc(sizeof(int32) * maxnodes);
	times = palloc(sizeof(int64) * maxnodes);
	ring_ids = palloc(sizeof(int32) * maxnodes);
	ring_times = palloc(sizeof(int64) * maxnodes);
	/* an entity makes at most depth moves, and one per row after its first */
	trans = MemoryContextAllocHuge(CurrentMemoryContext,
								   sizeof(Transition) *
								   (Min((Size) j.nent * cfg->depth, (Size) st->log->nrows) + 1));
	pathids = MemoryContextAllocHuge(CurrentMemoryContext,
									 sizeof(int32) * ((Size) j.nent * maxnodes + 1));
	paths = MemoryContextAllocHuge(CurrentMemoryContext,
								   sizeof(PathSort) * ((Size) j.nent + 1));

	for (e = 0; e < j.nent && (cfg->anchor == ANCHOR_NONE || anchor >= 0); e++)
	{
		const EventRow *r = j.rows + j.starts[e];
		uint64		nr = j.starts[e + 1] - j.starts[e];
		int32		prev = -1;
		int			n = 0;
		int32		step0 = 0;
		bool		found = false;
		int			ring_n = 0,
					ring_at = 0;

		CHECK_FOR_INTERRUPTS();
		for (k = 0; k < nr; k++)
		{
			if (r[k].name == prev)
				continue;		/* a repeat of the node before */
			prev = r[k].name;
			if (cfg->anchor == ANCHOR_START && !found)
			{
				if (r[k].name != anchor)
					continue;
				found = true;
			}
			if (cfg->anchor == ANCHOR_END)
			{
				if (r[k].name == anchor)
				{
					found = true;
					break;
				}
				/* keep the last depth nodes before the anchor */
				ring_ids[ring_at] = r[k].name;
				ring_times[ring_at] = r[k].ts;
				ring_at = (ring_at + 1) % cfg->depth;
				if (ring_n < cfg->depth)
					ring_n++;
				continue;
			}
			ids[n] = r[k].name;
			times[n] = r[k].ts;
			if (++n == maxnodes)
				break;
		}
		if (cfg->anchor == ANCHOR_END)
		{
			int			m;

			if (!found)
				continue;
			for (m = 0; m < ring_n; m++)
			{
				int			at = (ring_at - ring_n + m + cfg->depth) % cfg->depth;

				ids[m] = ring_ids[at];
				times[m] = ring_times[at];
			}
			ids[ring_n] = anchor;
			times[ring_n] = r[k].ts;
			n = ring_n + 1;
			step0 = -ring_n;
		}
		if (n == 0)
			continue;
		for (k = 0; k + 1 < (uint64) n; k++)
		{
			trans[ntrans].step = step0 + (int32) k;
			trans[ntrans].from = ids[k];
			trans[ntrans].to = ids[k + 1];
			trans[ntrans].delta = times[k + 1] - times[k];
			ntrans++;
		}
		memcpy(pathids + npaths * maxnodes, ids, sizeof(int32) * n);
		paths[npaths].ids = pathids + npaths * maxnodes;
		paths[npaths].len = n;
		paths[npaths].ranks = j.ranks;
		paths[npaths].entities = 1;
		npaths++;
	}

	/* the nodes of the top_n edges are kept, and the anchor */
	edges = count_edges(trans, ntrans, j.ranks, &nedges);
	kept = palloc(sizeof(NodeKey) * (2 * (Size) cfg->top_n + 1));
	for (i = 0; i < nedges && i < (uint64) cfg->top_n; i++)
	{
		kept[nkept].step = edges[i].step;
		kept[nkept++].id = edges[i].from;
		kept[nkept].step = edges[i].step + 1;
		kept[nkept++].id = edges[i].to;
	}
	if (anchor >= 0)
	{
		kept[nkept].step = 0;
		kept[nkept++].id = anchor;
	}
	pfree(edges);
	qsort(kept, nkept, sizeof(NodeKey), node_key_cmp);
	for (i = 0; i < ntrans; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!node_kept(kept, nkept, trans[i].step, trans[i].from))
			trans[i].from = PATHS_OTHER;
		if (!node_kept(kept, nkept, trans[i].step + 1, trans[i].to))
			trans[i].to = PATHS_OTHER;
	}
	edges = count_edges(trans, ntrans, j.ranks, &nedges);

	/* whole paths: group equal ones, then rank */
	if (npaths > 0)
	{
		qsort(paths, npaths, sizeof(PathSort), path_lex_cmp);
		for (i = 0; i < npaths; i++)
		{
			if (ngroups > 0 && path_seq_cmp(&paths[ngroups - 1], &paths[i]) == 0)
				paths[ngroups - 1].entities++;
			else
				paths[ngroups++] = paths[i];
		}
		qsort(paths, ngroups, sizeof(PathSort), path_rank_cmp);
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"anchor\": ");
	if (cfg->anchor == ANCHOR_NONE)
		appendStringInfoString(&buf, "null, \"event\": null");
	else
	{
		appendStringInfoString(&buf, cfg->anchor == ANCHOR_START ? "\"start\"" : "\"end\"");
		appendStringInfoString(&buf, ", \"event\": ");
		escape_json(&buf, cfg->event);
	}
	appendStringInfo(&buf, ", \"depth\": %d, \"top_n\": %d, \"entities\": " UINT64_FORMAT ", \"edges\": [",
					 cfg->depth, cfg->top_n, npaths);
	for (i = 0; i < nedges && i < (uint64) cfg->top_n; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "{\"step\": %d, \"from\": ", edges[i].step);
		append_name(&buf, &j, edges[i].from);
		appendStringInfoString(&buf, ", \"to\": ");
		append_name(&buf, &j, edges[i].to);
		appendStringInfo(&buf, ", \"entities\": " INT64_FORMAT ", \"median_seconds\": ",
						 edges[i].entities);
		append_seconds(&buf, edges[i].median2);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "], \"paths\": [");
	for (i = 0; i < ngroups && i < (uint64) cfg->top_n; i++)
	{
		int			m;

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"events\": [");
		for (m = 0; m < paths[i].len; m++)
		{
			if (m > 0)
				appendStringInfoString(&buf, ", ");
			append_name(&buf, &j, paths[i].ids[m]);
		}
		appendStringInfo(&buf, "], \"entities\": " INT64_FORMAT "}", paths[i].entities);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
