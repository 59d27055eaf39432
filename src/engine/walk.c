/*
 * src/engine/walk.c
 *    The funnel engine: the walk of doc/window_funnel.md (ClickHouse's
 *    windowFunnel), shared by every function that needs a funnel level or a
 *    conversion time.
 *
 * Entries (ts, k) are walked in (ts, k) order.  All entries with one
 * timestamp form a "group"; for every mode but strict_once a group is fully
 * described by the union of its steps, the steps seen twice (only
 * strict_deduplication can tell a repeated entry from a single one) and
 * whether a row matched no step (strict_order's step 0).  So rows that arrive
 * in time order are walked online with a fixed-size state, and a track keeps
 * a delta-encoded log to re-walk exactly when they do not.
 */
#include "postgres.h"

#include <ctype.h>

#include "common/int.h"
#include "common/interval_usecs.h"
#include "common/varint.h"
#include "engine/funnel.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* ---------- configuration ---------- */

static const struct
{
	const char *name;
	uint32		flag;
}			funnel_modes[] =
{
	{"strict_deduplication", FUNNEL_STRICT_DEDUPLICATION},
	{"strict_order", FUNNEL_STRICT_ORDER},
	{"strict_increase", FUNNEL_STRICT_INCREASE},
	{"strict_once", FUNNEL_STRICT_ONCE},
	{"allow_reentry", FUNNEL_ALLOW_REENTRY},
};

#define FUNNEL_MODE_LIST "strict_deduplication, strict_order, strict_increase, strict_once, allow_reentry"

const char *
funnel_bucket_name(int bucket)
{
	static const char *const names[] = {"", "hour", "day", "week", "month"};

	return (bucket >= 0 && bucket <= FUNNEL_BUCKET_MONTH) ? names[bucket] : "";
}

const char *
funnel_breakdown_name(int breakdown)
{
	static const char *const names[] = {"", "first_touch", "last_touch", "step", "all_events"};

	return (breakdown >= 0 && breakdown <= FUNNEL_BREAKDOWN_ALL_EVENTS) ? names[breakdown] : "";
}

/* The flag of one mode name (len bytes), 0 when it names no mode. */
uint32
funnel_mode_flag(const char *name, int len)
{
	int			i;

	for (i = 0; i < (int) lengthof(funnel_modes); i++)
		if (strlen(funnel_modes[i].name) == (size_t) len &&
			strncmp(funnel_modes[i].name, name, len) == 0)
			return funnel_modes[i].flag;
	return 0;
}

/* The mode as its comma-separated names, in the list's order ("" for none). */
char *
funnel_mode_names(uint32 mode)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < (int) lengthof(funnel_modes); i++)
		if (mode & funnel_modes[i].flag)
			appendStringInfo(&buf, "%s%s", buf.len ? "," : "", funnel_modes[i].name);
	return buf.data;
}

static void
bad_mode_item(const char *start, int len)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized funnel mode \"%.*s\"", len, start),
			 errhint("Allowed modes are: %s.", FUNNEL_MODE_LIST)));
}

/* A step or position number of a mode option: 1..FUNNEL_MAX_STEPS. */
static int
option_number(const char *str, const char *word, int len, const char *what)
{
	int			v = 0;
	int			i;

	for (i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) word[i]) || v > FUNNEL_MAX_STEPS)
			break;
		v = v * 10 + (word[i] - '0');
	}
	if (len == 0 || i < len || v < 1 || v > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%.*s\" in funnel mode \"%s\" is not a step number from 1 to %d",
						what, len, word, str, FUNNEL_MAX_STEPS)));
	return v;
}

/*
 * One option of several words (start..end): "optional N [N ...]" or
 * "exclude P from A to B".
 */
static void
parse_option_words(const char *str, const char *start, const char *end,
				   FunnelConfig *cfg)
{
	const char *w[8];
	int			wl[8];
	int			nw = 0;
	const char *p = start;

	while (p < end)
	{
		while (p < end && isspace((unsigned char) *p))
			p++;
		if (p == end)
			break;
		if (nw == lengthof(w))
			bad_mode_item(start, end - start);
		w[nw] = p;
		while (p < end && !isspace((unsigned char) *p))
			p++;
		wl[nw] = p - w[nw];
		nw++;
	}
	if (nw == 2 && wl[0] == 6 && strncmp(w[0], "bucket", 6) == 0)
	{
		int			b;

		for (b = FUNNEL_BUCKET_HOUR; b <= FUNNEL_BUCKET_MONTH; b++)
			if (strlen(funnel_bucket_name(b)) == (size_t) wl[1] &&
				strncmp(w[1], funnel_bucket_name(b), wl[1]) == 0)
				break;
		if (b > FUNNEL_BUCKET_MONTH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized funnel trend bucket \"%.*s\"", wl[1], w[1]),
					 errhint("Use hour, day, week or month.")));
		cfg->bucket = b;
		return;
	}
	if (wl[0] == 9 && strncmp(w[0], "breakdown", 9) == 0 && (nw == 2 || nw == 3))
	{
		int			b;

		if (cfg->breakdown != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("funnel mode \"%s\" names more than one breakdown attribution", str)));
		for (b = FUNNEL_BREAKDOWN_FIRST_TOUCH; b <= FUNNEL_BREAKDOWN_ALL_EVENTS; b++)
			if (strlen(funnel_breakdown_name(b)) == (size_t) wl[1] &&
				strncmp(w[1], funnel_breakdown_name(b), wl[1]) == 0)
				break;
		if (b > FUNNEL_BREAKDOWN_ALL_EVENTS || (b == FUNNEL_BREAKDOWN_STEP) != (nw == 3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized breakdown attribution \"%.*s\"", (int) (end - start), start),
					 errhint("Use breakdown first_touch, breakdown last_touch, breakdown step <step> or breakdown all_events.")));
		cfg->breakdown = b;
		if (nw == 3)
			cfg->breakdown_step = option_number(str, w[2], wl[2], "breakdown step");
		return;
	}
	if (nw == 2 && wl[0] == 7 && strncmp(w[0], "to_step", 7) == 0)
	{
		cfg->target = option_number(str, w[1], wl[1], "to_step");
		cfg->options |= FUNNEL_OPT_TO_STEP;
		return;
	}
	if (nw == 2 && wl[0] == 9 && strncmp(w[0], "time_zone", 9) == 0)
	{
		if (wl[1] >= FUNNEL_TZ_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone name \"%.*s\" is too long", wl[1], w[1])));
		memcpy(cfg->time_zone, w[1], wl[1]);
		cfg->time_zone[wl[1]] = '\0';
		/* PostgreSQL's own check and message for an unknown zone */
		(void) DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(cfg->time_zone),
								   TimestampTzGetDatum(0));
		return;
	}
	if (wl[0] == 8 && strncmp(w[0], "optional", 8) == 0)
	{
		int			i;

		for (i = 1; i < nw; i++)
			cfg->optional |= (uint64) 1 << (option_number(str, w[i], wl[i], "optional step") - 1);
		return;
	}
	if (nw == 6 && wl[0] == 7 && strncmp(w[0], "exclude", 7) == 0 &&
		wl[2] == 4 && strncmp(w[2], "from", 4) == 0 &&
		wl[4] == 2 && strncmp(w[4], "to", 2) == 0)
	{
		FunnelExclusion *x;

		if (cfg->nexcl == FUNNEL_MAX_EXCLUSIONS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a funnel cannot have more than %d exclusions", FUNNEL_MAX_EXCLUSIONS)));
		x = &cfg->excl[cfg->nexcl++];
		x->pos = option_number(str, w[1], wl[1], "exclusion position");
		x->from = option_number(str, w[3], wl[3], "exclusion step");
		x->to = option_number(str, w[5], wl[5], "exclusion step");
		if (x->from >= x->to)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exclusion \"%.*s\" must end at a later step than it starts",
							(int) (end - start), start),
					 errhint("An exclusion from step A to step B needs A < B.")));
		cfg->excl_mask |= (uint64) 1 << (x->pos - 1);
		return;
	}
	bad_mode_item(start, end - start);
}

/*
 * Parse a comma-separated mode list (whitespace around items is allowed)
 * into cfg's mode flags and product-funnel options; funnel_apply_options
 * checks the options against the funnel's steps.
 */
void
funnel_parse_options(text *mode_text, FunnelConfig *cfg)
{
	char	   *str = text_to_cstring(mode_text);
	char	   *p = str;
	uint32		mode = 0;
	bool		any = false;

	cfg->options = 0;
	cfg->bucket = 0;
	memset(cfg->time_zone, 0, sizeof(cfg->time_zone));
	cfg->nexcl = 0;
	cfg->optional = 0;
	cfg->excl_mask = 0;
	cfg->has_options = false;
	cfg->breakdown = 0;
	cfg->breakdown_step = 0;
	memset(cfg->excl, 0, sizeof(cfg->excl));
	while (*p)
	{
		char	   *start;
		char	   *end;
		char	   *q;
		uint32		flag;

		while (*p && isspace((unsigned char) *p))
			p++;
		if (*p == '\0' && !any)
			break;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		if (end == start)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("empty name in funnel mode \"%s\"", str),
					 errhint("The mode is a comma-separated list of: %s.", FUNNEL_MODE_LIST)));
		for (q = start; q < end && !isspace((unsigned char) *q); q++)
			;
		if (q < end)
			parse_option_words(str, start, end, cfg);
		else if (end - start == 24 && strncmp(start, "exclusion_counts_reached", 24) == 0)
			cfg->options |= FUNNEL_OPT_EXCLUSION_COUNTS_REACHED;
		else if (end - start == 9 && strncmp(start, "any_order", 9) == 0)
			cfg->options |= FUNNEL_OPT_ANY_ORDER;
		else if (end - start == 15 && strncmp(start, "any_order_first", 15) == 0)
			cfg->options |= FUNNEL_OPT_ANY_ORDER_FIRST;
		else if (end - start == 10 && strncmp(start, "step_times", 10) == 0)
			cfg->options |= FUNNEL_OPT_STEP_TIMES;
		else
		{
			flag = funnel_mode_flag(start, end - start);
			mode |= flag;
			if (flag == 0)
			{
				if (end - start == 6 && strncmp(start, "strict", 6) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("funnel mode \"strict\" is no longer supported"),
							 errhint("Use \"strict_deduplication\", its new name.")));
				bad_mode_item(start, end - start);
			}
		}
		any = true;
		if (*p == ',')
		{
			p++;
			/* a trailing comma leaves an empty name */
			while (*p && isspace((unsigned char) *p))
				p++;
			if (*p == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("empty name in funnel mode \"%s\"", str),
						 errhint("The mode is a comma-separated list of: %s.", FUNNEL_MODE_LIST)));
		}
	}
	if ((mode & FUNNEL_ALLOW_REENTRY) && !(mode & FUNNEL_STRICT_ORDER))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel mode \"allow_reentry\" requires \"strict_order\""),
				 errhint("Use \"strict_order, allow_reentry\".")));
	pfree(str);
	cfg->mode = mode;
}

/* The breakdown attribution against the funnel (its own steps: nsteps). */
static void
check_breakdown(const FunnelConfig *cfg, int nsteps)
{
	int			k = cfg->breakdown_step;

	if (cfg->breakdown == 0)
		return;
	if (!cfg->with_breakdown)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel mode \"breakdown %s\" is not used by this function",
						funnel_breakdown_name(cfg->breakdown)),
				 errhint("Breakdown attribution is an option of funnel_breakdown.")));
	if (cfg->breakdown != FUNNEL_BREAKDOWN_STEP)
		return;
	if (k > nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("breakdown step %d is not a step of the funnel", k),
				 errdetail("The funnel's steps are 1 to %d.", nsteps)));
	if (cfg->optional & ((uint64) 1 << (k - 1)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("breakdown step %d is an optional step", k),
				 errdetail("An entity that skips an optional step has no value there; attribute to a required step.")));
	if (cfg->mode != 0 || FUNNEL_ANY_ORDER(cfg))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"breakdown step\" cannot be combined with %s",
						FUNNEL_ANY_ORDER(cfg) ? "any-order funnels" : "ClickHouse's funnel modes"),
				 errdetail("Attribution to a step follows PostHog's ordered walk; use first_touch, last_touch or all_events.")));
}

/*
 * A trend's target step ("to_step K", read by funnel_trends only) against
 * the funnel's own steps (nsteps) and its exclusions, which must end by it.
 */
static void
check_trend_target(const FunnelConfig *cfg, int nsteps)
{
	int			i;

	if (!(cfg->options & FUNNEL_OPT_TO_STEP) || cfg->bucket == 0)
		return;
	if (cfg->target > nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("to_step %d is not a step of the funnel", cfg->target),
				 errdetail("The funnel's steps are 1 to %d.", nsteps)));
	for (i = 0; i < cfg->nexcl; i++)
		if (cfg->excl[i].to > cfg->target)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exclusion at position %d ends at step %d, past to_step %d",
							cfg->excl[i].pos, cfg->excl[i].to, cfg->target),
					 errhint("A trend's exclusions end by its target step.")));
}

/*
 * Check a configuration's options against its conditions: npositions
 * conditions (step input positions) of which the exclusions are the last
 * ones.  Sets cfg->nsteps to the funnel's own steps.  Cheap: called per row.
 */
void
funnel_apply_options(FunnelConfig *cfg, int npositions)
{
	int			nsteps = npositions;
	int			i;

	cfg->nsteps = npositions;
	cfg->has_options = (cfg->optional != 0 || cfg->nexcl != 0 || FUNNEL_ANY_ORDER(cfg));
	if ((cfg->options & FUNNEL_OPT_EXCLUSION_COUNTS_REACHED) && cfg->nexcl == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel mode \"exclusion_counts_reached\" needs an exclusion"),
				 errhint("Add an option \"exclude <position> from <step> to <step>\".")));
	if ((cfg->bucket != 0 || cfg->time_zone[0] != '\0') &&
		(cfg->mode != 0 || cfg->optional || FUNNEL_ANY_ORDER(cfg) ||
		 (cfg->options & (FUNNEL_OPT_STEP_TIMES | FUNNEL_OPT_EXCLUSION_COUNTS_REACHED))))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel trends take no other funnel modes or options"),
				 errdetail("A trend follows the default walk from each entry period's first step-1 row, with PostHog's exclusions only.")));
	if (cfg->time_zone[0] != '\0' && cfg->bucket == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel mode \"time_zone\" needs a \"bucket\"")));
	if ((cfg->options & FUNNEL_OPT_STEP_TIMES) &&
		((cfg->mode & FUNNEL_STRICT_ONCE) || FUNNEL_ANY_ORDER(cfg)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel mode \"step_times\" cannot be combined with %s",
						(cfg->mode & FUNNEL_STRICT_ONCE) ? "\"strict_once\"" : "any-order funnels")));
	if (!cfg->has_options)
	{
		check_breakdown(cfg, nsteps);
		check_trend_target(cfg, nsteps);
		return;
	}
	if (cfg->mode != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot be combined with funnel mode \"%s\"",
						FUNNEL_ANY_ORDER(cfg) ? "any-order funnels" : "optional steps and exclusions",
						funnel_mode_names(cfg->mode)),
				 errdetail("They follow PostHog's funnel walks, which have none of ClickHouse's strict modes.")));
	if (FUNNEL_ANY_ORDER(cfg))
	{
		if ((cfg->options & FUNNEL_OPT_ANY_ORDER) && (cfg->options & FUNNEL_OPT_ANY_ORDER_FIRST))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("funnel modes \"any_order\" and \"any_order_first\" exclude each other")));
		if (cfg->optional != 0 || cfg->nexcl != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("any-order funnels cannot have optional steps or exclusions")));
	}
	for (i = 0; i < cfg->nexcl; i++)
		nsteps = Min(nsteps, cfg->excl[i].pos - 1);
	for (i = 0; i < cfg->nexcl; i++)
	{
		const FunnelExclusion *x = &cfg->excl[i];

		if (x->pos > npositions)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exclusion position %d is past the %d conditions given", x->pos, npositions)));
		if (x->to > nsteps)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("exclusion at position %d ends at step %d, past the funnel's last step %d",
							x->pos, x->to, nsteps),
					 errhint("Exclusion conditions come after every step of the funnel.")));
	}
	if (nsteps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a funnel must have at least one step before its exclusions")));
	/* positions after the steps are all exclusions (open funnel_event input aside) */
	if (!cfg->open_steps)
		for (i = nsteps + 1; i <= npositions; i++)
			if (!(cfg->excl_mask & ((uint64) 1 << (i - 1))))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("condition %d is neither a funnel step nor an exclusion", i),
						 errdetail("The funnel's steps are 1 to %d; the exclusions follow them.", nsteps)));
	if (cfg->optional & 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step 1 of a funnel cannot be optional")));
	if (nsteps < 64 && (cfg->optional >> nsteps) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("optional step %d is not a step of the funnel",
						pg_leftmost_one_pos64(cfg->optional) + 1),
				 errdetail("The funnel's steps are 1 to %d.", nsteps)));
	check_breakdown(cfg, nsteps);
	check_trend_target(cfg, nsteps);
	cfg->nsteps = nsteps;
}

/*
 * Mode items a function has no use for are errors, not silently ignored:
 * uses (FUNNEL_USES_*) says which of step_times and entry periods the
 * calling function reads.
 */
void
funnel_check_used_options(const FunnelConfig *cfg, int uses)
{
	if ((cfg->options & FUNNEL_OPT_STEP_TIMES) && !(uses & FUNNEL_USES_STEP_TIMES))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel mode \"step_times\" is not used by this function"),
				 errhint("Times from step to step are an option of funnel_summary.")));
	if ((cfg->options & FUNNEL_OPT_TO_STEP) && !(uses & FUNNEL_USES_PERIODS))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel mode \"to_step\" is not used by this function"),
				 errhint("A trend's target step is an option of funnel_trends; time_to_convert takes to_step as an argument.")));
	if ((cfg->bucket != 0 || cfg->time_zone[0] != '\0') && !(uses & FUNNEL_USES_PERIODS))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("funnel mode \"%s\" is not used by this function",
						cfg->bucket != 0 ? "bucket" : "time_zone"),
				 errhint("Entry periods are an option of funnel_trends.")));
}

/*
 * An identifier of the product-funnel options that change which entities
 * reach a step (optional steps, exclusions in any order of the mode's items,
 * exclusion_counts_reached, any order): 0 when there are none.  A stored
 * funnel_summary keeps it, so that summaries of different funnels are not
 * rolled up together.
 */
uint32
funnel_options_id(const FunnelConfig *cfg)
{
	uint64		words[2 + FUNNEL_MAX_EXCLUSIONS];
	int			n = 0,
				i,
				j;
	uint32		id;

	if (!cfg->has_options && !(cfg->options & FUNNEL_OPT_EXCLUSION_COUNTS_REACHED))
		return 0;
	words[n++] = cfg->optional;
	words[n++] = cfg->options & (FUNNEL_OPT_EXCLUSION_COUNTS_REACHED | FUNNEL_OPT_ANY_ORDER |
								 FUNNEL_OPT_ANY_ORDER_FIRST);
	for (i = 0; i < cfg->nexcl; i++)
		words[n++] = ((uint64) cfg->excl[i].pos << 16) | ((uint64) cfg->excl[i].from << 8) |
			cfg->excl[i].to;
	/* the exclusions as a set: sorted */
	for (i = 3; i < n; i++)
		for (j = i; j > 2 && words[j - 1] > words[j]; j--)
		{
			uint64		t = words[j];

			words[j] = words[j - 1];
			words[j - 1] = t;
		}
	/* as big-endian bytes: the same identifier on every platform */
	{
		unsigned char bytes[sizeof(words)];

		for (i = 0; i < n; i++)
			for (j = 0; j < 8; j++)
				bytes[i * 8 + j] = (unsigned char) (words[i] >> (56 - 8 * j));
		/* FNV-1a: unlike hash_bytes, the same on every byte order */
		id = 2166136261u;
		for (i = 0; i < 8 * n; i++)
			id = (id ^ bytes[i]) * 16777619u;
	}
	return id != 0 ? id : 1;
}

/* A row of open (funnel_event) input may name only steps and exclusions. */
void
funnel_check_row_steps(const FunnelConfig *cfg, uint64 steps)
{
	uint64		known = (cfg->nsteps == 64 ? PG_UINT64_MAX : ((uint64) 1 << cfg->nsteps) - 1) | cfg->excl_mask;

	if (steps & ~known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an event names step %d, which is neither a funnel step nor an exclusion",
						pg_rightmost_one_pos64(steps & ~known) + 1),
				 errdetail("The funnel's steps are 1 to %d.", cfg->nsteps)));
}

/*
 * Steps reported by the whole-table aggregates: the funnel's steps (for
 * open input, up to the highest step any row named, seen), less the
 * optional ones, which the levels do not count.
 */
int
funnel_reported_steps(const FunnelConfig *cfg, uint64 seen)
{
	int			n = cfg->nsteps;

	if (cfg->open_steps)
	{
		if (n < 64)
			seen &= ((uint64) 1 << n) - 1;
		n = seen ? pg_leftmost_one_pos64(seen) + 1 : 0;
	}
	if (n < 64)
		return n - pg_popcount64(cfg->optional & (((uint64) 1 << n) - 1));
	return n - pg_popcount64(cfg->optional);
}

/*
 * The window in microseconds.  A day counts 24 hours and a month 30 days
 * (as PostgreSQL's interval comparison does); negative windows are errors.
 */
int64
funnel_window_usecs(Interval *window)
{
	int64		result;

	if (!funnel_interval_to_usecs(window, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("funnel window is out of range"),
				 errdetail("A window is at most 2^63 microseconds, about 292,000 years."),
				 errhint("A window longer than the span of the events counts the same as that span.")));
	if (result < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("funnel window must not be negative"),
				 errhint("Use a window of 0 or more, for example '7 days'.")));
	return result;
}

void
funnel_check_nsteps(int nsteps)
{
	/* no step is an invalid argument; more than 64 is the bitmask's limit */
	if (nsteps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a funnel must have at least one step")));
	if (nsteps > FUNNEL_MAX_STEPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a funnel cannot have more than %d steps", FUNNEL_MAX_STEPS),
				 errdetail("%d steps were given.", nsteps)));
}

/* ---------- the default walk ---------- */

/*
 * The walk of product funnels (optional steps, exclusions) keeps four slots
 * after the chain starts, then the times to each step: see "the walk of
 * product funnels" below.
 */
#define PF_HELD		0			/* steps holding a chain */
#define PF_EXCLUDED	1			/* steps whose chain saw an exclusion */
#define PF_MAX_START	2		/* start of the furthest chain (level) */
#define PF_MAX_EXCLUDED 3		/* that chain saw an exclusion */

/* where the times to each step (want_elapsed) are */
static inline int
walk_elapsed_base(const FunnelConfig *cfg)
{
	return cfg->has_options ? cfg->nsteps + 4 : 2 * cfg->nsteps;
}

static inline int
walk_nslots(const FunnelConfig *cfg)
{
	if (cfg->has_options)
		return cfg->nsteps * (cfg->want_elapsed ? 2 : 1) + 4;
	return cfg->nsteps * (cfg->want_elapsed ? 3 : (cfg->mode & FUNNEL_STRICT_INCREASE) ? 2 : 1);
}

Size
funnel_walk_size(const FunnelConfig *cfg)
{
	return offsetof(FunnelWalk, times) + sizeof(int64) * walk_nslots(cfg);
}

/* A track with room for inline_cap log bytes inside it. */
Size
funnel_track_size(const FunnelConfig *cfg, int inline_cap)
{
	return offsetof(FunnelTrack, walk) + funnel_walk_size(cfg) + inline_cap;
}

void
funnel_walk_init(const FunnelConfig *cfg, FunnelWalk *walk)
{
	memset(walk, 0, funnel_walk_size(cfg));
}

/*
 * The times of chains step by step (funnel_summary's step_times): the
 * chain held by step k reached steps 1..k at slot[k(k-1)/2 .. k(k+1)/2 - 1]
 * (times from its start), and final[] is the chain the level is counted on.
 * Only the end-of-walk re-walk of funnel_track_chain_times keeps them: the
 * online state stays small.
 */
typedef struct ChainTimes
{
	int64	   *slot;
	int64	   *final;
} ChainTimes;

#define CT_SLOT(ct, k) (&(ct)->slot[((k) - 1) * (k) / 2])

/*
 * Chain of step k = chain of step from (k - 1, an earlier step when the
 * steps between are optional and skipped, or 0 for a new chain) reaching k
 * at elapsed.  Skipped steps get -1: walk_keep_required drops them.
 */
static inline void
chain_extend(ChainTimes *ct, int k, int from, int64 elapsed)
{
	int64	   *dst = CT_SLOT(ct, k);
	int			i;

	if (from > 0)
		memmove(dst, CT_SLOT(ct, from), sizeof(int64) * from);
	for (i = from; i < k - 1; i++)
		dst[i] = -1;
	dst[k - 1] = elapsed;
}

/* One entry (ts, k) of the walk; k = 0 is a row matching no step. */
static pg_attribute_always_inline void
walk_entry(const FunnelConfig *cfg, FunnelWalk *w, int64 ts, int k, ChainTimes *ct)
{
	int			n = cfg->nsteps;
	int64		start;

	if (k == 0)
	{
		/* only strict_order logs such rows; they end a started chain */
		if (w->level >= 1)
			w->done = true;
		return;
	}
	if (cfg->mode == 0 && ct == NULL && !cfg->want_elapsed)
	{
		/*
		 * The default mode, with no times to keep: the steps below in one
		 * form with no branch on the data (which step an entry is, whether
		 * it extends a chain, whether it raises the level follow the rows
		 * in no order a CPU could predict).  A step-1 entry (re)starts a
		 * chain at ts; a step-k entry extends the chain step k-1 holds when
		 * step k-1 was reached and ts is in the window of its start; the
		 * walk is done at step n.
		 */
		/* ts for step 1, else the start of step k-1's chain: no branch */
		uint64		first = -(uint64) (k == 1);
		int64		start = (int64) (((uint64) ts & first) |
									 ((uint64) w->times[Max(k - 2, 0)] & ~first));
		bool		extends = (k == 1) |
			((w->level >= k - 1) & ((uint64) ts - (uint64) start <= (uint64) cfg->window));

		if (extends)
		{
			w->times[k - 1] = start;
			w->level = Max(w->level, k);
			w->done = (w->level == n);
		}
		return;
	}
	if (k == 1)
	{
		/* (re)start a chain: only step 1 changes */
		w->times[0] = ts;
		if (cfg->mode & FUNNEL_STRICT_INCREASE)
			w->times[n] = ts;
		if (ct)
			CT_SLOT(ct, 1)[0] = 0;
		if (w->level == 0)
		{
			w->level = 1;
			if (ct)
				ct->final[0] = 0;
			if (cfg->want_elapsed)
				w->times[2 * n] = 0;
			if (n == 1)
				w->done = true;
		}
		return;
	}
	if ((cfg->mode & FUNNEL_STRICT_DEDUPLICATION) && w->level >= k)
	{
		w->done = true;
		return;
	}
	if (w->level < k - 1)
	{
		if ((cfg->mode & FUNNEL_STRICT_ORDER) && w->level >= 1 &&
			!(cfg->mode & FUNNEL_ALLOW_REENTRY))
			w->done = true;
		return;
	}
	start = w->times[k - 2];
	/* entries come in time order, so ts >= start: no overflow in unsigned */
	if ((uint64) ts - (uint64) start > (uint64) cfg->window)
		return;
	if ((cfg->mode & FUNNEL_STRICT_INCREASE) && !(w->times[n + k - 2] < ts))
		return;
	w->times[k - 1] = start;
	if (cfg->mode & FUNNEL_STRICT_INCREASE)
		w->times[n + k - 1] = ts;
	if (ct)
		chain_extend(ct, k, k - 1, ts - start);
	if (w->level < k)
	{
		w->level = k;
		if (ct)
			memcpy(ct->final, CT_SLOT(ct, k), sizeof(int64) * k);
		if (cfg->want_elapsed)
			w->times[2 * n + k - 1] = ts - start;
		if (k == n)
			w->done = true;
	}
}

/* ---------- the walk of product funnels ---------- */

/*
 * PostHog's ordered funnel walk (funnel-udf steps.rs), on the same state:
 * times[k-1] is the start of the chain step k holds (when its bit is in
 * PF_HELD), w->level the furthest step a chain reached, PF_MAX_START its
 * start.  A step-k entry extends the chain of step k-1, or, while that is
 * missing or out of the window and optional, of the nearest earlier step.
 * An exclusion from step a to step b marks the chains held by steps a..b-1
 * (unless the same chain already went on); a marked chain extends no more
 * held step, and when it is the furthest, the entity drops out of the
 * funnel (or, with exclusion_counts_reached, keeps the steps it reached).
 * "step" is 1..nsteps; slot 0 is the chain a step-1 entry starts at ts.
 */
static inline int64 *
pf_slots(const FunnelConfig *cfg, FunnelWalk *w)
{
	return &w->times[cfg->nsteps];
}

static void
pf_entry(const FunnelConfig *cfg, FunnelWalk *w, int64 ts, int step, bool exclusion,
		 ChainTimes *ct)
{
	int64	   *x = pf_slots(cfg, w);
	uint64		held = (uint64) x[PF_HELD];
	uint64		excluded = (uint64) x[PF_EXCLUDED];
	bool		counts_reached = (cfg->options & FUNNEL_OPT_EXCLUSION_COUNTS_REACHED) != 0;
	int			prev = step - 1;
	int64		start = ts;
	bool		in_window = true;
	bool		prev_excluded;

#define PF_BIT(k) ((uint64) 1 << ((k) - 1))
	for (;;)
	{
		if (prev > 0)
		{
			in_window = (held & PF_BIT(prev)) != 0;
			if (in_window)
			{
				start = w->times[prev - 1];
				in_window = (uint64) ts - (uint64) start <= (uint64) cfg->window;
			}
		}
		if (in_window || prev == 0 || !(cfg->optional & PF_BIT(prev)))
			break;
		prev--;
		if (prev == 0)
		{
			start = ts;
			in_window = true;
			break;
		}
	}
	if (!in_window)
		return;
	/* this chain already went on to step */
	if ((held & PF_BIT(step)) && w->times[step - 1] == start)
		return;
	prev_excluded = prev > 0 && (excluded & PF_BIT(prev));
	if (exclusion)
	{
		if (prev > 0 && !prev_excluded)
		{
			x[PF_EXCLUDED] = (int64) (excluded | PF_BIT(prev));
			if (w->level == prev && !counts_reached &&
				(uint64) ts - (uint64) x[PF_MAX_START] <= (uint64) cfg->window)
				x[PF_MAX_EXCLUDED] = 1;
		}
		return;
	}
	if (prev_excluded && counts_reached)
		return;					/* the attempt ended at the exclusion */
	if (!prev_excluded)
	{
		w->times[step - 1] = start;
		x[PF_HELD] = (int64) (held | PF_BIT(step));
		x[PF_EXCLUDED] = (int64) (excluded & ~PF_BIT(step));
		/* prev < step - 1 when optional steps were skipped */
		if (ct)
			chain_extend(ct, step, prev, ts - start);
	}
	if (step > w->level || (step == w->level && x[PF_MAX_EXCLUDED]))
	{
		if (ct)
		{
			int			i;

			if (prev > 0)
				memcpy(ct->final, CT_SLOT(ct, prev), sizeof(int64) * prev);
			for (i = prev; i < step - 1; i++)
				ct->final[i] = -1;
			ct->final[step - 1] = ts - start;
		}
		w->level = step;
		x[PF_MAX_START] = start;
		x[PF_MAX_EXCLUDED] = prev_excluded;
		if (cfg->want_elapsed)
			w->times[walk_elapsed_base(cfg) + step - 1] = ts - start;
	}
	if (step == cfg->nsteps && !prev_excluded)
		w->done = true;
#undef PF_BIT
}

/*
 * One timestamp of a product funnel: its exclusions first (an exclusion at
 * the time of the step that ends its range still counts), then its steps
 * in order.
 */
static void
pf_group(const FunnelConfig *cfg, FunnelWalk *w, int64 ts, uint64 steps, ChainTimes *ct)
{
	uint64		excl = steps & cfg->excl_mask;

	if (excl)
	{
		int			i,
					s;

		for (i = 0; i < cfg->nexcl; i++)
		{
			const FunnelExclusion *x = &cfg->excl[i];

			if (!(excl & ((uint64) 1 << (x->pos - 1))))
				continue;
			for (s = x->to; s > x->from; s--)
				pf_entry(cfg, w, ts, s, true, ct);
		}
		steps &= ~cfg->excl_mask;
	}
	while (steps != 0 && !w->done)
	{
		pf_entry(cfg, w, ts, pg_rightmost_one_pos64(steps) + 1, false, ct);
		steps &= steps - 1;
	}
}

/*
 * The level a walk reports: for product funnels, the steps the furthest
 * chain reached less the optional ones (PostHog's depth), and 0 when an
 * exclusion dropped the entity.
 */
static int
walk_level(const FunnelConfig *cfg, FunnelWalk *w)
{
	int64	   *x;

	if (!cfg->has_options)
		return w->level;
	x = pf_slots(cfg, w);
	if (x[PF_MAX_EXCLUDED])
		return 0;
	if (w->level == 64)
		return w->level - pg_popcount64(cfg->optional);
	return w->level - pg_popcount64(cfg->optional & (((uint64) 1 << w->level) - 1));
}

/*
 * All entries of one timestamp, in step order (inline: a call per
 * timestamp cost as much as its walk).
 */
static pg_attribute_always_inline void
walk_group(const FunnelConfig *cfg, FunnelWalk *w, int64 ts,
		   uint64 steps, uint64 dup, bool zero, ChainTimes *ct)
{
	if (cfg->has_options)
	{
		pf_group(cfg, w, ts, steps, ct);
		return;
	}
	if (zero)
		walk_entry(cfg, w, ts, 0, ct);
	while (steps != 0 && !w->done)
	{
		int			k = pg_rightmost_one_pos64(steps) + 1;
		uint64		bit = steps & (~steps + 1);

		walk_entry(cfg, w, ts, k, ct);
		if ((dup & bit) && !w->done)
			walk_entry(cfg, w, ts, k, ct);
		steps &= steps - 1;
	}
}

/* ---------- the strict_once walk ---------- */

/*
 * strict_once keeps every chain that reached each step, with the rows it
 * used (spec: strict_once).  Rows are identified by their position in the
 * stably sorted event array, which is the order the aggregate received them.
 *
 * Kept literally, the chains grow quadratically (every step-2 event extends
 * every earlier step-1 chain in the window) and worse on ties.  This walk
 * gives exactly the same answers from far less:
 *
 * - A chain's rows matter only while its last event's timestamp group is
 *   walked: later rows are other rows.  So once a group is over, a chain is
 *   just its start (the time of its step-1 event), and of the chains of a
 *   step only the first with each start counts, and only the "records"
 *   among them: a chain whose start is below that of a chain before it in
 *   the step's list is never the first to extend (the earlier one, inside
 *   the window whenever it is, always goes first) and its extensions are
 *   likewise behind the earlier one's.  The records of a step are the
 *   successive maxima of the starts, an increasing sequence.
 * - Starts are kept once, in time order, each with the set of steps whose
 *   records hold it (one bit per step), and starts that fell out of the
 *   window are dropped: they can never be extended again.  Whether a step
 *   was ever reached is kept apart.
 * - Within a group, chains are kept with the rows of the group they used.
 *   A chain made here whose start is at or below the latest record of its
 *   step is behind that record (an older chain, before every new one in
 *   the list, in the window whenever it is): it is not made.  Nor is one
 *   with the start and the set of rows of an earlier one.
 *
 * The records a step-k event extends from step k-1 are those above the
 * latest record of step k, so every start is looked at once per step over
 * the whole journey, and the memory is 16 bytes per start in the window
 * plus the chains of one group.  The memory counts against
 * funnel.max_state_memory together with what the caller already holds.
 */
typedef struct OnceGroupLevel
{
	int64	   *start;			/* start index of each chain made this group */
	uint32	   *rows;			/* its rows of this group, step + 1 slots each */
	int			count;
	int			cap;
	/* chains by start and set of rows, once there are ONCE_DEDUP_FROM */
	uint64	   *hash;			/* of each chain (cap entries) */
	int32	   *slots;			/* chain index + 1, 0 = free */
	int			nslots;			/* 0: not looking for duplicates */
	int			slots_cap;
} OnceGroupLevel;

/*
 * Two chains of a step with the same start and the same rows (used for
 * different steps) behave alike from then on, and the later one is behind
 * the earlier in every list: it is not kept.  Many rows of one time that
 * each match several steps would otherwise make every ordering of them.
 * Looked for once a step has this many chains in a group.
 */
#define ONCE_DEDUP_FROM 32

#define ONCE_NO_ROW PG_UINT32_MAX

typedef struct OnceWalk
{
	const FunnelConfig *cfg;
	int64		ts;				/* the group being walked */
	/* starts: absolute index i is ets[i - base], steps held in emask */
	int64	   *ets;
	uint64	   *emask;
	int64		base;			/* absolute index of ets[0] */
	int64		head;			/* first start inside the window */
	int64		end;			/* next index; a start in this group gets it */
	int64		ecap;
	int64		latest[FUNNEL_MAX_STEPS];	/* latest record of each step, -1 none */
	bool		reached[FUNNEL_MAX_STEPS];
	OnceGroupLevel g[FUNNEL_MAX_STEPS];
	/* the older records one step's events extend, found once per group */
	int64	   *older;
	int			nolder;
	int			older_cap;
	int			older_step;		/* for this step (0: none yet this group) */
	int			level;
	bool		done;
	Size		mem;
	int64	   *elapsed;
} OnceWalk;

static void
once_account(OnceWalk *ow, Size bytes)
{
	ow->mem += bytes;
	funnel_check_memory(ow->mem);
}

/* more chains at one time than an array can count (a limit of terabytes) */
static void
once_too_many(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many strict_once chains at one time")));
}

static inline uint64
once_mix(uint64 x)
{
	x ^= x >> 33;
	x *= UINT64CONST(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64CONST(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* A hash of a chain's start and set of rows (the order of the rows aside). */
static uint64
once_chain_hash(int64 start, const uint32 *rows, int stride)
{
	uint64		h = once_mix((uint64) start);
	int			i;

	for (i = 0; i < stride; i++)
		if (rows[i] != ONCE_NO_ROW)
			h += once_mix((uint64) rows[i] + UINT64CONST(0x9e3779b97f4a7c15));
	return h;
}

static int
once_row_cmp(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

static bool
once_same_rows(const uint32 *a, const uint32 *b, int stride)
{
	uint32		x[FUNNEL_MAX_STEPS];
	uint32		y[FUNNEL_MAX_STEPS];

	memcpy(x, a, sizeof(uint32) * stride);
	memcpy(y, b, sizeof(uint32) * stride);
	qsort(x, stride, sizeof(uint32), once_row_cmp);
	qsort(y, stride, sizeof(uint32), once_row_cmp);
	return memcmp(x, y, sizeof(uint32) * stride) == 0;
}

/*
 * Put chain c of level lvl in its table; false if an earlier chain has the
 * same start and rows (then c is not added).
 */
static bool
once_hash_insert(OnceGroupLevel *L, int lvl, int c)
{
	int			stride = lvl + 1;
	uint64		h = L->hash[c];
	int			mask = L->nslots - 1;
	int			i;

	for (i = (int) (h & mask); L->slots[i] != 0; i = (i + 1) & mask)
	{
		int			o = L->slots[i] - 1;

		if (L->hash[o] == h && L->start[o] == L->start[c] &&
			once_same_rows(&L->rows[(Size) o * stride], &L->rows[(Size) c * stride], stride))
			return false;
	}
	L->slots[i] = c + 1;
	return true;
}

/* (Re)build the table of level lvl with room for twice its chains. */
static void
once_hash_build(OnceWalk *ow, OnceGroupLevel *L, int lvl)
{
	int			nslots = 64;
	int			c;

	while (nslots < L->count * 4)
	{
		if (nslots > PG_INT32_MAX / 4)
			once_too_many();
		nslots *= 2;
	}
	if (nslots > L->slots_cap)
	{
		if (L->slots)
			pfree(L->slots);
		L->slots = palloc_extended(sizeof(int32) * nslots, MCXT_ALLOC_HUGE);
		once_account(ow, sizeof(int32) * (nslots - L->slots_cap));
		L->slots_cap = nslots;
	}
	memset(L->slots, 0, sizeof(int32) * nslots);
	L->nslots = nslots;
	for (c = 0; c < L->count; c++)
		(void) once_hash_insert(L, lvl, c);
}

static inline int64
once_start_time(const OnceWalk *ow, int64 idx)
{
	return idx == ow->end ? ow->ts : ow->ets[idx - ow->base];
}

/* A chain made at step lvl + 1: its start, its rows of this group, then row. */
static void
once_append(OnceWalk *ow, int lvl, int64 start, const uint32 *prev_rows, uint32 row)
{
	OnceGroupLevel *L = &ow->g[lvl];
	Size		stride = lvl + 1;
	uint32	   *rows;
	Size		i;

	if (L->count == L->cap)
	{
		int			newcap;

		if (L->cap > PG_INT32_MAX / 2)
			once_too_many();
		newcap = L->cap ? L->cap * 2 : 8;
		if (L->cap == 0)
		{
			L->start = palloc(sizeof(int64) * newcap);
			L->rows = palloc_extended(sizeof(uint32) * stride * newcap, MCXT_ALLOC_HUGE);
			L->hash = palloc(sizeof(uint64) * newcap);
		}
		else
		{
			L->start = repalloc_huge(L->start, sizeof(int64) * newcap);
			L->rows = repalloc_huge(L->rows, sizeof(uint32) * stride * newcap);
			L->hash = repalloc_huge(L->hash, sizeof(uint64) * newcap);
		}
		once_account(ow, (Size) (newcap - L->cap) * (2 * sizeof(int64) + sizeof(uint32) * stride));
		L->cap = newcap;
	}
	L->start[L->count] = start;
	rows = &L->rows[stride * L->count];
	for (i = 0; i + 1 < stride; i++)
		rows[i] = prev_rows ? prev_rows[i] : ONCE_NO_ROW;
	rows[stride - 1] = row;
	L->hash[L->count] = once_chain_hash(start, rows, (int) stride);
	if (L->nslots > 0)
	{
		/* a chain like an earlier one adds nothing (and reaches nothing new) */
		if (!once_hash_insert(L, lvl, L->count))
			return;
		L->count++;
		if (L->count * 2 > L->nslots)
			once_hash_build(ow, L, lvl);
	}
	else
	{
		L->count++;
		if (L->count >= ONCE_DEDUP_FROM && lvl > 0)
			once_hash_build(ow, L, lvl);
	}
	ow->reached[lvl] = true;
	if (ow->level < lvl + 1)
	{
		ow->level = lvl + 1;
		if (ow->elapsed)
			ow->elapsed[lvl] = ow->ts - once_start_time(ow, start);
	}
	if (lvl + 1 == ow->cfg->nsteps)
		ow->done = true;
}

/* The records of step lvl (0-based) that events of step lvl + 2 extend. */
static void
once_find_older(OnceWalk *ow, int lvl)
{
	int64		from = Max(ow->head, ow->latest[lvl + 1] + 1);
	int64		i;
	uint64		bit = (uint64) 1 << lvl;

	ow->nolder = 0;
	ow->older_step = lvl + 2;
	for (i = from; i <= ow->latest[lvl]; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!(ow->emask[i - ow->base] & bit))
			continue;
		if (ow->nolder == ow->older_cap)
		{
			int			newcap;

			if (ow->older_cap > PG_INT32_MAX / 2)
				once_too_many();
			newcap = ow->older_cap ? ow->older_cap * 2 : 64;

			ow->older = ow->older ? repalloc_huge(ow->older, sizeof(int64) * newcap)
				: palloc(sizeof(int64) * newcap);
			once_account(ow, sizeof(int64) * (newcap - ow->older_cap));
			ow->older_cap = newcap;
		}
		ow->older[ow->nolder++] = i;
	}
}

static void
once_entry(OnceWalk *ow, int k, uint32 row)
{
	const FunnelConfig *cfg = ow->cfg;
	int			lvl = k - 1;
	int64		behind;
	const OnceGroupLevel *prev;
	int			i;

	if (k == 0)
	{
		if (ow->reached[0])
			ow->done = true;
		return;
	}
	if (k == 1)
	{
		once_append(ow, 0, ow->end, NULL, row);
		return;
	}
	if ((cfg->mode & FUNNEL_STRICT_DEDUPLICATION) && ow->reached[lvl])
	{
		ow->done = true;
		return;
	}
	if (!ow->reached[lvl - 1])
	{
		if ((cfg->mode & FUNNEL_STRICT_ORDER) && ow->reached[0] &&
			!(cfg->mode & FUNNEL_ALLOW_REENTRY))
			ow->done = true;
		return;
	}

	/* older chains first (no row of this group, earlier in time) */
	if (ow->older_step != k)
		once_find_older(ow, lvl - 1);
	for (i = 0; i < ow->nolder && !ow->done; i++)
	{
		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();
		once_append(ow, lvl, ow->older[i], NULL, row);
	}

	/* then this group's, in the order they were made */
	if (cfg->mode & FUNNEL_STRICT_INCREASE)
		return;					/* they reached step k-1 at this very time */
	behind = ow->latest[lvl];
	prev = &ow->g[lvl - 1];
	for (i = 0; i < prev->count && !ow->done; i++)
	{
		const uint32 *rows = &prev->rows[(Size) i * lvl];
		bool		used = false;
		int			j;

		if ((i & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (prev->start[i] <= behind)
			continue;
		for (j = 0; j < lvl; j++)
			if (rows[j] == row)
				used = true;
		if (!used)
			once_append(ow, lvl, prev->start[i], rows, row);
	}
}

/* The group is over: its chains become records, their rows forgotten. */
static void
once_end_group(OnceWalk *ow)
{
	int			lvl;

	if (ow->g[0].count > 0)
	{
		if (ow->end - ow->base == ow->ecap)
		{
			int64		live = ow->end - ow->head;

			if (live <= ow->ecap / 2 && ow->ecap >= 64)
			{
				/* drop the starts that left the window */
				memmove(ow->ets, ow->ets + (ow->head - ow->base), sizeof(int64) * live);
				memmove(ow->emask, ow->emask + (ow->head - ow->base), sizeof(uint64) * live);
				ow->base = ow->head;
			}
			else
			{
				int64		newcap = ow->ecap ? ow->ecap * 2 : 64;

				ow->ets = ow->ets ? repalloc_huge(ow->ets, sizeof(int64) * newcap)
					: palloc(sizeof(int64) * newcap);
				ow->emask = ow->emask ? repalloc_huge(ow->emask, sizeof(uint64) * newcap)
					: palloc(sizeof(uint64) * newcap);
				once_account(ow, (sizeof(int64) + sizeof(uint64)) * (newcap - ow->ecap));
				ow->ecap = newcap;
			}
		}
		ow->ets[ow->end - ow->base] = ow->ts;
		ow->emask[ow->end - ow->base] = 0;
		ow->end++;
	}
	/* chains exist at reached steps only */
	for (lvl = 0; lvl < ow->level; lvl++)
	{
		OnceGroupLevel *L = &ow->g[lvl];
		int			i;

		for (i = 0; i < L->count; i++)
			if (L->start[i] > ow->latest[lvl])
			{
				ow->latest[lvl] = L->start[i];
				ow->emask[L->start[i] - ow->base] |= (uint64) 1 << lvl;
			}
		L->count = 0;
		L->nslots = 0;
	}
	ow->older_step = 0;
}

static int
once_walk(const FunnelConfig *cfg, const FunnelEvent *ev, int n, Size held,
		  int64 *elapsed)
{
	OnceWalk	ow;
	int			i = 0;
	int			lvl;

	memset(&ow, 0, sizeof(ow));
	ow.cfg = cfg;
	ow.elapsed = elapsed;
	ow.mem = held;
	for (lvl = 0; lvl < FUNNEL_MAX_STEPS; lvl++)
		ow.latest[lvl] = -1;
	while (i < n && !ow.done)
	{
		int			g = i;
		uint64		all = 0;
		bool		zero = false;

		CHECK_FOR_INTERRUPTS();
		ow.ts = ev[i].ts;
		while (g < n && ev[g].ts == ow.ts)
		{
			all |= ev[g].steps;
			zero |= (ev[g].steps == 0);
			g++;
		}
		/* starts that fell out of the window never extend again */
		while (ow.head < ow.end &&
			   (uint64) ow.ts - (uint64) ow.ets[ow.head - ow.base] > (uint64) cfg->window)
			ow.head++;
		if (zero && (cfg->mode & FUNNEL_STRICT_ORDER))
			once_entry(&ow, 0, 0);
		while (all != 0 && !ow.done)
		{
			int			k = pg_rightmost_one_pos64(all) + 1;
			uint64		bit = all & (~all + 1);
			int			r;

			for (r = i; r < g && !ow.done; r++)
				if (ev[r].steps & bit)
					once_entry(&ow, k, (uint32) r);
			all &= all - 1;
		}
		if (!ow.done)
			once_end_group(&ow);
		i = g;
	}
	for (lvl = 0; lvl < cfg->nsteps; lvl++)
	{
		if (ow.g[lvl].cap > 0)
		{
			pfree(ow.g[lvl].start);
			pfree(ow.g[lvl].rows);
			pfree(ow.g[lvl].hash);
		}
		if (ow.g[lvl].slots)
			pfree(ow.g[lvl].slots);
	}
	if (ow.ets)
	{
		pfree(ow.ets);
		pfree(ow.emask);
	}
	if (ow.older)
		pfree(ow.older);
	return ow.level;
}

/* ---------- any-order funnels ---------- */

/*
 * The level of an any-order funnel over events sorted by time: the most
 * distinct steps with a row inside one window [t - window, t] (PostHog's
 * unordered funnel); with any_order_first, inside one window that starts at
 * a step-1 row, [t1, t1 + window].  Two pointers over the events: R takes
 * one timestamp at a time, L drops the rows that fell out of the window
 * (and, entered at step 1, the leading timestamps without a step-1 row: the
 * best window ending at t starts at the earliest step-1 row within the
 * window, and that start only moves forward).  A row counts for every step
 * it matches.
 */
static int
any_order_level(const FunnelConfig *cfg, const FunnelEvent *ev, int n)
{
	uint32		count[FUNNEL_MAX_STEPS];
	int			distinct = 0;
	int			best = 0;
	int			l = 0;
	int			r = 0;
	int			first_ok = -1;	/* l was checked to start at a step-1 timestamp */
	bool		first = (cfg->options & FUNNEL_OPT_ANY_ORDER_FIRST) != 0;
	uint64		mask = cfg->nsteps == 64 ? PG_UINT64_MAX : ((uint64) 1 << cfg->nsteps) - 1;

	memset(count, 0, sizeof(count));
	while (r < n && best < cfg->nsteps)
	{
		int64		t = ev[r].ts;

		CHECK_FOR_INTERRUPTS();
		for (; r < n && ev[r].ts == t; r++)
		{
			uint64		s = ev[r].steps & mask;

			for (; s; s &= s - 1)
				if (count[pg_rightmost_one_pos64(s)]++ == 0)
					distinct++;
		}
		while (l < r)
		{
			/* rows to drop from l: out of the window, or a timestamp before the entry */
			int			upto = l;

			if ((uint64) t - (uint64) ev[l].ts > (uint64) cfg->window)
				upto = l + 1;
			else if (first && first_ok != l)
			{
				int			j;
				bool		has_first = false;

				for (j = l; j < r && ev[j].ts == ev[l].ts; j++)
					has_first |= (ev[j].steps & 1) != 0;
				if (has_first)
					first_ok = l;
				else
					upto = j;
			}
			if (upto == l)
				break;
			for (; l < upto; l++)
			{
				uint64		s;

				for (s = ev[l].steps & mask; s; s &= s - 1)
					if (--count[pg_rightmost_one_pos64(s)] == 0)
						distinct--;
			}
		}
		if (l < r)
			best = Max(best, distinct);
	}
	return best;
}

/* ---------- walking an array of events ---------- */

static void
merge_sort_events(FunnelEvent *ev, FunnelEvent *tmp, int n)
{
	int			mid,
				i,
				j,
				k;

	if (n < 2)
		return;
	if (n <= 16)
	{
		/* stable insertion sort */
		for (i = 1; i < n; i++)
		{
			FunnelEvent x = ev[i];

			for (j = i; j > 0 && ev[j - 1].ts > x.ts; j--)
				ev[j] = ev[j - 1];
			ev[j] = x;
		}
		return;
	}
	/* sorting millions of events takes a while: stay cancellable */
	if (n >= 65536)
		CHECK_FOR_INTERRUPTS();
	mid = n / 2;
	merge_sort_events(ev, tmp, mid);
	merge_sort_events(ev + mid, tmp, n - mid);
	if (ev[mid - 1].ts <= ev[mid].ts)
		return;
	memcpy(tmp, ev, sizeof(FunnelEvent) * mid);
	i = 0;
	j = mid;
	k = 0;
	while (i < mid && j < n)
		ev[k++] = (ev[j].ts < tmp[i].ts) ? ev[j++] : tmp[i++];
	while (i < mid)
		ev[k++] = tmp[i++];
}

/*
 * Stable sort by time: equal times keep the order the rows arrived in.
 * held: the bytes the caller holds, counted with the sort's buffer against
 * funnel.max_state_memory.
 */
static void
sort_events(FunnelEvent *ev, int n, Size held)
{
	int			i;
	FunnelEvent *tmp;
	Size		tmp_size = sizeof(FunnelEvent) * ((Size) n / 2 + 1);

	for (i = 1; i < n; i++)
		if (ev[i].ts < ev[i - 1].ts)
			break;
	if (i >= n)
		return;
	funnel_check_memory(held + tmp_size);
	tmp = palloc_extended(tmp_size, MCXT_ALLOC_HUGE);
	merge_sort_events(ev, tmp, n);
	pfree(tmp);
}

/*
 * Times of steps 1..level (raw step numbers, optional steps included) to
 * times of the reported steps: the optional steps' entries are dropped, as
 * the levels do not count them (PostHog keeps the times of the required
 * steps only).  A chain reaches every required step below its furthest,
 * since only optional steps are skipped, so every entry kept is set.
 */
static void
walk_keep_required(const FunnelConfig *cfg, int64 *times, int level)
{
	int			j = 0;
	int			k;

	if (cfg->optional == 0)
		return;
	for (k = 1; k <= level; k++)
		if (!(cfg->optional & ((uint64) 1 << (k - 1))))
			times[j++] = times[k - 1];
}

static void
copy_elapsed(const FunnelConfig *cfg, const FunnelWalk *w, int64 *elapsed)
{
	if (elapsed && cfg->want_elapsed)
	{
		memcpy(elapsed, &w->times[walk_elapsed_base(cfg)], sizeof(int64) * w->level);
		walk_keep_required(cfg, elapsed, w->level);
	}
}

/*
 * The level of a journey given as events in any order.  With elapsed (and
 * cfg->want_elapsed), elapsed[k-1] is set for every reached step k.  held:
 * the bytes the caller already holds (an aggregate's state, say); what the
 * walk allocates is counted on top of it against funnel.max_state_memory.
 */
static int
events_level(const FunnelConfig *cfg, const FunnelEvent *events,
			 int nevents, Size held, int64 *elapsed, ChainTimes *ct)
{
	FunnelEvent *ev = NULL;
	int			i;
	int			level;

	for (i = 1; i < nevents; i++)
		if (events[i].ts < events[i - 1].ts)
			break;
	if (i < nevents)
	{
		Size		size = sizeof(FunnelEvent) * (Size) nevents;

		held += size;
		funnel_check_memory(held);
		ev = palloc_extended(size, MCXT_ALLOC_HUGE);
		memcpy(ev, events, size);
		sort_events(ev, nevents, held);
		events = ev;
	}

	if (cfg->mode & FUNNEL_STRICT_ONCE)
		level = once_walk(cfg, events, nevents, held,
						  cfg->want_elapsed ? elapsed : NULL);
	else if (FUNNEL_ANY_ORDER(cfg))
	{
		if (elapsed)
			funnel_check_elapsed(cfg);
		level = any_order_level(cfg, events, nevents);
	}
	else
	{
		union
		{
			FunnelWalk	w;
			char		buf[offsetof(FunnelWalk, times) + sizeof(int64) * (3 * FUNNEL_MAX_STEPS + 4)];
		}			u;
		FunnelWalk *w = &u.w;

		funnel_walk_init(cfg, w);
		i = 0;
		while (i < nevents && !w->done)
		{
			int64		ts = events[i].ts;
			uint64		all = 0,
						dup = 0;
			bool		zero = false;

			CHECK_FOR_INTERRUPTS();
			for (; i < nevents && events[i].ts == ts; i++)
			{
				dup |= all & events[i].steps;
				all |= events[i].steps;
				zero |= (events[i].steps == 0);
			}
			if (!(cfg->mode & FUNNEL_STRICT_ORDER))
				zero = false;
			walk_group(cfg, w, ts, all, dup, zero, ct);
		}
		level = walk_level(cfg, w);
		copy_elapsed(cfg, w, elapsed);
		if (ct)
			walk_keep_required(cfg, ct->final, w->level);
	}
	if (ev)
		pfree(ev);
	return level;
}

int
funnel_events_level(const FunnelConfig *cfg, const FunnelEvent *events,
					int nevents, Size held, int64 *elapsed)
{
	return events_level(cfg, events, nevents, held, elapsed, NULL);
}

/*
 * funnel_track_chain_times for events in any order (the entity store's
 * rows): the level and the times on its chain.
 */
int
funnel_events_chain_times(const FunnelConfig *cfg, const FunnelEvent *events,
						  int nevents, Size held, int64 *chain)
{
	ChainTimes	ct;
	Size		slots = sizeof(int64) * ((Size) cfg->nsteps * (cfg->nsteps + 1) / 2);
	int			level;

	Assert(!(cfg->mode & FUNNEL_STRICT_ONCE) && !FUNNEL_ANY_ORDER(cfg));
	if (nevents == 0)
		return 0;
	held += slots;
	funnel_check_memory(held);
	ct.slot = palloc(slots);
	ct.final = chain;
	level = events_level(cfg, events, nevents, held, NULL, &ct);
	pfree(ct.slot);
	return level;
}

/*
 * The level of a track and, in chain[k-1] for every step k it reached, the
 * time from step 1 to step k on the chain the level is counted on (the
 * chain that first reached the furthest step, optional or not), from a
 * re-walk of its log; k counts the reported steps (optional ones left
 * out, as in the level).  Not for strict_once or any order
 * (funnel_apply_options rejects step_times with them).  held: as for
 * funnel_track_level.
 */
int
funnel_track_chain_times(const FunnelConfig *cfg, const FunnelTrack *track,
						 Size held, int64 *chain)
{
	ChainTimes	ct;
	Size		slots = sizeof(int64) * ((Size) cfg->nsteps * (cfg->nsteps + 1) / 2);
	FunnelEvent *ev;
	int			n;
	int			level;

	Assert(!(cfg->mode & FUNNEL_STRICT_ONCE) && !FUNNEL_ANY_ORDER(cfg));
	if (track->nrows == 0)
		return 0;
	held += slots + sizeof(FunnelEvent) * ((Size) track->nrows + 1);
	funnel_check_memory(held);
	ct.slot = palloc(slots);
	ct.final = chain;
	ev = funnel_track_decode(track, &n);
	sort_events(ev, n, held);
	level = events_level(cfg, ev, n, held, NULL, &ct);
	pfree(ev);
	pfree(ct.slot);
	return level;
}

/* ---------- tracks: online walk plus log ---------- */

void
funnel_track_init(const FunnelConfig *cfg, FunnelTrack *track, int inline_cap)
{
	memset(track, 0, offsetof(FunnelTrack, walk));
	funnel_walk_init(cfg, &track->walk);
	track->log = (char *) &track->walk + funnel_walk_size(cfg);
	track->log_cap = track->inline_cap = inline_cap;
	/* strict_once and any order are not walked online: the answer comes from the log */
	track->walk_valid = !(cfg->mode & FUNNEL_STRICT_ONCE) && !FUNNEL_ANY_ORDER(cfg);
}

/*
 * The online part of adding a row (funnel_track_add, and deserialisation,
 * which keeps the log bytes it has checked): a group of equal timestamps is
 * walked once time moves past it; a row older than the latest makes the
 * track re-walk from its log at the end.
 */
static inline void
track_walk_row(const FunnelConfig *cfg, FunnelTrack *track, int64 ts, uint64 steps)
{
	if (track->nrows == 0)
	{
		track->max_ts = ts;
		track->pend_steps = steps;
		track->pend_zero = (steps == 0);
	}
	else if (ts == track->max_ts)
	{
		track->pend_dup |= track->pend_steps & steps;
		track->pend_steps |= steps;
		track->pend_zero |= (steps == 0);
	}
	else if (ts > track->max_ts)
	{
		if (track->walk_valid && !track->walk.done)
			walk_group(cfg, &track->walk, track->max_ts, track->pend_steps,
					   track->pend_dup, track->pend_zero, NULL);
		track->max_ts = ts;
		track->pend_steps = steps;
		track->pend_dup = 0;
		track->pend_zero = (steps == 0);
	}
	else
		track->walk_valid = false;	/* out of order: re-walk from the log */
	track->nrows++;
}

/*
 * Add one row.  Returns the bytes newly allocated in cxt, for the caller's
 * memory accounting.
 */
Size
funnel_track_add(const FunnelConfig *cfg, FunnelTrack *track,
				 MemoryContext cxt, int64 ts, uint64 steps)
{
	Size		grown = 0;
	char		enc[20];
	char	   *p;
	uint32		enclen;

	if (steps == 0 && !(cfg->mode & FUNNEL_STRICT_ORDER))
		return 0;				/* cannot change any answer */

	/*
	 * In the default mode more rows can only raise a level (a restart only
	 * moves a chain's start later), so a walk that reached the last step is
	 * final whatever comes next, in any order: no need to log the rest.  Not
	 * so for the times to each step, nor in the other modes, nor with
	 * exclusions (an earlier exclusion can still drop the entity), nor for
	 * trends (every entry period has its own attempt).
	 */
	if (cfg->mode == 0 && !cfg->want_elapsed && !cfg->has_options &&
		cfg->bucket == 0 && track->walk_valid && track->walk.done)
		return 0;

	if (track->nrows == PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many events for one funnel entity (at most %u)", PG_UINT32_MAX - 1)));

	/* log: delta from the latest time so far (small, decodable in order) */
	p = funnel_put_varint(enc, funnel_zigzag((int64) ((uint64) ts - (uint64) track->max_ts)));
	p = funnel_put_varint(p, steps);
	enclen = p - enc;
	if (track->log_cap - track->log_len < enclen)
	{
		uint32		newcap = Max(track->log_cap * 2, 64);
		char	   *heap;

		if (track->log_cap > PG_UINT32_MAX / 4)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("funnel entity log exceeds 1 GB")));
		if (track->log_cap <= track->inline_cap)
		{
			heap = MemoryContextAllocHuge(cxt, newcap);
			memcpy(heap, track->log, track->log_len);
			grown = newcap;
		}
		else
		{
			heap = repalloc_huge(track->log, newcap);
			grown = newcap - track->log_cap;
		}
		track->log = heap;
		track->log_cap = newcap;
	}
	memcpy(track->log + track->log_len, enc, enclen);
	track->log_len += enclen;

	track_walk_row(cfg, track, ts, steps);
	return grown;
}

/* The events of a track's log, in the order they were added. */
FunnelEvent *
funnel_track_decode(const FunnelTrack *track, int *nevents)
{
	FunnelEvent *ev;
	const char *p = track->log;
	const char *end = p + track->log_len;
	int64		max_ts = 0;
	uint32		i;

	ev = palloc_extended(sizeof(FunnelEvent) * ((Size) track->nrows + 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < track->nrows; i++)
	{
		uint64		d,
					s;
		int64		ts;

		if ((i & 0xFFFF) == 0xFFFF)
			CHECK_FOR_INTERRUPTS();

		p = funnel_get_varint(p, end, &d);
		if (p)
			p = funnel_get_varint(p, end, &s);
		if (!p)
			elog(ERROR, "corrupt funnel event log");	/* cannot happen */
		ts = (int64) ((uint64) max_ts + (uint64) funnel_unzigzag(d));
		if (i == 0 || ts > max_ts)
			max_ts = ts;
		ev[i].ts = ts;
		ev[i].steps = s;
	}
	*nevents = (int) track->nrows;
	return ev;
}

/* The union of the steps of a track's rows, without decoding it whole. */
uint64
funnel_track_steps(const FunnelTrack *track)
{
	const char *p = track->log;
	const char *end = p + track->log_len;
	uint64		seen = 0;
	uint32		i;

	for (i = 0; i < track->nrows; i++)
	{
		uint64		d,
					s;

		p = funnel_get_varint(p, end, &d);
		if (p)
			p = funnel_get_varint(p, end, &s);
		if (!p)
			elog(ERROR, "corrupt funnel event log");	/* cannot happen */
		seen |= s;
	}
	return seen;
}

/*
 * The level of a track (never modifies it: final functions use this).
 * held: the bytes of the caller's state; decoding and sorting an
 * out-of-order log is counted on top of it against funnel.max_state_memory.
 */
int
funnel_track_level(const FunnelConfig *cfg, const FunnelTrack *track,
				   Size held, int64 *elapsed)
{
	if (track->nrows == 0)
		return 0;
	if (track->walk_valid)
	{
		union
		{
			FunnelWalk	w;
			char		buf[offsetof(FunnelWalk, times) + sizeof(int64) * (3 * FUNNEL_MAX_STEPS + 4)];
		}			u;

		memcpy(&u.w, &track->walk, funnel_walk_size(cfg));
		if (!u.w.done)
			walk_group(cfg, &u.w, track->max_ts, track->pend_steps,
					   track->pend_dup, track->pend_zero, NULL);
		copy_elapsed(cfg, &u.w, elapsed);
		return walk_level(cfg, &u.w);
	}
	else
	{
		int			n;
		FunnelEvent *ev;
		int			level;

		held += sizeof(FunnelEvent) * ((Size) track->nrows + 1);
		funnel_check_memory(held);
		ev = funnel_track_decode(track, &n);
		sort_events(ev, n, held);
		level = funnel_events_level(cfg, ev, n, held, elapsed);
		pfree(ev);
		return level;
	}
}

/*
 * Append src's rows to dst (as if they arrived after dst's): the combine
 * step of parallel aggregation.  Returns the bytes newly allocated.
 */
Size
funnel_track_merge(const FunnelConfig *cfg, FunnelTrack *dst,
				   const FunnelTrack *src, MemoryContext cxt)
{
	int			n,
				i;
	Size		grown = 0;
	FunnelEvent *ev;

	if (src->nrows == 0)
		return 0;
	ev = funnel_track_decode(src, &n);
	for (i = 0; i < n; i++)
		grown += funnel_track_add(cfg, dst, cxt, ev[i].ts, ev[i].steps);
	pfree(ev);
	return grown;
}

/*
 * Make dst (initialised, empty, with the same inline room) a copy of src.
 * Returns the bytes newly allocated.
 */
Size
funnel_track_copy(const FunnelConfig *cfg, FunnelTrack *dst,
				  const FunnelTrack *src, MemoryContext cxt)
{
	char	   *inline_area = dst->log;

	Assert(dst->inline_cap == src->inline_cap && dst->nrows == 0);
	memcpy(dst, src, offsetof(FunnelTrack, walk) + funnel_walk_size(cfg));
	if (src->log_cap <= src->inline_cap)
	{
		dst->log = inline_area;
		memcpy(dst->log, src->log, src->log_len);
		return 0;
	}
	dst->log = MemoryContextAllocHuge(cxt, src->log_cap);
	memcpy(dst->log, src->log, src->log_len);
	return src->log_cap;
}

/* ---------- serialisation ---------- */

/* version 2 adds the options of product funnels; version 1 is still read */
#define FUNNEL_SERIAL_VERSION 2

void
funnel_config_serialize(const FunnelConfig *cfg, StringInfo buf)
{
	int			i;

	pq_sendbyte(buf, FUNNEL_SERIAL_VERSION);
	pq_sendint64(buf, cfg->window);
	pq_sendbyte(buf, (uint8) cfg->nsteps);
	pq_sendbyte(buf, (uint8) cfg->mode);
	pq_sendbyte(buf, (cfg->want_elapsed ? 1 : 0) | (cfg->open_steps ? 2 : 0));
	pq_sendint64(buf, (int64) cfg->names_hash);
	pq_sendint32(buf, cfg->target);
	pq_sendbyte(buf, cfg->options);
	pq_sendint64(buf, (int64) cfg->optional);
	pq_sendbyte(buf, cfg->nexcl);
	for (i = 0; i < cfg->nexcl; i++)
	{
		pq_sendbyte(buf, cfg->excl[i].pos);
		pq_sendbyte(buf, cfg->excl[i].from);
		pq_sendbyte(buf, cfg->excl[i].to);
	}
	pq_sendbyte(buf, cfg->bucket);
	pq_sendbyte(buf, (uint8) strlen(cfg->time_zone));
	pq_sendbytes(buf, cfg->time_zone, strlen(cfg->time_zone));
}

/*
 * Times to convert exist for ordered funnels only: checked where a funnel
 * that wants them is first read, so that no state holding one is ever made.
 */
void
funnel_check_elapsed(const FunnelConfig *cfg)
{
	if (cfg->want_elapsed && FUNNEL_ANY_ORDER(cfg))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("times to convert are not available for any-order funnels")));
}

/* Reads raise an error on short input: pq_getmsg* check the length. */
void
funnel_config_deserialize(FunnelConfig *cfg, StringInfo buf)
{
	int			version = pq_getmsgbyte(buf);
	int			flag;
	int			i;

	if (version != 1 && version != FUNNEL_SERIAL_VERSION)
		funnel_invalid_state("The state has an unrecognized format version.");
	memset(cfg, 0, sizeof(FunnelConfig));
	cfg->window = pq_getmsgint64(buf);
	cfg->nsteps = pq_getmsgbyte(buf);
	cfg->mode = pq_getmsgbyte(buf);
	flag = pq_getmsgbyte(buf);
	cfg->names_hash = (uint64) pq_getmsgint64(buf);
	cfg->target = pq_getmsgint(buf, 4);
	if (version >= 2)
	{
		cfg->options = pq_getmsgbyte(buf);
		cfg->optional = (uint64) pq_getmsgint64(buf);
		cfg->nexcl = pq_getmsgbyte(buf);
		if (cfg->nexcl > FUNNEL_MAX_EXCLUSIONS)
			funnel_invalid_state("The state has too many exclusions.");
		for (i = 0; i < cfg->nexcl; i++)
		{
			FunnelExclusion *x = &cfg->excl[i];

			x->pos = pq_getmsgbyte(buf);
			x->from = pq_getmsgbyte(buf);
			x->to = pq_getmsgbyte(buf);
			if (x->pos <= cfg->nsteps || x->pos > FUNNEL_MAX_STEPS ||
				x->from < 1 || x->from >= x->to || x->to > cfg->nsteps)
				funnel_invalid_state("An exclusion of the state is out of range.");
			cfg->excl_mask |= (uint64) 1 << (x->pos - 1);
		}
		if (cfg->options & ~FUNNEL_ALL_OPTS)
			funnel_invalid_state("The state has unrecognized funnel options.");
		cfg->bucket = pq_getmsgbyte(buf);
		i = pq_getmsgbyte(buf);
		if (cfg->bucket > FUNNEL_BUCKET_MONTH || i >= FUNNEL_TZ_LEN || (i > 0 && cfg->bucket == 0))
			funnel_invalid_state("The state has an invalid trend bucket or time zone.");
		memcpy(cfg->time_zone, pq_getmsgbytes(buf, i), i);
		if (memchr(cfg->time_zone, '\0', i) != NULL)
			funnel_invalid_state("The state has an invalid time zone name.");
		cfg->has_options = (cfg->optional != 0 || cfg->nexcl != 0 || FUNNEL_ANY_ORDER(cfg));
		if (((cfg->options & FUNNEL_OPT_EXCLUSION_COUNTS_REACHED) && !cfg->nexcl) ||
			(cfg->has_options && cfg->mode != 0) ||
			((cfg->options & FUNNEL_OPT_STEP_TIMES) &&
			 ((cfg->mode & FUNNEL_STRICT_ONCE) || FUNNEL_ANY_ORDER(cfg))) ||
			(FUNNEL_ANY_ORDER(cfg) && (cfg->optional || cfg->nexcl ||
									   (cfg->options & FUNNEL_OPT_ANY_ORDER_FIRST && cfg->options & FUNNEL_OPT_ANY_ORDER))) ||
			(cfg->optional & 1) ||
			(cfg->nsteps < 64 && (cfg->optional >> cfg->nsteps) != 0) ||
			((cfg->options & FUNNEL_OPT_TO_STEP) && (cfg->bucket == 0 || cfg->target < 1)))
			funnel_invalid_state("The state has invalid funnel options.");
	}
	if (cfg->target < 0 || cfg->target > cfg->nsteps)
		funnel_invalid_state("The state's to_step is out of range.");
	if (cfg->window < 0)
		funnel_invalid_state("The state's window is negative.");
	if (cfg->nsteps < 1 || cfg->nsteps > FUNNEL_MAX_STEPS)
		funnel_invalid_state("The state's step count is out of range.");
	if (cfg->mode & ~FUNNEL_ALL_MODES)
		funnel_invalid_state("The state has an unrecognized funnel mode.");
	if ((cfg->mode & FUNNEL_ALLOW_REENTRY) && !(cfg->mode & FUNNEL_STRICT_ORDER))
		funnel_invalid_state("The state's mode has allow_reentry without strict_order.");
	if (flag > 3)
		funnel_invalid_state("The state has invalid flags.");
	cfg->want_elapsed = (flag & 1) != 0;
	cfg->open_steps = (flag & 2) != 0;
	if (cfg->open_steps && cfg->nsteps != FUNNEL_MAX_STEPS && cfg->nexcl == 0)
		funnel_invalid_state("The state's step count does not match its flags.");
	if (cfg->want_elapsed && FUNNEL_ANY_ORDER(cfg))
		funnel_invalid_state("The state asks for times to convert of an any-order funnel.");
}

void
funnel_track_serialize(const FunnelTrack *track, StringInfo buf)
{
	pq_sendint32(buf, track->nrows);
	pq_sendint32(buf, track->log_len);
	pq_sendbytes(buf, track->log, track->log_len);
}

/*
 * Rebuild a track (initialised by the caller) by replaying its serialised
 * log, checking every value: the bytes come from outside.  Returns the
 * bytes allocated.
 */
Size
funnel_track_deserialize(const FunnelConfig *cfg, FunnelTrack *track,
						 StringInfo buf, MemoryContext cxt)
{
	uint32		nrows = pq_getmsgint(buf, 4);
	uint32		len = pq_getmsgint(buf, 4);
	const char *p;
	const char *end;
	int64		ts = 0;
	uint32		i;
	Size		grown = 0;
	uint64		allowed = ((cfg->nsteps == 64) ? PG_UINT64_MAX : ((uint64) 1 << cfg->nsteps) - 1) |
		cfg->excl_mask;

	if (len > (uint32) (buf->len - buf->cursor))
		funnel_invalid_state("An event log of the state is longer than the data.");
	if ((uint64) nrows * 2 > len)
		funnel_invalid_state("A row count of the state does not match its event log.");
	p = pq_getmsgbytes(buf, len);
	end = p + len;
	for (i = 0; i < nrows; i++)
	{
		uint64		d,
					s;

		p = funnel_get_varint(p, end, &d);
		if (p)
			p = funnel_get_varint(p, end, &s);
		if (!p)
			funnel_invalid_state("An event log of the state is truncated.");
		ts = (int64) ((uint64) (i == 0 ? 0 : track->max_ts) + (uint64) funnel_unzigzag(d));
		if (!IS_VALID_TIMESTAMP(ts) || TIMESTAMP_NOT_FINITE(ts))
			funnel_invalid_state("A timestamp of the state is out of range.");
		if (s & ~allowed)
			funnel_invalid_state("An event of the state matches a step outside the funnel.");
		if (s == 0 && !(cfg->mode & FUNNEL_STRICT_ORDER))
			funnel_invalid_state("An event of the state matches no step.");
		track_walk_row(cfg, track, ts, s);
		if ((i & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (p != end)
		funnel_invalid_state("An event log of the state has trailing bytes.");

	/*
	 * Every row decoded and checked: keep the log's bytes as they are (they
	 * decode to the rows just walked) instead of encoding each row again.
	 */
	if (len <= track->inline_cap)
		memcpy(track->log, end - len, len);
	else
	{
		track->log_cap = Max(len, Max(64, (uint32) track->inline_cap + 1));
		track->log = MemoryContextAllocHuge(cxt, track->log_cap);
		memcpy(track->log, end - len, len);
		grown = track->log_cap;
	}
	track->log_len = len;
	return grown;
}
