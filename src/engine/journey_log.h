/*
 * src/engine/journey_log.h
 *    The (entity, time, code) rows of the attribution and pipeline
 *    aggregates (see journey_log.c): names (channels, stages) interned into
 *    small integer ids, every row kept in the entity store with an 8-byte
 *    payload, and each entity's rows handed to the final function, entity by
 *    entity, in an order that does not depend on the plan.
 */
#ifndef JOURNEY_LOG_H
#define JOURNEY_LOG_H

#include "postgres.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "engine/entity_store.h"

/*
 * One row as the store keeps it and hands it back: the time, then the
 * 8-byte payload.  code >= 0 is a name id, code < 0 is aggregate-specific
 * (-1 - k: the conversion value vals[k]).  ent is 0 in the store; in the
 * rows of jlog_group it is the entity's index.
 */
typedef struct JourneyRow
{
	int64		ts;
	uint32		ent;
	int32		code;
} JourneyRow;

typedef struct JourneyLog
{
	MemoryContext cxt;
	Oid			typid;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	EntityStore *store;			/* rows by entity (engine/entity_store.c) */
	/* names */
	int32		nnames;
	int32		namecap;
	char	  **names;
	int32	   *namelens;
	uint32	   *namehash;
	int32	   *nslot;			/* name id + 1, 0 = empty */
	int32		nnslots;
	int32		last_name;		/* previous row's name id (-1: none) */
	uint64		nrows;
	/* per-row extra numbers (conversion values), code -1 - k refers to vals[k] */
	uint64		nvals;
	uint64		valcap;
	double	   *vals;
	Size		mem;			/* bytes of names and values, for funnel.max_state_memory */
} JourneyLog;

/*
 * One entity's rows (a scratch copy in arrival order, which the callback may
 * reorder) and what the log and its walk hold, for the callback to add what
 * it allocates and check against funnel.max_state_memory.
 */
typedef void (*JourneyEntityFn) (Datum key, JourneyRow *rows, int64 nrows,
								 Size held, void *arg);

extern JourneyLog *jlog_create(FunctionCallInfo fcinfo, MemoryContext cxt,
							   Oid typid, Oid collation);
extern int32 jlog_name(JourneyLog *log, const char *name, int len);
extern void jlog_add(JourneyLog *log, Datum key, int64 ts, int32 code);
extern int32 jlog_add_value(JourneyLog *log, double v);
extern void jlog_merge(JourneyLog *a, const JourneyLog *b);
extern void jlog_serialize(const JourneyLog *log, StringInfo buf);
extern JourneyLog *jlog_deserialize(FunctionCallInfo fcinfo, MemoryContext cxt,
									StringInfo buf);
extern int32 *jlog_name_ranks(const JourneyLog *log);
extern void jlog_foreach(const JourneyLog *log, JourneyEntityFn fn, void *arg);
extern JourneyRow *jlog_group(const JourneyLog *log, bool ordered, uint64 **starts, uint32 *nent);

#endif							/* JOURNEY_LOG_H */
