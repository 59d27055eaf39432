/*
 * src/engine/whole_entities.h
 *    Whether a partial aggregate reads every row of each entity it sees
 *    (see engine/whole_entities.c).
 */
#ifndef FUNNEL_WHOLE_ENTITIES_H
#define FUNNEL_WHOLE_ENTITIES_H

#include "fmgr.h"

/*
 * Does the partial aggregate calling (a transition function) read every
 * row of each entity in its argument argno (0-based, of the aggregate),
 * compared under collation?  Asked once per call site.
 */
extern bool funnel_input_whole_entities(FunctionCallInfo fcinfo, int argno, Oid collation);

/*
 * Is every aggregate that shares the calling transition function's state
 * finished by one of these final functions (C symbols of this library,
 * NULL-terminated)?
 */
extern bool funnel_agg_finals_among(FunctionCallInfo fcinfo, const char *const *finals);

#endif							/* FUNNEL_WHOLE_ENTITIES_H */
