/*
 * src/common/expanded_acc.h
 *    The state of a rollup aggregate over a concrete mergeable type (see
 *    expanded_acc.c).
 */
#ifndef FUNNEL_EXPANDED_ACC_H
#define FUNNEL_EXPANDED_ACC_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/expandeddatum.h"

/* What a mergeable type gives: its accumulator and how to fill and flatten it */
typedef struct ExpandedAccType
{
	const char *name;			/* a constant string: names the state's memory context */
	void	   *(*create) (MemoryContext cxt);
	/* add a flat value of the type; the accumulator lives in cxt */
	void		(*add) (void *acc, MemoryContext cxt, Datum value);
	bytea	   *(*flatten) (void *acc);
} ExpandedAccType;

typedef struct ExpandedAcc
{
	ExpandedObjectHeader hdr;
	const ExpandedAccType *type;
	void	   *acc;			/* in hdr.eoh_context */
	bytea	   *flat;			/* the flat form of acc, or NULL until asked */
} ExpandedAcc;

extern ExpandedAcc *expanded_acc_of(Datum d, const ExpandedAccType *type);
extern ExpandedAcc *expanded_acc_create(MemoryContext parent, const ExpandedAccType *type,
										Size context_size);
extern void expanded_acc_changed(ExpandedAcc *ea);
extern Datum expanded_acc_merge(FunctionCallInfo fcinfo, const ExpandedAccType *type);

#endif							/* FUNNEL_EXPANDED_ACC_H */
