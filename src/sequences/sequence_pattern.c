/*
 * src/sequences/sequence_pattern.c
 *    The pattern language of ClickHouse's sequenceMatch and sequenceCount,
 *    with ClickHouse's algorithms step for step (AggregateFunctionSequenceMatch.h,
 *    transcribed in test/tools/sequence_reference.py and compared on random
 *    data by test/sequence_differential.sh):
 *
 *    - a pattern is a list of actions after an implicit leading ".*":
 *      (?N) an event matching condition N, "." any stored event, ".*" any
 *      number of events, (?t op S) a time condition on the time since the
 *      previous matched event (op one of <=, <, >=, >, ==; S seconds);
 *    - without a time condition sequence_match runs a DFA over the events
 *      (no limit); with one it backtracks, and sequence_count always
 *      backtracks, each call limited to SEQ_MAX_ITERATIONS steps;
 *    - sequence_count counts non-overlapping matches, each search starting
 *      after the previous match.
 *
 *    Only rows matching at least one condition are stored: "." never
 *    matches a row that matched none.  Rows at one time are ordered by
 *    their condition bits (ClickHouse leaves that order to its unstable
 *    sort; here it is fixed, so every plan gives one answer).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "sequences/sequence_pattern.h"

/* ---------- parsing ---------- */

static void
pattern_error(const char *pattern, int len, int pos, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid sequence pattern \"%.*s\"", len, pattern),
			 pos < len ? errdetail("%s at position %d: \"%.*s\".", what, pos,
								   len - pos, pattern + pos) :
			 errdetail("%s at the end of the pattern.", what),
			 errhint("Patterns are made of (?N) for condition N, \".\" for any event, "
					 "\".*\" for any events and (?t<=S), (?t<S), (?t>=S), (?t>S), (?t==S) "
					 "for the seconds since the previous event.")));
}

static bool
match_str(const char *pattern, int len, int *pos, const char *s)
{
	int			n = strlen(s);

	if (*pos + n <= len && memcmp(pattern + *pos, s, n) == 0)
	{
		*pos += n;
		return true;
	}
	return false;
}

/* Digits at *pos as a uint64; false when there are none. */
static bool
read_number(const char *pattern, int len, int *pos, uint64 *value)
{
	int			start = *pos;
	uint64		v = 0;

	while (*pos < len && pattern[*pos] >= '0' && pattern[*pos] <= '9')
	{
		int			d = pattern[*pos] - '0';

		if (v > (PG_UINT64_MAX - d) / 10)
			pattern_error(pattern, len, start, "Number too large");
		v = v * 10 + d;
		(*pos)++;
	}
	*value = v;
	return *pos > start;
}

static void
add_action(SeqPattern *pat, int *cap, SeqActionType type, uint64 extra)
{
	if (pat->nactions == *cap)
	{
		*cap *= 2;
		pat->actions = repalloc(pat->actions, sizeof(SeqAction) * *cap);
	}
	pat->actions[pat->nactions].type = type;
	pat->actions[pat->nactions].extra = extra;
	pat->nactions++;
}

static void
add_state(SeqPattern *pat, int *cap, bool has_kleene)
{
	if (pat->nstates == *cap)
	{
		*cap *= 2;
		pat->states = repalloc(pat->states, sizeof(SeqDfaState) * *cap);
	}
	pat->states[pat->nstates].has_kleene = has_kleene;
	pat->states[pat->nstates].transition = SEQ_DFA_NONE;
	pat->states[pat->nstates].event = 0;
	pat->nstates++;
}

/*
 * Parse a pattern for nconds conditions (ClickHouse: parsePattern).  Time
 * values are seconds, kept as microseconds (saturated: a larger value than
 * any two timestamps can differ by behaves the same).
 */
SeqPattern *
seq_pattern_parse(const char *pattern, int len, int nconds)
{
	SeqPattern *pat = palloc0(sizeof(SeqPattern));
	int			acap = 8,
				scap = 8;
	int			pos = 0;

	pat->actions = palloc(sizeof(SeqAction) * acap);
	pat->states = palloc(sizeof(SeqDfaState) * scap);
	add_action(pat, &acap, SEQ_KLEENE_STAR, 0);
	add_state(pat, &scap, true);

	while (pos < len)
	{
		if (match_str(pattern, len, &pos, "(?"))
		{
			if (match_str(pattern, len, &pos, "t"))
			{
				SeqActionType type;
				uint64		secs;
				SeqActionType last = pat->actions[pat->nactions - 1].type;

				if (match_str(pattern, len, &pos, "<="))
					type = SEQ_TIME_LE;
				else if (match_str(pattern, len, &pos, "<"))
					type = SEQ_TIME_LT;
				else if (match_str(pattern, len, &pos, ">="))
					type = SEQ_TIME_GE;
				else if (match_str(pattern, len, &pos, ">"))
					type = SEQ_TIME_GT;
				else if (match_str(pattern, len, &pos, "=="))
					type = SEQ_TIME_EQ;
				else
					pattern_error(pattern, len, pos, "Unrecognized time condition");

				if (!read_number(pattern, len, &pos, &secs))
					pattern_error(pattern, len, pos, "Expected a number of seconds");
				if (last != SEQ_SPECIFIC_EVENT && last != SEQ_ANY_EVENT &&
					last != SEQ_KLEENE_STAR)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid sequence pattern \"%.*s\"", len, pattern),
							 errdetail("A time condition must follow an event, \".\" or \".*\", not another time condition.")));
				pat->has_time = true;
				add_action(pat, &acap, type,
						   secs > PG_UINT64_MAX / USECS_PER_SEC ? PG_UINT64_MAX : secs * USECS_PER_SEC);
			}
			else
			{
				uint64		n;

				if (!read_number(pattern, len, &pos, &n))
					pattern_error(pattern, len, pos, "Expected a condition number");
				if (n < 1 || n > (uint64) nconds)
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("sequence pattern condition %s is out of range",
									n > PG_INT32_MAX ? ">2147483647" : psprintf("%d", (int) n)),
							 errdetail("The pattern can name conditions 1 to %d: as many as are given.", nconds)));
				add_action(pat, &acap, SEQ_SPECIFIC_EVENT, n - 1);
				pat->states[pat->nstates - 1].transition = SEQ_DFA_SPECIFIC_EVENT;
				pat->states[pat->nstates - 1].event = (uint32) (n - 1);
				add_state(pat, &scap, false);
				pat->conds_in_pattern |= (uint32) 1 << (n - 1);
			}
			if (!match_str(pattern, len, &pos, ")"))
				pattern_error(pattern, len, pos, "Expected \")\"");
		}
		else if (match_str(pattern, len, &pos, ".*"))
		{
			add_action(pat, &acap, SEQ_KLEENE_STAR, 0);
			pat->states[pat->nstates - 1].has_kleene = true;
		}
		else if (match_str(pattern, len, &pos, "."))
		{
			add_action(pat, &acap, SEQ_ANY_EVENT, 0);
			pat->states[pat->nstates - 1].transition = SEQ_DFA_ANY_EVENT;
			add_state(pat, &scap, false);
		}
		else
			pattern_error(pattern, len, pos, "Unexpected character");
	}
	return pat;
}

/* ---------- events ---------- */

/* Time order; rows at one time by their condition bits. */
int
seq_events_cmp(const void *a, const void *b)
{
	const SeqEvent *x = a;
	const SeqEvent *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->conds != y->conds)
		return x->conds < y->conds ? -1 : 1;
	return 0;
}

/* Time order; rows at one time by their condition bits, ascending. */
void
seq_events_sort(SeqEvent *events, int64 n)
{
	if (n > 1)
		qsort(events, n, sizeof(SeqEvent), seq_events_cmp);
}

/* ---------- matching ---------- */

/*
 * Microseconds from the earlier time a to b (b >= a: the events are
 * sorted), as an unsigned number: ClickHouse compares unsigned times.
 */
static inline uint64
since(int64 a, int64 b)
{
	return (uint64) b - (uint64) a;
}

/*
 * dfa_match with the active states as a bitmask (patterns of up to 64
 * states, nearly all): the same steps as the array form below.
 */
static bool
dfa_match_small(const SeqPattern *pat, const SeqEvent *events, int64 n)
{
	const uint64 last = (uint64) 1 << (pat->nstates - 1);
	uint64		active = 1;
	int64		i;

	for (i = 0; i < n && active != 0 && !(active & last); i++)
	{
		uint64		next = 0;
		uint64		todo = active;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		while (todo)
		{
			int			s = pg_rightmost_one_pos64(todo);
			const SeqDfaState *st = &pat->states[s];

			todo &= todo - 1;
			if (st->transition == SEQ_DFA_ANY_EVENT ||
				(st->transition == SEQ_DFA_SPECIFIC_EVENT &&
				 (events[i].conds & ((uint32) 1 << st->event)) != 0))
				next |= (uint64) 1 << (s + 1);
			if (st->has_kleene)
				next |= (uint64) 1 << s;
		}
		active = next;
	}
	return (active & last) != 0;
}

/* ClickHouse: dfaMatch.  O(states x events), no limit. */
static bool
dfa_match(const SeqPattern *pat, const SeqEvent *events, int64 n)
{
	int			m = pat->nstates;
	bool	   *active = palloc0(sizeof(bool) * m);
	bool	   *next = palloc0(sizeof(bool) * m);
	int64		n_active = 1;
	int64		i;
	bool		result;

	active[0] = true;
	for (i = 0; i < n && n_active > 0 && !active[m - 1]; i++)
	{
		bool	   *swap;
		int			s;

		/* each event costs a pass over the (more than 64) states */
		CHECK_FOR_INTERRUPTS();
		n_active = 0;
		memset(next, 0, sizeof(bool) * m);
		for (s = 0; s < m; s++)
		{
			const SeqDfaState *st = &pat->states[s];

			if (!active[s])
				continue;
			if (st->transition == SEQ_DFA_ANY_EVENT)
			{
				next[s + 1] = true;
				n_active++;
			}
			else if (st->transition == SEQ_DFA_SPECIFIC_EVENT &&
					 (events[i].conds & ((uint32) 1 << st->event)) != 0)
			{
				next[s + 1] = true;
				n_active++;
			}
			if (st->has_kleene)
			{
				next[s] = true;
				n_active++;
			}
		}
		swap = active;
		active = next;
		next = swap;
	}
	result = active[m - 1];
	pfree(active);
	pfree(next);
	return result;
}

typedef struct Backtrack
{
	int			action;
	int64		event;
	int64		base;
} Backtrack;

static void
too_slow(int64 n)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("sequence pattern matching exceeded %d steps", SEQ_MAX_ITERATIONS),
			 errdetail("The pattern needs too much backtracking over the %lld events of one group.",
					   (long long) n),
			 errhint("Make the pattern more specific (fewer \".*\" and time conditions next to each other), "
					 "or match fewer events per group.")));
}

/*
 * ClickHouse: backtrackingMatch.  Tries the pattern from events[*pos];
 * *pos is left after the match (or after the last event tried), and always
 * moves at least one event forward.
 */
static bool
backtracking_match(const SeqPattern *pat, const SeqEvent *events, int64 n, int64 *pos)
{
	int			action = 0;
	int64		ev = *pos;
	const int64 begin = ev;
	int64		base = ev;
	Backtrack  *stack = NULL;
	int64		depth = 0,
				cap = 0;
	int64		iterations = 0;
	const int	nactions = pat->nactions;

#define PUSH() \
	do { \
		if (depth == cap) \
		{ \
			cap = cap ? cap * 2 : 64; \
			stack = stack ? repalloc_huge(stack, sizeof(Backtrack) * cap) \
				: palloc(sizeof(Backtrack) * cap); \
		} \
		stack[depth].action = action; \
		stack[depth].event = ev; \
		stack[depth].base = base; \
		depth++; \
	} while (0)

	while (action < nactions && ev < n)
	{
		const SeqAction *a = &pat->actions[action];
		bool		backtrack = false;

		switch (a->type)
		{
			case SEQ_SPECIFIC_EVENT:
				if (events[ev].conds & ((uint32) 1 << a->extra))
				{
					base = ev;
					action++, ev++;
				}
				else
					backtrack = true;
				break;
			case SEQ_ANY_EVENT:
				base = ev;
				action++, ev++;
				break;
			case SEQ_KLEENE_STAR:
				PUSH();
				base = ev;
				action++;
				break;
			case SEQ_TIME_LE:
			case SEQ_TIME_LT:
				{
					uint64		d = since(events[base].ts, events[ev].ts);

					if (a->type == SEQ_TIME_LE ? d <= a->extra : d < a->extra)
					{
						PUSH();
						base = ev;
						action++;
					}
					else
						backtrack = true;
				}
				break;
			case SEQ_TIME_GE:
			case SEQ_TIME_GT:
			case SEQ_TIME_EQ:
				{
					uint64		d = since(events[base].ts, events[ev].ts);
					bool		ok = a->type == SEQ_TIME_GE ? d >= a->extra :
						a->type == SEQ_TIME_GT ? d > a->extra : d == a->extra;

					if (ok)
					{
						PUSH();
						base = ev;
						action++;
					}
					else if (++ev == n)
						backtrack = true;
				}
				break;
		}

		if (backtrack)
		{
			/* pop until an entry whose next event exists */
			bool		resumed = false;

			while (depth > 0)
			{
				depth--;
				action = stack[depth].action;
				ev = stack[depth].event + 1;
				base = stack[depth].base;
				if (ev != n)
				{
					resumed = true;
					break;
				}
			}
			if (!resumed)
				break;
		}

		if (++iterations > SEQ_MAX_ITERATIONS)
			too_slow(n);
		if ((iterations & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
#undef PUSH

	/* trailing actions that an empty rest of the events satisfies */
	while (action < nactions &&
		   (pat->actions[action].type == SEQ_KLEENE_STAR ||
			pat->actions[action].type == SEQ_TIME_LE ||
			pat->actions[action].type == SEQ_TIME_LT ||
			(pat->actions[action].type == SEQ_TIME_GE && pat->actions[action].extra == 0)))
		action++;

	if (ev == begin)
		ev++;
	*pos = ev;
	if (stack)
		pfree(stack);
	return action == nactions;
}

/*
 * ClickHouse: sequenceMatch's result.  Its pre-check of the pattern's
 * fixed parts (couldMatchDeterministicParts) captures the part bounds by
 * value, so it always passes and never counts: it is left out here.
 */
bool
seq_pattern_match(const SeqPattern *pat, const SeqEvent *events, int64 n)
{
	int64		pos = 0;

	if (!pat->has_time)
		return pat->nstates <= 64 ? dfa_match_small(pat, events, n) : dfa_match(pat, events, n);
	return backtracking_match(pat, events, n, &pos);
}

/* ClickHouse: sequenceCount's count: non-overlapping matches. */
int64
seq_pattern_count(const SeqPattern *pat, const SeqEvent *events, int64 n)
{
	int64		pos = 0;
	int64		count = 0;

	while (pos < n && backtracking_match(pat, events, n, &pos))
		count++;
	return count;
}
