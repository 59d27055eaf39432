/*
 * src/funnel/retention.c
 *    retention(VARIADIC conditions boolean[]): ClickHouse's retention
 *    aggregate.  The state is a bigint: bit k-1 set when condition k held on
 *    some row, the number of conditions in bits 32..39 (0 before the first
 *    row).  Element k of the result is 1 when condition 1 and condition k
 *    held, as in ClickHouse.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#define RETENTION_MAX 32

static int64
retention_state(int64 mask, int n)
{
	return mask | ((int64) n << 32);
}

PG_FUNCTION_INFO_V1(retention_sfunc);
Datum
retention_sfunc(PG_FUNCTION_ARGS)
{
	int64		st = PG_GETARG_INT64(0);
	int			have = (int) (st >> 32);
	int64		mask = st & 0xFFFFFFFF;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *enulls;
	int			n,
				k;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("conditions must not be a NULL array")));
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("conditions must be a one-dimensional array")));
	deconstruct_array(arr, BOOLOID, 1, true, TYPALIGN_CHAR, &elems, &enulls, &n);
	/* no condition is an invalid argument; more than 32 the state's limit */
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one retention condition is required")));
	if (n > RETENTION_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot have more than %d retention conditions", RETENTION_MAX),
				 errdetail("%d conditions were given.", n)));
	if (have != 0 && have != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of retention conditions differs between rows of one group (%d and %d)",
						have, n)));
	for (k = 0; k < n; k++)
		if (!enulls[k] && DatumGetBool(elems[k]))
			mask |= ((int64) 1) << k;
	PG_RETURN_INT64(retention_state(mask, n));
}

PG_FUNCTION_INFO_V1(retention_combine);
Datum
retention_combine(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_INT64(0);
	int64		b = PG_GETARG_INT64(1);
	int			na = (int) (a >> 32),
				nb = (int) (b >> 32);

	if (na != 0 && nb != 0 && na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of retention conditions differs between rows of one group (%d and %d)",
						na, nb)));
	PG_RETURN_INT64(retention_state((a | b) & 0xFFFFFFFF, Max(na, nb)));
}

PG_FUNCTION_INFO_V1(retention_final);
Datum
retention_final(PG_FUNCTION_ARGS)
{
	int64		st = PG_GETARG_INT64(0);
	int			n = (int) (st >> 32);
	int64		mask = st & 0xFFFFFFFF;
	Datum		out[RETENTION_MAX];
	bool		first;
	int			k;

	if (n <= 0 || n > RETENTION_MAX)
		PG_RETURN_NULL();
	first = (mask & 1) != 0;
	for (k = 0; k < n; k++)
		out[k] = Int32GetDatum(first && (mask & (((int64) 1) << k)) ? 1 : 0);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, INT4OID, 4, true, TYPALIGN_INT));
}
