/*
 * src/engine/funnel.h
 *    Shared declarations of the funnel extension: the funnel_event type, the
 *    funnel configuration (window, steps, mode) and the one funnel engine that
 *    every function walking a funnel calls.
 */
#ifndef FUNNEL_H
#define FUNNEL_H

#include "postgres.h"
#include "common/agg_state.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/timestamp.h"

#define FUNNEL_MAX_STEPS 64

/* One event of a journey: a time and the set of steps (bit k-1 = step k). */
typedef struct FunnelEvent
{
	int64		ts;				/* TimestampTz, microseconds */
	uint64		steps;
} FunnelEvent;

#define DatumGetFunnelEventP(X)		((FunnelEvent *) DatumGetPointer(X))
#define FunnelEventPGetDatum(X)		PointerGetDatum(X)
#define PG_GETARG_FUNNEL_EVENT_P(n)	DatumGetFunnelEventP(PG_GETARG_DATUM(n))

/* Mode flags (spec: "Modes"). */
#define FUNNEL_STRICT_DEDUPLICATION	0x01
#define FUNNEL_STRICT_ORDER			0x02
#define FUNNEL_STRICT_INCREASE		0x04
#define FUNNEL_STRICT_ONCE			0x08
#define FUNNEL_ALLOW_REENTRY		0x10
#define FUNNEL_ALL_MODES			0x1F

/* Product-analytics options (doc/product_funnels.md), also in the mode text. */
#define FUNNEL_MAX_EXCLUSIONS		16
#define FUNNEL_OPT_EXCLUSION_COUNTS_REACHED	0x01	/* Mixpanel's exclusions */
#define FUNNEL_OPT_ANY_ORDER		0x02	/* PostHog's unordered funnel */
#define FUNNEL_OPT_ANY_ORDER_FIRST	0x04	/* the same, entered at step 1 */
#define FUNNEL_OPT_STEP_TIMES		0x08	/* funnel_summary: times step to step */
#define FUNNEL_OPT_TO_STEP			0x10	/* funnel_trends: "to_step K" (in target) */
#define FUNNEL_ALL_OPTS				0x1F
#define FUNNEL_ANY_ORDER(cfg) (((cfg)->options & (FUNNEL_OPT_ANY_ORDER | FUNNEL_OPT_ANY_ORDER_FIRST)) != 0)

/* funnel_check_used_options: the mode items a function reads */
#define FUNNEL_USES_STEP_TIMES	0x01	/* funnel_summary */
#define FUNNEL_USES_PERIODS		0x02	/* funnel_trends: bucket, time_zone */

#define FUNNEL_BUCKET_HOUR	1
#define FUNNEL_BUCKET_DAY	2
#define FUNNEL_BUCKET_WEEK	3
#define FUNNEL_BUCKET_MONTH	4
#define FUNNEL_TZ_LEN		64

/* funnel_breakdown: where an entity's breakdown value is taken from */
#define FUNNEL_BREAKDOWN_FIRST_TOUCH	1
#define FUNNEL_BREAKDOWN_LAST_TOUCH		2
#define FUNNEL_BREAKDOWN_STEP			3
#define FUNNEL_BREAKDOWN_ALL_EVENTS		4

/*
 * An exclusion: the condition at position pos (above the funnel's steps)
 * ends an attempt seen after it reached step "from" and before step "to".
 */
typedef struct FunnelExclusion
{
	uint8		pos;
	uint8		from;
	uint8		to;
} FunnelExclusion;

/* What defines one funnel: every row of a group must agree on it. */
typedef struct FunnelConfig
{
	int64		window;			/* microseconds, >= 0 */
	int32		nsteps;			/* 1..FUNNEL_MAX_STEPS */
	uint32		mode;			/* FUNNEL_* flags */
	int32		target;			/* time_to_convert: to_step, 0 = the last;
								 * funnel_trends: "to_step K" in the mode
								 * (FUNNEL_OPT_TO_STEP) */
	bool		want_elapsed;	/* record the time to reach each step */
	bool		open_steps;		/* funnel_event input: the funnel has as many
								 * steps as the highest step a row names */
	uint64		names_hash;		/* event-name form: hash of the step names */
	/* options of doc/product_funnels.md; all zero for ClickHouse's walk */
	bool		has_options;	/* any of the below: the walk of product funnels */
	uint8		options;		/* FUNNEL_OPT_* flags */
	uint8		nexcl;
	uint64		optional;		/* optional steps (bit k-1 = step k) */
	uint64		excl_mask;		/* positions holding exclusion conditions */
	FunnelExclusion excl[FUNNEL_MAX_EXCLUSIONS];
	/* funnel_trends: entry periods ("bucket", "time_zone" in the mode) */
	uint8		bucket;			/* FUNNEL_BUCKET_*, 0 = none */
	char		time_zone[FUNNEL_TZ_LEN];	/* "" = UTC */
	/* funnel_breakdown: "breakdown ..." in the mode (0 = none given) */
	uint8		breakdown;		/* FUNNEL_BREAKDOWN_* */
	uint8		breakdown_step; /* FUNNEL_BREAKDOWN_STEP: the step K */
	bool		with_breakdown; /* the function takes a breakdown value */
} FunnelConfig;

/*
 * State of the default (not strict_once) walk.  The steps that hold a chain
 * start are always a prefix 1..level, so "level" is the whole held set.
 * times[k-1] is the chain start held by step k; with strict_increase,
 * times[nsteps + k-1] is the time step k was reached; with want_elapsed,
 * times[2 * nsteps + k-1] is the chain's time from step 1 to step k when
 * the walk first reached step k.
 */
typedef struct FunnelWalk
{
	int16		level;
	bool		done;			/* answer final: later entries cannot change it */
	int64		times[FLEXIBLE_ARRAY_MEMBER];
} FunnelWalk;

/*
 * Per-entity (or per-group) track: the online walk while rows arrive in time
 * order, plus a compact delta-encoded log of every row that can matter, so
 * that an entity whose rows arrive out of order (parallel scans, merges) is
 * re-walked exactly at the end.
 */
typedef struct FunnelTrack
{
	int64		max_ts;			/* latest ts seen: the pending group's ts */
	uint64		pend_steps;		/* steps seen at max_ts (union) */
	uint64		pend_dup;		/* steps seen at least twice at max_ts */
	char	   *log;			/* the inline area after the walk, or heap */
	uint32		nrows;			/* rows in the log */
	uint32		log_len;
	uint32		log_cap;		/* > inline_cap: the log is on the heap */
	uint16		inline_cap;
	bool		pend_zero;		/* a row matching no step at max_ts */
	bool		walk_valid;		/* online walk is exact (rows came in order) */
	FunnelWalk	walk;			/* variable size; inline log bytes follow */
} FunnelTrack;

/*
 * Log format, per row: varint zigzag(ts - latest ts before it), varint
 * steps.  Tracks are never copied as a whole (log may point inside).
 */

/* engine/walk.c: the engine */
extern void funnel_parse_options(text *mode, FunnelConfig *cfg);
extern void funnel_apply_options(FunnelConfig *cfg, int npositions);
extern void funnel_check_row_steps(const FunnelConfig *cfg, uint64 steps);
extern void funnel_check_used_options(const FunnelConfig *cfg, int uses);
extern uint32 funnel_options_id(const FunnelConfig *cfg);
extern int	funnel_reported_steps(const FunnelConfig *cfg, uint64 seen);
extern const char *funnel_bucket_name(int bucket);
extern const char *funnel_breakdown_name(int breakdown);
extern uint32 funnel_mode_flag(const char *name, int len);
extern char *funnel_mode_names(uint32 mode);
extern int64 funnel_window_usecs(Interval *window);
extern void funnel_check_nsteps(int nsteps);
extern Size funnel_walk_size(const FunnelConfig *cfg);
extern Size funnel_track_size(const FunnelConfig *cfg, int inline_cap);
extern void funnel_walk_init(const FunnelConfig *cfg, FunnelWalk *walk);
extern void funnel_track_init(const FunnelConfig *cfg, FunnelTrack *track,
							  int inline_cap);
extern Size funnel_track_add(const FunnelConfig *cfg, FunnelTrack *track,
							 MemoryContext cxt, int64 ts, uint64 steps);
extern Size funnel_track_merge(const FunnelConfig *cfg, FunnelTrack *dst,
							   const FunnelTrack *src, MemoryContext cxt);
extern Size funnel_track_copy(const FunnelConfig *cfg, FunnelTrack *dst,
							  const FunnelTrack *src, MemoryContext cxt);
extern int	funnel_track_level(const FunnelConfig *cfg, const FunnelTrack *track,
							   Size held, int64 *elapsed);
extern int	funnel_events_level(const FunnelConfig *cfg, const FunnelEvent *events,
								int nevents, Size held, int64 *elapsed);
extern int	funnel_events_chain_times(const FunnelConfig *cfg, const FunnelEvent *events,
									  int nevents, Size held, int64 *chain);
extern int	funnel_track_chain_times(const FunnelConfig *cfg, const FunnelTrack *track,
									 Size held, int64 *chain);
extern FunnelEvent *funnel_track_decode(const FunnelTrack *track, int *nevents);
extern uint64 funnel_track_steps(const FunnelTrack *track);
extern void funnel_track_serialize(const FunnelTrack *track, StringInfo buf);
extern Size funnel_track_deserialize(const FunnelConfig *cfg,
									 FunnelTrack *track, StringInfo buf,
									 MemoryContext cxt);
extern void funnel_config_serialize(const FunnelConfig *cfg, StringInfo buf);
extern void funnel_config_deserialize(FunnelConfig *cfg, StringInfo buf);
extern void funnel_check_elapsed(const FunnelConfig *cfg);


/* funnel_event.c */
extern uint64 funnel_steps_from_bools(ArrayType *conds, int *nsteps);
extern void funnel_check_timestamp(int64 ts);
extern void funnel_timestamp_error(int64 ts) pg_attribute_noreturn();
extern FunnelEvent *funnel_journey_events(ArrayType *journey, int *nevents);
extern int	funnel_event_compare(const FunnelEvent *a, const FunnelEvent *b);
extern void funnel_event_append_text(StringInfo buf, const FunnelEvent *ev);

/* journeys/journey.c: canonical journeys (doc/journeys.md) */
extern bool funnel_events_are_canonical(const FunnelEvent *ev, int n);
extern int	funnel_events_make_canonical(FunnelEvent *ev, int n);
extern ArrayType *funnel_events_array(const FunnelEvent *ev, int64 n, Oid elemtype);

/*
 * journeys/journey_type.c: the compact journey type, read in place (a
 * stored value keeps its short header: PG_DETOAST_DATUM_PACKED).
 */
#define PG_GETARG_JOURNEY_P(n)	((struct varlena *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(n)))
extern struct varlena *funnel_journey_encode(const FunnelEvent *ev, int64 n);
extern FunnelEvent *funnel_journey_decode(const struct varlena *journey, int *nevents);
extern FunnelEvent *funnel_journey_decode_into(const struct varlena *journey, int *nevents,
											   FunnelEvent *buf, int bufcap);

/* events of a journey decoded on the stack by the walks (larger: palloc) */
#define FUNNEL_JOURNEY_STACK_EVENTS 64
extern int	funnel_journey_length(const struct varlena *journey);

/*
 * engine/input.c: reading one row of an aggregate's arguments.  Every
 * funnel aggregate takes, after its state: window interval, [mode text],
 * [entity], then one of three step inputs.
 */
typedef enum FunnelInputKind
{
	FUNNEL_INPUT_BOOLS,			/* ts timestamptz, VARIADIC steps boolean[],
								 * or ts and 1..8 separate booleans */
	FUNNEL_INPUT_EVENT,			/* event funnel_event */
	FUNNEL_INPUT_NAMES			/* ts timestamptz, event text, steps text[] */
} FunnelInputKind;

/* optional arguments after the window, in this order */
#define FUNNEL_ARG_MODE		0x01	/* mode text */
#define FUNNEL_ARG_TARGET	0x02	/* to_step integer */
#define FUNNEL_ARG_ENTITY	0x04	/* entity anyelement */
#define FUNNEL_ARG_BREAKDOWN 0x08	/* breakdown value text (after the entity) */
#define FUNNEL_ARG_INPUT	0x10	/* not optional: the step input, after the rest */

/*
 * The argument number of one of the above in a call with the optional
 * arguments args (argument 0 is the state, 1 the window): a constant where
 * args is one, as in each aggregate's transition.
 */
static inline int
funnel_arg_number(int args, int which)
{
	/* no loop: a compiler folds this */
	return 2 + (which > FUNNEL_ARG_MODE && (args & FUNNEL_ARG_MODE) != 0) +
		(which > FUNNEL_ARG_TARGET && (args & FUNNEL_ARG_TARGET) != 0) +
		(which > FUNNEL_ARG_ENTITY && (args & FUNNEL_ARG_ENTITY) != 0) +
		(which > FUNNEL_ARG_BREAKDOWN && (args & FUNNEL_ARG_BREAKDOWN) != 0);
}

/*
 * The one step name an event name can equal, found by its length and
 * first and last bytes (NAME_SLOT), held in the slot itself: the lookup of
 * a row's event reads one slot.  A slot no step name has is of length
 * NAME_NONE, which no event equals: an event that is no step takes the same
 * path as one that is, as most events of a table are one or the other in
 * no order.  NAME_SCAN: several step names have the slot, or one longer
 * than the slot holds (compare them all).  Spares comparing every event
 * with every step name in turn.
 */
#define NAME_NONE	(-1)
#define NAME_SCAN	(-2)
/* names up to this long are compared by words; step names padded to it */
#define NAME_WORDS_MAX	16
#define NAME_SLOT(d, len) \
	(((len) == 0 ? 0 : \
	  ((uint32) (len) * 7u + (uint8) (d)[0] * 3u + (uint8) (d)[(len) - 1] * 5u)) & 63)

typedef struct FunnelNameSlot
{
	int32		len;			/* of the name; NAME_NONE, NAME_SCAN */
	uint64		steps;			/* the steps the name is */
	char		name[NAME_WORDS_MAX];	/* zero-padded */
} FunnelNameSlot;

typedef struct FunnelInput
{
	FunnelInputKind kind;
	int			args;			/* FUNNEL_ARG_* */
	int			arg_mode;		/* argument numbers, 0 when absent */
	int			arg_target;
	int			arg_entity;
	int			arg_breakdown;
	int			arg_input;		/* first argument of the step input */
	bool		fixed_bools;	/* conditions as separate arguments */
	bool		window_stable;	/* the window is a constant: read once */
	bool		mode_stable;	/* the mode is a constant: read once */
	bool		configured;		/* cfg below is set from the first row */
	FunnelConfig cfg;
	/*
	 * Changes whenever cfg may have changed value (a window, mode, steps
	 * array or number of conditions read anew): a state that checked cfg at
	 * this version need not compare it again.
	 */
	uint64		cfg_version;
	int			last_npositions;	/* conditions of the row before */
	Interval	window_arg;		/* raw window of the first row */
	text	   *mode_arg;		/* raw mode of the first row (or NULL) */
	int			options_checked_for;	/* conditions the options were checked
										 * against (-1: not yet) */
	int			options_nsteps; /* the funnel's steps then */
	/* FUNNEL_INPUT_NAMES: distinct step names and the steps each matches */
	ArrayType  *names_arg;		/* raw steps array of the first row */
	bool		names_stable;	/* the steps array is a constant */
	int			nnames;
	int			npositions;		/* entries of the steps array */
	char	  **names;
	int		   *name_lens;
	uint64	   *name_steps;
	/* the step name to compare an event with, by NAME_SLOT */
	FunnelNameSlot name_slots[64];
	/* event names, nothing else to read again: the fast path (input.c) */
	bool		names_fast;
	/* conditions as arguments, nothing else to read again: nbools of them */
	bool		bools_fast;
	int			nbools;
	/* whole entities per state here (engine/whole_entities.c): 0 not asked, 1 no, 2 yes */
	int8		whole_entities;
	MemoryContext cxt;
	/* configurations seen so far, for states to share (see funnel_input_config) */
	int			nconfigs;
	FunnelConfig *configs[8];
} FunnelInput;

extern FunnelInput *funnel_input_setup(FunctionCallInfo fcinfo,
									   FunnelInputKind kind, int args);

/* The call site's input reader, set up on its first row. */
static inline FunnelInput *
funnel_input_get(FunctionCallInfo fcinfo, FunnelInputKind kind, int args)
{
	FunnelInput *in = (FunnelInput *) fcinfo->flinfo->fn_extra;

	if (likely(in != NULL))
		return in;
	return funnel_input_setup(fcinfo, kind, args);
}
/* a read row's time when the row is to be ignored: no valid time is it */
#define FUNNEL_ROW_IGNORED	DT_NOBEGIN
extern FunnelEvent funnel_input_read_all(FunctionCallInfo fcinfo, FunnelInput *in);
extern uint64 funnel_name_steps_any(const FunnelInput *in, Datum event);


static inline uint32
funnel_name_word4(const char *p)
{
	uint32		v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * An event name of up to NAME_WORDS_MAX bytes against a step name of the
 * same length (padded with zeros to NAME_WORDS_MAX).  Most are 4 to 16
 * bytes: four overlapping words cover them without reading past the
 * event's name, with no branch on the length or per byte (the names of a
 * table's rows differ from row to row, so such branches are mispredicted).
 */
static inline bool
funnel_names_equal_short(const char *a, const char *b, int len)
{
	if (likely(len >= 4))
	{
		int			o1 = Min(4, len - 4);
		int			o2 = Max(0, len - 8);
		int			o3 = len - 4;

		return ((funnel_name_word4(a) ^ funnel_name_word4(b)) |
				(funnel_name_word4(a + o1) ^ funnel_name_word4(b + o1)) |
				(funnel_name_word4(a + o2) ^ funnel_name_word4(b + o2)) |
				(funnel_name_word4(a + o3) ^ funnel_name_word4(b + o3))) == 0;
	}
	/* no library call for names of 0-3 bytes */
	return (len < 1 || a[0] == b[0]) && (len < 2 || a[1] == b[1]) && (len < 3 || a[2] == b[2]);
}

/*
 * The steps an event name (a text datum) is, when it is short and inline
 * (a table row's name nearly always is) and up to NAME_WORDS_MAX bytes:
 * looked up here, with no call.  False for any other name, which
 * funnel_name_steps_any looks up.
 */
static pg_attribute_always_inline bool
funnel_name_steps_short(const FunnelInput *in, Datum event, uint64 *steps)
{
	const struct varlena *ev = (const struct varlena *) DatumGetPointer(event);
	int			len;
	const char *d;
	const FunnelNameSlot *e;

	/* a 1-byte header first: nearly every row's */
	if (likely(VARATT_IS_SHORT(ev) && !VARATT_IS_EXTERNAL(ev)))
	{
		len = VARSIZE_SHORT(ev) - VARHDRSZ_SHORT;
		d = VARDATA_SHORT(ev);
	}
	else if (VARATT_IS_4B_U(ev))
	{
		len = VARSIZE(ev) - VARHDRSZ;
		d = VARDATA(ev);
	}
	else
		return false;
	e = &in->name_slots[NAME_SLOT(d, len)];
	if (unlikely(e->len == NAME_SCAN || len > NAME_WORDS_MAX))
		return false;
	*steps = ((e->len == len) & funnel_names_equal_short(e->name, d, len)) ? e->steps : 0;
	return true;
}

static inline uint64
funnel_name_steps(const FunnelInput *in, Datum event)
{
	uint64		steps;

	if (likely(funnel_name_steps_short(in, event, &steps)))
		return steps;
	return funnel_name_steps_any(in, event);
}

/* how funnel_input_read_settled read a row */
typedef enum FunnelRead
{
	FUNNEL_READ_ROW,			/* *ts and *steps are the row's */
	FUNNEL_READ_IGNORE,			/* a row to ignore (NULL time) */
	FUNNEL_READ_WHOLE			/* to be read whole (funnel_input_read_all) */
} FunnelRead;

/*
 * A row of a settled call site (event names or conditions as arguments,
 * nothing else to read again), read inline with no call that returns (an
 * invalid time's error does not).  Any other row, and an event name that
 * is not short and inline, is FUNNEL_READ_WHOLE, read again from the start
 * by funnel_input_read_all.
 * a: the step input's argument number (in->arg_input).
 */
static pg_attribute_always_inline FunnelRead
funnel_input_read_settled(FunctionCallInfo fcinfo, const FunnelInput *in,
						  int a, int64 *ts, uint64 *steps)
{

	if (likely(in->names_fast))
	{
		/* nothing but the row's time and event can have changed */
		if (PG_ARGISNULL(a))
			return FUNNEL_READ_IGNORE;
		*ts = PG_GETARG_TIMESTAMPTZ(a);
		if (unlikely(!IS_VALID_TIMESTAMP(*ts)))
			funnel_timestamp_error(*ts);
		if (PG_ARGISNULL(a + 1))
			*steps = 0;
		else if (unlikely(!funnel_name_steps_short(in, PG_GETARG_DATUM(a + 1), steps)))
			return FUNNEL_READ_WHOLE;
		return FUNNEL_READ_ROW;
	}
	if (likely(in->bools_fast))
	{
		const NullableDatum *cond = &fcinfo->args[a + 1];
		uint64		s = 0;
		int			k;

		/* no branch per condition: which one holds follows the data */
		for (k = 0; k < in->nbools; k++)
			s |= (uint64) (!cond[k].isnull & DatumGetBool(cond[k].value)) << k;
		if (PG_ARGISNULL(a))
			return FUNNEL_READ_IGNORE;
		*ts = PG_GETARG_TIMESTAMPTZ(a);
		if (unlikely(!IS_VALID_TIMESTAMP(*ts)))
			funnel_timestamp_error(*ts);
		*steps = s;
		return FUNNEL_READ_ROW;
	}
	return FUNNEL_READ_WHOLE;
}

/*
 * Read one row.  Returns false for a row to ignore (NULL time); otherwise
 * sets *ts and *steps and leaves the row's configuration in in->cfg.
 */
static inline bool
funnel_input_read(FunctionCallInfo fcinfo, FunnelInput *in, int64 *ts,
				  uint64 *steps)
{
	FunnelEvent row;

	switch (funnel_input_read_settled(fcinfo, in, in->arg_input, ts, steps))
	{
		case FUNNEL_READ_ROW:
			return true;
		case FUNNEL_READ_IGNORE:
			return false;
		case FUNNEL_READ_WHOLE:
			break;
	}
	row = funnel_input_read_all(fcinfo, in);
	*ts = row.ts;
	*steps = row.steps;
	return row.ts != FUNNEL_ROW_IGNORED;
}

extern void funnel_config_check_same(const FunnelConfig *a, const FunnelConfig *b);
extern bool funnel_config_equal(const FunnelConfig *a, const FunnelConfig *b);
extern const FunnelConfig *funnel_input_config(FunnelInput *in);
extern const FunnelConfig *funnel_journey_config(FunctionCallInfo fcinfo, Interval *window,
												 text *mode, bool want_elapsed, int uses);

#endif							/* FUNNEL_H */
