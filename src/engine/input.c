/*
 * src/engine/input.c
 *    Reading one row of a funnel aggregate's arguments: the window, the
 *    mode, and the steps the row matches, given as boolean conditions, as a
 *    funnel_event, or as an event name looked up in a constant text[].
 *
 * Parsing is cached per call site (fn_extra) and redone only when a row
 * brings a different raw value; the group's state then checks that every
 * row of the group gives the same configuration.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "nodes/primnodes.h"
#include "engine/funnel.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"

/*
 * Whether argument argno of the call is the same on every row: a constant
 * or a query parameter.  A transition function's own expression names its
 * arguments by placeholders, so inside an aggregate the aggregate call's
 * arguments are looked at (argument 0 of the transition is the state).
 */
static bool
arg_is_stable(FunctionCallInfo fcinfo, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);

	if (aggref != NULL)
	{
		TargetEntry *tle;
		Node	   *expr;

		if (argno < 1 || argno > list_length(aggref->args))
			return false;
		tle = list_nth_node(TargetEntry, aggref->args, argno - 1);
		expr = (Node *) tle->expr;
		if (IsA(expr, Const))
			return true;
		if (IsA(expr, Param))
			return ((Param *) expr)->paramkind == PARAM_EXTERN;
		return false;
	}
	return get_fn_expr_arg_stable(fcinfo->flinfo, argno);
}

FunnelInput *
funnel_input_setup(FunctionCallInfo fcinfo, FunnelInputKind kind, int args)
{
	FunnelInput *in = (FunnelInput *) fcinfo->flinfo->fn_extra;

	if (in == NULL)
	{
		in = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FunnelInput));
		in->kind = kind;
		in->options_checked_for = -1;
		in->args = args;
		if (args & FUNNEL_ARG_MODE)
			in->arg_mode = funnel_arg_number(args, FUNNEL_ARG_MODE);
		if (args & FUNNEL_ARG_TARGET)
			in->arg_target = funnel_arg_number(args, FUNNEL_ARG_TARGET);
		if (args & FUNNEL_ARG_ENTITY)
			in->arg_entity = funnel_arg_number(args, FUNNEL_ARG_ENTITY);
		if (args & FUNNEL_ARG_BREAKDOWN)
			in->arg_breakdown = funnel_arg_number(args, FUNNEL_ARG_BREAKDOWN);
		in->arg_input = funnel_arg_number(args, FUNNEL_ARG_INPUT);
		/* fixed-arity overloads spare PostgreSQL building an array per row */
		if (kind == FUNNEL_INPUT_BOOLS)
			in->fixed_bools = (get_fn_expr_argtype(fcinfo->flinfo, in->arg_input + 1) == BOOLOID);
		in->cxt = fcinfo->flinfo->fn_mcxt;
		/* constants (and query parameters) are read on the first row only */
		in->window_stable = arg_is_stable(fcinfo, 1);
		in->mode_stable = in->arg_mode != 0 && arg_is_stable(fcinfo, in->arg_mode);
		in->last_npositions = -1;
		if (kind == FUNNEL_INPUT_NAMES)
		{
			Oid			collid = PG_GET_COLLATION();

			in->names_stable = arg_is_stable(fcinfo, in->arg_input + 2);
			if (OidIsValid(collid) && !get_collation_isdeterministic(collid))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("funnel step names cannot use a nondeterministic collation"),
						 errhint("Compare event names under a deterministic collation, e.g. COLLATE \"C\".")));
		}
		fcinfo->flinfo->fn_extra = in;
	}
	return in;
}

static void
read_window(FunctionCallInfo fcinfo, FunnelInput *in)
{
	Interval   *w;

	if (in->window_stable && in->configured)
		return;
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel window must not be NULL")));
	w = PG_GETARG_INTERVAL_P(1);
	if (!in->configured || memcmp(w, &in->window_arg, sizeof(Interval)) != 0)
	{
		in->cfg.window = funnel_window_usecs(w);
		in->window_arg = *w;
		in->cfg_version++;
	}
}

static void
read_mode(FunctionCallInfo fcinfo, FunnelInput *in)
{
	text	   *m;

	if (in->configured && (in->arg_mode == 0 || in->mode_stable))
		return;
	if (in->arg_mode == 0)
	{
		in->cfg.mode = 0;
		in->cfg.has_options = false;
		return;
	}
	if (PG_ARGISNULL(in->arg_mode))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("funnel mode must not be NULL"),
				 errhint("Use '' for the default mode.")));
	m = PG_GETARG_TEXT_PP(in->arg_mode);
	if (!in->configured || in->mode_arg == NULL ||
		VARSIZE_ANY_EXHDR(m) != VARSIZE_ANY_EXHDR(in->mode_arg) ||
		memcmp(VARDATA_ANY(m), VARDATA_ANY(in->mode_arg), VARSIZE_ANY_EXHDR(m)) != 0)
	{
		funnel_parse_options(m, &in->cfg);
		in->cfg_version++;
		in->options_checked_for = -1;	/* check the options against the steps again */
		if (in->mode_arg)
			pfree(in->mode_arg);
		in->mode_arg = (text *) MemoryContextAlloc(in->cxt, VARSIZE_ANY(m));
		memcpy(in->mode_arg, m, VARSIZE_ANY(m));
	}
}

/* Build the name lookup: distinct names, each with every step it names. */
static void
parse_names(FunnelInput *in, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i,
				j;
	MemoryContext old;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("funnel step names must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	funnel_check_nsteps(n);

	old = MemoryContextSwitchTo(in->cxt);
	if (in->names_arg)
	{
		pfree(in->names_arg);
		for (i = 0; i < in->nnames; i++)
			pfree(in->names[i]);
		pfree(in->names);
		pfree(in->name_lens);
		pfree(in->name_steps);
	}
	in->names_arg = (ArrayType *) palloc(VARSIZE(arr));
	memcpy(in->names_arg, arr, VARSIZE(arr));
	in->names = palloc(sizeof(char *) * Max(n, 1));
	in->name_lens = palloc(sizeof(int) * Max(n, 1));
	in->name_steps = palloc(sizeof(uint64) * Max(n, 1));
	in->nnames = 0;
	for (i = 0; i < n; i++)
	{
		text	   *t;
		int			len;

		if (nulls[i])
			continue;			/* a NULL name matches no event */
		t = DatumGetTextPP(elems[i]);
		len = VARSIZE_ANY_EXHDR(t);
		for (j = 0; j < in->nnames; j++)
			if (in->name_lens[j] == len && memcmp(in->names[j], VARDATA_ANY(t), len) == 0)
				break;
		if (j == in->nnames)
		{
			/* zero-padded to NAME_WORDS_MAX: compared by words (names_equal) */
			in->names[j] = palloc0(Max(len, NAME_WORDS_MAX) + 1);
			memcpy(in->names[j], VARDATA_ANY(t), len);
			in->name_lens[j] = len;
			in->name_steps[j] = 0;
			in->nnames++;
		}
		in->name_steps[j] |= (uint64) 1 << i;
	}
	MemoryContextSwitchTo(old);
	memset(in->name_slots, 0, sizeof(in->name_slots));
	for (j = 0; j < (int) lengthof(in->name_slots); j++)
		in->name_slots[j].len = NAME_NONE;
	for (j = 0; j < in->nnames; j++)
	{
		FunnelNameSlot *e = &in->name_slots[NAME_SLOT(in->names[j], in->name_lens[j])];

		if (e->len == NAME_NONE && in->name_lens[j] <= NAME_WORDS_MAX)
		{
			e->len = in->name_lens[j];
			e->steps = in->name_steps[j];
			memcpy(e->name, in->names[j], in->name_lens[j]);
		}
		else
			e->len = NAME_SCAN;
	}
	in->cfg.nsteps = n;
	in->npositions = n;
	in->cfg_version++;
	/* rows of one group must name the same steps: compared through a hash */
	in->cfg.names_hash = DatumGetUInt64(hash_any_extended((const unsigned char *) arr + VARHDRSZ,
														  VARSIZE(arr) - VARHDRSZ,
														  n)) | 1;
}

/* An event name against a step name of the same length, of any length. */
static inline bool
names_equal(const char *a, const char *b, int len)
{
	if (len <= NAME_WORDS_MAX)
		return funnel_names_equal_short(a, b, len);
	return memcmp(a, b, len) == 0;
}

/*
 * The steps of an event name, whatever it is: compressed or stored apart,
 * longer than NAME_WORDS_MAX, or in a slot of several step names.
 */
uint64
funnel_name_steps_any(const FunnelInput *in, Datum event)
{
	struct varlena *ev = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(event));
	uint64		steps = 0;
	int			len = VARSIZE_ANY_EXHDR(ev);
	const char *d = VARDATA_ANY(ev);
	const FunnelNameSlot *e = &in->name_slots[NAME_SLOT(d, len)];

	if (e->len != NAME_SCAN)
	{
		if (e->len == len && funnel_names_equal_short(e->name, d, len))
			steps = e->steps;
	}
	else
	{
		int			i;

		for (i = 0; i < in->nnames; i++)
		{
			if (in->name_lens[i] == len && names_equal(in->names[i], d, len))
			{
				steps = in->name_steps[i];
				break;
			}
		}
	}
	if ((Pointer) ev != DatumGetPointer(event))
		pfree(ev);
	return steps;
}

/*
 * A row read whole: its settings and steps checked, the configuration
 * built (kept apart from the fast paths above so that they pay for none
 * of its registers).  The row comes back by value, its time
 * FUNNEL_ROW_IGNORED for a row to ignore: a caller's time and steps then
 * stay in registers, with no stack slot whose address is taken (which
 * would also cost the caller a stack-protector check every row).
 */
FunnelEvent
funnel_input_read_all(FunctionCallInfo fcinfo, FunnelInput *in)
{
	int			a = in->arg_input;
	int			npositions;
	bool		use = true;
	bool		settled;
	FunnelEvent row = {0, 0};
	int64	   *ts = &row.ts;
	uint64	   *steps = &row.steps;

	read_window(fcinfo, in);
	read_mode(fcinfo, in);
	in->cfg.with_breakdown = (in->args & FUNNEL_ARG_BREAKDOWN) != 0;

	switch (in->kind)
	{
		case FUNNEL_INPUT_BOOLS:
			{
				int			n;

				if (in->fixed_bools)
				{
					int			k;

					n = PG_NARGS() - a - 1;
					funnel_check_nsteps(n);
					*steps = 0;
					for (k = 0; k < n; k++)
						if (!PG_ARGISNULL(a + 1 + k) && PG_GETARG_BOOL(a + 1 + k))
							*steps |= (uint64) 1 << k;
				}
				else
				{
					if (PG_ARGISNULL(a + 1))
						ereport(ERROR,
								(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								 errmsg("funnel step conditions must not be a NULL array"),
								 errhint("A NULL condition counts as false; pass the conditions themselves.")));
					*steps = funnel_steps_from_bools(PG_GETARG_ARRAYTYPE_P(a + 1), &n);
				}
				in->cfg.nsteps = npositions = n;
				if (PG_ARGISNULL(a))
					use = false;
				else
					*ts = PG_GETARG_TIMESTAMPTZ(a);
				break;
			}
		case FUNNEL_INPUT_EVENT:
			{
				FunnelEvent *ev;

				in->cfg.nsteps = npositions = FUNNEL_MAX_STEPS;
				in->cfg.open_steps = true;
				if (PG_ARGISNULL(a))
				{
					use = false;
					break;
				}
				ev = PG_GETARG_FUNNEL_EVENT_P(a);
				*ts = ev->ts;
				*steps = ev->steps;
				break;
			}
		case FUNNEL_INPUT_NAMES:
			{
				if (in->names_arg == NULL || !in->names_stable)
				{
					ArrayType  *arr;

					if (PG_ARGISNULL(a + 2))
						ereport(ERROR,
								(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								 errmsg("funnel step names must not be a NULL array")));
					arr = PG_GETARG_ARRAYTYPE_P(a + 2);
					if (in->names_arg == NULL ||
						VARSIZE(arr) != VARSIZE(in->names_arg) ||
						memcmp(arr, in->names_arg, VARSIZE(arr)) != 0)
						parse_names(in, arr);
				}
				npositions = in->npositions;
				if (PG_ARGISNULL(a))
				{
					use = false;
					break;
				}
				*ts = PG_GETARG_TIMESTAMPTZ(a);
				*steps = PG_ARGISNULL(a + 1) ? 0 : funnel_name_steps(in, PG_GETARG_DATUM(a + 1));
				break;
			}
		default:
			elog(ERROR, "unrecognized funnel input kind %d", (int) in->kind);
	}
	if (npositions != in->last_npositions)
	{
		/* e.g. a boolean[] of another length than the row before's */
		in->last_npositions = npositions;
		in->cfg_version++;
	}
	/* product-funnel options: the funnel's steps are the conditions before the exclusions */
	if (in->cfg.optional != 0 || in->cfg.nexcl != 0 || in->cfg.options != 0 ||
		in->cfg.bucket != 0 || in->cfg.time_zone[0] != '\0' || in->cfg.breakdown != 0)
	{
		/* checked once per mode and number of conditions */
		if (in->options_checked_for != npositions)
		{
			in->cfg_version++;
			funnel_apply_options(&in->cfg, npositions);
			in->options_checked_for = npositions;
			in->options_nsteps = in->cfg.nsteps;
		}
		else
			in->cfg.nsteps = in->options_nsteps;
		if (use && in->kind == FUNNEL_INPUT_EVENT)
			funnel_check_row_steps(&in->cfg, *steps);
	}
	in->configured = true;
	/*
	 * Event names or conditions given as arguments (as many as the call
	 * has), under constant settings and steps: the next rows take a fast
	 * path above (what this row read stays as it is).  A product funnel's
	 * options (optional steps, exclusions) are applied above once for the
	 * number of conditions, which stays; time buckets and breakdowns read
	 * more of each row.
	 */
	settled = in->window_stable && (in->arg_mode == 0 || in->mode_stable) &&
		in->cfg.bucket == 0 && in->cfg.time_zone[0] == '\0' && in->cfg.breakdown == 0;
	in->names_fast = settled && in->kind == FUNNEL_INPUT_NAMES && in->names_stable;
	in->bools_fast = settled && in->kind == FUNNEL_INPUT_BOOLS && in->fixed_bools;
	in->nbools = npositions;
	if (!use)
	{
		row.ts = FUNNEL_ROW_IGNORED;
		return row;
	}
	/* infinities lie outside the valid range too */
	if (unlikely(!IS_VALID_TIMESTAMP(*ts)))
		funnel_check_timestamp(*ts);
	return row;
}

bool
funnel_config_equal(const FunnelConfig *a, const FunnelConfig *b)
{
	return a->window == b->window && a->nsteps == b->nsteps &&
		a->mode == b->mode && a->target == b->target &&
		a->want_elapsed == b->want_elapsed && a->open_steps == b->open_steps &&
		a->names_hash == b->names_hash && a->options == b->options &&
		a->optional == b->optional && a->nexcl == b->nexcl &&
		memcmp(a->excl, b->excl, sizeof(FunnelExclusion) * a->nexcl) == 0 &&
		a->bucket == b->bucket && strcmp(a->time_zone, b->time_zone) == 0 &&
		a->breakdown == b->breakdown && a->breakdown_step == b->breakdown_step &&
		a->with_breakdown == b->with_breakdown;
}

/*
 * The current row's configuration as a long-lived shared copy: states point
 * at it instead of carrying their own, and equal pointers mean equal
 * configurations.
 */
const FunnelConfig *
funnel_input_config(FunnelInput *in)
{
	int			i;
	FunnelConfig *c;

	for (i = in->nconfigs - 1; i >= 0; i--)
		if (funnel_config_equal(in->configs[i], &in->cfg))
			return in->configs[i];
	c = MemoryContextAlloc(in->cxt, sizeof(FunnelConfig));
	*c = in->cfg;
	if (in->nconfigs < (int) lengthof(in->configs))
		in->configs[in->nconfigs++] = c;
	else
	{
		/* many windows or modes in one query: keep the newest ones */
		memmove(&in->configs[0], &in->configs[1], sizeof(FunnelConfig *) * (lengthof(in->configs) - 1));
		in->configs[lengthof(in->configs) - 1] = c;
	}
	return c;
}

void
funnel_config_check_same(const FunnelConfig *a, const FunnelConfig *b)
{
	if (a->window != b->window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window differs between rows of one group"),
				 errhint("Give every row of a group the same window.")));
	if (a->nsteps != b->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel step count differs between rows of one group (%d and %d)",
						a->nsteps, b->nsteps),
				 errhint("Give every row of a group the same steps.")));
	if (a->names_hash != b->names_hash)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel step names differ between rows of one group"),
				 errhint("Give every row of a group the same steps array.")));
	/* fixed by the aggregate and its input kind: equal within any group */
	if (a->open_steps != b->open_steps || a->want_elapsed != b->want_elapsed)
		elog(ERROR, "cannot combine states of different funnel aggregates");
	if (a->mode != b->mode || a->options != b->options ||
		a->optional != b->optional || a->nexcl != b->nexcl ||
		memcmp(a->excl, b->excl, sizeof(FunnelExclusion) * a->nexcl) != 0 ||
		a->bucket != b->bucket || strcmp(a->time_zone, b->time_zone) != 0 ||
		a->breakdown != b->breakdown || a->breakdown_step != b->breakdown_step)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel mode differs between rows of one group"),
				 errhint("Give every row of a group the same mode.")));
	if (a->target != b->target)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("to_step differs between rows of one group"),
				 errhint("Give every row of a group the same to_step.")));
}

/* ---------- functions over stored journeys ---------- */

typedef struct JourneyConfigCache
{
	Interval	window;			/* the raw arguments parsed last */
	bool		want_elapsed;
	int			mode_len;
	int			mode_cap;
	FunnelConfig cfg;
	char	   *mode;
} JourneyConfigCache;

/*
 * The funnel of a function over stored journeys (window_funnel,
 * time_to_convert and funnel_summary over a journey): the window, the mode
 * and its options (those the function uses: FUNNEL_USES_*), as many steps
 * as the journey names.  Parsed once per
 * call site, again only when a row's window or mode differ from the last
 * row's, so walking a table of short journeys does not parse a mode per row.
 */
const FunnelConfig *
funnel_journey_config(FunctionCallInfo fcinfo, Interval *window, text *mode,
					  bool want_elapsed, int uses)
{
	JourneyConfigCache *c = (JourneyConfigCache *) fcinfo->flinfo->fn_extra;
	int			mode_len = (int) VARSIZE_ANY_EXHDR(mode);
	FunnelConfig cfg;

	if (c != NULL && c->want_elapsed == want_elapsed && c->mode_len == mode_len &&
		memcmp(&c->window, window, sizeof(Interval)) == 0 &&
		memcmp(c->mode, VARDATA_ANY(mode), mode_len) == 0)
		return &c->cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.window = funnel_window_usecs(window);
	cfg.open_steps = true;
	cfg.want_elapsed = want_elapsed;
	funnel_parse_options(mode, &cfg);
	funnel_apply_options(&cfg, FUNNEL_MAX_STEPS);
	funnel_check_used_options(&cfg, uses);
	if (c == NULL || c->mode_cap < mode_len)
	{
		JourneyConfigCache *nc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														sizeof(JourneyConfigCache));

		nc->mode = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, mode_len + 1);
		nc->mode_cap = mode_len;
		if (c != NULL)
		{
			pfree(c->mode);
			pfree(c);
		}
		c = nc;
		fcinfo->flinfo->fn_extra = c;
	}
	c->window = *window;
	c->want_elapsed = want_elapsed;
	c->mode_len = mode_len;
	memcpy(c->mode, VARDATA_ANY(mode), mode_len);
	c->cfg = cfg;
	return &c->cfg;
}
