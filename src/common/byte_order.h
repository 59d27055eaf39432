/*
 * src/common/byte_order.h
 *    Comparisons by bytes, independent of collation and locale: the one order
 *    of names (channels, stages) in every summary, so that a stored summary
 *    never needs sorting again, and the order of entity values that makes a
 *    final function's walk independent of the plan.
 */
#ifndef FUNNEL_BYTE_ORDER_H
#define FUNNEL_BYTE_ORDER_H

#include "postgres.h"

/* Names in byte order of their bytes, a prefix first. */
static inline int
funnel_name_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/*
 * Two values of one type by their bytes: by-value as Datums, fixed-length
 * as their bytes, varlena by the bytes of their data (detoasted values).
 */
static inline int
funnel_datum_bytes_cmp(Datum a, Datum b, int16 typlen, bool typbyval)
{
	if (typbyval)
		return (a > b) - (a < b);
	if (typlen > 0)
		return memcmp(DatumGetPointer(a), DatumGetPointer(b), typlen);
	return funnel_name_cmp(VARDATA_ANY(DatumGetPointer(a)), VARSIZE_ANY_EXHDR(DatumGetPointer(a)),
						   VARDATA_ANY(DatumGetPointer(b)), VARSIZE_ANY_EXHDR(DatumGetPointer(b)));
}

#endif							/* FUNNEL_BYTE_ORDER_H */
