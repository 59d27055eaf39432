/*
 * src/engine/equality_steps.h
 *    Conditions that are equalities of one text expression to constants,
 *    planned as the event-name form (engine/equality_steps.c).
 */
#ifndef FUNNEL_EQUALITY_STEPS_H
#define FUNNEL_EQUALITY_STEPS_H

extern void funnel_install_planner_hook(void);

#endif							/* FUNNEL_EQUALITY_STEPS_H */
