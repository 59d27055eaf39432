/*
 * src/common/agg_state.h
 *    What every aggregate with an internal state shares (common/agg_state.c):
 *    its memory context, the NULL states of combine functions, the memory cap
 *    (funnel.max_state_memory), reading a serialised state back with every
 *    value checked (and the rest of a type's binary input message), and
 *    telling its support functions apart.
 */
#ifndef FUNNEL_AGG_STATE_H
#define FUNNEL_AGG_STATE_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

/* Argument n as a pointer to an internal state, NULL when the argument is. */
#define FUNNEL_STATE_ARG(type, n) \
	(PG_ARGISNULL(n) ? (type *) NULL : (type *) PG_GETARG_POINTER(n))

extern MemoryContext funnel_agg_context(FunctionCallInfo fcinfo, const char *fname);
extern Datum funnel_combine_keep_first(FunctionCallInfo fcinfo);

extern void funnel_check_memory(Size bytes);
extern void *funnel_state_grow(MemoryContext cxt, void *ptr, int64 *cap,
							   int64 need, Size elem, Size *mem);
extern int64 funnel_count_add(int64 a, int64 b, const char *what);

extern void funnel_state_reader(bytea *data, StringInfo buf);
extern void funnel_state_check_end(StringInfo buf);
extern void funnel_state_check_count(StringInfo buf, int64 n, Size min_bytes);
extern void funnel_invalid_state(const char *detail) pg_attribute_noreturn();

extern void funnel_key_write(StringInfo buf, Datum key, int16 typlen, bool typbyval);
extern bool funnel_key_read(StringInfo buf, int16 typlen, bool typbyval, Datum *key);

extern bytea *funnel_recv_rest(StringInfo buf);

/*
 * "symbol library" of a C-language function (prosrc, probin): which of an
 * aggregate's support functions is which, whatever their SQL names; NULL
 * for other languages.
 */
extern char *funnel_c_symbol(Oid fn);

#endif							/* FUNNEL_AGG_STATE_H */
