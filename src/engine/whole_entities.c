/*
 * src/engine/whole_entities.c
 *    Whether a partial aggregate reads every row of each entity it sees, so
 *    that its state can be walked where it is made instead of in the final
 *    function after the combine.
 *
 * That holds for a partial aggregate directly over a whole scan (not
 * parallel-aware: one process reads all of it) of a partition whose every
 * ancestor is partitioned by the entity column alone, under the equality
 * and collation the entity store uses: an entity's rows are all in one
 * partition, and nowhere else in the query's input.  PostgreSQL plans this
 * for partitionwise aggregation (enable_partitionwise_aggregate) when the
 * GROUP BY does not hold the partition key: in a parallel plan when the
 * partitions' parallel_workers is 0 (a Parallel Append gives each worker
 * whole partitions), and in any serial one.  Anything else (a join, a
 * parallel scan, a Var that is not a plain column, an expression partition
 * key, a key under another operator class or collation) answers no, and the
 * rows go to the final function as always.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "catalog/partition.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "common/agg_state.h"
#include "engine/whole_entities.h"
#include "executor/nodeAgg.h"
#include "nodes/execnodes.h"
#include "nodes/primnodes.h"
#include "partitioning/partdefs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* The table column the aggregate's argument argno (0-based) reads, if it is one. */
static bool
argument_column(AggState *agg, Aggref *aggref, int argno, Relation *rel, AttrNumber *attno)
{
	PlanState  *outer = outerPlanState(agg);
	TargetEntry *te;
	Var		   *var;
	Scan	   *scan;

	if (outer == NULL || outer->plan->parallel_aware ||
		!(IsA(outer, SeqScanState) || IsA(outer, IndexScanState) || IsA(outer, BitmapHeapScanState)))
		return false;
	if (argno < 0 || argno >= list_length(aggref->args))
		return false;
	te = list_nth_node(TargetEntry, aggref->args, argno);
	if (!IsA(te->expr, Var))
		return false;
	var = (Var *) te->expr;
	/* the Agg reads its input's target list; the scan's entry must be a column */
	if (var->varno != OUTER_VAR || var->varattno < 1 ||
		var->varattno > list_length(outer->plan->targetlist))
		return false;
	te = list_nth_node(TargetEntry, outer->plan->targetlist, var->varattno - 1);
	scan = (Scan *) outer->plan;
	if (!IsA(te->expr, Var))
		return false;
	var = (Var *) te->expr;
	if (var->varno != (int) scan->scanrelid || var->varattno < 1 || var->varlevelsup != 0)
		return false;
	*rel = ((ScanState *) outer)->ss_currentRelation;
	*attno = var->varattno;
	return *rel != NULL;
}

/* Does the partition key of parent put equal entities in one partition? */
static bool
key_is_entity(Relation parent, const char *column, Oid typid, Oid eq_opr, Oid collation)
{
	PartitionKey key = RelationGetPartitionKey(parent);
	char	   *name;
	Oid			key_eq;

	if (key == NULL || key->partnatts != 1 || key->partattrs[0] == 0)
		return false;
	name = get_attname(RelationGetRelid(parent), key->partattrs[0], true);
	if (name == NULL || strcmp(name, column) != 0)
		return false;
	if (key->parttypid[0] != typid)
		return false;
	key_eq = get_opfamily_member(key->partopfamily[0], key->partopcintype[0], key->partopcintype[0],
								 key->strategy == PARTITION_STRATEGY_HASH ?
								 HTEqualStrategyNumber : BTEqualStrategyNumber);
	if (!OidIsValid(key_eq) || key_eq != eq_opr)
		return false;
	return !type_is_collatable(typid) || key->partcollation[0] == collation;
}

bool
funnel_input_whole_entities(FunctionCallInfo fcinfo, int argno, Oid collation)
{
	AggState   *agg;
	Aggref	   *aggref;
	Relation	rel;
	AttrNumber	attno;
	char	   *column;
	Oid			typid;
	Oid			relid;
	TypeCacheEntry *tce;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, AggState))
		return false;
	agg = (AggState *) fcinfo->context;
	aggref = AggGetAggref(fcinfo);
	if (aggref == NULL || !DO_AGGSPLIT_SERIALIZE(agg->aggsplit) ||
		!argument_column(agg, aggref, argno, &rel, &attno))
		return false;
	if (!rel->rd_rel->relispartition)
		return false;
	column = get_attname(RelationGetRelid(rel), attno, true);
	typid = get_atttype(RelationGetRelid(rel), attno);
	if (column == NULL || !OidIsValid(typid))
		return false;
	tce = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	if (!OidIsValid(tce->eq_opr))
		return false;
	if (!OidIsValid(collation) && type_is_collatable(typid))
		collation = DEFAULT_COLLATION_OID;

	/* every level, up to the root, partitions by the entity */
	relid = RelationGetRelid(rel);
	while (get_rel_relispartition(relid))
	{
		Oid			parentid = get_partition_parent(relid, false);
		Relation	parent = relation_open(parentid, AccessShareLock);
		bool		ok = key_is_entity(parent, column, typid, tce->eq_opr, collation);

		relation_close(parent, AccessShareLock);
		if (!ok)
			return false;
		relid = parentid;
	}
	return true;
}

bool
funnel_agg_finals_among(FunctionCallInfo fcinfo, const char *const *finals)
{
	AggState   *agg;
	char	   *own;
	char	   *library;
	int			transno;
	int			i;
	bool		any = false;

	if (fcinfo->context == NULL || !IsA(fcinfo->context, AggState))
		return false;
	agg = (AggState *) fcinfo->context;
	if (agg->curpertrans == NULL || agg->pertrans == NULL)
		return false;
	transno = agg->curpertrans - agg->pertrans;
	own = funnel_c_symbol(fcinfo->flinfo->fn_oid);
	if (own == NULL || strchr(own, ' ') == NULL)
		return false;
	library = strchr(own, ' ') + 1;

	/* every aggregate sharing this transition state */
	for (i = 0; i < agg->numaggs; i++)
	{
		AggStatePerAgg peragg = &agg->peragg[i];
		HeapTuple	tup;
		Oid			finalfn;
		char	   *sym;
		bool		found = false;
		int			k;

		if (peragg->transno != transno)
			continue;
		tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(peragg->aggref->aggfnoid));
		if (!HeapTupleIsValid(tup))
			return false;
		finalfn = ((Form_pg_aggregate) GETSTRUCT(tup))->aggfinalfn;
		ReleaseSysCache(tup);
		sym = OidIsValid(finalfn) ? funnel_c_symbol(finalfn) : NULL;
		if (sym == NULL)
			return false;
		for (k = 0; finals[k] != NULL; k++)
			if (strcmp(sym, psprintf("%s %s", finals[k], library)) == 0)
				found = true;
		if (!found)
			return false;
		any = true;
	}
	return any;
}
