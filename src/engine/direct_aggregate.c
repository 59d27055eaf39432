/*
 * src/engine/direct_aggregate.c
 *    A plain whole-table funnel aggregate over one table, fed by a plan node
 *    of its own (Custom Scan "FunnelAggregate") instead of PostgreSQL's
 *    Aggregate node.
 *
 * For SELECT funnel_stage_counts(...) FROM events [WHERE ...], PostgreSQL's
 * Aggregate node spends more per row than the funnel's own transition: the
 * expression program that gathers the arguments, the function-call
 * machinery and a memory-context reset for each row (doc/performance.md,
 * round 28: about half of the no-op floor's time above a bare scan).  This
 * node reads its input plan's rows itself, takes the arguments straight
 * from each row's columns and calls the same transition and final
 * functions, in an aggregate context they see as an ordinary plain
 * aggregate's (AggCheckCallContext, AggGetAggref, AggRegisterCallback), so
 * the answers are those of the Aggregate node by construction.  Over a
 * sequential scan of a heap table it reads the pages itself (the rows the
 * snapshot sees on each, found as the scan finds them; direct_read_heap),
 * which saves the scan node's own work per row as well.
 *
 * The planner offers it (funnel.direct_aggregate) for a query level with
 * no GROUP BY, grouping sets, HAVING or window functions whose only output
 * is one whole-table aggregate of this module over the entity store, with
 * no FILTER, ORDER BY or DISTINCT, over one plain table read by a
 * sequential, index or bitmap scan.  Its cost is a little below the
 * serial Aggregate's, so a parallel plan wins where it won before.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_class.h"
#include "catalog/pg_language.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "executor/nodeAgg.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "optimizer/tlist.h"
#include "optimizer/planner.h"
#include "parser/parse_agg.h"
#include "parser/parsetree.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "engine/direct_aggregate.h"

bool		funnel_direct_aggregate = true;

/*
 * The transitions this node may call: those of the whole-table aggregates
 * over the entity store (funnel_stage_counts, funnel_conversion,
 * funnel_trends, funnel_summary, funnel_breakdown, paths,
 * funnel_correlation over rows).
 */
extern Datum funnel_entities_bools_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_entities_mode_bools_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_entities_event_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_entities_mode_event_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_entities_names_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_entities_mode_names_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_bools_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_mode_bools_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_event_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_mode_event_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_names_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_summary_mode_names_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_breakdown_bools_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_breakdown_names_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_breakdown_event_sfunc(PG_FUNCTION_ARGS);
extern Datum paths_sfunc(PG_FUNCTION_ARGS);
extern Datum funnel_correlation_sfunc(PG_FUNCTION_ARGS);

static const PGFunction direct_transitions[] = {
	funnel_entities_bools_sfunc,
	funnel_entities_mode_bools_sfunc,
	funnel_entities_event_sfunc,
	funnel_entities_mode_event_sfunc,
	funnel_entities_names_sfunc,
	funnel_entities_mode_names_sfunc,
	funnel_summary_bools_sfunc,
	funnel_summary_mode_bools_sfunc,
	funnel_summary_event_sfunc,
	funnel_summary_mode_event_sfunc,
	funnel_summary_names_sfunc,
	funnel_summary_mode_names_sfunc,
	funnel_breakdown_bools_sfunc,
	funnel_breakdown_names_sfunc,
	funnel_breakdown_event_sfunc,
	paths_sfunc,
	funnel_correlation_sfunc,
};

/* how the node finds one argument of the transition in a row */
typedef enum DirectArgKind
{
	DIRECT_ARG_COLUMN,			/* a column of the input row */
	DIRECT_ARG_CONST,			/* the same value in every row */
	DIRECT_ARG_EXPR				/* an expression over the input row */
} DirectArgKind;

typedef struct DirectArg
{
	DirectArgKind kind;
	int			column;			/* DIRECT_ARG_COLUMN: 0-based */
	ExprState  *expr;			/* DIRECT_ARG_EXPR */
} DirectArg;

typedef struct DirectAggregateState
{
	CustomScanState css;
	PlanState  *input;
	Aggref	   *aggref;
	/* what the transition and final functions see as their aggregate */
	AggState   *agg;
	AggStatePerTransData pertrans;
	AggStatePerAggData peragg;
	ExprContext *agg_context;	/* the state's memory, until a rescan or the end */
	ExprContext *row_context;	/* the arguments' memory, reset every few rows */
	FmgrInfo	transfn;
	FmgrInfo	finalfn;
	bool		has_final;
	/* a partial aggregate: the state serialised, for a Finalize Aggregate above */
	bool		partial;
	FmgrInfo	serialfn;
	bool		has_serial;
	int			nfinal;			/* the final function's arguments */
	FunctionCallInfo trans_call;
	int			nargs;
	DirectArg  *args;
	int			ncolumns;		/* columns of each row to deform */
	/*
	 * The input is a sequential scan of a heap table with no projection:
	 * the node reads its pages itself (direct_read_heap), and checks the
	 * scan's condition, if any (heap_qual), on each visible row.
	 */
	bool		read_heap;
	TupleTableSlot *heap_slot;	/* the visible rows, one at a time */
	ExprState  *heap_qual;
	/*
	 * read_heap, every argument a column or a constant and no column with a
	 * missing value: the rows' columns are read into values and isnull
	 * (deform_heap_columns), with no slot
	 */
	bool		deform_self;
	Datum	   *values;
	bool	   *isnull;
	bool		done;
} DirectAggregateState;

static create_upper_paths_hook_type prev_create_upper_paths_hook = NULL;

static Plan *direct_plan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
						 List *tlist, List *clauses, List *custom_plans);
static Node *direct_create_state(CustomScan *cscan);
static void direct_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *direct_exec(CustomScanState *node);
static void direct_end(CustomScanState *node);
static void direct_rescan(CustomScanState *node);

static const CustomPathMethods direct_path_methods = {
	.CustomName = "FunnelAggregate",
	.PlanCustomPath = direct_plan,
};

static const CustomScanMethods direct_scan_methods = {
	.CustomName = "FunnelAggregate",
	.CreateCustomScanState = direct_create_state,
};

static const CustomExecMethods direct_exec_methods = {
	.CustomName = "FunnelAggregate",
	.BeginCustomScan = direct_begin,
	.ExecCustomScan = direct_exec,
	.EndCustomScan = direct_end,
	.ReScanCustomScan = direct_rescan,
};

/* ---------- planning ---------- */

/*
 * Whether transfn is one of the transitions above: a C function of this
 * module's whose address is one of theirs.  Its language is looked at
 * first, so that no other module's library is loaded to find out.
 */
static bool
direct_transition(Oid transfn)
{
	FmgrInfo	info;
	HeapTuple	tp;
	bool		in_c;
	Size		i;

	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(transfn));
	if (!HeapTupleIsValid(tp))
		return false;
	in_c = ((Form_pg_proc) GETSTRUCT(tp))->prolang == ClanguageId;
	ReleaseSysCache(tp);
	if (!in_c)
		return false;
	fmgr_info(transfn, &info);
	for (i = 0; i < lengthof(direct_transitions); i++)
		if (info.fn_addr == direct_transitions[i])
			return true;
	return false;
}

/* PARAM_EXEC values belong to plan nodes this node does not run */
static bool
has_exec_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	return expression_tree_walker(node, has_exec_param, context);
}

/* Whether this node can compute aggref. */
static bool
direct_aggref(Aggref *aggref)
{
	HeapTuple	tp;
	Form_pg_aggregate agg;
	bool		ok;

	if (aggref->aggfilter != NULL || aggref->aggorder != NIL ||
		aggref->aggdistinct != NIL || aggref->aggdirectargs != NIL ||
		aggref->aggkind != AGGKIND_NORMAL || aggref->aggsplit != AGGSPLIT_SIMPLE ||
		aggref->agglevelsup != 0)
		return false;
	if (contain_subplans((Node *) aggref->args) || has_exec_param((Node *) aggref->args, NULL))
		return false;
	tp = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tp))
		return false;
	agg = (Form_pg_aggregate) GETSTRUCT(tp);
	/* no initial value: the state starts as NULL, as the transitions expect */
	ok = heap_attisnull(tp, Anum_pg_aggregate_agginitval, NULL) &&
		direct_transition(agg->aggtransfn);
	ReleaseSysCache(tp);
	return ok;
}

/*
 * The input path the node can read: an unparameterized scan of the table
 * that can hand over its rows as stored (direct_plan), or NULL.
 */
static Path *
direct_input(PlannerInfo *root, RelOptInfo *rel, Path *input)
{
	if (input == NULL || input->param_info != NULL ||
		(input->pathtype != T_SeqScan && input->pathtype != T_IndexScan &&
		 input->pathtype != T_BitmapHeapScan))
		return NULL;
	/* a dropped column or one added with a default leaves no physical target list */
	if (build_physical_tlist(root, rel) == NIL)
		return NULL;
	return input;
}

/* One FunnelAggregate path computing target over input. */
static CustomPath *
direct_path(RelOptInfo *parent, PathTarget *target, Path *input, bool parallel_safe)
{
	CustomPath *path = makeNode(CustomPath);

	path->path.pathtype = T_CustomScan;
	path->path.parent = parent;
	path->path.pathtarget = target;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = parallel_safe && input->parallel_safe;
	/* over a parallel scan, it runs in each process: a partial path */
	path->path.parallel_workers = input->parallel_workers;
	path->path.rows = 1;
	/* below the Aggregate (its transition costs cpu_operator_cost a row and more) */
	path->path.startup_cost = input->total_cost + input->rows * cpu_operator_cost * 0.5;
	path->path.total_cost = path->path.startup_cost;
	path->path.pathkeys = NIL;
	path->flags = 0;
	path->custom_paths = list_make1(input);
	path->methods = &direct_path_methods;
	return path;
}

/*
 * The partially grouped relation PostgreSQL made for this query level, if
 * its target is the one aggregate in partial form (serialising its state);
 * found without fetch_upper_rel, which would make one.
 */
static RelOptInfo *
direct_partial_rel(PlannerInfo *root, RelOptInfo *output_rel, GroupPathExtraData *extra)
{
	ListCell   *lc;

	if (extra == NULL || (extra->flags & GROUPING_CAN_PARTIAL_AGG) == 0 ||
		!extra->partial_costs_set)
		return NULL;
	foreach(lc, root->upper_rels[UPPERREL_PARTIAL_GROUP_AGG])
	{
		RelOptInfo *rel = (RelOptInfo *) lfirst(lc);
		Aggref	   *aggref;

		if (!bms_equal(rel->relids, output_rel->relids))
			continue;
		if (rel->reltarget == NULL || list_length(rel->reltarget->exprs) != 1 ||
			!IsA(linitial(rel->reltarget->exprs), Aggref))
			return NULL;
		aggref = (Aggref *) linitial(rel->reltarget->exprs);
		return aggref->aggsplit == AGGSPLIT_INITIAL_SERIAL ? rel : NULL;
	}
	return NULL;
}

/* The Finalize Aggregate over the partial states, as PostgreSQL plans it. */
static void
add_finalize_path(PlannerInfo *root, RelOptInfo *output_rel, Path *partial_states,
				  GroupPathExtraData *extra)
{
	add_path(output_rel, (Path *)
			 create_agg_path(root, output_rel, partial_states, output_rel->reltarget,
							 AGG_PLAIN, AGGSPLIT_FINAL_DESERIAL, NIL, NULL,
							 &extra->agg_final_costs, 1));
}

/*
 * A parallel plan over a plain table: the node in each process over its
 * share of a parallel scan, then Gather and Finalize Aggregate.
 */
static void
add_parallel_path(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel,
				  RelOptInfo *partial_rel, GroupPathExtraData *extra)
{
	Path	   *input;
	CustomPath *partial;
	double		states;

	if (!partial_rel->consider_parallel || input_rel->partial_pathlist == NIL)
		return;
	input = direct_input(root, input_rel, linitial(input_rel->partial_pathlist));
	if (input == NULL || input->parallel_workers <= 0)
		return;
	partial = direct_path(partial_rel, partial_rel->reltarget, input, true);
	if (!partial->path.parallel_safe)
		return;
	states = partial->path.parallel_workers;
	add_finalize_path(root, output_rel, (Path *)
					  create_gather_path(root, partial_rel, &partial->path,
										 partial_rel->reltarget, NULL, &states),
					  extra);
}

/*
 * Partitionwise: the node over each whole partition (an Append of them, a
 * Parallel Append giving each worker whole partitions when parallel plans
 * are allowed), then Finalize Aggregate.  As PostgreSQL plans partial
 * partitionwise aggregation for a query without GROUP BY
 * (enable_partitionwise_aggregate); one level of partitions, each a plain
 * table.
 */
static void
add_partitionwise_paths(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel,
						RelOptInfo *partial_rel, GroupPathExtraData *extra)
{
	List	   *children = NIL;
	bool		parallel_safe = partial_rel->consider_parallel;
	int			workers;
	int			i;

	if (extra->patype == PARTITIONWISE_AGGREGATE_NONE || !IS_PARTITIONED_REL(input_rel))
		return;
	for (i = 0; i < input_rel->nparts; i++)
	{
		RelOptInfo *child = input_rel->part_rels[i];
		RelOptInfo *child_partial;
		RangeTblEntry *rte;
		AppendRelInfo **appinfos;
		int			nappinfos;
		Path	   *input;
		CustomPath *path;

		if (child == NULL || IS_DUMMY_REL(child))
			continue;
		if (child->reloptkind != RELOPT_OTHER_MEMBER_REL || child->rtekind != RTE_RELATION)
			return;
		rte = planner_rt_fetch(child->relid, root);
		if (rte->relkind != RELKIND_RELATION || rte->inh || rte->tablesample != NULL)
			return;
		input = direct_input(root, child, child->cheapest_total_path);
		if (input == NULL)
			return;

		/* the partial aggregate over this partition's columns */
		appinfos = find_appinfos_by_relids(root, child->relids, &nappinfos);
		child_partial = makeNode(RelOptInfo);
		child_partial->reloptkind = RELOPT_OTHER_UPPER_REL;
		child_partial->relids = bms_copy(child->relids);
		child_partial->consider_parallel = partial_rel->consider_parallel && child->consider_parallel;
		child_partial->reltarget = copy_pathtarget(partial_rel->reltarget);
		child_partial->reltarget->exprs = (List *)
			adjust_appendrel_attrs(root, (Node *) partial_rel->reltarget->exprs,
								   nappinfos, appinfos);
		pfree(appinfos);

		path = direct_path(child_partial, child_partial->reltarget, input,
						   child_partial->consider_parallel);
		parallel_safe &= path->path.parallel_safe;
		children = lappend(children, path);
	}
	if (children == NIL)
		return;

	add_finalize_path(root, output_rel, (Path *)
					  create_append_path(root, partial_rel, children, NIL, NIL, NULL,
										 0, false, -1),
					  extra);

	/* as PostgreSQL sizes a Parallel Append of partitions */
	workers = Min(fls(list_length(children)), max_parallel_workers_per_gather);
	if (parallel_safe && workers > 0)
	{
		AppendPath *append = create_append_path(root, partial_rel, children, NIL, NIL, NULL,
												workers, true, -1);
		double		states = list_length(children);

		add_finalize_path(root, output_rel, (Path *)
						  create_gather_path(root, partial_rel, &append->path,
											 partial_rel->reltarget, NULL, &states),
						  extra);
	}
}

static void
direct_create_upper_paths(PlannerInfo *root, UpperRelationKind stage,
						  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	Query	   *parse = root->parse;
	PathTarget *target;
	RangeTblEntry *rte;
	RelOptInfo *partial_rel;
	Path	   *input;

	if (prev_create_upper_paths_hook)
		prev_create_upper_paths_hook(root, stage, input_rel, output_rel, extra);
	if (stage != UPPERREL_GROUP_AGG || !funnel_direct_aggregate)
		return;
	if (parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs || parse->hasTargetSRFs)
		return;
	/* one table: a plain one, or a parent of plain partitions */
	if (input_rel->reloptkind != RELOPT_BASEREL || input_rel->rtekind != RTE_RELATION)
		return;
	rte = planner_rt_fetch(input_rel->relid, root);
	if (rte->tablesample != NULL)
		return;
	target = root->upper_targets[UPPERREL_GROUP_AGG];
	if (target == NULL || list_length(target->exprs) != 1 ||
		!IsA(linitial(target->exprs), Aggref) ||
		!direct_aggref((Aggref *) linitial(target->exprs)))
		return;
	partial_rel = direct_partial_rel(root, output_rel, (GroupPathExtraData *) extra);

	if (rte->relkind == RELKIND_PARTITIONED_TABLE)
	{
		if (partial_rel != NULL)
			add_partitionwise_paths(root, input_rel, output_rel, partial_rel, extra);
		return;
	}
	if (rte->inh || rte->relkind != RELKIND_RELATION)
		return;

	input = direct_input(root, input_rel, input_rel->cheapest_total_path);
	if (input != NULL)
		add_path(output_rel, &direct_path(output_rel, target, input, false)->path);
	if (partial_rel != NULL)
		add_parallel_path(root, input_rel, output_rel, partial_rel, extra);
}

static Plan *
direct_plan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	Plan	   *input = (Plan *) linitial(custom_plans);
	List	   *physical;

	(void) rel;
	Assert(clauses == NIL);
	(void) clauses;

	/*
	 * The scan hands over its rows as stored, with every column: asking for
	 * the aggregate's columns alone would copy them into a new row each
	 * time.  The arguments' Vars then number the row's columns.
	 */
	if (!IsA(input, SeqScan) && !IsA(input, IndexScan) && !IsA(input, BitmapHeapScan))
		elog(ERROR, "unexpected funnel aggregate input node %d", (int) nodeTag(input));
	physical = build_physical_tlist(root, ((Path *) linitial(best_path->custom_paths))->parent);
	if (physical == NIL)
		elog(ERROR, "funnel aggregate input has no physical target list");	/* checked when offered */
	input->targetlist = physical;

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = 0;
	cscan->custom_plans = custom_plans;
	/* the aggregate's value, which the target list refers to */
	cscan->custom_scan_tlist = copyObject(tlist);
	cscan->methods = &direct_scan_methods;
	return &cscan->scan.plan;
}

/* ---------- execution ---------- */

static Node *
direct_create_state(CustomScan *cscan)
{
	DirectAggregateState *st = (DirectAggregateState *) newNode(sizeof(DirectAggregateState),
																T_CustomScanState);

	(void) cscan;
	st->css.methods = &direct_exec_methods;
	return (Node *) st;
}

static void
direct_begin(CustomScanState *node, EState *estate, int eflags)
{
	DirectAggregateState *st = (DirectAggregateState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Aggref	   *aggref = (Aggref *) ((TargetEntry *) linitial(cscan->custom_scan_tlist))->expr;
	HeapTuple	tp;
	Form_pg_aggregate agg;
	Oid			transfn_oid,
				finalfn_oid,
				serialfn_oid;
	bool		finalextra;
	Oid			owner;
	Oid			input_types[FUNC_MAX_ARGS];
	Expr	   *transfn_expr;
	Aggref	   *seen;
	ListCell   *lc;
	int			i;

	st->input = ExecInitNode((Plan *) linitial(cscan->custom_plans), estate, eflags);
	node->custom_ps = list_make1(st->input);
	st->aggref = aggref;

	tp = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	agg = (Form_pg_aggregate) GETSTRUCT(tp);
	transfn_oid = agg->aggtransfn;
	/* as the Aggregate node: a partial one calls no final function, and serialises */
	st->partial = DO_AGGSPLIT_SKIPFINAL(aggref->aggsplit);
	finalfn_oid = st->partial ? InvalidOid : agg->aggfinalfn;
	serialfn_oid = DO_AGGSPLIT_SERIALIZE(aggref->aggsplit) ? agg->aggserialfn : InvalidOid;
	finalextra = agg->aggfinalextra;
	ReleaseSysCache(tp);
	if (DO_AGGSPLIT_COMBINE(aggref->aggsplit) ||
		(st->partial && !DO_AGGSPLIT_SERIALIZE(aggref->aggsplit)))
		elog(ERROR, "unexpected funnel aggregate split %d", (int) aggref->aggsplit);

	/* the permission checks of the Aggregate node: the caller's, then its owner's */
	if (pg_proc_aclcheck(aggref->aggfnoid, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_AGGREGATE, get_func_name(aggref->aggfnoid));
	InvokeFunctionExecuteHook(aggref->aggfnoid);
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", aggref->aggfnoid);
	owner = ((Form_pg_proc) GETSTRUCT(tp))->proowner;
	ReleaseSysCache(tp);
	if (pg_proc_aclcheck(transfn_oid, owner, ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(transfn_oid));
	InvokeFunctionExecuteHook(transfn_oid);
	if (OidIsValid(finalfn_oid))
	{
		if (pg_proc_aclcheck(finalfn_oid, owner, ACL_EXECUTE) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(finalfn_oid));
		InvokeFunctionExecuteHook(finalfn_oid);
	}
	if (OidIsValid(serialfn_oid))
	{
		if (pg_proc_aclcheck(serialfn_oid, owner, ACL_EXECUTE) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(serialfn_oid));
		InvokeFunctionExecuteHook(serialfn_oid);
	}

	/* the functions' call expressions, as the Aggregate node builds them */
	st->nargs = get_aggregate_argtypes(aggref, input_types);
	build_aggregate_transfn_expr(input_types, st->nargs, 0, aggref->aggvariadic,
								 aggref->aggtranstype, aggref->inputcollid,
								 transfn_oid, InvalidOid, &transfn_expr, NULL);
	fmgr_info(transfn_oid, &st->transfn);
	fmgr_info_set_expr((Node *) transfn_expr, &st->transfn);
	if (st->transfn.fn_strict)
		elog(ERROR, "funnel aggregate transition %u is strict", transfn_oid);
	st->has_final = OidIsValid(finalfn_oid);
	if (st->has_final)
	{
		Expr	   *finalfn_expr;

		st->nfinal = finalextra ? st->nargs + 1 : 1;
		build_aggregate_finalfn_expr(input_types, st->nfinal, aggref->aggtranstype,
									 aggref->aggtype, aggref->inputcollid,
									 finalfn_oid, &finalfn_expr);
		fmgr_info(finalfn_oid, &st->finalfn);
		fmgr_info_set_expr((Node *) finalfn_expr, &st->finalfn);
	}
	st->has_serial = OidIsValid(serialfn_oid);
	if (st->has_serial)
	{
		Expr	   *serialfn_expr;

		build_aggregate_serialfn_expr(serialfn_oid, &serialfn_expr);
		fmgr_info(serialfn_oid, &st->serialfn);
		fmgr_info_set_expr((Node *) serialfn_expr, &st->serialfn);
	}

	/*
	 * The aggregate the functions see: a plain aggregate whose state lives
	 * in agg_context (AggCheckCallContext), whose Aggref is this one
	 * (AggGetAggref) and whose callbacks run at a rescan or the end
	 * (AggRegisterCallback).
	 */
	st->agg = makeNode(AggState);
	/* a plain Agg plan of no children, should anything walk the plan state */
	st->agg->ss.ps.plan = (Plan *) makeNode(Agg);
	((Agg *) st->agg->ss.ps.plan)->aggstrategy = AGG_PLAIN;
	st->agg->ss.ps.state = estate;
	st->agg->aggstrategy = AGG_PLAIN;
	st->agg->aggsplit = aggref->aggsplit;
	st->agg_context = CreateExprContext(estate);
	st->row_context = CreateExprContext(estate);
	st->agg->curaggcontext = st->agg_context;
	st->agg->tmpcontext = st->row_context;

	/*
	 * One aggregate and its transition, whose input is the scan, with the
	 * arguments that are columns named as the Aggregate node names them
	 * (OUTER_VAR, numbering the scan's row): what a partial aggregate's
	 * functions look at to learn whether it reads whole entities
	 * (engine/whole_entities.c).
	 */
	seen = copyObject(aggref);
	foreach(lc, seen->args)
	{
		TargetEntry *te = (TargetEntry *) lfirst(lc);

		if (IsA(te->expr, Var) && ((Var *) te->expr)->varattno > 0 &&
			((Var *) te->expr)->varlevelsup == 0)
			((Var *) te->expr)->varno = OUTER_VAR;
	}
	st->agg->ss.ps.lefttree = st->input;
	st->agg->numaggs = 1;
	st->agg->numtrans = 1;
	st->pertrans.aggref = seen;
	st->pertrans.transfn_oid = transfn_oid;
	st->pertrans.serialfn_oid = serialfn_oid;
	st->peragg.aggref = seen;
	st->peragg.transno = 0;
	st->agg->pertrans = &st->pertrans;
	st->agg->peragg = &st->peragg;
	st->agg->curpertrans = &st->pertrans;

	st->trans_call = palloc0(SizeForFunctionCallInfo(st->nargs + 1));
	InitFunctionCallInfoData(*st->trans_call, &st->transfn, st->nargs + 1,
							 aggref->inputcollid, (Node *) st->agg, NULL);
	st->args = palloc0(sizeof(DirectArg) * st->nargs);
	st->ncolumns = 0;
	i = 0;
	foreach(lc, aggref->args)
	{
		Expr	   *e = ((TargetEntry *) lfirst(lc))->expr;
		DirectArg  *arg = &st->args[i];

		if (IsA(e, Const))
		{
			arg->kind = DIRECT_ARG_CONST;
			st->trans_call->args[i + 1].value = ((Const *) e)->constvalue;
			st->trans_call->args[i + 1].isnull = ((Const *) e)->constisnull;
		}
		else if (IsA(e, Var) && ((Var *) e)->varattno > 0)
		{
			arg->kind = DIRECT_ARG_COLUMN;
			arg->column = ((Var *) e)->varattno - 1;
			st->ncolumns = Max(st->ncolumns, arg->column + 1);
		}
		else
		{
			/*
			 * Evaluated over the input row as its scan tuple.  Compiled with
			 * no parent: this node's own scan slot (the aggregate's value)
			 * would tell the compiler the input rows need no deforming.
			 */
			arg->kind = DIRECT_ARG_EXPR;
			arg->expr = ExecInitExpr(e, NULL);
		}
		i++;
	}

	/*
	 * A sequential scan of a heap table (its rows as stored; a condition
	 * with no subquery) under an MVCC snapshot: the node reads the visible
	 * rows of each page itself, as the scan would in page-at-a-time mode,
	 * and skips the scan node's per-row work (a buffer pin taken and
	 * dropped for each row, the slot of a buffer tuple, the scan's own
	 * calls).
	 */
	if (IsA(st->input, SeqScanState) &&
		!contain_subplans((Node *) st->input->plan->qual) &&
		st->input->ps_ProjInfo == NULL &&
		IsMVCCSnapshot(estate->es_snapshot) &&
		((ScanState *) st->input)->ss_currentRelation->rd_tableam == GetHeapamTableAmRoutine())
	{
		Relation	rel = ((ScanState *) st->input)->ss_currentRelation;
		TupleDesc	desc = RelationGetDescr(rel);
		bool		exprs = false;

		for (i = 0; i < st->nargs; i++)
			exprs |= st->args[i].kind == DIRECT_ARG_EXPR;
		st->read_heap = true;
		st->heap_slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsHeapTuple);
		/* compiled with no parent, for a slot of any kind (as above) */
		st->heap_qual = ExecInitQual(st->input->plan->qual, NULL);
		st->deform_self = !exprs && st->heap_qual == NULL && st->ncolumns <= desc->natts &&
			(desc->constr == NULL || desc->constr->missing == NULL);
		st->values = palloc0(sizeof(Datum) * Max(st->ncolumns, 1));
		st->isnull = palloc0(sizeof(bool) * Max(st->ncolumns, 1));
	}
}

/*
 * The final or serialisation function fn (NULL: none, the state is the
 * value) called on the state, its other arguments NULL, as the Aggregate
 * node calls them: a strict one is not called on a NULL state.
 */
static Datum
call_on_state(DirectAggregateState *st, FmgrInfo *fn, int nargs, Oid collation,
			  Datum state, bool state_null, bool *isnull)
{
	LOCAL_FCINFO(call, FUNC_MAX_ARGS);
	Datum		result;
	int			i;

	if (fn == NULL)
	{
		*isnull = state_null;
		return state;
	}
	if (fn->fn_strict && state_null)
	{
		*isnull = true;
		return (Datum) 0;
	}
	InitFunctionCallInfoData(*call, fn, nargs, collation, (Node *) st->agg, NULL);
	call->args[0].value = state;
	call->args[0].isnull = state_null;
	for (i = 1; i < nargs; i++)
	{
		call->args[i].value = (Datum) 0;
		call->args[i].isnull = true;
	}
	result = FunctionCallInvoke(call);
	*isnull = call->isnull;
	return result;
}

/*
 * One input row to the transition: its arguments taken from the row's
 * columns (values and isnull) or computed over the row (a slot; NULL where
 * no argument is an expression).
 */
static pg_attribute_always_inline void
direct_feed(DirectAggregateState *st, const Datum *values, const bool *isnull,
			TupleTableSlot *row, Datum *state, bool *state_null)
{
	FunctionCallInfo call = st->trans_call;
	int			i;

	st->row_context->ecxt_scantuple = row;
	for (i = 0; i < st->nargs; i++)
	{
		DirectArg  *arg = &st->args[i];

		if (arg->kind == DIRECT_ARG_COLUMN)
		{
			call->args[i + 1].value = values[arg->column];
			call->args[i + 1].isnull = isnull[arg->column];
		}
		else if (arg->kind == DIRECT_ARG_EXPR)
			call->args[i + 1].value = ExecEvalExpr(arg->expr, st->row_context,
												   &call->args[i + 1].isnull);
	}
	call->args[0].value = *state;
	call->args[0].isnull = *state_null;
	call->isnull = false;
	*state = FunctionCallInvoke(call);
	*state_null = call->isnull;
}

/*
 * The first ncolumns columns of a heap tuple, as slot_deform_heap_tuple
 * reads them; columns past the tuple's own (added since, with no default)
 * are NULL.
 */
static pg_attribute_always_inline void
deform_heap_columns(TupleDesc desc, HeapTupleHeader tuple, int ncolumns,
					Datum *values, bool *isnull)
{
	int			natts = Min((int) HeapTupleHeaderGetNatts(tuple), ncolumns);
	bool		hasnulls = (tuple->t_infomask & HEAP_HASNULL) != 0;
	bits8	   *bits = tuple->t_bits;
	char	   *data = (char *) tuple + tuple->t_hoff;
	uint32		off = 0;
	int			attnum;

	for (attnum = 0; attnum < natts; attnum++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attnum);

		if (hasnulls && att_isnull(attnum, bits))
		{
			values[attnum] = (Datum) 0;
			isnull[attnum] = true;
			continue;
		}
		isnull[attnum] = false;
		if (att->attlen == -1)
			off = att_align_pointer(off, att->attalign, -1, data + off);
		else
			off = att_align_nominal(off, att->attalign);
		values[attnum] = fetchatt(att, data + off);
		off = att_addlength_pointer(off, att->attlen, data + off);
	}
	for (; attnum < ncolumns; attnum++)
	{
		values[attnum] = (Datum) 0;
		isnull[attnum] = true;
	}
}

/*
 * Every visible row of the input's heap table to the transition, page by
 * page, as a sequential scan in page-at-a-time mode finds them (heapgetpage
 * checks the page's rows against the snapshot under a share lock, and for
 * a serializable transaction reports conflicts; the scan took the
 * relation's predicate lock).  Each row is read in place, the page pinned
 * by the scan until the next.  A parallel scan's pages are those the scan
 * node set up for this process hands out (as the scan node takes them);
 * otherwise every page in order.  The scan node's instrumentation, if any,
 * counts its pages' time and rows, and the table's statistics its rows, as
 * the scan would.
 */
static void
direct_read_heap(DirectAggregateState *st, Datum *state, bool *state_null)
{
	ScanState  *input = (ScanState *) st->input;
	Relation	rel = input->ss_currentRelation;
	Instrumentation *instr = st->input->instrument;
	TableScanDesc scan = input->ss_currentScanDesc;
	bool		own_scan = (scan == NULL);
	HeapScanDesc hscan;
	ParallelBlockTableScanDesc pbscan;
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTupleData tuple;
	BlockNumber blkno;
	uint64		n = 0;
	MemoryContext old;

	/* not set up for a parallel scan: every page in order, once */
	if (own_scan)
		scan = table_beginscan_strat(rel, st->css.ss.ps.state->es_snapshot, 0, NULL,
									 true, false);
	hscan = (HeapScanDesc) scan;
	pbscan = (ParallelBlockTableScanDesc) scan->rs_parallel;
	if (!(scan->rs_flags & SO_ALLOW_PAGEMODE))
		elog(ERROR, "funnel aggregate heap scan is not in page-at-a-time mode");
	tuple.t_tableOid = RelationGetRelid(rel);
	if (instr != NULL)
	{
		/* a scan of no pages was still run */
		InstrStartNode(instr);
		InstrStopNode(instr, 0);
	}
	if (pbscan != NULL)
	{
		table_block_parallelscan_startblock_init(rel, hscan->rs_parallelworkerdata, pbscan);
		blkno = table_block_parallelscan_nextpage(rel, hscan->rs_parallelworkerdata, pbscan);
	}
	else
		blkno = hscan->rs_nblocks > 0 ? 0 : InvalidBlockNumber;

	/* the transitions' per-row memory, until the next reset */
	old = MemoryContextSwitchTo(st->row_context->ecxt_per_tuple_memory);
	while (blkno != InvalidBlockNumber)
	{
		Page		page;
		int			ntuples;
		int			i;

		if (instr != NULL)
			InstrStartNode(instr);
		heapgetpage(scan, blkno);	/* checks for interrupts */
		ntuples = hscan->rs_ntuples;
		/* the rows the condition lets through are counted below */
		if (instr != NULL)
			InstrStopNode(instr, st->heap_qual == NULL ? ntuples : 0);
		if (pgstat_should_count_relation(rel))
			rel->pgstat_info->t_counts.t_tuples_returned += ntuples;
		page = BufferGetPage(hscan->rs_cbuf);
		for (i = 0; i < ntuples; i++)
		{
			OffsetNumber offset = hscan->rs_vistuples[i];
			ItemId		item = PageGetItemId(page, offset);

			/* what a transition leaves in the row context goes every 1024 rows */
			if ((++n & 0x3FF) == 0)
			{
				CHECK_FOR_INTERRUPTS();
				ResetExprContext(st->row_context);
			}
			if (st->deform_self)
			{
				deform_heap_columns(desc, (HeapTupleHeader) PageGetItem(page, item),
									st->ncolumns, st->values, st->isnull);
				direct_feed(st, st->values, st->isnull, NULL, state, state_null);
			}
			else
			{
				tuple.t_data = (HeapTupleHeader) PageGetItem(page, item);
				tuple.t_len = ItemIdGetLength(item);
				ItemPointerSet(&tuple.t_self, blkno, offset);
				ExecStoreHeapTuple(&tuple, st->heap_slot, false);
				if (st->heap_qual != NULL)
				{
					st->row_context->ecxt_scantuple = st->heap_slot;
					if (!ExecQual(st->heap_qual, st->row_context))
					{
						if (instr != NULL)
							instr->nfiltered1 += 1;
						continue;
					}
					if (instr != NULL)
						instr->tuplecount += 1;
				}
				slot_getsomeattrs(st->heap_slot, st->ncolumns);
				direct_feed(st, st->heap_slot->tts_values, st->heap_slot->tts_isnull,
							st->heap_slot, state, state_null);
			}
		}
		if (pbscan != NULL)
			blkno = table_block_parallelscan_nextpage(rel, hscan->rs_parallelworkerdata, pbscan);
		else if (++blkno >= hscan->rs_nblocks)
			blkno = InvalidBlockNumber;
	}
	MemoryContextSwitchTo(old);
	ExecClearTuple(st->heap_slot);
	if (own_scan)
		table_endscan(scan);
	else if (BufferIsValid(hscan->rs_cbuf))
	{
		/* the scan node's own, ended with it: its last page let go now */
		ReleaseBuffer(hscan->rs_cbuf);
		hscan->rs_cbuf = InvalidBuffer;
	}
}

/* Feed every input row to the transition; the aggregate's value as one row. */
static TupleTableSlot *
direct_next(ScanState *ss)
{
	DirectAggregateState *st = (DirectAggregateState *) ss;
	TupleTableSlot *out = ss->ss_ScanTupleSlot;
	Datum		state = (Datum) 0;
	bool		state_null = true;
	Datum		result;
	bool		result_null;
	MemoryContext old;
	uint64		n = 0;

	ExecClearTuple(out);
	if (st->done)
		return out;
	st->done = true;

	if (st->read_heap)
		direct_read_heap(st, &state, &state_null);
	else
		for (;;)
		{
			/* the input runs in the query's memory, as under any plan node */
			TupleTableSlot *row = ExecProcNode(st->input);

			if (TupIsNull(row))
				break;
			/* what a transition leaves in the row context goes every 1024 rows */
			if ((++n & 0x3FF) == 0)
			{
				CHECK_FOR_INTERRUPTS();
				ResetExprContext(st->row_context);
			}
			/* the transition in the row context, the input in the query's */
			old = MemoryContextSwitchTo(st->row_context->ecxt_per_tuple_memory);
			slot_getsomeattrs(row, st->ncolumns);
			direct_feed(st, row->tts_values, row->tts_isnull, row, &state, &state_null);
			MemoryContextSwitchTo(old);
		}

	/*
	 * The final function (or, for a partial aggregate, the serialisation) in
	 * the output's per-row memory, as the Aggregate node calls it.
	 */
	old = MemoryContextSwitchTo(ss->ps.ps_ExprContext->ecxt_per_tuple_memory);
	if (st->partial)
	{
		result = call_on_state(st, st->has_serial ? &st->serialfn : NULL, 1, InvalidOid,
							   state, state_null, &result_null);

		/*
		 * The serialised state is a copy in the output's memory: the state,
		 * its memory and its files go now rather than at the end of the
		 * query, so that a process running this node over one partition
		 * after another holds one state at a time.
		 */
		if (st->has_serial)
			ReScanExprContext(st->agg_context);
	}
	else
	{
		st->agg->curperagg = &st->peragg;
		result = call_on_state(st, st->has_final ? &st->finalfn : NULL, st->nfinal,
							   st->aggref->inputcollid, state, state_null, &result_null);
		st->agg->curperagg = NULL;
	}
	MemoryContextSwitchTo(old);

	out->tts_values[0] = result;
	out->tts_isnull[0] = result_null;
	return ExecStoreVirtualTuple(out);
}

static bool
direct_recheck(ScanState *ss, TupleTableSlot *slot)
{
	(void) ss;
	(void) slot;
	return true;
}

static TupleTableSlot *
direct_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, direct_next, direct_recheck);
}

static void
direct_end(CustomScanState *node)
{
	DirectAggregateState *st = (DirectAggregateState *) node;

	/* the state's callbacks (a store's temporary files) and memory */
	ReScanExprContext(st->agg_context);
	ExecEndNode(st->input);
}

static void
direct_rescan(CustomScanState *node)
{
	DirectAggregateState *st = (DirectAggregateState *) node;

	st->done = false;
	ReScanExprContext(st->agg_context);
	ResetExprContext(st->row_context);
	/* the core passes changed parameters to the left and right trees only */
	if (node->ss.ps.chgParam != NULL)
		UpdateChangedParamSet(st->input, node->ss.ps.chgParam);
	if (st->input->chgParam == NULL)
		ExecReScan(st->input);
}

void
funnel_install_direct_aggregate(void)
{
	RegisterCustomScanMethods(&direct_scan_methods);
	prev_create_upper_paths_hook = create_upper_paths_hook;
	create_upper_paths_hook = direct_create_upper_paths;
}
