/*
 * src/engine/equality_steps.c
 *    Steps given as equalities of one text expression to constants
 *    (event = 'visit', event = 'purchase', ...) are the event-name form
 *    written another way.  A planner hook rewrites such a call of a funnel
 *    aggregate into its event-name twin, (..., event, ARRAY['visit',
 *    'purchase', ...]): the names are then matched in C once per row
 *    instead of PostgreSQL evaluating every equality on every row.
 *
 * The answers are the same by construction: with a deterministic collation
 * text equality is byte equality, which is how the event-name form
 * matches; a NULL event makes every condition NULL (false) and matches no
 * name; the k-th condition becomes the k-th name.  Anything else (another
 * operator, a parameter, a nondeterministic collation of the equalities or
 * of the call itself (its entity's), a volatile event expression, ORDER BY
 * or DISTINCT inside the call) is left to PostgreSQL.
 *
 * The hook is installed when the library is loaded, which a session does
 * the first time it runs a funnel function (or at start-up with
 * session_preload_libraries); a query planned before that, or with
 * funnel.equalities_as_names off, runs the conditions as written, with the
 * same answers.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "common/module.h"
#include "engine/equality_steps.h"
#include "engine/funnel.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* aggregates whose every condition form has an event-name twin */
static const char *const twin_aggregates[] = {
	"funnel_breakdown", "funnel_conversion", "funnel_stage_counts",
	"funnel_summary", "funnel_trends", "time_to_convert", "window_funnel",
};

static planner_hook_type prev_planner_hook = NULL;

/*
 * Whether aggregate aggfnoid is one of this library's: its transition
 * function is a C function of this very library (a function of another
 * module may share the name; a copy of the library loaded from another
 * path is not this one).
 */
static bool
aggregate_is_ours(Oid aggfnoid)
{
	HeapTuple	tp;
	Oid			transfn;
	bool		ours = false;

	tp = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tp))
		return false;
	transfn = ((Form_pg_aggregate) GETSTRUCT(tp))->aggtransfn;
	ReleaseSysCache(tp);

	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(transfn));
	if (!HeapTupleIsValid(tp))
		return false;
	if (((Form_pg_proc) GETSTRUCT(tp))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		probin = SysCacheGetAttr(PROCOID, tp, Anum_pg_proc_probin, &isnull);
		char	   *path = isnull ? NULL : TextDatumGetCString(probin);

		ours = path != NULL &&
			load_external_function(path, "funnel_install_planner_hook", false, NULL) ==
			(void *) funnel_install_planner_hook;
	}
	ReleaseSysCache(tp);
	return ours;
}

/*
 * The text expression a condition compares with a non-NULL text constant
 * (either side), under a deterministic collation; NULL if it is not such
 * an equality.
 */
static Node *
equality_operand(Node *cond, Const **value)
{
	OpExpr	   *op;
	Node	   *l;
	Node	   *r;

	if (!IsA(cond, OpExpr))
		return NULL;
	op = (OpExpr *) cond;
	if (op->opfuncid != F_TEXTEQ || list_length(op->args) != 2 ||
		!OidIsValid(op->inputcollid) ||
		!get_collation_isdeterministic(op->inputcollid))
		return NULL;
	l = linitial(op->args);
	r = lsecond(op->args);
	if (IsA(r, Const) && !IsA(l, Const))
	{
		*value = (Const *) r;
		return l;
	}
	if (IsA(l, Const) && !IsA(r, Const))
	{
		*value = (Const *) l;
		return r;
	}
	return NULL;
}

/*
 * The event-name twin of a funnel aggregate called with the conditions
 * conds (its last arguments after the first nlead), or InvalidOid.  On
 * success *event is the one expression compared and *names the constant
 * array of the compared values, in the conditions' order.
 */
static Oid
equality_twin(Oid fnoid, List *conds, int nlead,
			  bool variadic, Node **event, Const **names)
{
	HeapTuple	tp;
	Form_pg_proc proc;
	Oid			twin = InvalidOid;
	Datum	   *values;
	int			n = list_length(conds);
	int			i;
	ListCell   *lc;

	if (n < 1 || n > FUNNEL_MAX_STEPS)
		return InvalidOid;

	/* every condition an equality of the same operand */
	values = palloc(sizeof(Datum) * n);
	*event = NULL;
	i = 0;
	foreach(lc, conds)
	{
		Const	   *value;
		Node	   *operand = equality_operand(lfirst(lc), &value);

		if (operand == NULL || value->constisnull || value->consttype != TEXTOID ||
			(*event != NULL && !equal(operand, *event)))
		{
			pfree(values);
			return InvalidOid;
		}
		*event = operand;
		values[i++] = value->constvalue;
	}
	if (exprType(*event) != TEXTOID || contain_volatile_functions(*event))
	{
		pfree(values);
		return InvalidOid;
	}

	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fnoid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", fnoid);
	proc = (Form_pg_proc) GETSTRUCT(tp);
	if (proc->prokind == PROKIND_AGGREGATE &&
		proc->pronargs == nlead + (variadic ? 1 : n) &&
		(!variadic || proc->provariadic == BOOLOID))
	{
		const char *name = NameStr(proc->proname);
		bool		known = false;

		for (i = 0; i < (int) lengthof(twin_aggregates); i++)
			known |= strcmp(name, twin_aggregates[i]) == 0;
		/* declared as conditions, not only given booleans */
		for (i = nlead; i < proc->pronargs; i++)
			known &= proc->proargtypes.values[i] == (variadic ? BOOLARRAYOID : BOOLOID);
		if (known && aggregate_is_ours(fnoid))
		{
			Oid		   *types = palloc(sizeof(Oid) * (nlead + 2));
			HeapTuple	ttp;

			memcpy(types, proc->proargtypes.values, sizeof(Oid) * nlead);
			types[nlead] = TEXTOID;
			types[nlead + 1] = TEXTARRAYOID;
			ttp = SearchSysCache3(PROCNAMEARGSNSP, CStringGetDatum(name),
								  PointerGetDatum(buildoidvector(types, nlead + 2)),
								  ObjectIdGetDatum(proc->pronamespace));
			if (HeapTupleIsValid(ttp))
			{
				Form_pg_proc tproc = (Form_pg_proc) GETSTRUCT(ttp);

				/* a twin the caller may not run would turn a query into an error */
				if (tproc->prokind == PROKIND_AGGREGATE &&
					tproc->prorettype == proc->prorettype &&
					pg_proc_aclcheck(tproc->oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK &&
					aggregate_is_ours(tproc->oid))
					twin = tproc->oid;
				ReleaseSysCache(ttp);
			}
			pfree(types);
		}
	}
	ReleaseSysCache(tp);

	if (OidIsValid(twin))
	{
		ArrayType  *arr = construct_array(values, n, TEXTOID, -1, false, TYPALIGN_INT);

		*names = makeConst(TEXTARRAYOID, -1, DEFAULT_COLLATION_OID, -1,
						   PointerGetDatum(arr), false, false);
	}
	pfree(values);
	return twin;
}

/*
 * The conditions of a call (its arguments after the first nlead): the
 * trailing boolean arguments, or the elements of the array built for a
 * VARIADIC boolean[] call.
 */
static List *
call_conditions(List *args, bool variadic, int *nlead)
{
	int			nargs = list_length(args);
	int			lead;

	if (variadic)
	{
		ArrayExpr  *arr;

		if (args == NIL)
			return NIL;
		arr = (ArrayExpr *) llast(args);
		if (!IsA(arr, ArrayExpr) || arr->multidims || arr->element_typeid != BOOLOID)
			return NIL;
		*nlead = nargs - 1;
		return arr->elements;
	}
	for (lead = nargs; lead > 0; lead--)
		if (exprType(list_nth(args, lead - 1)) != BOOLOID)
			break;
	*nlead = lead;
	return list_copy_tail(args, lead);
}

/*
 * The twin keeps the call's collation (that of its entity, say a text
 * column under a case-insensitive collation), and the event-name form
 * refuses a nondeterministic one: such a call keeps its conditions.
 */
static bool
twin_collation_ok(Oid inputcollid)
{
	return !OidIsValid(inputcollid) || get_collation_isdeterministic(inputcollid);
}

static void
rewrite_aggref(Aggref *agg)
{
	List	   *exprs = NIL;
	List	   *conds;
	ListCell   *lc;
	Node	   *event;
	Const	   *names;
	Oid			twin;
	int			nlead;

	if (agg->aggkind != AGGKIND_NORMAL || agg->aggorder != NIL ||
		agg->aggdistinct != NIL || agg->aggdirectargs != NIL || agg->aggstar ||
		!twin_collation_ok(agg->inputcollid))
		return;
	foreach(lc, agg->args)
		exprs = lappend(exprs, ((TargetEntry *) lfirst(lc))->expr);
	conds = call_conditions(exprs, agg->aggvariadic, &nlead);
	twin = equality_twin(agg->aggfnoid, conds, nlead, agg->aggvariadic, &event, &names);
	if (!OidIsValid(twin))
		return;

	agg->aggfnoid = twin;
	agg->aggvariadic = false;
	agg->args = list_truncate(agg->args, nlead);
	agg->args = lappend(agg->args, makeTargetEntry((Expr *) event, nlead + 1, NULL, false));
	agg->args = lappend(agg->args, makeTargetEntry((Expr *) names, nlead + 2, NULL, false));
	agg->aggargtypes = list_truncate(agg->aggargtypes, nlead);
	agg->aggargtypes = lappend_oid(agg->aggargtypes, TEXTOID);
	agg->aggargtypes = lappend_oid(agg->aggargtypes, TEXTARRAYOID);
}

/* the same for an aggregate called as a window function */
static void
rewrite_window_agg(WindowFunc *wf)
{
	List	   *conds;
	Node	   *event;
	Const	   *names;
	Oid			twin;
	int			nlead;

	if (!wf->winagg || wf->winstar || !twin_collation_ok(wf->inputcollid))
		return;
	/* a window call keeps no VARIADIC mark: an array there was given as one */
	conds = call_conditions(wf->args, false, &nlead);
	twin = equality_twin(wf->winfnoid, conds, nlead, false, &event, &names);
	if (!OidIsValid(twin))
		return;
	wf->winfnoid = twin;
	wf->args = list_truncate(wf->args, nlead);
	wf->args = lappend(wf->args, event);
	wf->args = lappend(wf->args, names);
}

static bool
rewrite_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, rewrite_walker, context, 0);
	if (IsA(node, Aggref))
		rewrite_aggref((Aggref *) node);
	else if (IsA(node, WindowFunc))
		rewrite_window_agg((WindowFunc *) node);
	return expression_tree_walker(node, rewrite_walker, context);
}

static PlannedStmt *
funnel_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	/* the planner may scribble on parse: it is the caller's copy */
	if (funnel_equalities_as_names)
		rewrite_walker((Node *) parse, NULL);
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

void
funnel_install_planner_hook(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = funnel_planner;
}
