/*
 * src/common/money.c
 *    Exact sums of money.  An amount is an int128 count of billionths;
 *    sums are exact, so they do not depend on the order of their terms
 *    (nor a report on the plan), and become a double only once, correctly
 *    rounded.
 */
#include "postgres.h"

#include <math.h>

#include "common/money.h"
#include "libpq/pqformat.h"

/*
 * round(x * 1e9), half away from zero, computed exactly from the binary
 * value of x; |x| must be below 1e20.
 */
int128
money_from_double(double x)
{
	int			e,
				shift;
	int64		mant;
	int128		p;

	if (x == 0)
		return 0;
	/* x = mant * 2^(e - 53) exactly, |mant| < 2^53 */
	mant = (int64) ldexp(frexp(x, &e), 53);
	shift = e - 53;
	p = (int128) mant * MONEY_NANOS_PER_UNIT;	/* |p| < 2^83 */
	if (shift >= 0)
		return p << shift;		/* |x| < 1e20: below 2^97 */
	if (shift < -100)
		return 0;
	if (p >= 0)
		return (p + ((int128) 1 << (-shift - 1))) >> -shift;
	return -((-p + ((int128) 1 << (-shift - 1))) >> -shift);
}

/* sum += x; what names the sum in the error */
void
money_add(int128 *sum, int128 x, const char *what)
{
	if (__builtin_add_overflow(*sum, x, sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sum of %s is out of range", what)));
}

/* The decimal digits of a count of billionths, in buf (at least 64 bytes). */
static char *
money_digits(int128 v, char *buf, Size size)
{
	char	   *p = buf + size;
	bool		neg = v < 0;
	uint128		u = neg ? -(uint128) v : (uint128) v;
	int			k = 0;

	*--p = '\0';
	do
	{
		*--p = '0' + (int) (u % 10);
		u /= 10;
		if (++k == MONEY_NANO_DIGITS)
			*--p = '.';
	} while (u != 0 || k <= MONEY_NANO_DIGITS);
	if (neg)
		*--p = '-';
	return p;
}

/* A count of billionths as the nearest double. */
double
money_to_double(int128 v)
{
	char		buf[64];

	/* the decimal digits, then strtod (correctly rounded) */
	return strtod(money_digits(v, buf, sizeof(buf)), NULL);
}

/*
 * A count of billionths as exact decimal text, without trailing zeros
 * ("12.5", "-3", "0.000000001"): a JSON number that reads back exactly.
 */
void
money_append_text(StringInfo buf, int128 v)
{
	char		digits[64];
	char	   *p = money_digits(v, digits, sizeof(digits));
	int			len = strlen(p);

	while (p[len - 1] == '0')
		len--;
	if (p[len - 1] == '.')
		len--;
	appendBinaryStringInfo(buf, p, len);
}

/*
 * Exact decimal text (plain notation, at most 9 decimals, as numeric_out
 * writes it) as a count of billionths; false when it is not one or does
 * not fit.
 */
bool
money_from_text(const char *s, int128 *v)
{
	bool		neg = false;
	uint128		u = 0;
	uint128		limit;
	int			decimals = -1;
	bool		digits = false;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	/* the magnitude of the most negative int128 too, which money_append_text writes */
	limit = neg ? (uint128) 1 << 127 : ((uint128) 1 << 127) - 1;
	for (; *s; s++)
	{
		int			d;

		if (*s == '.' && decimals < 0)
		{
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		if (decimals >= 0 && ++decimals > MONEY_NANO_DIGITS)
		{
			if (*s != '0')
				return false;	/* finer than a billionth */
			continue;
		}
		d = *s - '0';
		if (u > (limit - d) / 10)
			return false;
		u = u * 10 + d;
		digits = true;
	}
	if (!digits)
		return false;
	for (decimals = Max(decimals, 0); decimals < MONEY_NANO_DIGITS; decimals++)
	{
		if (u > limit / 10)
			return false;
		u *= 10;
	}
	*v = (neg && u > 0) ? -(int128) (u - 1) - 1 : (int128) u;
	return true;
}

/* In aggregate states: the high, then the low 64 bits. */
void
money_send(StringInfo buf, int128 v)
{
	pq_sendint64(buf, (int64) (v >> 64));
	pq_sendint64(buf, (int64) (uint64) v);
}

int128
money_recv(StringInfo buf)
{
	int64		hi = pq_getmsgint64(buf);
	uint64		lo = (uint64) pq_getmsgint64(buf);

	return (int128) (((uint128) hi << 64) | lo);
}
