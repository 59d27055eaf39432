/*
 * src/common/module.h
 *    The settings of the funnel module (defined with _PG_init in
 *    common/module.c).
 */
#ifndef FUNNEL_MODULE_H
#define FUNNEL_MODULE_H

/* funnel.max_state_memory, in kB: the most one aggregate state may use */
extern int	funnel_max_state_memory_kb;

/*
 * funnel.debug_sub_partition_rows (a developer option): an entity
 * partition of more rows is processed in sub-partitions of this many
 */
extern int	funnel_sub_partition_rows;

/*
 * funnel.equalities_as_names: plan conditions event = 'a', event = 'b', ...
 * as the event-name form (engine/equality_steps.c)
 */
extern bool funnel_equalities_as_names;

#endif							/* FUNNEL_MODULE_H */
