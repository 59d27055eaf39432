/*
 * src/common/money.h
 *    Exact sums of money (see money.c): amounts as int128 counts of
 *    billionths, rounded to double precision once, at the end.
 */
#ifndef FUNNEL_MONEY_H
#define FUNNEL_MONEY_H

#include "postgres.h"

#include "lib/stringinfo.h"

#ifndef HAVE_INT128
#error "funnel needs a compiler with a 128-bit integer type (exact sums of money)"
#endif

#define MONEY_NANO_DIGITS		9
#define MONEY_NANOS_PER_UNIT	1000000000

extern int128 money_from_double(double x);
extern void money_add(int128 *sum, int128 x, const char *what);
extern double money_to_double(int128 v);
extern void money_append_text(StringInfo buf, int128 v);
extern bool money_from_text(const char *s, int128 *v);
extern void money_send(StringInfo buf, int128 v);
extern int128 money_recv(StringInfo buf);

#endif							/* FUNNEL_MONEY_H */
