/*
 * src/common/module.c
 *    Module start-up: the module magic, _PG_init and every setting (GUC) of
 *    the extension, in one place.
 */
#include "postgres.h"

#include <limits.h>

#include "common/module.h"
#include "engine/direct_aggregate.h"
#include "engine/equality_steps.h"
#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

int			funnel_max_state_memory_kb = 1024 * 1024;
int			funnel_sub_partition_rows = 64 * 1024;
bool		funnel_equalities_as_names = true;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("funnel.max_state_memory",
							"Largest memory one funnel aggregate state may use.",
							"A state that would grow past it raises an error instead of "
							"exhausting the server's memory.",
							&funnel_max_state_memory_kb,
							1024 * 1024,
							64,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("funnel.debug_sub_partition_rows",
							"Rows of an entity partition processed at once, for testing.",
							"A partition of more rows is processed in parts of about this many, "
							"so that the table of their entities stays in the CPU's cache. "
							"Answers never depend on it.",
							&funnel_sub_partition_rows,
							64 * 1024,
							1,
							INT_MAX,
							PGC_USERSET,
							GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("funnel.equalities_as_names",
							 "Plans step conditions that compare one text expression with constants as the event-name form.",
							 "The names are then matched once per row instead of every condition being "
							 "evaluated; answers never depend on it.",
							 &funnel_equalities_as_names,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("funnel.direct_aggregate",
							 "Feeds a plain whole-table funnel aggregate over one table from a plan node of its own.",
							 "The node (Custom Scan FunnelAggregate) calls the same functions as the Aggregate "
							 "node without its per-row machinery; answers never depend on it.",
							 &funnel_direct_aggregate,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("funnel");
	funnel_install_planner_hook();
	funnel_install_direct_aggregate();
}
