/*
 * src/engine/direct_aggregate.h
 *    A whole-table funnel aggregate fed by its own plan node (see
 *    engine/direct_aggregate.c).
 */
#ifndef FUNNEL_DIRECT_AGGREGATE_H
#define FUNNEL_DIRECT_AGGREGATE_H

extern bool funnel_direct_aggregate;

extern void funnel_install_direct_aggregate(void);

#endif							/* FUNNEL_DIRECT_AGGREGATE_H */
