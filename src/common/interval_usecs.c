/*
 * src/common/interval_usecs.c
 *    Intervals as microseconds and back: the one conversion every window,
 *    lookback, half-life and reported duration goes through.
 */
#include "postgres.h"

#include "common/int.h"
#include "common/interval_usecs.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* The interval in microseconds; false when that overflows an int64. */
bool
funnel_interval_to_usecs(const Interval *iv, int64 *usecs)
{
	int64		days;

	return !(pg_mul_s64_overflow((int64) iv->month, DAYS_PER_MONTH, &days) ||
			 pg_add_s64_overflow(days, (int64) iv->day, &days) ||
			 pg_mul_s64_overflow(days, USECS_PER_DAY, usecs) ||
			 pg_add_s64_overflow(*usecs, iv->time, usecs));
}

/* An argument interval in microseconds, checked for range and sign. */
int64
funnel_interval_usecs(const Interval *iv, const char *what, bool positive)
{
	int64		result;

	if (!funnel_interval_to_usecs(iv, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what)));
	if (result < 0 || (positive && result == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s", what, positive ? "positive" : "zero or positive"),
				 errhint("Use an interval such as '7 days'.")));
	return result;
}

/* A duration as an interval of hours, minutes and seconds only. */
Interval *
funnel_usecs_interval(int64 usecs)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = usecs;
	return iv;
}

/* A duration as interval text with whole days split out ("1 day 02:00:00"). */
char *
funnel_usecs_text(int64 usecs)
{
	Interval	iv;

	iv.month = 0;
	iv.day = (int32) (usecs / USECS_PER_DAY);
	iv.time = usecs % USECS_PER_DAY;
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&iv)));
}
