/*
 * test/fuzz/funnel_fuzz.c
 *    Test-only module of the fuzzer (test/fuzz.sh): lets SQL feed arbitrary
 *    bytes to the aggregates' deserialise functions, which take "internal"
 *    and are otherwise reachable only from a parallel plan.  It is built and
 *    loaded (by absolute path) only in the fuzzer's throwaway cluster; it is
 *    never installed with the extension.
 *
 *    fuzz.check_state(agg regprocedure, state bytea) is an aggregate, so that
 *    the target functions run in a real aggregate context.  For each row it
 *    deserialises the bytes with the target aggregate's deserialise function,
 *    then checks what a valid state must allow: serialise, deserialise and
 *    serialise again give as many bytes (entities may come in another
 *    order) and a state the final function gives the same result for; the
 *    final function leaves the state unchanged (serialised bytes again); the
 *    combine function accepts the state twice (merging into an empty state,
 *    then into itself).
 *    It returns the text output of the final function of the last row.
 *
 *    fuzz.capture_final(internal) is a final function for "capture"
 *    aggregates (the target's transition function with this final): it
 *    returns the state serialised by the serialise function of the aggregate
 *    it finalises, which gives the fuzzer valid states to mutate.
 *
 *    A broken invariant raises SQLSTATE FZ001, which the fuzzer reports.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_MODULE_MAGIC;

#define ERRCODE_FUZZ_INVARIANT	MAKE_SQLSTATE('F','Z','0','0','1')

typedef struct AggFns
{
	Oid			deserial;
	Oid			serial;
	Oid			combine;
	Oid			final;
	int			final_nargs;
	Oid			final_rettype;
} AggFns;

static void
agg_fns(Oid aggfnoid, AggFns *fns)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate agg;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function %u is not an aggregate", aggfnoid)));
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	fns->deserial = agg->aggdeserialfn;
	fns->serial = agg->aggserialfn;
	fns->combine = agg->aggcombinefn;
	fns->final = agg->aggfinalfn;
	ReleaseSysCache(tup);
	if (!OidIsValid(fns->deserial) || !OidIsValid(fns->serial))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("aggregate %u has no serialise and deserialise functions", aggfnoid)));
	fns->final_nargs = 0;
	fns->final_rettype = InvalidOid;
	if (OidIsValid(fns->final))
	{
		tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fns->final));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for function %u", fns->final);
		fns->final_nargs = ((Form_pg_proc) GETSTRUCT(tup))->pronargs;
		fns->final_rettype = ((Form_pg_proc) GETSTRUCT(tup))->prorettype;
		ReleaseSysCache(tup);
	}
}

/*
 * Calls fn with the given arguments in the caller's aggregate context
 * (fcinfo->context is the AggState); *isnull receives the result's nullness.
 */
static Datum
call_in_agg(FunctionCallInfo outer, Oid fn, int nargs, Datum *args,
			bool *nulls, bool *isnull)
{
	FmgrInfo	flinfo;
	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
	Datum		result;
	int			i;

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, nargs, InvalidOid,
							 outer->context, NULL);
	for (i = 0; i < nargs; i++)
	{
		fcinfo->args[i].value = args[i];
		fcinfo->args[i].isnull = nulls[i];
	}
	/* strict functions are not called with a NULL, as the executor does */
	if (flinfo.fn_strict)
		for (i = 0; i < nargs; i++)
			if (nulls[i])
			{
				*isnull = true;
				return (Datum) 0;
			}
	result = FunctionCallInvoke(fcinfo);
	*isnull = fcinfo->isnull;
	return result;
}

static Datum
deserialize(FunctionCallInfo outer, const AggFns *fns, bytea *bytes)
{
	Datum		args[2] = {PointerGetDatum(bytes), (Datum) 0};
	bool		nulls[2] = {false, false};	/* the executor passes a non-NULL dummy */
	bool		isnull;
	Datum		st = call_in_agg(outer, fns->deserial, 2, args, nulls, &isnull);

	if (isnull || DatumGetPointer(st) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FUZZ_INVARIANT),
				 errmsg("deserialise function returned NULL")));
	return st;
}

static bytea *
serialize(FunctionCallInfo outer, const AggFns *fns, Datum st)
{
	bool		nulls[1] = {false};
	bool		isnull;
	Datum		b = call_in_agg(outer, fns->serial, 1, &st, nulls, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FUZZ_INVARIANT),
				 errmsg("serialise function returned NULL")));
	return DatumGetByteaPP(b);
}

static char *
hex(bytea *b)
{
	int			len = Min(VARSIZE_ANY_EXHDR(b), 4096);
	char	   *s = palloc(2 * len + 1);
	int			i;

	for (i = 0; i < len; i++)
		sprintf(s + 2 * i, "%02x", (unsigned char) VARDATA_ANY(b)[i]);
	s[2 * len] = '\0';
	return s;
}

static void
check_same(bytea *a, bytea *b, const char *what)
{
	if (VARSIZE_ANY_EXHDR(a) != VARSIZE_ANY_EXHDR(b) ||
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FUZZ_INVARIANT),
				 errmsg("%s", what),
				 errdetail("Before: %s, after: %s.",
						   hex(a), hex(b))));
}

/* The final function's result as text (NULL for NULL), in cxt. */
static text *
final_text(FunctionCallInfo outer, const AggFns *fns, Datum st, MemoryContext cxt)
{
	Datum		args[FUNC_MAX_ARGS];
	bool		nulls[FUNC_MAX_ARGS];
	bool		isnull;
	Datum		r;
	int			i;
	Oid			typout;
	bool		varlena;
	MemoryContext old;
	text	   *result;

	args[0] = st;
	nulls[0] = false;
	for (i = 1; i < fns->final_nargs; i++)
	{
		args[i] = (Datum) 0;
		nulls[i] = true;
	}
	r = call_in_agg(outer, fns->final, fns->final_nargs, args, nulls, &isnull);
	if (isnull)
		return NULL;
	getTypeOutputInfo(fns->final_rettype, &typout, &varlena);
	old = MemoryContextSwitchTo(cxt);
	result = cstring_to_text(OidOutputFunctionCall(typout, r));
	MemoryContextSwitchTo(old);
	return result;
}

PG_FUNCTION_INFO_V1(fuzz_check_state_sfunc);
Datum
fuzz_check_state_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	AggFns		fns;
	Datum		st,
				st2;
	bytea	   *s1,
			   *s2;
	text	   *result = NULL;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "fuzz_check_state_sfunc called in non-aggregate context");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_DATUM(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0));
	agg_fns(PG_GETARG_OID(1), &fns);

	st = deserialize(fcinfo, &fns, PG_GETARG_BYTEA_PP(2));

	/*
	 * Accepted bytes: the state survives its own round trip.  Entities are
	 * serialised in hash table order, which depends on the order they were
	 * inserted: the bytes may be reordered, but not grow or shrink.
	 */
	s1 = serialize(fcinfo, &fns, st);
	st2 = deserialize(fcinfo, &fns, s1);
	s2 = serialize(fcinfo, &fns, st2);
	if (VARSIZE_ANY_EXHDR(s1) != VARSIZE_ANY_EXHDR(s2))
		check_same(s1, s2, "serialise(deserialise(serialise(state))) differs in length from serialise(state)");

	/* the final function runs, gives the same for both, and writes neither */
	if (OidIsValid(fns.final))
	{
		text	   *result2;

		result = final_text(fcinfo, &fns, st, aggcxt);
		result2 = final_text(fcinfo, &fns, st2, aggcxt);
		if ((result == NULL) != (result2 == NULL) ||
			(result && strcmp(text_to_cstring(result), text_to_cstring(result2)) != 0))
			ereport(ERROR,
					(errcode(ERRCODE_FUZZ_INVARIANT),
					 errmsg("the final function gives another result after a serialise round trip"),
					 errdetail("Before: %s, after: %s.",
							   result ? text_to_cstring(result) : "NULL",
							   result2 ? text_to_cstring(result2) : "NULL")));
		check_same(s1, serialize(fcinfo, &fns, st),
				   "the final function changed the state");
	}

	/* combine: into an empty state, then the state with a copy of itself */
	if (OidIsValid(fns.combine))
	{
		Datum		args[2];
		bool		nulls[2];
		bool		isnull;
		Datum		merged;

		args[0] = (Datum) 0;
		nulls[0] = true;
		args[1] = st;
		nulls[1] = false;
		merged = call_in_agg(fcinfo, fns.combine, 2, args, nulls, &isnull);
		if (!isnull)
		{
			args[0] = merged;
			nulls[0] = false;
			args[1] = st2;
			(void) call_in_agg(fcinfo, fns.combine, 2, args, nulls, &isnull);
		}
	}

	if (result == NULL)			/* the final function returned NULL */
		PG_RETURN_NULL();
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(fuzz_check_state_final);
Datum
fuzz_check_state_final(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P((text *) PG_GETARG_POINTER(0));
}

PG_FUNCTION_INFO_V1(fuzz_capture_final);
Datum
fuzz_capture_final(PG_FUNCTION_ARGS)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	AggFns		fns;

	if (aggref == NULL)
		elog(ERROR, "fuzz_capture_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	agg_fns(aggref->aggfnoid, &fns);
	PG_RETURN_BYTEA_P(serialize(fcinfo, &fns, PG_GETARG_DATUM(0)));
}
