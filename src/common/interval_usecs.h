/*
 * src/common/interval_usecs.h
 *    Intervals as microseconds and back (common/interval_usecs.c).  A month
 *    counts 30 days and a day 24 hours, as PostgreSQL's interval comparison
 *    does.
 */
#ifndef FUNNEL_INTERVAL_USECS_H
#define FUNNEL_INTERVAL_USECS_H

#include "postgres.h"

#include "datatype/timestamp.h"

extern bool funnel_interval_to_usecs(const Interval *iv, int64 *usecs);
extern int64 funnel_interval_usecs(const Interval *iv, const char *what, bool positive);
extern Interval *funnel_usecs_interval(int64 usecs);
extern char *funnel_usecs_text(int64 usecs);

#endif							/* FUNNEL_INTERVAL_USECS_H */
