/*
 * src/sequences/sequence_pattern.h
 *    ClickHouse's sequenceMatch/sequenceCount patterns (sequence_pattern.c):
 *    the parsed pattern, and matching it against a group's events sorted by
 *    time.  doc/sequences.md states the rules.
 */
#ifndef FUNNEL_SEQUENCE_PATTERN_H
#define FUNNEL_SEQUENCE_PATTERN_H

#include "postgres.h"

/* conditions of sequence_match/sequence_count (ClickHouse: max_events) */
#define SEQ_MAX_CONDITIONS 32

/* ClickHouse: sequence_match_max_iterations */
#define SEQ_MAX_ITERATIONS 1000000

/* One stored row: its time and the conditions it matched (bit k-1 = (?k)). */
typedef struct SeqEvent
{
	int64		ts;
	uint32		conds;
} SeqEvent;

typedef enum SeqActionType
{
	SEQ_SPECIFIC_EVENT,			/* (?N) */
	SEQ_ANY_EVENT,				/* . */
	SEQ_KLEENE_STAR,			/* .* */
	SEQ_TIME_LE,				/* (?t<=S) */
	SEQ_TIME_LT,				/* (?t<S) */
	SEQ_TIME_GE,				/* (?t>=S) */
	SEQ_TIME_GT,				/* (?t>S) */
	SEQ_TIME_EQ					/* (?t==S) */
} SeqActionType;

typedef struct SeqAction
{
	SeqActionType type;
	uint64		extra;			/* condition index, or microseconds (saturated) */
} SeqAction;

typedef enum SeqDfaTransition
{
	SEQ_DFA_NONE,
	SEQ_DFA_SPECIFIC_EVENT,
	SEQ_DFA_ANY_EVENT
} SeqDfaTransition;

typedef struct SeqDfaState
{
	bool		has_kleene;
	SeqDfaTransition transition;
	uint32		event;
} SeqDfaState;

typedef struct SeqPattern
{
	int			nactions;
	SeqAction  *actions;		/* actions[0] is an implicit .* */
	int			nstates;
	SeqDfaState *states;
	bool		has_time;		/* a (?t...) makes it backtrack */
	uint32		conds_in_pattern;
} SeqPattern;

extern SeqPattern *seq_pattern_parse(const char *pattern, int len, int nconds);
extern int	seq_events_cmp(const void *a, const void *b);
extern void seq_events_sort(SeqEvent *events, int64 n);
extern bool seq_pattern_match(const SeqPattern *pat, const SeqEvent *events, int64 n);
extern int64 seq_pattern_count(const SeqPattern *pat, const SeqEvent *events, int64 n);

#endif							/* FUNNEL_SEQUENCE_PATTERN_H */
