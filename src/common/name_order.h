/*
 * src/common/name_order.h
 *    The one order of names (channels, stages) in every summary: byte order
 *    of their bytes, a prefix first, independent of collation and locale so
 *    that a stored summary never needs sorting again.
 */
#ifndef FUNNEL_NAME_ORDER_H
#define FUNNEL_NAME_ORDER_H

#include "postgres.h"

static inline int
funnel_name_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

#endif							/* FUNNEL_NAME_ORDER_H */
