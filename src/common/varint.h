/*
 * src/common/varint.h
 *    Variable-length integers (7 bits a byte, least significant first) and
 *    the zigzag map of signed to unsigned: the one encoding of the walk's
 *    per-entity log, of the compact journey type and of the entity store's
 *    long rows.
 */
#ifndef FUNNEL_VARINT_H
#define FUNNEL_VARINT_H

#include "postgres.h"

/* the most bytes a varint of a 64-bit value takes */
#define FUNNEL_VARINT_MAX 10

static inline uint64
funnel_zigzag(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

static inline int64
funnel_unzigzag(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

static inline char *
funnel_put_varint(char *p, uint64 v)
{
	while (v >= 0x80)
	{
		*p++ = (char) (v | 0x80);
		v >>= 7;
	}
	*p++ = (char) v;
	return p;
}

/* The next varint before end into *v; NULL when it is cut short or past 64 bits. */
static inline const char *
funnel_get_varint(const char *p, const char *end, uint64 *v)
{
	uint64		r = 0;
	int			shift = 0;

	while (p < end && shift < 64)
	{
		uint8		b = (uint8) *p++;

		/* the tenth byte holds bit 63 alone */
		if (shift == 63 && b > 1)
			return NULL;
		r |= (uint64) (b & 0x7F) << shift;
		if (!(b & 0x80))
		{
			*v = r;
			return p;
		}
		shift += 7;
	}
	return NULL;
}

#endif							/* FUNNEL_VARINT_H */
